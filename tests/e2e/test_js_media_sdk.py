"""The official OpenAI JavaScript SDK's audio and image calls against a served mock: speech in five formats
decoded by real decoders, transcription of a real WAV (a read stream and ``toFile``), image generation and an
edit with a PNG and a mask, the PNGs decoded and their sizes checked. The SDK is installed by npm on first use."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.auth import DEFAULT_API_KEY
from mockserver.llm.audio import CHARS_PER_SECOND
from mockserver.media.audio import wav
from mockserver.media.png import png
from tests.e2e.decoders import AUDIO_DECODERS, decode_png, decoded_seconds
from tests.e2e.node import run_script

TEXT = "Welcome to the gateway. This sentence is read aloud by the mock."  # as in media_check.mjs
TYPES = {"mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac", "wav": "audio/wav"}


@pytest.fixture(scope="module")
def seen(node_sdk, tmp_path_factory) -> dict:
    from mockserver.config import MockConfig
    from mockserver.spec import load_spec
    from mockserver.testing import serve_in_thread

    folder = tmp_path_factory.mktemp("js-media")
    (folder / "hello.wav").write_bytes(wav(3.0))
    (folder / "photo.png").write_bytes(png(96, 64, seed=3))
    (folder / "mask.png").write_bytes(png(96, 64, seed=4))
    (folder / "small-mask.png").write_bytes(png(32, 32))
    with serve_in_thread(MockConfig(spec=load_spec(), api_key=DEFAULT_API_KEY)) as running:
        return run_script("media_check.mjs", running.url, DEFAULT_API_KEY, str(folder))


@pytest.mark.parametrize("fmt", sorted(TYPES))
def test_speech_from_the_javascript_sdk_decodes(seen, fmt, tmp_path):
    speech = seen["speech"][fmt]
    assert speech["type"] == TYPES[fmt]
    assert speech["seconds"] == pytest.approx(len(TEXT) / CHARS_PER_SECOND, abs=0.001)
    decoded = decoded_seconds(fmt, Path(speech["file"]), tmp_path / "decoded.wav")
    assert decoded == pytest.approx(speech["seconds"], abs=AUDIO_DECODERS.get(fmt, (0, 0, 0, 0.001))[3])


def test_transcription_of_a_real_wav_from_the_javascript_sdk(seen):
    result = seen["transcription"]
    assert result["text"].endswith(".") and result["usage"]["type"] == "duration" and result["usage"]["seconds"] == 3
    assert result["usage"]["cost"] > 0
    assert result["verbose"] == {"duration": 3, "text": result["text"], "segments": result["verbose"]["segments"]}
    assert result["verbose"]["segments"] >= 1 and result["srt"].startswith("1\n00:00:00,000 --> ")


def test_images_from_the_javascript_sdk_decode_to_the_asked_size(seen):
    assert len(seen["generated"]) == 2 and seen["generatedUsage"]["images"] == 2
    sizes = [decode_png(Path(file).read_bytes())[:2] for file in seen["generated"]]
    assert sizes == [(512, 512), (512, 512)]
    assert decode_png(Path(seen["edited"]).read_bytes())[:2] == (96, 64)  # the photo's size


def test_errors_reach_the_javascript_sdk_as_its_classes(seen):
    assert seen["wrongMask"] == {"class": "BadRequestError", "status": 400, "param": "mask", "code": "invalid_mask"}
    assert seen["wrongVoice"]["class"] == "BadRequestError" and seen["wrongVoice"]["param"] == "voice"
