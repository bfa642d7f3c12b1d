"""Routing, request metadata, caching, reasoning and error origins through the mock's HTTP interface."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.accounts import money
from mockserver.accounts.analytics import Analytics
from mockserver.accounts.ledger import MemoryLedger, UsageEntry, UsageMeta
from mockserver.accounts.reports import GROUPS, ReportQuery
from mockserver.faults.scenario import build_scenario
from mockserver.llm.catalog import default_catalog
from mockserver.router.config import parse_routing
from tests.conftest import ADMIN

CATALOG = default_catalog()
ROUTING = parse_routing({
    "backoff_ms": 1,
    "policies": {
        "fb": {"type": "fallback", "models": [{"model": "openai/gpt-4o", "retries": 1}, "openai/gpt-4o-mini@eu"]},
        "lb": {"type": "loadbalance", "models": [{"model": "openai/gpt-4o", "weight": 1},
                                                 {"model": "openai/gpt-4.1", "weight": 1}]},
    },
    "aliases": {"coding/short": {"model": "deepseek/deepseek-reasoner",
                                 "parameters": {"max_tokens": 2, "reasoning_effort": "low"}}},
}, "test", CATALOG)
HI = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hello there, router!"}]


def chat(client, model, **extra):
    return client.post("/chat/completions", json={"model": model, "messages": HI, **extra})


def journal(client, limit=1):
    return client.get("http://testserver/__mock/journal", params={"limit": limit}, headers=ADMIN).json()["data"]


def test_a_fallback_serves_from_the_next_model_and_bills_only_it(make_client):
    client = make_client(routing=ROUTING, scenario=build_scenario({"unavailable_models": ["openai/gpt-4o"]}))
    answer = chat(client, "policy/fb", requesty={"tags": ["t"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == "openai/gpt-4o-mini@eu"
    entries = client.app.state.mock.ledger.entries()
    assert [(e.model, e.meta.model_asked) for e in entries] == [("openai/gpt-4o-mini", "policy/fb")]
    assert entries[0].cost == money.from_usd(body["usage"]["cost"])
    entry = journal(client)[0]
    assert (entry["model"], entry["served"], entry["status"]) == ("policy/fb", "openai/gpt-4o-mini@eu", 200)
    assert entry["fault"] == ";".join(["openai/gpt-4o:unavailable:openai/gpt-4o"] * 2)  # the first try, one retry


def test_when_every_model_of_a_policy_fails_the_provider_error_names_them(make_client):
    scenario = build_scenario({"unavailable_models": ["openai/gpt-4o", "openai/gpt-4o-mini"]})
    client = make_client(routing=ROUTING, scenario=scenario)
    answer = chat(client, "policy/fb")
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert (error["code"], error["origin"]) == ("model_unavailable", "provider")
    assert "Every model of 'policy/fb' failed" in error["message"]
    assert client.app.state.mock.ledger.entries() == []


def test_a_stream_falls_back_before_its_first_byte(make_client):
    client = make_client(routing=ROUTING, scenario=build_scenario({"unavailable_models": ["openai/gpt-4o"]}))
    answer = chat(client, "policy/fb", stream=True, stream_options={"include_usage": True})
    assert answer.status_code == 200
    chunks = [orjson.loads(line[6:]) for line in answer.text.splitlines() if line.startswith("data: {")]
    assert {c["model"] for c in chunks} == {"openai/gpt-4o-mini@eu"}
    assert client.app.state.mock.ledger.entries()[0].model == "openai/gpt-4o-mini"


def test_a_plain_unavailable_model_is_still_refused_by_the_same_rule(make_client):
    client = make_client(scenario=build_scenario({"unavailable_models": ["openai/gpt-4o"]}))
    answer = chat(client, "openai/gpt-4o")
    assert answer.status_code == 503 and answer.json()["error"]["origin"] == "provider"
    assert journal(client)[0]["fault"] == "unavailable:openai/gpt-4o"
    embed = client.post("/embeddings", json={"model": "openai/text-embedding-3-small", "input": "x"})
    assert embed.status_code == 200
    scenario = build_scenario({"unavailable_models": ["openai/text-embedding-3-small"]})
    other = make_client(scenario=scenario).post("/embeddings", json={"model": "openai/text-embedding-3-small", "input": "x"})
    assert other.status_code == 503 and other.json()["error"]["origin"] == "provider"


def test_load_balancing_by_trace_id_is_sticky(make_client):
    client = make_client(routing=ROUTING)
    for trace in ("alpha", "beta", "gamma"):
        served = {chat(client, "policy/lb", requesty={"trace_id": trace},
                       messages=[{"role": "user", "content": str(i)}]).json()["model"] for i in range(8)}
        assert len(served) == 1
    unpinned = {chat(client, "policy/lb", messages=[{"role": "user", "content": str(i)}]).json()["model"]
                for i in range(40)}
    assert unpinned == {"openai/gpt-4o", "openai/gpt-4.1"}


def test_the_unpinned_draw_replays_with_the_seed(make_client):
    def run(seed):
        client = make_client(routing=ROUTING, seed=seed)
        return [chat(client, "policy/lb").json()["model"] for _ in range(30)]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_an_alias_presets_parameters_the_request_leaves_out(make_client):
    client = make_client(routing=ROUTING)
    preset = chat(client, "coding/short").json()
    assert preset["model"] == "deepseek/deepseek-reasoner"
    assert preset["choices"][0]["finish_reason"] == "length"
    # max_tokens bounds every completion token, reasoning first: the preset's 2 go to reasoning
    assert preset["usage"]["completion_tokens_details"]["reasoning_tokens"] == 2
    assert preset["usage"]["completion_tokens"] == 2
    own = chat(client, "coding/short", max_tokens=2000, reasoning_effort="high").json()
    assert own["choices"][0]["finish_reason"] == "stop"
    assert own["usage"]["completion_tokens_details"]["reasoning_tokens"] == 1024


def test_regions_are_listed_and_enforced(make_client):
    client = make_client()
    listing = {m["id"]: m for m in client.get("/models").json()["data"]}
    assert listing["openai/gpt-4o-mini"]["regions"] == ["us", "eu"]
    assert listing["anthropic/claude-sonnet-4-20250514"]["caching_price"] == 3.75
    assert chat(client, "openai/gpt-4o-mini@eu").json()["model"] == "openai/gpt-4o-mini@eu"
    refused = chat(client, "openai/gpt-4.1@eu")
    assert refused.status_code == 404
    error = refused.json()["error"]
    assert (error["code"], error["param"], error["origin"]) == ("region_not_supported", "model", "router")
    assert "it is served in: us" in error["message"]


@pytest.mark.parametrize(("requesty", "path"), [
    ({"tags": "x"}, "$.requesty.tags"),
    ({"tags": [1]}, "$.requesty.tags[0]"),
    ({"user_id": 7}, "$.requesty.user_id"),
    ({"trace_id": ""}, "$.requesty.trace_id"),
    ({"extra": []}, "$.requesty.extra"),
    ({"auto_cache": "yes"}, "$.requesty.auto_cache"),
    ("nope", "$.requesty"),
])
def test_a_wrong_requesty_object_is_a_clear_400(make_client, requesty, path):
    answer = chat(make_client(), "openai/gpt-4o-mini", requesty=requesty)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["param"], error["origin"]) == (path, "router")


@pytest.mark.parametrize("effort", ["lots", "", "-1", "1e3"])
def test_a_wrong_reasoning_effort_is_a_400(make_client, effort):
    answer = chat(make_client(), "openai/o4-mini", reasoning_effort=effort)
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "$.reasoning_effort"


def test_reasoning_is_billed_as_output_and_its_text_returned(make_client):
    client = make_client()
    body = chat(client, "deepseek/deepseek-reasoner", reasoning_effort="20000").json()
    usage, model = body["usage"], CATALOG.get("deepseek/deepseek-reasoner")
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 1024
    assert body["choices"][0]["message"]["reasoning_content"]
    assert usage["cost"] == model.cost(usage["prompt_tokens"], usage["completion_tokens"])
    plain = chat(client, "openai/gpt-4o-mini").json()
    assert "reasoning_content" not in plain["choices"][0]["message"]
    stream = chat(client, "deepseek/deepseek-reasoner", stream=True, reasoning_effort="low").text
    deltas = [orjson.loads(line[6:])["choices"] for line in stream.splitlines() if line.startswith("data: {")]
    thinking = "".join(c[0]["delta"].get("reasoning_content") or "" for c in deltas if c)
    assert thinking and thinking == chat(client, "deepseek/deepseek-reasoner", reasoning_effort="low").json()[
        "choices"][0]["message"]["reasoning_content"]


def test_auto_cache_writes_then_reads_and_costs_add_up(make_client):
    client = make_client()
    sonnet = CATALOG.get("anthropic/claude-sonnet-4-20250514")
    first = chat(client, sonnet.id, requesty={"auto_cache": True}).json()["usage"]
    second = chat(client, sonnet.id, requesty={"auto_cache": True}).json()["usage"]
    unasked = chat(client, sonnet.id).json()["usage"]
    size = first["prompt_tokens_details"]["caching_tokens"]
    assert size > 0 and first["prompt_tokens_details"]["cached_tokens"] == 0
    assert second["prompt_tokens_details"] == {"cached_tokens": size, "caching_tokens": 0}
    assert unasked["prompt_tokens_details"] == {"cached_tokens": 0, "caching_tokens": 0}
    prompt, out = first["prompt_tokens"], first["completion_tokens"]
    assert first["cost"] == money.to_usd(sonnet.cost_units(prompt, out, caching_tokens=size))
    assert second["cost"] == money.to_usd(sonnet.cost_units(prompt, out, cached_tokens=size))
    assert second["cost"] < unasked["cost"] < first["cost"]
    report = client.get("/organization/usage").json()
    assert report["total_cost"] == money.to_usd(sum(money.from_usd(u["cost"]) for u in (first, second, unasked)))


def test_error_origins(make_client):
    client = make_client(scenario=build_scenario({"rate_limits": {"rpm": 1}}))
    assert client.post("/chat/completions", json={"messages": HI}, headers={"Authorization": "Bearer nope"}
                       ).json()["error"]["origin"] == "router"
    assert chat(client, "openai/gpt-4o-mini").status_code == 200
    limited = chat(client, "openai/gpt-4o-mini")
    assert limited.status_code == 429 and limited.json()["error"]["origin"] == "provider"
    other = make_client()
    assert chat(other, "nope/model").json()["error"]["origin"] == "router"
    injected = other.post("/chat/completions", json={"messages": HI}, headers={"Prefer": "code=503"})
    assert injected.json()["error"]["origin"] == "provider"
    key = other.post("/api-keys", json={"name": "k", "limit": 0}).json()["key"]
    spent = other.post("/chat/completions", json={"messages": HI}, headers={"Authorization": f"Bearer {key}"})
    assert spent.status_code == 402 and spent.json()["error"]["origin"] == "router"


def test_an_error_after_the_stream_started_is_the_routers(make_client):
    answer = make_client().post("/chat/completions", json={"messages": HI, "stream": True},
                                headers={"X-Mock-Stream-Fault": "error; after=2"})
    events = [line[6:] for line in answer.text.splitlines() if line.startswith("data: ")]
    error = orjson.loads(events[-1])["error"]
    assert (error["origin"], error["code"]) == ("router", "stream_error")


def test_metadata_and_analytics_are_recorded(make_client):
    client = make_client(routing=ROUTING)
    client.post("/chat/completions", headers={"HTTP-Referer": "https://app.example", "X-Title": "App",
                                              "X-Requesty-Team": "red"},
                json={"model": "policy/lb", "messages": HI,
                      "requesty": {"tags": ["a", "b", "a"], "user_id": "u1", "trace_id": "tr", "extra": {"x": 1}}})
    entry = client.app.state.mock.ledger.entries()[-1]
    assert entry.meta == UsageMeta("policy/lb", ("a", "b"), "u1", "tr")
    assert entry.analytics == Analytics("https://app.example", "App", {"team": "red"})


def test_reports_filter_and_group(make_client, clock):
    client = make_client(routing=ROUTING, clock=clock)
    key = client.post("/api-keys", json={"name": "k"}).json()
    as_key = {"Authorization": f"Bearer {key['key']}"}
    calls = [("policy/lb", ["a"], "u1", "https://one"), ("openai/gpt-4o-mini", ["a", "b"], "u2", None),
             ("coding/short", [], "u1", "https://one"), ("openai/gpt-4o-mini@eu", ["b"], None, "https://two")]
    for model, tags, user, origin in calls:
        headers = {**as_key, **({"HTTP-Referer": origin} if origin else {})}
        requesty = {"tags": tags, **({"user_id": user} if user else {})}
        assert client.post("/chat/completions", headers=headers,
                           json={"model": model, "messages": HI, "requesty": requesty}).status_code == 200
        clock.advance(days=1)
    org = client.get("/organization/usage").json()
    assert org["total_requests"] == 4
    for path in ("/organization/usage", f"/api-keys/{key['id']}/usage"):
        for group in GROUPS:
            report = client.get(path, params={"group_by": group}).json()
            assert sum(g["requests"] for g in report["groups"]) == report["total_requests"] == 4
            assert money.to_usd(sum(money.from_usd(g["cost"]) for g in report["groups"])) == report["total_cost"]
    tags = client.get("/organization/usage", params={"group_by": "tag"}).json()["groups"]
    assert [(g["group"], g["requests"]) for g in tags] == [("a", 1), ("a,b", 1), ("b", 1), (None, 1)]
    assert client.get("/organization/usage", params={"tag": "a"}).json()["total_requests"] == 2
    assert client.get("/organization/usage", params={"user_id": "u1"}).json()["total_requests"] == 2
    assert client.get("/organization/usage", params={"origin": "https://one"}).json()["total_requests"] == 2
    asked = client.get("/organization/usage", params={"model_asked": "coding/short"}).json()
    assert asked["total_requests"] == 1 and asked["breakdown"][0]["model"] == "deepseek/deepseek-reasoner"
    served = client.get("/organization/usage", params={"model": "openai/gpt-4o-mini", "group_by": "model_asked"}).json()
    assert [g["group"] for g in served["groups"]] == ["openai/gpt-4o-mini", "openai/gpt-4o-mini@eu"]
    day = (clock.now - dt.timedelta(days=4)).date()
    window = client.get("/organization/usage", params={"start_date": str(day + dt.timedelta(days=1)),
                                                       "end_date": str(day + dt.timedelta(days=2))}).json()
    assert window["total_requests"] == 2
    assert client.get("/organization/usage", params={"start_date": str(day + dt.timedelta(days=9))}
                      ).json()["total_requests"] == 0
    bad = client.get("/organization/usage", params={"start_date": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "query.start_date"
    assert client.get("/organization/usage", params={"group_by": "colour"}).status_code == 400
    assert client.get("/api-keys/nope/usage", params={"group_by": "tag"}).status_code == 404


ENTRY = st.builds(
    lambda key, day, model, asked, origin, user, tags, tokens, cost: UsageEntry(
        dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(days=day), key, "op", model, tokens, 0, tokens, cost,
        Analytics(origin), UsageMeta(asked, tuple(tags), user)),
    st.sampled_from(["k1", "k2"]), st.integers(0, 40), st.sampled_from(["m/a", "m/b"]),
    st.sampled_from([None, "policy/p", "coding/c"]), st.sampled_from([None, "https://x"]),
    st.sampled_from([None, "u1", "u2"]), st.lists(st.sampled_from(["t1", "t2", "t3"]), unique=True, max_size=3),
    st.integers(0, 10_000), st.integers(0, 10**9))


@settings(max_examples=60, deadline=None)
@given(st.lists(ENTRY, max_size=60), st.sampled_from([None, "k1"]), st.sampled_from([None, "t1"]),
       st.sampled_from([None, "u1"]), st.sampled_from([None, 5]))
def test_every_grouping_adds_up_to_the_totals(entries, key, tag, user, start):
    ledger = MemoryLedger()
    for entry in entries:
        ledger.record(entry)
    begin = None if start is None else dt.date(2026, 11, 1) + dt.timedelta(days=start)
    base = ReportQuery(key_id=key, tag=tag, user_id=user, start=begin)
    kept = [e for e in entries if (key is None or e.key_id == key) and (tag is None or tag in e.meta.tags)
            and (user is None or e.meta.user_id == user) and (begin is None or e.at.date() >= begin)]
    for group in (None, *GROUPS):
        report = ledger.report(ReportQuery(key, base.start, None, tag, user, None, None, None, group))
        assert (report.total.requests, report.total.cost) == (len(kept), sum(e.cost for e in kept))
        assert sum(t.cost for t in report.by_model.values()) == report.total.cost
        if group is not None:
            assert sum(t.requests for t in report.groups.values()) == report.total.requests
            assert sum(t.cost for t in report.groups.values()) == report.total.cost
            assert sum(t.tokens for t in report.groups.values()) == report.total.tokens
    if key is None and tag is None and user is None and begin is None:
        assert ledger.org_usage().cost == sum(e.cost for e in entries)


def test_metadata_survives_a_restart_with_a_state_file(make_client, tmp_path):
    path = str(tmp_path / "state.db")
    client = make_client(routing=ROUTING, state_path=path)
    chat(client, "coding/short", requesty={"tags": ["x"], "user_id": "u"})
    client.app.state.mock.ledger.database.close()
    again = make_client(routing=ROUTING, state_path=path)
    report = again.get("/organization/usage", params={"group_by": "model_asked", "tag": "x", "user_id": "u"}).json()
    assert [(g["group"], g["requests"]) for g in report["groups"]] == [("coding/short", 1)]


def test_a_refused_call_caches_nothing(make_client):
    client = make_client()
    messages = [*HI[:1], {"role": "user", "content": "x"}]
    refused = client.post("/chat/completions", json={"model": "openai/gpt-4o-mini", "messages": messages,
                                                     "max_tokens": 20000})
    assert refused.status_code == 400
    first = client.post("/chat/completions", json={"model": "openai/gpt-4o-mini", "messages": messages}).json()
    assert first["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    assert first["usage"]["prompt_tokens_details"]["caching_tokens"] > 0
