"""The reference gateway's speech, transcription and image operations (docs/audio-and-images.md), written apart
from the mock's handlers: forms read with the standard library's MIME parser, durations with ``wave`` and by the
writers' own arithmetic, PNG sizes from ``IHDR``."""

from __future__ import annotations

import base64
import io
import math
import wave
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

from mockserver.media.aac import aac
from mockserver.media.audio import flac, mp3, wav
from mockserver.media.opus import opus
from mockserver.media.png import png, png_size

if TYPE_CHECKING:
    from tests.gateways import Answer, Call

AUDIO = {"mp3": ("audio/mpeg", mp3), "opus": ("audio/ogg", opus), "aac": ("audio/aac", aac),
         "flac": ("audio/flac", flac), "wav": ("audio/wav", wav)}
MEDIA_MODELS = [
    {"id": "acme/voice", "object": "model", "type": "speech", "character_price": 15.0, "voices": ["alloy"]},
    {"id": "acme/ears", "object": "model", "type": "transcription", "minute_price": 0.006},
    {"id": "acme/paint", "object": "model", "type": "image", "image_price": 0.02, "sizes": ["256x256", "512x512"]},
]


def form(call: Call) -> dict[str, Any]:
    """A multipart/form-data body: text fields as strings, files as (filename, bytes)."""
    raw = call.body if isinstance(call.body, bytes) else b""
    head = f"Content-Type: {call.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    fields: dict[str, Any] = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name, filename = part.get_param("name", header="content-disposition"), part.get_filename()
        data = part.get_payload(decode=True) or b""
        fields[name] = (filename, data) if filename else data.decode()
    return fields


def guarded(handler):
    """``handler``, with a request it cannot read (a fuzzed form, a field of the wrong type) answered 400."""
    def answer(gateway, call: Call, principal: dict, **options: Any) -> Answer:
        from tests.gateways import error

        try:
            return handler(gateway, call, principal, **options)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, EOFError) as exc:
            return error(400, f"the request cannot be read: {type(exc).__name__}", "invalid_request")

    return answer


@guarded
def speech(gateway, call: Call, principal: dict) -> Answer:
    from tests.gateways import Answer, Entry, error

    model = gateway._gate(call, principal, "speech")
    if not isinstance(model, dict):
        return model
    fmt, text = call.body.get("response_format", "mp3"), str(call.body.get("input", ""))
    if fmt not in AUDIO or not text:
        return error(400, "response_format or input is not valid", "invalid_request", param="response_format")
    media_type, write = AUDIO[fmt]
    gateway.ledger.append(Entry(principal["id"], model["id"], 0, len(text) * model["character_price"] / 1e6))
    return Answer(200, write(max(0.5, len(text) / 15)), {"content-type": media_type})


@guarded
def transcription(gateway, call: Call, principal: dict) -> Answer:
    from dataclasses import replace

    from tests.gateways import Answer, Entry, error

    fields = form(call)
    model = gateway._gate(replace(call, body=fields), principal, "transcription")
    if not isinstance(model, dict):
        return model
    try:
        upload = fields.get("file")
        with wave.open(io.BytesIO(upload[1] if isinstance(upload, tuple) else b"")) as sound:
            seconds = sound.getnframes() / sound.getframerate()
    except (wave.Error, EOFError):
        return error(400, "the file is not audio the gateway reads", "invalid_audio", param="file")
    text = " ".join(["hello"] * max(1, round(seconds * 2.5))) + "."
    cost = math.ceil(seconds) * model["minute_price"] / 60
    gateway.ledger.append(Entry(principal["id"], model["id"], 0, cost))
    fmt = fields.get("response_format", "json")
    if fmt == "text":
        return Answer(200, f"{text}\n".encode(), {"content-type": "text/plain"})
    if fmt == "srt":
        return Answer(200, f"1\n00:00:00,000 --> 00:00:{seconds:06.3f}\n{text}\n".replace(".", ",", 1).encode(),
                      {"content-type": "text/plain"})
    usage = {"type": "duration", "seconds": seconds, "cost": cost}
    if fmt == "verbose_json":
        return Answer.json({"task": "transcribe", "language": "english", "duration": seconds, "text": text,
                            "segments": [{"id": 0, "start": 0, "end": seconds, "text": text}], "usage": usage})
    return Answer.json({"text": text, "usage": usage})


@guarded
def images(gateway, call: Call, principal: dict, *, edit: bool = False) -> Answer:
    from dataclasses import replace

    from tests.gateways import Answer, Entry, error

    fields = form(call) if edit else call.body
    if edit:
        call = replace(call, body=fields)
    model = gateway._gate(call, principal, "image", fields.get("model") if isinstance(fields, dict) else None)
    if not isinstance(model, dict):
        return model
    size = fields.get("size") or model["sizes"][0]
    if edit:
        upload, mask = fields.get("image"), fields.get("mask")
        image = png_size(upload[1]) if isinstance(upload, tuple) else None
        if image is None:
            return error(400, "image must be a PNG", "invalid_image", param="image")
        if mask is not None and (not isinstance(mask, tuple) or png_size(mask[1]) != image):
            return error(400, "the mask must be the image's size", "invalid_mask", param="mask")
        size = fields.get("size") or f"{image[0]}x{image[1]}"
    width, _, height = str(size).partition("x")
    count = int(fields.get("n") or 1)
    if not 1 <= count <= 10 or not (size in model["sizes"] or (edit and not fields.get("size"))) \
            or max(int(width), int(height)) > 4096:
        return error(400, f"n must be 1-10 and size one of {model['sizes']}", "invalid_size", param="size")
    cost = count * model["image_price"]
    gateway.ledger.append(Entry(principal["id"], model["id"], 0, cost))
    data = [{"b64_json": base64.b64encode(png(int(width), int(height), seed=i)).decode()} for i in range(count)]
    return Answer.json({"created": 0, "data": data, "usage": {"images": count, "cost": cost}})
