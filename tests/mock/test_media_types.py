"""Request bodies of every media type a spec names, and binary and streamed answers that real decoders read."""

from __future__ import annotations

import io
import json
import wave

import pytest

from mockserver.bodies import Upload, parse_body
from mockserver.errors import MockError
from mockserver.media.audio import mp3_seconds, wav
from mockserver.media.png import png, png_size
from mockserver.spec import load_spec
from tests.conftest import DATA
from tests.multipart import multipart_body
from tests.oracle import sse_events

MEDIA = load_spec(DATA / "media.yml")
PNG = png(8, 4)


@pytest.fixture
def client(make_client):
    return make_client(spec=MEDIA, headers={})


def _post(client, body: bytes, boundary: str | None = "b0undary"):
    kind = f"multipart/form-data; boundary={boundary}" if boundary else "multipart/form-data"
    return client.post("/uploads", content=body, headers={"Content-Type": kind})


# -- multipart ---------------------------------------------------------------------------------------


def test_multipart_fields_are_read_as_their_schema_types_and_files_as_uploads():
    op = MEDIA.operation("upload")
    body = multipart_body("xyz", [("image", "a.png", "image/png", PNG), ("purpose", None, None, b"avatar"),
                              ("count", None, None, b"3"), ("tags", None, None, b"a"), ("tags", None, None, b"b"),
                              ("meta", None, "application/json", b'{"owner": "ann"}')])
    value = parse_body(op, "multipart/form-data; boundary=xyz", body, MEDIA.resolve)
    assert value["purpose"] == "avatar" and value["count"] == 3 and value["tags"] == ["a", "b"]
    assert value["meta"] == {"owner": "ann"}
    assert value["image"] == Upload("a.png", "image/png", PNG)


def test_multipart_upload_answers_a_decodable_png(client):
    response = _post(client, multipart_body("b0undary", [("image", "a.png", "image/png", PNG),
                                                     ("purpose", None, None, b"banner")]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert png_size(response.content) == (256, 256)


def test_multipart_fields_are_validated_with_every_violation(client):
    response = _post(client, multipart_body("b0undary", [("image", "a.png", "image/png", PNG),
                                                     ("purpose", None, None, b"poster"), ("count", None, None, b"0"),
                                                     ("meta", None, "application/json", b"{}")]))
    assert response.status_code == 400
    paths = {d["path"] for d in response.json()["error"]["details"]}
    assert paths == {"$.purpose", "$.count", "$.meta"}


def test_a_file_of_the_wrong_type_is_415_and_an_untyped_png_is_recognised(client):
    wrong = _post(client, multipart_body("b0undary", [("image", "a.wav", "audio/wav", wav(0.1)),
                                                  ("purpose", None, None, b"avatar")]))
    assert wrong.status_code == 415 and wrong.json()["error"]["param"] == "image"
    assert "image/png, image/jpeg" in wrong.json()["error"]["message"]
    sniffed = _post(client, multipart_body("b0undary", [("image", "a.bin", "application/octet-stream", PNG),
                                                    ("purpose", None, None, b"avatar")]))
    assert sniffed.status_code == 200, sniffed.text
    text = _post(client, multipart_body("b0undary", [("image", "a.txt", None, b"just text"),
                                                 ("purpose", None, None, b"avatar")]))
    assert text.status_code == 415


@pytest.mark.parametrize(("body", "boundary", "expected"), [
    (multipart_body("b0undary", [("purpose", None, None, b"avatar")]), None, "no boundary"),
    (multipart_body("b0undary", [("image", "a.png", "image/png", PNG)], close=False), "b0undary", "truncated"),
    (multipart_body("b0undary", [("image", "a.png", "image/png", PNG)])[:-30], "b0undary", "truncated"),
    (b"this is not multipart at all", "b0undary", "Malformed multipart body"),
    (multipart_body("b0undary", [("purpose", None, None, b"a")] * 10_000), "b0undary", "more than 1000 parts"),
    (multipart_body("b0undary", [("purpose", None, None, b"a" * (1024 * 1024 + 1))]), "b0undary", "text field is over"),
    (b"--b0undary\r\nContent-Type: text/plain\r\n\r\nx\r\n--b0undary--\r\n", "b0undary", "no Content-Disposition"),
])
def test_malformed_multipart_is_a_400_never_a_500(make_client, body, boundary, expected):
    client = make_client(spec=MEDIA, headers={}, max_body=4 * 1024 * 1024)
    response = _post(client, body, boundary)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_multipart" and expected in error["message"]


def test_a_file_over_max_body_is_413(make_client):
    client = make_client(spec=MEDIA, headers={}, max_body=10_000)
    big = png(8, 4) + bytes(20_000)
    response = _post(client, multipart_body("b0undary", [("image", "a.png", "image/png", big),
                                                     ("purpose", None, None, b"avatar")]))
    assert response.status_code == 413


# -- forms, bytes, text ------------------------------------------------------------------------------


def test_urlencoded_forms_are_read_and_validated(client):
    ok = client.post("/forms", data={"name": "Ann", "age": "41", "subscribed": "true"})
    assert ok.status_code == 200, ok.text
    value = parse_body(MEDIA.operation("form"), "application/x-www-form-urlencoded", b"name=Ann&age=41&subscribed=true",
                       MEDIA.resolve)
    assert value == {"name": "Ann", "age": 41, "subscribed": True}
    bad = client.post("/forms", data={"name": "A", "age": "old"})
    assert bad.status_code == 400
    assert {d["path"] for d in bad.json()["error"]["details"]} == {"$.name", "$.age"}
    malformed = client.post("/forms", content=b"name", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "invalid_form"


def test_octet_stream_body_gets_a_wav_that_wave_reads(client):
    response = client.put("/blobs", content=b"\x00\x01\x02", headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as sound:
        assert sound.getnframes() > 0 and sound.getframerate() == 24_000
    wrong = client.put("/blobs", json={"a": 1})
    assert wrong.status_code == 415 and "application/octet-stream" in wrong.json()["error"]["message"]


def test_text_bodies_are_utf8_and_validated(client):
    ok = client.post("/notes", content=b"short note", headers={"Content-Type": "text/plain; charset=utf-8"})
    assert ok.status_code == 200 and ok.headers["content-type"] == "audio/mpeg"
    assert mp3_seconds(ok.content) and mp3_seconds(ok.content) > 0.5
    assert client.post("/notes", content=b"x" * 21, headers={"Content-Type": "text/plain"}).status_code == 400
    bad = client.post("/notes", content=b"\xff\xfe", headers={"Content-Type": "text/plain"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_text"


def test_a_body_without_content_type_is_415_unless_the_spec_takes_bytes():
    with pytest.raises(MockError) as info:
        parse_body(MEDIA.operation("upload"), None, b"--x\r\n", MEDIA.resolve)
    assert info.value.status == 415 and "multipart/form-data" in info.value.args[0]
    assert parse_body(MEDIA.operation("putBlob"), None, b"\x00\x01", MEDIA.resolve) == b"\x00\x01"


def test_parse_body_refuses_an_undocumented_media_type():
    with pytest.raises(MockError) as info:
        parse_body(MEDIA.operation("note"), "application/xml", b"<a/>", MEDIA.resolve)
    assert info.value.status == 415


# -- event streams -----------------------------------------------------------------------------------


def test_event_stream_events_follow_the_item_schema(client):
    response = client.get("/events")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    validator = MEDIA.operation("events").responses["200"].content["text/event-stream"].validator
    events = [json.loads(data) for data in sse_events(response.text)]
    assert len(events) == 3 and all(validator.is_valid(event) for event in events)
    assert {event["type"] for event in events} == {"progress", "done"}
    assert "event: progress\n" in response.text
