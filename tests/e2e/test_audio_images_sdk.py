"""The official openai SDK against a served mock: speech in every format decoded by real decoders, transcription of a real WAV,
image generation and edits with a PNG and a mask (the PNGs decoded, their sizes checked)."""

from __future__ import annotations

import base64
import io
import wave

import openai
import pytest
from openai import OpenAI

from mockserver.auth import DEFAULT_API_KEY
from mockserver.llm.audio import CHARS_PER_SECOND
from mockserver.media.audio import wav
from mockserver.media.png import png
from tests.e2e.decoders import AUDIO_DECODERS, decode_png, decoded_seconds

TEXT = "Welcome to the gateway. This sentence is read aloud by the mock."


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


@pytest.mark.parametrize("fmt", sorted(AUDIO_DECODERS))
def test_speech_decodes_with_a_real_decoder_to_the_announced_duration(sdk, tmp_path, fmt):
    audio = sdk.audio.speech.create(model="openai/gpt-4o-mini-tts", voice="coral", input=TEXT * 2, response_format=fmt)
    announced = float(audio.response.headers["X-Audio-Duration-Seconds"])
    assert announced == pytest.approx(2 * len(TEXT) / CHARS_PER_SECOND, abs=0.001)
    src = tmp_path / f"speech.{fmt}"
    src.write_bytes(audio.content)
    decoded = decoded_seconds(fmt, src, tmp_path / "decoded.wav")
    assert decoded == pytest.approx(announced, abs=AUDIO_DECODERS[fmt][3])  # within one frame


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
