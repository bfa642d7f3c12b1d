"""Speech and transcription: what the mock answers, and what it bills.

Speech (``POST /v1/audio/speech``): an audio file of ``response_format`` (mp3, opus, aac, flac, wav, pcm) whose
duration grows with the text: :data:`CHARS_PER_SECOND` characters a second at ``speed`` 1, at least
half a second. Billed per input character at the model's ``character_price`` (USD per million).

Transcription (``POST /v1/audio/transcriptions``): the duration is read from the uploaded file's own
header (WAV, MP3, FLAC, Ogg Opus or ADTS AAC; anything else is a 400). The text is ``X-Mock-Reply`` when sent, else
:data:`WORDS_PER_SECOND` words a second (at least one) drawn from the lorem word list, seeded by the
file's SHA-256: the same file always gives the same text. Billed by the second, rounded up, at the
model's ``minute_price``.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.accounts import money
from mockserver.errors import MockError
from mockserver.llm import tokens
from mockserver.llm.catalog import MILLION, Catalog, ModelInfo
from mockserver.llm.replies import _lorem
from mockserver.media.aac import aac
from mockserver.media.audio import READABLE, audio_seconds, flac, mp3, pcm, wav
from mockserver.media.opus import opus

CHARS_PER_SECOND = 15
WORDS_PER_SECOND = 2.5
WORDS_PER_SEGMENT = 10
FORMATS = {"mp3": ("audio/mpeg", mp3), "opus": ("audio/ogg", opus), "aac": ("audio/aac", aac),
           "flac": ("audio/flac", flac), "wav": ("audio/wav", wav), "pcm": ("audio/pcm", pcm)}
TEXT_FORMATS = ("text", "srt", "vtt")


def _usage(model_units: money.Units, prompt_tokens: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": 0, "total_tokens": prompt_tokens,
            "cost": money.to_usd(model_units)}


@dataclass(frozen=True)
class Speech:
    model: ModelInfo
    media_type: str
    audio: bytes
    seconds: float
    characters: int
    cost_units: money.Units
    usage: dict[str, Any]


def speech_seconds(text: str, speed: float = 1.0) -> float:
    return max(0.5, len(text) / CHARS_PER_SECOND / speed)


def speak(body: Mapping[str, Any], catalog: Catalog) -> Speech:
    model = catalog.require(body["model"], "speech")
    voice = body["voice"]
    if model.voices and voice not in model.voices:
        raise MockError(400, f"Voice '{voice}' is not available for {model.id}; choose one of "
                             f"{', '.join(model.voices)}.", param="voice", code="invalid_voice")
    text = body["input"]
    fmt = body.get("response_format") or "mp3"
    if fmt not in FORMATS:
        raise MockError(400, f"response_format '{fmt}' is not produced by the mock; use one of {', '.join(FORMATS)}.",
                        param="response_format", code="unsupported_format")
    media_type, make = FORMATS[fmt]
    seconds = speech_seconds(text, float(body.get("speed") or 1.0))
    characters = len(text)
    cost = money.divide_half_even(characters * model.units(model.character_price), MILLION)
    return Speech(model, media_type, make(seconds), seconds, characters, cost, _usage(cost, tokens.count(text)))


@dataclass(frozen=True)
class Transcript:
    model: ModelInfo
    text: str
    seconds: float
    cost_units: money.Units
    usage: dict[str, Any]
    segments: list[dict[str, Any]]


def transcribe(form: Mapping[str, Any], catalog: Catalog, reply: str | None = None) -> Transcript:
    model = catalog.require(form["model"], "transcription")
    upload = form.get("file")
    if isinstance(upload, list) or not hasattr(upload, "data"):
        raise MockError(400, "Send one audio file in 'file' (multipart/form-data).", param="file")
    seconds = audio_seconds(upload.data)
    if seconds is None:
        raise MockError(400, f"The audio file '{upload.filename}' could not be decoded: the mock reads "
                             f"{READABLE} files.", param="file", code="invalid_audio")
    words = reply.split() if reply is not None else _words(upload.data, seconds)
    text = " ".join(words)
    billed = math.ceil(seconds)
    cost = money.divide_half_even(billed * model.units(model.minute_price), 60)
    usage = _usage(cost, tokens.count(text))
    return Transcript(model, text, seconds, cost, usage, _segments(words, seconds))


def _words(data: bytes, seconds: float) -> list[str]:
    rng = random.Random(hashlib.sha256(data).digest())
    lorem = _lorem()
    count = max(1, round(seconds * WORDS_PER_SECOND))
    words = [rng.choice(lorem) for _ in range(count)]
    words[0] = words[0].capitalize()
    words[-1] = words[-1].rstrip(".,") + "."
    return words


def _segments(words: list[str], seconds: float) -> list[dict[str, Any]]:
    out, per_word = [], seconds / max(1, len(words))
    for index in range(0, len(words), WORDS_PER_SEGMENT):
        chunk = words[index:index + WORDS_PER_SEGMENT]
        start, end = index * per_word, min(seconds, (index + len(chunk)) * per_word)
        out.append({"id": len(out), "seek": 0, "start": round(start, 3), "end": round(end, 3), "text": " ".join(chunk)})
    return out


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def render_transcript(result: Transcript, response_format: str, language: str | None) -> tuple[str, Any]:
    """(media type, payload) of a transcription in ``response_format``."""
    usage = {"type": "duration", "seconds": round(result.seconds, 3), "cost": result.usage["cost"]}
    if response_format == "text":
        return "text/plain", result.text + "\n"
    if response_format == "srt":
        blocks = [f"{i + 1}\n{_clock(s['start'], ',')} --> {_clock(s['end'], ',')}\n{s['text']}\n"
                  for i, s in enumerate(result.segments)]
        return "text/plain", "\n".join(blocks)
    if response_format == "vtt":
        cues = [f"{_clock(s['start'], '.')} --> {_clock(s['end'], '.')}\n{s['text']}\n" for s in result.segments]
        return "text/plain", "WEBVTT\n\n" + "\n".join(cues)
    if response_format == "verbose_json":
        return "application/json", {"task": "transcribe", "language": language or "english",
                                    "duration": round(result.seconds, 3), "text": result.text,
                                    "segments": result.segments, "usage": usage}
    return "application/json", {"text": result.text, "usage": usage}
