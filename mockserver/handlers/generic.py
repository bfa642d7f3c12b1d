"""The spec-only answer: a documented success response with an example or generated body."""

from __future__ import annotations

from starlette.responses import Response

from mockserver.call import Call
from mockserver.errors import MockError
from mockserver.faults.headers import documented_status
from mockserver.generation import pick_example
from mockserver.responses import JSONResponse, dumps
from mockserver.spec.model import is_json


def render(call: Call) -> tuple[int, str | None, object]:
    """Choose status, media type and payload for ``call``: pure, deterministic for the call's seed."""
    prefer = call.prefer
    responses = call.operation.responses
    if prefer is not None and prefer.code is not None:  # a success status: the pipeline checked it is documented
        response = responses.get(documented_status(responses, prefer.code) or "")
    else:
        response = call.operation.success()
    if response is None:
        return 204, None, None
    status = int(response.status) if response.status.isdigit() else 200
    if status == 204 or not response.content:
        return status, None, None
    media_name = _media_for(call, list(response.content))
    media = response.content[media_name]
    name = call.example_name
    if name is not None and name not in media.examples:
        known = ", ".join(media.examples) or "none"
        raise MockError(400, f"Invalid Prefer header: example={name} is not an example of {call.operation.operation_id} "
                             f"{status} {media_name} (examples: {known}).", code="invalid_mock_header", param="Prefer")
    dynamic = bool(prefer and prefer.dynamic)
    return status, media_name, pick_example(media, call.rng, call.spec.resolve, name, dynamic=dynamic)


def _media_for(call: Call, available: list[str]) -> str:
    accept = call.headers.get("accept", "")
    for name in available:
        if name in accept:
            return name
    return next((name for name in available if is_json(name)), available[0])


async def answer(call: Call) -> Response:
    status, media, payload = render(call)
    if media is None:
        return Response(status_code=status)
    if is_json(media):
        return JSONResponse(payload, status_code=status)
    if isinstance(payload, (bytes, str)):
        body = payload
    else:
        body = dumps(payload)
    return Response(body, status_code=status, media_type=media)
