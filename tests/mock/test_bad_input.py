"""Each class of bad input gets its status and the OpenAI error shape."""

from __future__ import annotations

import pytest

CHAT = {"messages": [{"role": "user", "content": "hi"}]}


def assert_error_shape(response, status, code=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    assert "param" in error and "code" in error
    if code is not None:
        assert error["code"] == code
    return error


def test_invalid_body_lists_every_violation_with_its_path(client):
    body = {"messages": [{"role": "robot", "content": 5}], "temperature": 9, "max_tokens": 0}
    error = assert_error_shape(client.post("/chat/completions", json=body), 400, "invalid_request")
    paths = {d["path"] for d in error["details"]}
    assert {"$.messages[0].role", "$.messages[0].content", "$.temperature", "$.max_tokens"} <= paths
    assert all(d["message"] for d in error["details"])


def test_missing_required_field(client):
    error = assert_error_shape(client.post("/embeddings", json={"input": "x"}), 400)
    assert any("model" in d["message"] for d in error["details"])


def test_malformed_json(client):
    response = client.post("/chat/completions", content=b'{"messages": [', headers={"content-type": "application/json"})
    assert_error_shape(response, 400, "invalid_json")


def test_missing_body(client):
    assert_error_shape(client.post("/chat/completions", headers={"content-type": "application/json"}), 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_non_json_content_type(client, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/chat/completions", content=b'{"messages": []}', headers=headers)
    assert_error_shape(response, 415)


def test_body_over_the_limit(make_client):
    client = make_client(max_body=100)
    response = client.post("/chat/completions", json={"messages": [{"role": "user", "content": "x" * 200}]})
    assert_error_shape(response, 413)


def test_body_over_the_limit_without_content_length(make_client):
    client = make_client(max_body=100)

    def chunks():
        yield b'{"messages": [{"role": "user", "content": "'
        yield b"x" * 200
        yield b'"}]}'

    response = client.post("/chat/completions", content=chunks(), headers={"content-type": "application/json"})
    assert_error_shape(response, 413)


def test_missing_key(make_client):
    response = make_client(headers={}).get("/models")
    assert_error_shape(response, 401, "missing_api_key")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("value", ["Bearer wrong", "Basic cnEtbW9jay1hZG1pbi1rZXk=", "rq-mock-admin-key", "Bearer "])
def test_unknown_or_malformed_key(make_client, value):
    response = make_client(headers={"Authorization": value}).get("/models")
    assert_error_shape(response, 401)


def test_key_from_option_replaces_default(make_client):
    client = make_client(api_key="sk-other", headers={"Authorization": "Bearer sk-other"})
    assert client.get("/models").status_code == 200
    assert client.get("/models", headers={"Authorization": "Bearer rq-mock-admin-key"}).status_code == 401


@pytest.mark.parametrize("path", ["/nope", "/models/", "/chat/completions/x", "/api-keys/a/b/c"])
def test_unknown_path(client, path):
    assert_error_shape(client.get(path), 404, "unknown_path")


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("PUT", "/models", "GET"),
    ("GET", "/chat/completions", "POST"),
    ("POST", "/api-keys/k1", "DELETE, GET"),
    ("HEAD", "/chat/completions", "POST"),
])
def test_wrong_method(client, method, path, allow):
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    if method != "HEAD":
        assert_error_shape(response, 405, "method_not_allowed")


def test_errors_validate_against_the_overlaid_spec(client, spec):
    from tests.oracle import assert_valid_response

    assert_valid_response(spec, "POST", "/chat/completions", client.post("/chat/completions", json={"messages": []}))
    assert_valid_response(spec, "GET", "/models", client.get("/models", headers={"Authorization": "Bearer x"}))


def test_cors_preflight_and_exposed_headers(client):
    response = client.options("/chat/completions", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    simple = client.get("/models", headers={"Origin": "http://localhost:3000"})
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "retry-after" in simple.headers["access-control-expose-headers"].lower()
