"""Speech, transcription and images: real files of the asked format, size and count, and their documented bills.

The files are judged by their own headers, read here with the standard library (``wave`` for WAV, the
PNG ``IHDR`` chunk, each format's magic bytes), not by anything the target says about them.
"""

from __future__ import annotations

import base64
import io
import math
import struct
import wave
from typing import Any

import httpx

from contract_tests.checks.catalog import kind
from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.checks.values import number
from contract_tests.results import MUST

SPEECH = "POST /audio/speech"
TRANSCRIPTION = "POST /audio/transcriptions"
IMAGES = "POST /images/generations"
EDITS = "POST /images/edits"
SOURCE = "Requesty changelog (speech, transcription, image edits); OpenAI API reference: Audio, Images"
TEXT = "The gateway reads this sentence aloud for the conformance suite."
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TRANSCRIBED_SECONDS = 2.0


def _magic(fmt: str, data: bytes) -> bool:
    """Whether ``data`` starts the way a file of ``fmt`` does."""
    if fmt == "mp3":
        return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06)
    if fmt == "wav":
        return data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    if fmt == "flac":
        return data[:4] == b"fLaC"
    if fmt == "opus":
        return data[:4] == b"OggS" and b"OpusHead" in data[:64]
    if fmt == "aac":
        return len(data) > 1 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0  # ADTS: sync, layer 0
    return False


FORMATS = ("mp3", "opus", "aac", "flac", "wav")


def wav_seconds(data: bytes, what: str) -> float:
    try:
        with wave.open(io.BytesIO(data)) as sound:
            return sound.getnframes() / sound.getframerate()
    except (wave.Error, EOFError, struct.error, ZeroDivisionError) as exc:
        raise CheckFailed(f"{what}: the WAV does not decode ({exc})") from None


def png_size(data: bytes, what: str) -> tuple[int, int]:
    expect(data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", f"{what}: not a PNG (first bytes {data[:8]!r})")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def a_wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(bytes(2 * round(seconds * 16_000)))
    return buffer.getvalue()


def a_png(width: int, height: int) -> bytes:
    import zlib

    def chunk(name: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + name + body + struct.pack(">I", zlib.crc32(name + body))

    rows = b"".join(b"\x00" + bytes(3 * width) for _ in range(height))
    return PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _model(ctx: CheckContext, model_type: str, operation: str) -> dict[str, Any]:
    models = [m for m in ctx.catalog.models() if kind(m) == model_type]
    if not models:
        raise CheckSkipped(f"GET /models lists no model of type {model_type} for {operation}")
    return models[0]


def _price(model: dict[str, Any], name: str) -> float:
    """The model's listed ``name`` price; the check is skipped when the catalog lists none."""
    price = model.get(name)
    if not number(price):
        raise CheckSkipped(f"GET /models lists no {name} for {model['id']}")
    return price


def _answered(ctx: CheckContext, response: httpx.Response, operation: str) -> httpx.Response:
    ctx.http.implemented(response, operation)
    expect(response.status_code == 200, f"{operation}: expected 200, received {response.status_code}: "
                                        f"{response.text[:300]}")
    return response


def _speech(ctx: CheckContext, fmt: str, text: str = TEXT) -> httpx.Response:
    model = _model(ctx, "speech", SPEECH)
    body = {"model": model["id"], "input": text, "voice": (model.get("voices") or ["alloy"])[0],
            "response_format": fmt}
    return _answered(ctx, ctx.http.once(("speech", fmt, text), lambda: ctx.http.request(
        "POST", "/audio/speech", json=body)), SPEECH)


def _transcribe(ctx: CheckContext, response_format: str) -> httpx.Response:
    model = _model(ctx, "transcription", TRANSCRIPTION)
    files = {"file": ("probe.wav", a_wav(TRANSCRIBED_SECONDS), "audio/wav")}
    return _answered(ctx, ctx.http.once(("transcription", response_format), lambda: ctx.http.request(
        "POST", "/audio/transcriptions", data={"model": model["id"], "response_format": response_format},
        files=files)), TRANSCRIPTION)


def _json(response: httpx.Response, what: str) -> dict:
    try:
        value = response.json()
    except ValueError:
        raise CheckFailed(f"{what}: expected JSON, received {response.text[:200]!r}") from None
    expect(isinstance(value, dict), f"{what}: expected a JSON object, received {response.text[:200]}")
    return value


# -- speech ----------------------------------------------------------------------------------------------------------
def audio_format(ctx: CheckContext) -> None:
    for fmt in FORMATS:
        response = _speech(ctx, fmt)
        media_type = response.headers.get("content-type", "")
        expect(media_type.startswith(("audio/", "application/octet-stream")),
               f"{SPEECH} response_format {fmt}: Content-Type {media_type!r}, documented an audio file")
        expect(_magic(fmt, response.content), f"{SPEECH} response_format {fmt}: the file is not {fmt} "
                                              f"(first bytes {response.content[:8]!r})")


def duration_grows(ctx: CheckContext) -> None:
    short = wav_seconds(_speech(ctx, "wav").content, SPEECH)
    longer = wav_seconds(_speech(ctx, "wav", TEXT * 3).content, SPEECH)
    expect(short > 0 and longer > 2 * short, f"{SPEECH}: {len(TEXT)} characters gave {short:.2f} s, "
                                             f"{3 * len(TEXT)} gave {longer:.2f} s; the audio must grow with the text")


def billed_per_character(ctx: CheckContext) -> None:
    model = _model(ctx, "speech", SPEECH)
    price = _price(model, "character_price")
    created = ctx.keys.create()
    secret = ctx.keys.secret(created)
    body = {"model": model["id"], "input": TEXT, "voice": (model.get("voices") or ["alloy"])[0]}
    _answered(ctx, ctx.http.request("POST", "/audio/speech", json=body, key=secret), SPEECH)
    path = f"/api-keys/{created['id']}/usage"
    report = _json(ctx.http.request("GET", path), f"GET {path}")
    expected = len(TEXT) * price / 1_000_000
    cost = report.get("total_cost")
    expect(number(cost) and math.isclose(cost, expected, rel_tol=1e-6, abs_tol=1e-10),
           f"{SPEECH}: {len(TEXT)} characters cost {cost!r} in {path}, expected {expected:.10f} "
           f"(characters x character_price {price} / 1,000,000)")


# -- transcription ----------------------------------------------------------------------------------------------------
def response_formats(ctx: CheckContext) -> None:
    plain = _json(_transcribe(ctx, "json"), TRANSCRIPTION)
    expect(isinstance(plain.get("text"), str) and plain["text"], f"{TRANSCRIPTION} json: no text in {plain}")
    text = _transcribe(ctx, "text")
    expect(text.headers.get("content-type", "").startswith("text/plain") and text.text.strip(),
           f"{TRANSCRIPTION} text: expected the text as text/plain, received {text.text[:200]!r}")
    srt = _transcribe(ctx, "srt").text
    expect(srt.startswith("1\n") and " --> " in srt, f"{TRANSCRIPTION} srt: expected SubRip cues, received {srt[:200]!r}")
    verbose = _json(_transcribe(ctx, "verbose_json"), TRANSCRIPTION)
    expect(number(verbose.get("duration")) and abs(verbose["duration"] - TRANSCRIBED_SECONDS) < 0.1,
           f"{TRANSCRIPTION} verbose_json: duration {verbose.get('duration')!r} for a {TRANSCRIBED_SECONDS} s WAV")
    expect(isinstance(verbose.get("segments"), list) and isinstance(verbose.get("text"), str),
           f"{TRANSCRIPTION} verbose_json: expected text and segments, received {str(verbose)[:200]}")


def billed_by_duration(ctx: CheckContext) -> None:
    model = _model(ctx, "transcription", TRANSCRIPTION)
    price = _price(model, "minute_price")
    usage = _json(_transcribe(ctx, "json"), TRANSCRIPTION).get("usage") or {}
    expected = math.ceil(TRANSCRIBED_SECONDS) * price / 60
    expect(number(usage.get("cost")) and math.isclose(usage["cost"], expected, rel_tol=1e-6, abs_tol=1e-10),
           f"{TRANSCRIPTION}: usage.cost {usage.get('cost')!r}, expected {expected:.10f} "
           f"({TRANSCRIBED_SECONDS:g} s x minute_price {price} / 60)")


# -- images ------------------------------------------------------------------------------------------------------------
def _generated(ctx: CheckContext) -> tuple[dict, dict, tuple[int, int]]:
    model = _model(ctx, "image", IMAGES)
    size = (model.get("sizes") or ["256x256"])[0]
    body = {"model": model["id"], "prompt": "a red kite", "n": 2, "size": size, "response_format": "b64_json"}
    response = _answered(ctx, ctx.http.once(("images", model["id"]), lambda: ctx.http.request(
        "POST", "/images/generations", json=body)), IMAGES)
    width, _, height = size.partition("x")
    return model, _json(response, IMAGES), (int(width), int(height))


def size_and_count(ctx: CheckContext) -> None:
    _, answer, size = _generated(ctx)
    data = answer.get("data")
    expect(isinstance(data, list) and len(data) == 2, f"{IMAGES} n 2: received {len(data or [])} images")
    for index, item in enumerate(data):
        try:
            image = base64.b64decode(str(item.get("b64_json")), validate=True)
        except ValueError:
            raise CheckFailed(f"{IMAGES}: image {index} is not base64") from None
        got = png_size(image, f"{IMAGES} image {index}")
        expect(got == size, f"{IMAGES}: image {index} is {got[0]}x{got[1]}, asked {size[0]}x{size[1]}")


def billed_per_image(ctx: CheckContext) -> None:
    model, answer, _ = _generated(ctx)
    price = _price(model, "image_price")
    cost = (answer.get("usage") or {}).get("cost")
    expect(number(cost) and math.isclose(cost, 2 * price, rel_tol=1e-6, abs_tol=1e-10),
           f"{IMAGES} n 2: usage.cost {cost!r}, expected {2 * price} (n x image_price {price})")


def mask_size(ctx: CheckContext) -> None:
    model = _model(ctx, "image", EDITS)
    response = ctx.http.request("POST", "/images/edits", data={"model": model["id"], "prompt": "add a sail"},
                                files={"image": ("photo.png", a_png(64, 48), "image/png"),
                                       "mask": ("mask.png", a_png(32, 32), "image/png")})
    ctx.http.implemented(response, EDITS)
    expect(response.status_code == 400, f"{EDITS} with a 32x32 mask on a 64x48 image: received "
                                        f"{response.status_code}, documented 400")


CHECKS = [
    Check("speech.audio_format", audio_format, SPEECH, MUST, source=SOURCE,
          not_judged="reads the audio bytes, which traffic records keep as text",
          reason="Each response_format (mp3, opus, aac, flac, wav) is answered with a file of that format."),
    Check("speech.duration_grows", duration_grows, SPEECH, MUST, source=SOURCE,
          not_judged="compares two requests of its own",
          reason="Three times the text gives more than twice the audio (WAV durations read with wave)."),
    Check("speech.billed_per_character", billed_per_character, SPEECH, MUST, writes=True,
          needs=("POST /api-keys", "GET /api-keys/{key_id}/usage"),
          source=SOURCE + "; spec/overlay.yml: character_price",
          not_judged="creates a key of its own and reads its usage report",
          reason="A key's usage grows by the input's characters x the model's character_price / 1,000,000."),
    Check("transcription.response_formats", response_formats, TRANSCRIPTION, MUST, source=SOURCE,
          not_judged="uploads a WAV of its own",
          reason="json has text, text is text/plain, srt is SubRip cues, verbose_json has the file's duration "
                 "and segments."),
    Check("transcription.billed_by_duration", billed_by_duration, TRANSCRIPTION, MUST,
          source=SOURCE + "; spec/overlay.yml: minute_price",
          not_judged="uploads a WAV of its own",
          reason="usage.cost is the audio's whole seconds x minute_price / 60."),
    Check("images.size_and_count", size_and_count, IMAGES, MUST, source=SOURCE,
          not_judged="decodes images of its own request",
          reason="n images, each a PNG of the asked size."),
    Check("images.billed_per_image", billed_per_image, IMAGES, MUST, source=SOURCE + "; spec/overlay.yml: image_price",
          not_judged="compares with the catalog's image_price for its own request",
          reason="usage.cost is n x the model's image_price."),
    Check("images.mask_size", mask_size, EDITS, MUST, source=SOURCE,
          not_judged="sends a mismatched mask of its own",
          reason="A mask whose size is not the image's is a 400."),
]
