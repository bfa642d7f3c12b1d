"""API keys through HTTP: the secret once, authentication at once, deletion, expiry, the admin's privilege."""

from __future__ import annotations

import hashlib
import logging

import httpx
import openai
import pytest
from openapi_core.validation.response.exceptions import InvalidData

from mockserver.auth import DEFAULT_API_KEY
from mockserver.spec import load_spec
from tests.mock.test_every_operation import valid_request
from tests.oracle import assert_valid_response

SPEC = load_spec()
MANAGEMENT = [op for op in SPEC.operations if op.path.startswith(("/api-keys", "/organization"))]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def create(client, spec, **body):
    response = client.post("/api-keys", json=body)
    assert response.status_code == 200, response.text
    assert_valid_response(spec, "POST", "/api-keys", response)
    return response.json()


def test_the_secret_is_returned_once_and_never_listed(client, spec, caplog):
    caplog.set_level(logging.DEBUG)
    created = create(client, spec, name="frontend", labels=["team-a", "web"], limit=12.5,
                     expiry="2030-01-31T10:00:00+02:00")
    secret, key_id = created["key"], created["id"]
    assert secret.startswith("rqk_") and len(secret) >= 40
    assert created["name"] == "frontend" and created["labels"] == ["team-a", "web"] and created["limit"] == 12.5
    assert created["expiry"] == "2030-01-31T08:00:00Z"
    assert created["created_at"].endswith("Z")
    for path in ("/api-keys", f"/api-keys/{key_id}"):
        response = client.get(path)
        assert response.status_code == 200
        assert secret not in response.text and '"key"' not in response.text
        assert_valid_response(spec, "GET", path, response)
    listed = client.get("/api-keys").json()["data"]
    assert listed == [{k: v for k, v in created.items() if k != "key"}]
    assert client.get(f"/api-keys/{key_id}").json() == listed[0]
    patched = client.patch(f"/api-keys/{key_id}/limit", json={"limit": 3})
    assert secret not in patched.text
    state = client.app.state.mock
    record = state.keys.get(key_id)
    assert record.secret_hash == hashlib.sha256(secret.encode()).digest()
    assert secret not in repr(vars(state.keys)) and secret not in repr(record)
    assert secret not in caplog.text


def test_secrets_are_unique_and_random(client, spec):
    keys = [create(client, spec) for _ in range(20)]
    assert len({k["key"] for k in keys}) == len({k["id"] for k in keys}) == 20
    assert [k["id"] for k in client.get("/api-keys").json()["data"]] == [k["id"] for k in keys]  # creation order


def test_a_created_key_authenticates_at_once(client, spec):
    created = create(client, spec, name="app")
    response = client.get("/models", headers=bearer(created["key"]))
    assert response.status_code == 200, response.text
    state = client.app.state.mock
    principal = state.authenticate(created["key"])
    assert principal is not None and principal.key_id == created["id"] and not principal.is_admin
    state.before_inference(principal)
    state.record_usage(principal, operation_id="createChatCompletion", model="openai/gpt-4o-mini",
                       usage={"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12, "cost": 0.0000032},
                       headers={})
    usage = client.get(f"/api-keys/{created['id']}/usage").json()
    assert usage == {"total_cost": 0.0000032, "total_requests": 1, "total_tokens": 12,
                     "breakdown": [{"model": "openai/gpt-4o-mini", "requests": 1, "tokens": 12, "cost": 0.0000032}]}


def test_a_deleted_key_is_unknown_everywhere(client, spec):
    created = create(client, spec)
    key_id = created["id"]
    response = client.delete(f"/api-keys/{key_id}")
    assert response.json() == {"id": key_id, "deleted": True}
    assert_valid_response(spec, "DELETE", f"/api-keys/{key_id}", response)
    answer = client.get("/models", headers=bearer(created["key"]))
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_api_key"
    assert answer.headers["www-authenticate"] == "Bearer"
    for method, path, body in [("GET", f"/api-keys/{key_id}", None), ("DELETE", f"/api-keys/{key_id}", None),
                               ("GET", f"/api-keys/{key_id}/usage", None),
                               ("PATCH", f"/api-keys/{key_id}/limit", {"limit": 1})]:
        response = client.request(method, path, json=body)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "api_key_not_found"
        assert_valid_response(spec, method, path, response)
    assert client.get("/api-keys").json() == {"data": []}


def test_an_expired_key_gets_401_with_a_clear_reason(make_client, spec, clock):
    client = make_client(clock=clock)
    soon = create(client, spec, expiry="2026-11-25T13:00:00Z")
    past = create(client, spec, expiry="2026-11-25T11:59:59Z")
    assert client.get("/models", headers=bearer(soon["key"])).status_code == 200
    response = client.get("/models", headers=bearer(past["key"]))
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "expired_api_key" and "2026-11-25T11:59:59Z" in error["message"]
    assert_valid_response(spec, "GET", "/models", response)
    clock.advance(hours=1)  # exactly at the expiry instant the key is no longer valid
    assert client.get("/models", headers=bearer(soon["key"])).json()["error"]["code"] == "expired_api_key"
    assert client.get(f"/api-keys/{soon['id']}").status_code == 200  # still listed, so it can be deleted


@pytest.mark.parametrize("operation", MANAGEMENT, ids=lambda op: op.operation_id)
def test_a_created_key_may_not_manage(client, spec, operation):
    created = create(client, spec)
    path, body = valid_request(spec, operation, known={"key_id": created["id"]})
    response = client.request(operation.method, path, json=body, headers=bearer(created["key"]))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["type"] == "permission_error"
    assert_valid_response(spec, operation.method, path, response)
    assert client.get(f"/api-keys/{created['id']}").status_code == 200  # nothing changed


def test_the_admin_key_is_not_listed_but_its_usage_counts(client, spec):
    assert client.get("/api-keys").json() == {"data": []}
    state = client.app.state.mock
    admin = state.authenticate(DEFAULT_API_KEY)
    state.record_usage(admin, operation_id="createEmbedding", model="openai/text-embedding-3-small",
                       usage={"prompt_tokens": 5, "total_tokens": 5, "cost": 0.0000001}, headers={})
    assert client.get("/organization/usage").json()["total_requests"] == 1
    assert client.get(f"/api-keys/{admin.key_id}").status_code == 404


def test_limit_changes_are_visible(client, spec):
    key_id = create(client, spec, limit=5)["id"]
    for limit in (0.25, 0, None, 1000000):
        response = client.patch(f"/api-keys/{key_id}/limit", json={"limit": limit})
        assert response.status_code == 200
        assert_valid_response(spec, "PATCH", f"/api-keys/{key_id}/limit", response)
        assert response.json()["limit"] == limit
        assert client.get(f"/api-keys/{key_id}").json()["limit"] == limit


@pytest.mark.parametrize(("body", "param"), [
    ({"limit": -1}, "$.limit"),
    ({"limit": "5"}, "$.limit"),
    ({"expiry": "next tuesday"}, "$.expiry"),
    ({"labels": "a"}, "$.labels"),
])
def test_bad_key_requests_get_a_400(client, spec, body, param):
    response = client.post("/api-keys", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert_valid_response(spec, "POST", "/api-keys", response)
    assert client.patch("/api-keys/x/limit", json={}).status_code == 400


def test_reset_forgets_keys_and_usage_but_not_the_admin_key(client, spec):
    created = create(client, spec)
    state = client.app.state.mock
    state.record_usage(state.authenticate(created["key"]), operation_id="createChatCompletion", model="m",
                       usage={"prompt_tokens": 1, "total_tokens": 1, "cost": 1}, headers={})
    state.reset()
    assert client.get("/api-keys").json() == {"data": []}
    assert client.get("/organization/usage").json()["total_requests"] == 0
    assert client.get("/models", headers=bearer(created["key"])).status_code == 401
    assert state.ledger.entries() == []


def test_the_openai_sdk_sees_key_states(serve, spec):
    mock = serve()
    admin = openai.OpenAI(base_url=mock.url, api_key=DEFAULT_API_KEY, max_retries=0)
    created = admin.post("/api-keys", body={"name": "sdk", "expiry": "2020-01-01T00:00:00Z"}, cast_to=object)
    live = admin.post("/api-keys", body={"name": "sdk"}, cast_to=object)
    assert openai.OpenAI(base_url=mock.url, api_key=live["key"], max_retries=0).models.list() is not None
    with pytest.raises(openai.AuthenticationError, match="expired"):
        openai.OpenAI(base_url=mock.url, api_key=created["key"], max_retries=0).models.list()
    with pytest.raises(openai.PermissionDeniedError):
        openai.OpenAI(base_url=mock.url, api_key=live["key"], max_retries=0).get("/organization/usage", cast_to=object)
    admin.delete(f"/api-keys/{live['id']}", cast_to=object)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=mock.url, api_key=live["key"], max_retries=0).models.list()


def test_a_created_key_cannot_probe_other_ids(client, spec):
    created = create(client, spec)
    response = client.get("/api-keys/no-such-key", headers=bearer(created["key"]))
    assert response.status_code == 403  # not 404: a key learns nothing about other ids


def test_the_overlay_keeps_the_secret_to_the_creation_answer(spec):
    key = {"id": "k1", "created_at": "2026-11-25T12:00:00Z", "labels": [], "limit": None, "name": "n"}
    leaked = httpx.Response(200, json={**key, "key": "rqk_secret"})
    assert_valid_response(spec, "POST", "/api-keys", leaked)
    for method, path in [("GET", "/api-keys/k1"), ("PATCH", "/api-keys/k1/limit")]:
        assert_valid_response(spec, method, path, httpx.Response(200, json=key))
        with pytest.raises(InvalidData):
            assert_valid_response(spec, method, path, leaked)
    with pytest.raises(InvalidData):
        assert_valid_response(spec, "GET", "/api-keys", httpx.Response(200, json={"data": [{**key, "key": "s"}]}))
    with pytest.raises(InvalidData):
        assert_valid_response(spec, "POST", "/api-keys", httpx.Response(200, json=key))


def test_a_created_key_gets_403_before_its_body_is_read(client, spec):
    created = create(client, spec)
    response = client.post("/api-keys", content=b"{not json", headers={**bearer(created["key"]), "content-type": "text/plain"})
    assert response.status_code == 403, response.text
