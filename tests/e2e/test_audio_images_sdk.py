"""The official openai SDK against a served mock: speech decoded by real decoders, transcription of a real WAV,
image generation and edits with a PNG and a mask (the PNGs decoded, their sizes checked)."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import wave
import zlib

import openai
import pytest
from openai import OpenAI

from mockserver.auth import DEFAULT_API_KEY
from mockserver.llm.audio import CHARS_PER_SECOND
from mockserver.media.audio import wav
from mockserver.media.png import png

TEXT = "Welcome to the gateway. This sentence is read aloud by the mock."


def decoder(program: str, package: str) -> str:
    """The path of a Debian decoder, installed with apt-get on first use (the tests run as root here)."""
    found = shutil.which(program)
    if found is None:
        subprocess.run(["apt-get", "install", "-y", "-q", package], capture_output=True, timeout=600, check=False)
        if shutil.which(program) is None:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600, check=False)
            subprocess.run(["apt-get", "install", "-y", "-q", package], capture_output=True, timeout=600, check=True)
        found = shutil.which(program)
    assert found, f"{program} could not be installed from {package}"
    return found


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, raw scanlines) of an 8-bit RGB PNG, decoded chunk by chunk with CRC checks."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, size = 8, b"", None
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        kind, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        assert zlib.crc32(kind + body) == int.from_bytes(data[offset + 8 + length:offset + 12 + length], "big")
        if kind == b"IHDR":
            size = (int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big"))
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    assert size is not None
    raw = zlib.decompress(idat)
    assert len(raw) == size[1] * (1 + 3 * size[0])
    return size[0], size[1], raw


@pytest.fixture(scope="module")
def sdk(request):
    from mockserver.config import MockConfig
    from mockserver.spec import load_spec
    from mockserver.testing import serve_in_thread

    with serve_in_thread(MockConfig(spec=load_spec(), api_key=DEFAULT_API_KEY)) as running, \
            OpenAI(base_url=running.url, api_key=DEFAULT_API_KEY, max_retries=0) as client:
        yield client


def test_speech_wav_decodes_with_wave(sdk):
    audio = sdk.audio.speech.create(model="openai/tts-1", voice="alloy", input=TEXT, response_format="wav")
    with wave.open(io.BytesIO(audio.content)) as sound:
        seconds = sound.getnframes() / sound.getframerate()
        assert sound.getnchannels() == 1 and sound.getsampwidth() == 2
    assert seconds == pytest.approx(len(TEXT) / CHARS_PER_SECOND, abs=0.01)


def test_speech_mp3_decodes_with_mpg123(sdk, tmp_path):
    mpg123 = decoder("mpg123", "mpg123")
    audio = sdk.audio.speech.create(model="openai/gpt-4o-mini-tts", voice="coral", input=TEXT * 2)
    path = tmp_path / "speech.mp3"
    path.write_bytes(audio.content)
    out = tmp_path / "speech.wav"
    done = subprocess.run([mpg123, "-q", "-w", str(out), str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with wave.open(str(out)) as sound:
        seconds = sound.getnframes() / sound.getframerate()
    assert seconds == pytest.approx(2 * len(TEXT) / CHARS_PER_SECOND, abs=0.05)


def test_speech_flac_decodes_with_flac(sdk, tmp_path):
    program = decoder("flac", "flac")
    audio = sdk.audio.speech.create(model="openai/tts-1-hd", voice="nova", input=TEXT, response_format="flac")
    path = tmp_path / "speech.flac"
    path.write_bytes(audio.content)
    out = tmp_path / "decoded.wav"
    done = subprocess.run([program, "-d", "-s", "-f", "-o", str(out), str(path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    with wave.open(str(out)) as sound:
        assert sound.getnframes() / sound.getframerate() == pytest.approx(len(TEXT) / CHARS_PER_SECOND, abs=0.01)


@pytest.mark.parametrize(("fmt", "program", "package", "command", "frame"), [
    ("opus", "opusdec", "opus-tools", ["--quiet", "--rate", "48000", "{src}", "{out}"], 0.0005),  # exact; the header has ms
    ("aac", "faad", "faad", ["-q", "-o", "{out}", "{src}"], 1024 / 48_000 + 0.0005),  # one frame; ms
])
def test_speech_opus_and_aac_decode_to_the_announced_duration(sdk, tmp_path, fmt, program, package, command, frame):
    found = decoder(program, package)
    audio = sdk.audio.speech.create(model="openai/tts-1", voice="alloy", input=TEXT, response_format=fmt)
    announced = float(audio.response.headers["X-Audio-Duration-Seconds"])
    src, out = tmp_path / f"speech.{fmt}", tmp_path / "decoded.wav"
    src.write_bytes(audio.content)
    done = subprocess.run([found, *(part.format(src=src, out=out) for part in command)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with wave.open(str(out)) as sound:
        decoded = sound.getnframes() / sound.getframerate()
    assert announced == pytest.approx(len(TEXT) / CHARS_PER_SECOND, abs=0.001)
    assert decoded == pytest.approx(announced, abs=frame)  # within one frame (faad drops the first, its priming)


def test_speech_errors_are_sdk_errors(sdk):
    with pytest.raises(openai.BadRequestError) as info:
        sdk.audio.speech.create(model="openai/tts-1", voice="nobody", input=TEXT)
    assert info.value.body["param"] == "voice"


def test_transcription_of_a_real_wav(sdk, tmp_path):
    path = tmp_path / "hello.wav"
    path.write_bytes(wav(3.0))
    with path.open("rb") as audio:
        result = sdk.audio.transcriptions.create(model="openai/whisper-1", file=audio)
    assert result.text and result.text.endswith(".")
    assert result.usage.type == "duration" and result.usage.seconds == 3.0
    with path.open("rb") as audio:
        verbose = sdk.audio.transcriptions.create(model="openai/whisper-1", file=audio, response_format="verbose_json")
    assert verbose.duration == 3.0 and verbose.text == result.text and verbose.segments
    with path.open("rb") as audio:
        srt = sdk.audio.transcriptions.create(model="openai/whisper-1", file=audio, response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> ")


def test_images_generate_decodes_to_the_requested_size(sdk):
    result = sdk.images.generate(model="openai/dall-e-2", prompt="a red kite", n=2, size="512x512",
                                 response_format="b64_json")
    assert len(result.data) == 2
    for item in result.data:
        width, height, _ = decode_png(base64.b64decode(item.b64_json))
        assert (width, height) == (512, 512)


def test_images_edit_with_a_png_and_a_mask(sdk, tmp_path):
    image, mask = tmp_path / "photo.png", tmp_path / "mask.png"
    image.write_bytes(png(96, 64, seed=3))
    mask.write_bytes(png(96, 64, seed=4))
    with image.open("rb") as source, mask.open("rb") as masked:
        result = sdk.images.edit(model="openai/gpt-image-1", image=source, mask=masked, prompt="add a sail",
                                 response_format="b64_json")
    width, height, _ = decode_png(base64.b64decode(result.data[0].b64_json))
    assert (width, height) == (96, 64)
    mask.write_bytes(png(32, 32))
    with image.open("rb") as source, mask.open("rb") as masked, pytest.raises(openai.BadRequestError) as info:
        sdk.images.edit(model="openai/gpt-image-1", image=source, mask=masked, prompt="add a sail")
    assert info.value.body["param"] == "mask"
