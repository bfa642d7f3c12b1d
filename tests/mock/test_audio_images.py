"""Speech, transcription, image generation and edits: real files, the documented rules, billed through the ledger."""

from __future__ import annotations

import base64
import io
import wave

import pytest

from mockserver.llm import tokens
from mockserver.llm.audio import CHARS_PER_SECOND, WORDS_PER_SECOND
from mockserver.media.aac import aac, aac_seconds
from mockserver.media.audio import flac, flac_seconds, mp3, mp3_seconds, wav
from mockserver.media.files import file_for
from mockserver.media.opus import opus, opus_seconds
from mockserver.media.png import png, png_size
from tests.multipart import multipart_body
from tests.oracle import assert_valid_response

TEXT = "The quick brown fox jumped over the lazy dog."


@pytest.fixture
def keyed(client):
    """A new key's id and a client calling with it."""
    created = client.post("/api-keys", json={"name": "media"}).json()
    client.headers["Authorization"] = f"Bearer {created['key']}"
    return created["id"], client


def _spent(client, key_id):
    admin = {"Authorization": "Bearer rq-mock-admin-key"}
    return client.get(f"/api-keys/{key_id}/usage", headers=admin).json()


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as sound:
        return sound.getnframes() / sound.getframerate()


# -- speech -----------------------------------------------------------------------------------------


def test_speech_is_a_wav_whose_duration_grows_with_the_text_billed_per_character(keyed, spec):
    key_id, client = keyed
    short = client.post("/audio/speech", json={"model": "openai/tts-1", "input": TEXT, "voice": "alloy",
                                              "response_format": "wav"})
    assert short.status_code == 200 and short.headers["content-type"] == "audio/wav"
    assert _wav_seconds(short.content) == pytest.approx(len(TEXT) / CHARS_PER_SECOND, abs=0.01)
    long = client.post("/audio/speech", json={"model": "openai/tts-1", "input": TEXT * 3, "voice": "alloy",
                                             "response_format": "wav"})
    assert _wav_seconds(long.content) == pytest.approx(3 * _wav_seconds(short.content), rel=0.01)
    assert_valid_response(spec, "POST", "/audio/speech", short)
    usage = _spent(client, key_id)
    assert usage["total_requests"] == 2
    assert usage["total_cost"] == pytest.approx(4 * len(TEXT) * 15 / 1_000_000, abs=1e-10)


@pytest.mark.parametrize(("fmt", "media_type"), [("mp3", "audio/mpeg"), ("flac", "audio/flac"), ("pcm", "audio/pcm"),
                                                 ("opus", "audio/ogg"), ("aac", "audio/aac")])
def test_speech_formats(client, fmt, media_type):
    response = client.post("/audio/speech", json={"model": "openai/gpt-4o-mini-tts", "input": TEXT, "voice": "coral",
                                                 "response_format": fmt, "speed": 2})
    assert response.status_code == 200 and response.headers["content-type"] == media_type
    seconds = len(TEXT) / CHARS_PER_SECOND / 2
    if fmt == "mp3":
        assert mp3_seconds(response.content) == pytest.approx(seconds, abs=0.03)
    elif fmt == "flac":
        assert flac_seconds(response.content) == pytest.approx(seconds, abs=0.001)
    elif fmt == "opus":
        assert opus_seconds(response.content) == pytest.approx(seconds, abs=1 / 48_000)
    elif fmt == "aac":
        assert aac_seconds(response.content) == pytest.approx(seconds, abs=1024 / 48_000)
    else:
        assert len(response.content) == pytest.approx(seconds * 24_000 * 2, abs=2)


@pytest.mark.parametrize(("body", "status", "param"), [
    ({"model": "openai/tts-1", "input": TEXT, "voice": "verse"}, 400, "voice"),
    ({"model": "openai/gpt-4o-mini", "input": TEXT, "voice": "alloy"}, 404, "model"),
    ({"model": "openai/tts-1", "input": TEXT, "voice": "alloy", "response_format": "ogg"}, 400, "$.response_format"),
    ({"model": "openai/tts-1", "input": "", "voice": "alloy"}, 400, "$.input"),
])
def test_speech_refusals(client, body, status, param):
    response = client.post("/audio/speech", json=body)
    assert response.status_code == status and response.json()["error"]["param"] == param


# -- transcription ----------------------------------------------------------------------------------


def _transcribe(client, data=None, filename="a.wav", content_type="audio/wav", **fields):
    fields.setdefault("model", "openai/whisper-1")
    return client.post("/audio/transcriptions", data=fields,
                       files={"file": (filename, wav(2.0) if data is None else data, content_type)})


def test_transcription_reads_the_duration_from_the_file_and_bills_by_the_second(keyed, spec):
    key_id, client = keyed
    response = _transcribe(client)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["usage"]["type"] == "duration" and body["usage"]["seconds"] == 2.0
    assert len(body["text"].split()) == 2.0 * WORDS_PER_SECOND
    assert body["usage"]["cost"] == pytest.approx(2 * 0.006 / 60, abs=1e-10)
    assert _spent(client, key_id)["total_cost"] == pytest.approx(2 * 0.006 / 60, abs=1e-10)
    assert_valid_response(spec, "POST", "/audio/transcriptions", response)
    again = _transcribe(client).json()["text"]
    other = _transcribe(client, data=wav(2.0)[:-2] + b"\x01\x02").json()["text"]
    assert again == body["text"] != other  # the same file gives the same text


@pytest.mark.parametrize(("data", "name", "seconds"), [(mp3(3.0), "a.mp3", 3.0), (flac(1.5), "a.flac", 1.5),
                                                       (opus(2.25), "a.opus", 2.25), (aac(1.0), "a.aac", 1.0)])
def test_transcription_reads_the_duration_from_the_header(client, data, name, seconds):
    response = _transcribe(client, data=data, filename=name, content_type="application/octet-stream")
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["seconds"] == pytest.approx(seconds, abs=0.03)


def test_transcription_formats(client, spec):
    forced = {"X-Mock-Reply": "one two three four five six seven eight nine ten eleven twelve"}
    text = client.post("/audio/transcriptions", data={"model": "openai/whisper-1", "response_format": "text"},
                       files={"file": ("a.wav", wav(4.0), "audio/wav")}, headers=forced)
    assert text.headers["content-type"].startswith("text/plain") and text.text == forced["X-Mock-Reply"] + "\n"
    words = _transcribe(client).json()["text"]
    srt = _transcribe(client, response_format="srt").text
    assert srt == f"1\n00:00:00,000 --> 00:00:02,000\n{words}\n"
    vtt = _transcribe(client, response_format="vtt").text
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")
    verbose = _transcribe(client, response_format="verbose_json", language="french")
    body = verbose.json()
    assert body["task"] == "transcribe" and body["language"] == "french" and body["duration"] == 2.0
    assert body["segments"][0]["start"] == 0 and body["segments"][-1]["end"] == 2.0
    assert " ".join(s["text"] for s in body["segments"]) == body["text"]
    assert_valid_response(spec, "POST", "/audio/transcriptions", verbose)


def test_transcription_refusals(client):
    error = _transcribe(client, data=b"not audio at all", content_type="audio/wav").json()["error"]
    assert error["code"] == "invalid_audio" and "WAV, MP3, FLAC, Ogg Opus and ADTS AAC" in error["message"]
    assert _transcribe(client, data=png(4, 4), filename="a.png", content_type="image/png").status_code == 415
    assert _transcribe(client, model="openai/tts-1").status_code == 404
    missing = client.post("/audio/transcriptions", data={"model": "openai/whisper-1"}, files={"x": ("a", b"1")})
    assert missing.status_code == 400 and missing.json()["error"]["details"][0]["path"] == "$"


# -- images -----------------------------------------------------------------------------------------


def _pngs(body):
    return [base64.b64decode(item["b64_json"]) if "b64_json" in item else
            base64.b64decode(item["url"].split(",", 1)[1]) for item in body["data"]]


def test_images_are_pngs_of_the_requested_size_and_count_billed_per_image(keyed, spec):
    key_id, client = keyed
    response = client.post("/images/generations", json={"model": "openai/dall-e-2", "prompt": "a lighthouse",
                                                         "n": 3, "size": "256x256", "response_format": "b64_json"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [png_size(p) for p in _pngs(body)] == [(256, 256)] * 3
    assert len(set(_pngs(body))) == 3
    assert body["usage"]["images"] == 3 and body["usage"]["cost"] == pytest.approx(0.06)
    assert _spent(client, key_id)["total_cost"] == pytest.approx(0.06)
    assert_valid_response(spec, "POST", "/images/generations", response)
    url = client.post("/images/generations", json={"prompt": "a lighthouse"}).json()
    assert url["data"][0]["url"].startswith("data:image/png;base64,") and png_size(_pngs(url)[0]) == (256, 256)


def test_image_sizes_the_model_does_not_draw_are_refused(client):
    response = client.post("/images/generations", json={"model": "openai/dall-e-3", "prompt": "x", "size": "256x256"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "size"
    assert "1792x1024" in response.json()["error"]["message"]


def _edit(client, image, mask=None, **fields):
    files = [("image", ("in.png", image, "image/png"))]
    if mask is not None:
        files.append(("mask", ("mask.png", mask, "image/png")))
    return client.post("/images/edits", data={"prompt": "add a boat", **fields}, files=files)


def test_edits_keep_the_image_size_and_check_the_mask(client, spec):
    response = _edit(client, png(64, 48), png(64, 48, seed=9), n="2", response_format="b64_json")
    assert response.status_code == 200, response.text
    assert [png_size(p) for p in _pngs(response.json())] == [(64, 48)] * 2
    assert response.json()["usage"]["input_tokens_details"]["image_tokens"] == tokens.IMAGE_TOKENS
    assert_valid_response(spec, "POST", "/images/edits", response)
    sized = _edit(client, png(64, 48), size="512x512", model="openai/dall-e-2")
    assert png_size(_pngs(sized.json())[0]) == (512, 512)
    wrong = _edit(client, png(64, 48), png(32, 32))
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "mask"
    assert "32x32" in wrong.json()["error"]["message"] and "64x48" in wrong.json()["error"]["message"]
    assert _edit(client, b"\x89PNG broken").status_code == 400
    assert _edit(client, png(64, 48), file_for("image/webp", None)).json()["error"]["code"] == "invalid_mask"


def test_several_images_may_be_edited_together(client):
    files = [("image[]", ("a.png", png(20, 10), "image/png")), ("image[]", ("b.png", png(30, 30), "image/png"))]
    response = client.post("/images/edits", data={"prompt": "merge"}, files=files)
    assert response.status_code == 200, response.text
    assert png_size(_pngs(response.json())[0]) == (20, 10)
    assert response.json()["usage"]["input_tokens_details"]["image_tokens"] == 2 * tokens.IMAGE_TOKENS


# -- PDFs in chat -----------------------------------------------------------------------------------


def _pdf(pages: int) -> str:
    body = b"%PDF-1.4\n" + b"".join(b"%d 0 obj << /Type /Page >> endobj\n" % i for i in range(pages)) + \
        b"0 0 obj << /Type /Pages >> endobj\n%%EOF\n"
    return "data:application/pdf;base64," + base64.b64encode(body).decode()


def test_chat_accepts_pdf_file_parts_and_counts_them_by_page(client):
    def prompt_tokens(pages):
        content = [{"type": "text", "text": "Summarise"},
                   {"type": "file", "file": {"filename": "report.pdf", "file_data": _pdf(pages)}}]
        response = client.post("/chat/completions", json={"model": "openai/gpt-4o-mini",
                                                          "messages": [{"role": "user", "content": content}]})
        assert response.status_code == 200, response.text
        return response.json()["usage"]["prompt_tokens"]

    assert prompt_tokens(3) - prompt_tokens(1) == 2 * tokens.PDF_PAGE_TOKENS


# -- faults and journal ------------------------------------------------------------------------------


def test_faults_and_the_journal_cover_the_media_operations(client):
    limited = client.post("/audio/speech", json={"model": "openai/tts-1", "input": TEXT, "voice": "alloy"},
                          headers={"Prefer": "code=429"})
    assert limited.status_code == 429 and "retry-after" in limited.headers
    _transcribe(client)
    client.post("/images/generations", json={"prompt": "a kite"})
    entries = client.get("http://testserver/__mock/journal?limit=3").json()["data"]
    assert [(e["operation"], e["status"]) for e in entries] == [
        ("createImage", 200), ("createTranscription", 200), ("createSpeech", 429)]


# -- hostile multipart on the audio and image endpoints ----------------------------------------------

_UPLOADS = {  # path: (its file field, a file of the right type, a file of the wrong type, the other fields)
    "/audio/transcriptions": ("file", ("a.wav", "audio/wav", wav(0.5)), ("a.png", "image/png", png(4, 4)),
                              [("model", None, None, b"openai/whisper-1")]),
    "/images/edits": ("image", ("a.png", "image/png", png(8, 8)), ("a.wav", "audio/wav", wav(0.1)),
                      [("model", None, None, b"openai/gpt-image-1"), ("prompt", None, None, b"a sail")]),
}
_MAX_BODY = 1024 * 1024  # 10,000 small parts fit; the over-limit file does not


def _hostile(path: str, case: str) -> tuple[bytes, str | None]:
    field, (name, kind, data), (wrong_name, wrong_kind, wrong_data), fields = _UPLOADS[path]
    good = [(field, name, kind, data), *fields]
    if case == "well-formed":
        return multipart_body("b0undary", good), "b0undary"
    if case == "boundary missing":
        return multipart_body("b0undary", good), None
    if case == "part over the limit":
        return multipart_body("b0undary", [(field, name, kind, data + bytes(_MAX_BODY)), *fields]), "b0undary"
    if case == "10,000 parts":
        return multipart_body("b0undary", good + [("prompt", None, None, b"x")] * 10_000), "b0undary"
    if case == "wrong file type":
        return multipart_body("b0undary", [(field, wrong_name, wrong_kind, wrong_data), *fields]), "b0undary"
    return multipart_body("b0undary", good)[:-40], "b0undary"  # truncated inside the last part


@pytest.mark.parametrize("path", sorted(_UPLOADS))
@pytest.mark.parametrize(("case", "status", "code"), [
    ("boundary missing", 400, "invalid_multipart"), ("part over the limit", 413, None),
    ("10,000 parts", 400, "invalid_multipart"), ("wrong file type", 415, "unsupported_file_type"),
    ("truncated body", 400, "invalid_multipart"),
])
def test_hostile_multipart_on_audio_and_image_uploads_is_a_4xx(make_client, path, case, status, code):
    client = make_client(max_body=_MAX_BODY)

    def send(which: str):
        body, boundary = _hostile(path, which)
        kind = f"multipart/form-data; boundary={boundary}" if boundary else "multipart/form-data"
        return client.post(path, content=body, headers={"Content-Type": kind})

    response = send(case)
    assert response.status_code == status, response.text
    assert code is None or response.json()["error"]["code"] == code
    fine = send("well-formed")
    assert fine.status_code == 200, fine.text  # the same mock still serves a well-formed upload
