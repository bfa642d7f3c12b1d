"""Speech and transcription: thin wrappers over :mod:`mockserver.llm.audio`, billed like chat."""

from __future__ import annotations

from starlette.responses import Response

from mockserver.call import Call
from mockserver.llm.audio import render_transcript, speak, transcribe
from mockserver.llm.overrides import REPLY
from mockserver.responses import JSONResponse


async def create_speech(call: Call) -> Response:
    call.state.before_inference(call.principal)
    speech = speak(call.body, call.config.catalog)
    call.state.record_usage(call.principal, operation_id=call.operation.operation_id, model=speech.model.id,
                            usage=speech.usage, headers=call.headers, cost_units=speech.cost_units)
    return Response(speech.audio, media_type=_documented(call, speech.media_type),
                    headers={"X-Audio-Duration-Seconds": f"{speech.seconds:.3f}"})


def _documented(call: Call, media_type: str) -> str:
    """``media_type`` when the spec documents it (or ``audio/*``); else the spec's ``application/octet-stream``."""
    success = call.operation.success()
    documented = success.content if success is not None else {}
    if media_type in documented or "audio/*" in documented or "application/octet-stream" not in documented:
        return media_type
    return "application/octet-stream"


async def create_transcription(call: Call) -> Response:
    call.state.before_inference(call.principal)
    result = transcribe(call.body, call.config.catalog, call.headers.get(REPLY))
    call.state.record_usage(call.principal, operation_id=call.operation.operation_id, model=result.model.id,
                            usage=result.usage, headers=call.headers, cost_units=result.cost_units)
    media_type, payload = render_transcript(result, call.body.get("response_format") or "json", call.body.get("language"))
    if media_type == "application/json":
        return JSONResponse(payload)
    return Response(payload, media_type="text/plain")
