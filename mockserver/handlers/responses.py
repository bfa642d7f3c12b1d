"""The Responses API: create (JSON and typed SSE events) and retrieve a stored response.

Thin, like :mod:`mockserver.handlers.inference`: the key's limit, the answer from
:mod:`mockserver.llm.responses`, its usage recorded in the same ledger as chat, the response stored.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from starlette.responses import Response, StreamingResponse

from mockserver.accounts.ledger import UsageMeta
from mockserver.call import Call
from mockserver.errors import MockError
from mockserver.handlers.inference import STREAM_HEADERS, completer, record, route
from mockserver.ids import new_id
from mockserver.llm import responses
from mockserver.llm.overrides import read_overrides
from mockserver.llm.streaming import paced
from mockserver.responses import JSONResponse


async def create_response(call: Call) -> Response:
    overrides = read_overrides(call.headers, call.config.overrides)
    previous_id = call.body.get("previous_response_id")
    history = _stored(call, previous_id, param="previous_response_id").conversation if previous_id else ()
    routed = await route(call)
    turn = responses.respond(call.body, completer(call, routed, overrides), history)
    body = responses.response_body(turn, call.body, id=new_id("resp_", 24), created_at=int(time.time()))
    finish = partial(_finish, call, turn, body, routed.usage)
    if call.body.get("stream"):
        steps = paced(responses.stream_steps(body), ttft_ms=overrides.ttft_ms, tokens_per_s=overrides.tokens_per_s,
                      before_last=finish)
        return StreamingResponse(steps, media_type="text/event-stream", headers=STREAM_HEADERS)
    finish()
    return JSONResponse(body)


def _finish(call: Call, turn: responses.Turn, body: dict[str, Any], meta: UsageMeta) -> None:
    """Record the usage (as chat's) and store the response unless ``store`` is false."""
    record(call, turn.completion, meta)
    if body["store"]:
        call.state.responses.put(call.principal, body, turn.conversation)


async def get_response(call: Call) -> Response:
    return JSONResponse(_stored(call, call.params["path"]["response_id"], param="response_id").body)


def _stored(call: Call, response_id: str, *, param: str):
    stored = call.state.responses.get(response_id, call.principal)
    if stored is None:
        code = "previous_response_not_found" if param == "previous_response_id" else "response_not_found"
        raise MockError(404, f"No stored response with id {response_id!r} (responses created with store: false "
                             "are not kept).", code=code, param=param)
    return stored
