"""Spend limits: a key that has spent its monthly limit gets 402 before any inference work."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from starlette.responses import Response

from mockserver.auth import DEFAULT_API_KEY
from mockserver.errors import MockError
from tests.oracle import assert_valid_response

USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500, "cost": 0.0006}


def new_key(client, **body):
    created = client.post("/api-keys", json=body).json()
    return created, client.app.state.mock.authenticate(created["key"])


def spend(state, principal, usage=USAGE):
    state.record_usage(principal, operation_id="createChatCompletion", model="openai/gpt-4o-mini", usage=usage,
                       headers={})


def refusal(state, principal) -> MockError:
    with pytest.raises(MockError) as caught:
        state.before_inference(principal)
    return caught.value


def test_a_key_over_its_limit_is_refused_until_the_limit_is_raised(client, spec):
    created, principal = new_key(client, limit=0.001)
    state = client.app.state.mock
    state.before_inference(principal)
    spend(state, principal)  # 0.0006 of 0.001
    state.before_inference(principal)
    spend(state, principal)  # 0.0012: over the limit
    error = refusal(state, principal)
    assert error.status == 402
    body = error.body()["error"]
    assert (body["type"], body["code"]) == ("insufficient_quota", "key_limit_exceeded")
    assert "$0.001" in body["message"] and "$0.0012" in body["message"]
    response = error.response()
    for path in ("/chat/completions", "/embeddings"):
        assert_valid_response(spec, "POST", path, _as_httpx(response))
    client.patch(f"/api-keys/{created['id']}/limit", json={"limit": 0.0012})
    assert refusal(state, principal).status == 402  # reaching the limit is enough
    client.patch(f"/api-keys/{created['id']}/limit", json={"limit": 0.002})
    state.before_inference(principal)
    client.patch(f"/api-keys/{created['id']}/limit", json={"limit": 0.0001})
    assert refusal(state, principal).status == 402
    client.patch(f"/api-keys/{created['id']}/limit", json={"limit": None})
    state.before_inference(principal)


def test_a_zero_limit_refuses_from_the_start_and_other_keys_are_unaffected(client):
    _, blocked = new_key(client, limit=0)
    _, free = new_key(client)
    _, roomy = new_key(client, limit=100)
    state = client.app.state.mock
    assert refusal(state, blocked).status == 402
    for _ in range(10):
        spend(state, free)
        spend(state, roomy)
    state.before_inference(free)
    state.before_inference(roomy)
    state.before_inference(state.authenticate(DEFAULT_API_KEY))  # the admin key has no limit


def test_calls_in_flight_may_overshoot_by_their_own_cost_only(client):
    _, principal = new_key(client, limit=0.001)
    state = client.app.state.mock
    for _ in range(5):  # five calls admitted at once, before any of them is recorded
        state.before_inference(principal)
    for _ in range(5):
        spend(state, principal)
    assert client.get(f"/api-keys/{principal.key_id}/usage").json()["total_cost"] == 0.003
    assert refusal(state, principal).status == 402


def test_the_limit_is_monthly(make_client, clock):
    client = make_client(clock=clock)
    _, principal = new_key(client, limit=0.001)
    state = client.app.state.mock
    spend(state, principal, {**USAGE, "cost": 0.001})
    assert refusal(state, principal).status == 402
    clock.advance(days=6)  # 2026-12-01: a new month
    state.before_inference(principal)
    report = client.get(f"/api-keys/{principal.key_id}/usage").json()
    assert report["total_cost"] == 0.001  # the report still covers everything since start


def test_an_inference_handler_answers_402_over_http(client, spec):
    created, _ = new_key(client)
    as_key = {"Authorization": f"Bearer {created['key']}", "X-Title": "Limits demo"}
    request = {"model": "openai/text-embedding-3-small", "input": "four words of input"}
    cost = Decimal(repr(client.post("/embeddings", json=request, headers=as_key).json()["usage"]["cost"]))
    client.patch(f"/api-keys/{created['id']}/limit", json={"limit": float(cost * Decimal("2.5"))})
    statuses = [client.post("/embeddings", json=request, headers=as_key).status_code for _ in range(3)]
    assert statuses == [200, 200, 402]
    response = client.post("/embeddings", json=request, headers=as_key)
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "key_limit_exceeded"
    assert_valid_response(spec, "POST", "/embeddings", response)
    usage = client.get(f"/api-keys/{created['id']}/usage").json()
    assert (usage["total_requests"], Decimal(repr(usage["total_cost"]))) == (3, 3 * cost)
    assert {e.analytics.title for e in client.app.state.mock.ledger.entries()} == {"Limits demo"}
    client.patch(f"/api-keys/{created['id']}/limit", json={"limit": None})
    assert client.post("/embeddings", json=request, headers=as_key).status_code == 200


def _as_httpx(response: Response) -> httpx.Response:
    return httpx.Response(response.status_code, headers=dict(response.headers), content=response.body)
