"""Hostile input never gets a 5xx: each class gets its 4xx in the error shape."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.errors import MockError
from mockserver.validation import parse_json
from tests.mock.test_bad_input import assert_error_shape

OK_MESSAGES = b'"messages":[{"role":"user","content":"hi"}]'
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(("name", "body", "fragment"), [
    ("invalid UTF-8", b'{"messages":[{"role":"user","content":"\xff\xfe"}]}', "UTF-8"),
    ("lone surrogate", b'{"messages":[{"role":"user","content":"\\ud800"}]}', "surrogate"),
    ("nested 10,000 deep", b'{"messages":' + b"[" * 10000 + b"]" * 10000 + b"}", "depth"),
    ("huge integer", b"{" + OK_MESSAGES + b',"max_tokens":' + b"9" * 400 + b"}", "not valid JSON"),
    ("huge float", b"{" + OK_MESSAGES + b',"temperature":1e400}', "not valid JSON"),
    ("NaN literal", b"{" + OK_MESSAGES + b',"temperature":NaN}', "not valid JSON"),
    ("Infinity literal", b"{" + OK_MESSAGES + b',"temperature":-Infinity}', "not valid JSON"),
    ("duplicate keys", b"{" + OK_MESSAGES + b',"messages":[]}', "duplicate key 'messages'"),
    ("nested duplicate keys", b'{"messages":[{"role":"user","role":"system","content":"x"}]}', "duplicate key 'role'"),
    ("duplicate keys beside colons in strings",
     b'{"messages":[{"role":"user","content":"a:b"}],"user":"x:y","user":"z"}', "duplicate key 'user'"),
    ("duplicate empty keys", b'{' + OK_MESSAGES + b',"":1,"":2}', "duplicate key ''"),
    ("duplicate keys whose lost colon an escaped one makes up",
     b'{' + OK_MESSAGES + b',"user":"x","user":"\\u003a"}', "duplicate key 'user'"),
    ("truncated", b"{" + OK_MESSAGES, "not valid JSON"),
    ("a bare string", b'"hello"', "Invalid request"),
])
def test_hostile_bodies_get_400(client, name, body, fragment):
    error = assert_error_shape(client.post("/chat/completions", content=body, headers=JSON), 400)
    assert fragment in error["message"], (name, error)


def _text(value: object, escape_colons: bool) -> str:
    """JSON text for ``value``, where an object is a list of (key, value) pairs (so keys may repeat)."""
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        return "{" + ",".join(f"{_text(k, escape_colons)}:{_text(v, escape_colons)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_text(v, escape_colons) for v in value) + "]"
    text = json.dumps(value)
    return text.replace(":", "\\u003a") if escape_colons and isinstance(value, str) else text


KEYS = st.sampled_from(["a", "b", "a:b", ":", "", "é", "x\\y"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.sampled_from(["v", "::", "w:x", "é:", "\\"]))
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.lists(st.tuples(KEYS, inner), min_size=1, max_size=4),
), max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(DOCUMENTS, st.booleans())
def test_duplicate_keys_are_found_exactly(document, escape_colons):
    raw = _text(document, escape_colons).encode()
    try:
        json.loads(raw, object_pairs_hook=_no_repeats)
        repeated = False
    except KeyError:
        repeated = True
    try:
        parse_json(raw)
        refused = False
    except MockError as error:
        assert "duplicate key" in error.message, error.message
        refused = True
    assert refused == repeated, raw


def _no_repeats(pairs):
    if len({key for key, _ in pairs}) != len(pairs):
        raise KeyError("repeated")
    return dict(pairs)


def test_a_duplicate_free_body_still_passes(client):
    response = client.post("/chat/completions", content=b"{" + OK_MESSAGES + b',"note":"a:b:c"}', headers=JSON)
    assert response.status_code == 200


def test_ten_megabyte_body_gets_413(client):
    body = b"{" + OK_MESSAGES + b',"pad":"' + b"x" * (10 * 1024 * 1024) + b'"}'
    assert_error_shape(client.post("/chat/completions", content=body, headers=JSON), 413)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x", ""])
def test_wrong_or_missing_content_type_gets_415(client, content_type):
    response = client.post("/chat/completions", content=b"{" + OK_MESSAGES + b"}", headers={"content-type": content_type})
    assert_error_shape(response, 415)


def test_header_of_64_kib_gets_431(client):
    assert_error_shape(client.get("/models", headers={"X-Big": "a" * 65536}), 431)


@pytest.mark.parametrize("key_id", ["..%2F..%2Fetc%2Fpasswd", "%00", "%ff%fe", "a" * 5000, "<script>", "%E2%80%AE", "..", "."])
def test_odd_key_ids_never_get_5xx(client, key_id):
    response = client.get(f"/api-keys/{key_id}")
    assert response.status_code < 500
    if response.status_code >= 400:
        assert_error_shape(response, response.status_code)


def _raw_exchange(port: int, request: bytes, wait: float) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(request)
        data = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                piece = sock.recv(65536)
            except TimeoutError:
                break
            if not piece:
                break
            data += piece
        return data


def test_a_body_that_stalls_gets_408_on_a_real_port(serve):
    mock = serve(body_timeout=0.3)
    port = int(mock.url.split(":")[2].split("/")[0])
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rq-mock-admin-key\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"mess")
    started = time.monotonic()
    answer = _raw_exchange(port, head, wait=5)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"code":"request_timeout"' in answer
    assert time.monotonic() - started >= 0.3


def test_a_slow_upload_that_keeps_coming_is_read_to_the_end(serve):
    # The timeout is per piece: a body trickling in for longer than it, piece by piece within it, is read.
    mock = serve(body_timeout=0.3)
    port = int(mock.url.split(":")[2].split("/")[0])
    body = b'{"messages":[{"role":"user","content":"slow but steady"}]}'
    pieces = [body[i:i + 15] for i in range(0, len(body), 15)]
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rq-mock-admin-key\r\n"
            b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head)
        for piece in pieces:
            time.sleep(0.15)
            sock.sendall(piece)
        answer = sock.recv(65536)
    assert time.monotonic() - started > 0.3 * 1.5  # longer than one timeout in all
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_server_still_answers_after_hostile_traffic(serve):
    mock = serve()
    port = int(mock.url.split(":")[2].split("/")[0])
    _raw_exchange(port, b"GARBAGE\r\n\r\n", wait=1)
    _raw_exchange(port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", wait=1)
    response = httpx.get(f"{mock.url}/models", headers={"Authorization": "Bearer rq-mock-admin-key"})
    assert response.status_code == 200


@pytest.mark.parametrize(("path", "body"), [
    ("/chat/completions", {"messages": [{"role": "user", "content": "a b c d e f"}], "max_tokens": 2.0}),
    ("/embeddings", {"model": "openai/text-embedding-3-small", "input": "x", "dimensions": 8.0}),
])
def test_integers_written_as_floats_are_integers(client, path, body):
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    if "max_tokens" in body:
        assert response.json()["choices"][0]["finish_reason"] == "length"
        assert response.json()["usage"]["completion_tokens"] == 2
    else:
        assert len(response.json()["data"][0]["embedding"]) == 8
