"""The spec-only answer: a documented success response with an example or generated body."""

from __future__ import annotations

from starlette.responses import Response

from mockserver.call import Call
from mockserver.errors import MockError
from mockserver.faults.headers import documented_status
from mockserver.generation import pick_example
from mockserver.media.events import event_stream
from mockserver.media.files import file_for, is_binary
from mockserver.responses import JSONResponse, dumps
from mockserver.spec.model import Response as SpecResponse
from mockserver.spec.model import is_json


def render(call: Call) -> tuple[int, str | None, object]:
    """Choose status, media type and payload for ``call``: pure, deterministic for the call's seed."""
    prefer = call.prefer
    response = _response(call)
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


def _response(call: Call) -> SpecResponse | None:
    prefer = call.prefer
    responses = call.operation.responses
    if prefer is not None and prefer.code is not None:  # a success status: the pipeline checked it is documented
        return responses.get(documented_status(responses, prefer.code) or "")
    return call.operation.success()


def _media_for(call: Call, available: list[str]) -> str:
    if EVENT_STREAM in available and isinstance(call.body, dict) and call.body.get("stream") is True:
        return EVENT_STREAM  # the request asks for the stream the spec documents
    accept = call.headers.get("accept", "")
    for name in available:
        if name in accept:
            return name
    return next((name for name in available if is_json(name)), available[0])


EVENT_STREAM = "text/event-stream"
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
CONCRETE = {"image/*": "image/png", "audio/*": "audio/mpeg", "*/*": "application/octet-stream"}


async def answer(call: Call) -> Response:
    status, media, payload = render(call)
    if media is None:
        return Response(status_code=status)
    if is_json(media) and media != "*/*":
        return JSONResponse(payload, status_code=status)
    kind = media.split(";", 1)[0].strip().lower()
    if kind == EVENT_STREAM:
        documented = _response(call)
        schema = documented.content[media].schema if documented is not None else None
        return Response(event_stream(schema, call.spec.resolve, call.rng), status_code=status,
                        media_type=EVENT_STREAM, headers=STREAM_HEADERS)
    if is_binary(kind) or kind in CONCRETE:
        concrete = CONCRETE.get(kind, kind)
        return Response(file_for(concrete, call.rng), status_code=status, media_type=concrete)
    if isinstance(payload, (bytes, str)):
        body = payload
    else:
        body = dumps(payload)
    return Response(body, status_code=status, media_type=media)
