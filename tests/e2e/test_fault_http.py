"""Faults over HTTP: the OpenAI SDK's view of each, rates over 1,000 requests, determinism, admin and journal."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter

import httpx
import openai
import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.auth import Principal
from mockserver.config import MockConfig
from mockserver.faults import build_scenario
from mockserver.state import MockState
from tests.conftest import ADMIN, DEFAULT_API_KEY

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
N = 1000
SIGMAS = 4.5


def within_binomial(observed: int, n: int, p: float) -> bool:
    return abs(observed - n * p) <= SIGMAS * math.sqrt(n * p * (1 - p)) + 1


def admin_client(spec, **config) -> TestClient:
    app = create_app(MockConfig(spec=spec, api_key=DEFAULT_API_KEY, **config))
    return TestClient(app, base_url="http://testserver", headers=ADMIN)


def sdk(running) -> openai.OpenAI:
    return openai.OpenAI(base_url=running.url, api_key=DEFAULT_API_KEY, max_retries=0)


def test_rate_limit_is_a_rate_limit_error_carrying_the_retry_time(serve):
    running = serve(scenario=build_scenario({"rate_limits": {"rpm": 2}}))
    client = sdk(running)
    ok = client.models.with_raw_response.list()
    assert ok.headers["x-ratelimit-limit-requests"] == "2" and ok.headers["x-ratelimit-remaining-requests"] == "1"
    client.models.list()
    with pytest.raises(openai.RateLimitError) as info:
        client.models.list()
    headers = info.value.response.headers
    assert 55 <= int(headers["retry-after"]) <= 60 and headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"].endswith("s") and info.value.code == "rate_limit_exceeded"


def test_sdk_retries_a_rate_limit_after_retry_after(serve):
    running = serve()
    client = openai.OpenAI(base_url=running.url, api_key=DEFAULT_API_KEY, max_retries=1)
    with pytest.raises(openai.RateLimitError):
        client.models.list(extra_headers={"Prefer": "code=429"})
    deadline = time.monotonic() + 2  # the server journals an answer just after sending it
    while len(running.app.state.faults.journal.last()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    attempts = running.app.state.faults.journal.last()
    assert [e["fault"] for e in attempts] == ["prefer:429"] * 2  # the SDK honoured Retry-After: 1 and tried once more
    assert attempts[0]["time"] - attempts[1]["time"] >= 0.9


def test_tokens_per_minute_limit_names_the_tokens(serve):
    running = serve(scenario=build_scenario({"rate_limits": {"tpm": 40}}))
    client = sdk(running)
    client.chat.completions.create(**CHAT, max_tokens=5)  # ~40 bytes of body / 4 + 5
    with pytest.raises(openai.RateLimitError, match="tokens per minute") as info:
        client.chat.completions.create(**CHAT, max_tokens=30)
    assert info.value.response.headers["x-ratelimit-limit-tokens"] == "40"


def test_unavailable_model_is_a_503_in_the_error_shape(serve):
    running = serve(scenario=build_scenario({"unavailable_models": ["openai/gpt-4o-mini"]}))
    with pytest.raises(openai.InternalServerError) as info:
        sdk(running).chat.completions.create(**CHAT)
    assert info.value.status_code == 503 and info.value.code == "model_unavailable"
    assert "openai/gpt-4o-mini" in info.value.message
    sdk(running).chat.completions.create(**{**CHAT, "model": "openai/gpt-4o"})  # other models still answer


@pytest.mark.parametrize(("status", "error"), [(429, openai.RateLimitError), (500, openai.InternalServerError),
                                               (503, openai.InternalServerError)])
def test_prefer_code_gives_the_documented_error(spec, status, error):
    client = admin_client(spec)
    response = client.post("/v1/chat/completions", json=CHAT, headers={"Prefer": f"code={status}"})
    assert response.status_code == status and set(response.json()["error"]) >= {"message", "type", "param", "code"}


def test_prefer_example_and_dynamic_choose_the_body(make_client, spec):
    from pathlib import Path

    from mockserver.spec import load_spec

    library = load_spec(Path(__file__).parents[1] / "data" / "library.yml")
    client = make_client(spec=library, headers={"X-API-Key": DEFAULT_API_KEY})
    book = {"title": "Dune", "isbn": "9780441013593"}
    assert client.post("/books", json=book, headers={"Prefer": "example=dune"}).json()["id"] == 7
    assert client.post("/books", json=book, headers={"Prefer": "dynamic=true"}).json()["id"] != 7
    bad = client.post("/books", json=book, headers={"Prefer": "example=nope"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "Prefer" and "dune" in bad.json()["error"]["message"]


def test_bad_fault_header_is_a_400_naming_it(spec):
    response = admin_client(spec).get("/v1/models", headers={"X-Mock-Stream-Fault": "explode"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "X-Mock-Stream-Fault"
    for code in (418, 201):  # an error answered by the fault layer, a success by the handler
        response = admin_client(spec).get("/v1/models", headers={"Prefer": f"code={code}"})
        assert response.status_code == 400 and "not a documented response" in response.json()["error"]["message"]
    assert admin_client(spec).get("/v1/models", headers={"Prefer": "code=200"}).status_code == 200


ERRORS = {429: 0.05, 500: 0.1, 503: 0.2}


def sequential(app, method: str, path: str, **kwargs) -> list[httpx.Response]:
    """N requests one after the other, in process."""
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock", headers=ADMIN) as client:
            return [await client.request(method, path, **kwargs) for _ in range(N)]

    return asyncio.run(run())


def statuses(spec, seed: int) -> list[int]:
    """The cheapest operation: the fault layer is what is measured."""
    scenario = build_scenario({"seed": seed, "errors": [{"status": s, "rate": r} for s, r in ERRORS.items()]})
    app = create_app(MockConfig(spec=spec, api_key=DEFAULT_API_KEY, scenario=scenario))
    return [response.status_code for response in sequential(app, "GET", "/v1/api-keys")]


def test_error_rates_over_1000_requests_match_and_replay_with_the_seed(spec):
    first = statuses(spec, seed=3)
    counts = Counter(first)
    for status, rate in ERRORS.items():
        assert within_binomial(counts[status], N, rate), (status, counts[status])
    assert within_binomial(counts[200], N, 1 - sum(ERRORS.values()))
    assert statuses(spec, seed=3) == first
    assert statuses(spec, seed=4) != first


STREAM_FAULTS = {"truncate": 0.2, "error": 0.1, "malformed": 0.1, "stall": 0.05}


def test_stream_fault_rates_over_1000_streams(spec):
    faults = [{"fault": f, "rate": r, "after": 2, "seconds": 0.001} for f, r in STREAM_FAULTS.items()]
    app = create_app(MockConfig(spec=spec, api_key=DEFAULT_API_KEY,
                                scenario=build_scenario({"seed": 11, "stream_faults": faults})))
    request = {"messages": [{"role": "user", "content": "Hi"}], "stream": True}
    done = sum(b"[DONE]" in r.content for r in sequential(app, "POST", "/v1/chat/completions", json=request))
    journal = app.state.faults.journal.last()
    counts = Counter((e["fault"] or "none").split("@")[0] for e in journal)
    for fault, rate in STREAM_FAULTS.items():
        assert within_binomial(counts[f"stream:{fault}"], N, rate), (fault, counts)
    assert done == counts["none"] + counts["stream:stall"] + counts["stream:malformed"]


def test_admin_endpoints_need_the_admin_key(spec):
    class OneUserKey(MockState):
        def authenticate(self, token):
            return Principal("key_1", False) if token == "user-key" else super().authenticate(token)

    config = MockConfig(spec=spec, api_key=DEFAULT_API_KEY)
    client = TestClient(create_app(config, OneUserKey(config)), base_url="http://testserver")
    assert client.get("/__mock/journal").status_code == 401
    assert client.get("/__mock/journal", headers={"Authorization": "Bearer wrong"}).status_code == 401
    forbidden = client.post("/__mock/reset", headers={"Authorization": "Bearer user-key"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["type"] == "permission_error"


def test_admin_scenario_reset_and_journal(spec):
    client = admin_client(spec)
    bad = client.put("/__mock/scenario", content="errors: [{status: 503, rate: 2}]")
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("scenario: /errors/0/rate")
    loaded = client.put("/__mock/scenario", content='{"errors": [{"status": 503, "rate": 1}]}')
    assert loaded.json() == {"errors": [{"status": 503, "rate": 1}]}
    assert client.get("/v1/models").status_code == 503
    client.get("/v1/models", headers={"Authorization": "Bearer not-a-key"})
    entries = client.get("/__mock/journal", params={"limit": 2}).json()["data"]
    assert [(e["status"], e["fault"], e["key"]) for e in entries] == [(401, None, "unknown"), (503, "error:503", "admin")]
    assert "not-a-key" not in str(entries) and DEFAULT_API_KEY not in str(entries)
    assert client.get("/__mock/scenario").json() == {"errors": [{"status": 503, "rate": 1}]}
    assert client.post("/__mock/reset").json() == {"reset": True, "scenario": {}}
    assert client.get("/v1/models").status_code == 200
    assert len(client.get("/__mock/journal").json()["data"]) == 1
    assert client.get("/__mock/journal", params={"limit": "x"}).status_code == 400
    assert client.delete("/__mock/scenario").json() == {}


def test_served_spec_documents_every_injectable_status(spec):
    from mockserver.faults.scenario import schema

    statuses = schema()["$defs"]["error"]["properties"]["status"]["enum"]
    for operation in spec.operations:
        assert {str(s) for s in statuses} <= set(operation.responses), operation.operation_id
        assert "Retry-After" in operation.responses["429"].headers


def test_scenario_latency_is_a_timeout_for_an_impatient_client(serve):
    running = serve(scenario=build_scenario({"latency": {"distribution": "fixed", "ms": 400, "operations": ["listModels"]}}))
    with pytest.raises(openai.APITimeoutError):
        openai.OpenAI(base_url=running.url, api_key=DEFAULT_API_KEY, max_retries=0, timeout=0.1).models.list()
    started = time.monotonic()
    sdk(running).models.list()
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    assert httpx.get(f"{running.url}/api-keys", headers=ADMIN).status_code == 200
    assert time.monotonic() - started < 0.4  # other operations are not delayed


def test_the_journal_names_the_key_without_a_second_lookup(spec, monkeypatch):
    client = admin_client(spec)
    created = client.post("/v1/api-keys", json={"name": "journaled"}).json()
    state = client.app.state.mock
    lookups = []
    original = state.authenticate
    monkeypatch.setattr(state, "authenticate", lambda token: lookups.append(token) or original(token))
    assert client.get("/v1/models", headers={"Authorization": f"Bearer {created['key']}"}).status_code == 200
    assert len(lookups) == 1  # the app's own; the journal reuses it
    entry = client.get("/__mock/journal?limit=1").json()["data"][0]
    assert entry["key"] == created["id"]
    client.get("/v1/models", headers={"Authorization": "Bearer not-a-key"})
    assert client.get("/__mock/journal?limit=1").json()["data"][0]["key"] == "unknown"
