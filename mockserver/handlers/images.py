"""Image generation and edits: thin wrappers over :mod:`mockserver.llm.images`, billed per image."""

from __future__ import annotations

import time

from starlette.responses import Response

from mockserver.call import Call
from mockserver.llm.images import Images, edit_images, generate_images
from mockserver.responses import JSONResponse


def _answer(call: Call, images: Images) -> Response:
    call.state.record_usage(call.principal, operation_id=call.operation.operation_id, model=images.model.id,
                            usage=images.usage, headers=call.headers, cost_units=images.cost_units)
    return JSONResponse(images.body)


async def create_image(call: Call) -> Response:
    call.state.before_inference(call.principal)
    return _answer(call, generate_images(call.body, call.config.catalog, int(time.time())))


async def create_image_edit(call: Call) -> Response:
    call.state.before_inference(call.principal)
    return _answer(call, edit_images(call.body, call.config.catalog, int(time.time())))
