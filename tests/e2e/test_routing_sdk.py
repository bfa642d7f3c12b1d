"""Routing through the official openai SDK on a served mock: fallbacks, load balancing, aliases,
regions, metadata reports, caching, reasoning and error origins, as a user of the router sees them."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from mockserver.accounts import money
from mockserver.auth import DEFAULT_API_KEY
from mockserver.faults.scenario import build_scenario
from mockserver.llm.catalog import default_catalog
from mockserver.router.config import load_routing, parse_routing

CATALOG = default_catalog()
ADMIN = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
ROUTING = parse_routing({
    "backoff_ms": 1,
    "policies": {
        "fb": {"type": "fallback", "models": ["openai/gpt-4o", "anthropic/claude-3-5-haiku-20241022"]},
        "retrying": {"type": "fallback", "models": [{"model": "openai/gpt-4o", "retries": 3},
                                                    "anthropic/claude-3-5-haiku-20241022"]},
        "lb": {"type": "loadbalance", "models": [{"model": "openai/gpt-4o-mini", "weight": 1},
                                                 {"model": "openai/gpt-4.1-nano", "weight": 3}]},
    },
}, "test", CATALOG)


def sdk(mock) -> OpenAI:
    return OpenAI(base_url=mock.url, api_key=DEFAULT_API_KEY, max_retries=0)


def ask(client, model, text="Hello, router!", **extra):
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}], **extra)


def org_usage(mock, **params) -> dict:
    return httpx.get(f"{mock.url}/organization/usage", params=params, headers=ADMIN).json()


def test_fallback_under_seeded_unavailability_always_answers_and_bills_what_served(serve):
    scenario = build_scenario({"seed": 11, "errors": [{"status": 503, "rate": 0.3, "models": ["openai/gpt-4o"]}]})
    mock = serve(routing=ROUTING, scenario=scenario)
    with sdk(mock) as client:
        answers = [ask(client, "policy/fb", f"question {i}") for i in range(300)]
    served = Counter(a.model for a in answers)
    assert set(served) == {"openai/gpt-4o", "anthropic/claude-3-5-haiku-20241022"}
    share = served["anthropic/claude-3-5-haiku-20241022"] / len(answers)
    assert abs(share - 0.3) < 3 * math.sqrt(0.3 * 0.7 / len(answers))
    for answer in answers:  # each answer is priced at the model that served it
        usage = answer.usage
        assert usage.cost == CATALOG.get(answer.model).cost(usage.prompt_tokens, usage.completion_tokens)
    report = org_usage(mock)
    assert report["total_requests"] == 300
    assert report["total_cost"] == money.to_usd(sum(money.from_usd(a.usage.cost) for a in answers))
    assert {b["model"]: b["requests"] for b in report["breakdown"]} == dict(served)
    asked = org_usage(mock, group_by="model_asked")["groups"]
    assert [(g["group"], g["requests"]) for g in asked] == [("policy/fb", 300)]


def test_retries_of_a_model_wait_the_backoff_and_then_fall_back(serve):
    scenario = build_scenario({"unavailable_models": ["openai/gpt-4o"]})
    policies = {"retrying": {"type": "fallback", "models": [{"model": "openai/gpt-4o", "retries": 3},
                                                            "anthropic/claude-3-5-haiku-20241022"]}}
    mock = serve(routing=parse_routing({"backoff_ms": 40, "policies": policies}, "t", CATALOG), scenario=scenario)
    with sdk(mock) as client:
        start = time.monotonic()
        answer = ask(client, "policy/retrying")
        elapsed = time.monotonic() - start
    assert answer.model == "anthropic/claude-3-5-haiku-20241022"
    # three retries: 40 + 80 + 160 ms, each within +-10%
    assert 0.9 * 280 / 1000 <= elapsed < 280 * 1.1 / 1000 + 0.5
    journal = httpx.get(f"{mock.origin}/__mock/journal?limit=1", headers=ADMIN).json()["data"][0]
    assert journal["fault"].count("openai/gpt-4o:unavailable") == 4



def test_load_balancing_1_to_3_without_a_trace_id(serve):
    mock = serve(routing=ROUTING, seed=3)
    calls = 4000

    async def run() -> list[str]:
        async with AsyncOpenAI(base_url=mock.url, api_key=DEFAULT_API_KEY, max_retries=0) as client:
            gate = asyncio.Semaphore(32)

            async def one(i: int) -> str:
                async with gate:
                    answer = await client.chat.completions.create(
                        model="policy/lb", messages=[{"role": "user", "content": "Same question every time."}])
                    return answer.model

            return await asyncio.gather(*(one(i) for i in range(calls)))

    served = Counter(asyncio.run(run()))
    assert set(served) == {"openai/gpt-4o-mini", "openai/gpt-4.1-nano"}
    share = served["openai/gpt-4o-mini"] / calls
    sigma = math.sqrt(0.25 * 0.75 / calls)
    assert abs(share - 0.25) < 3 * sigma, (share, sigma)


def test_load_balancing_with_a_trace_id_sticks_to_one_model(serve):
    mock = serve(routing=ROUTING)
    with sdk(mock) as client:
        for trace in ("session-1", "session-2", "session-3", "session-4"):
            served = {ask(client, "policy/lb", f"turn {i}", extra_body={"requesty": {"trace_id": trace}}).model
                      for i in range(50)}
            assert len(served) == 1, (trace, served)


def test_a_stream_falls_back_before_its_first_byte_and_an_error_after_it_is_the_routers(serve):
    mock = serve(routing=ROUTING, scenario=build_scenario({"unavailable_models": ["openai/gpt-4o"]}))
    with sdk(mock) as client:
        chunks = list(ask(client, "policy/fb", stream=True, stream_options={"include_usage": True}))
        assert {c.model for c in chunks} == {"anthropic/claude-3-5-haiku-20241022"}
        assert chunks[-1].usage.cost > 0
        with pytest.raises(openai.APIError) as caught:
            list(ask(client, "openai/gpt-4o-mini", stream=True,
                     extra_headers={"X-Mock-Stream-Fault": "error; after=2"}))
        assert caught.value.body["origin"] == "router" and caught.value.body["code"] == "stream_error"
        with pytest.raises(openai.InternalServerError) as down:
            ask(client, "openai/gpt-4o", stream=True)
        assert down.value.status_code == 503 and down.value.body["origin"] == "provider"


def test_aliases_regions_and_reasoning_through_the_sdk(serve):
    mock = serve(routing=load_routing("examples/routing.yml", CATALOG))
    with sdk(mock) as client:
        coding = ask(client, "coding/default")
        assert coding.model == "anthropic/claude-sonnet-4-20250514"
        assert coding.usage.completion_tokens_details.reasoning_tokens == 1024  # the alias presets high
        assert coding.choices[0].message.model_extra["reasoning_content"]
        assert ask(client, "coding/eu").model == "anthropic/claude-sonnet-4-20250514@eu-central-1"
        assert ask(client, "openai/gpt-4o-mini@eu").model == "openai/gpt-4o-mini@eu"
        o4 = ask(client, "openai/o4-mini", reasoning_effort="low")
        assert o4.usage.completion_tokens_details.reasoning_tokens == 64
        assert ask(client, "openai/o4-mini", extra_body={"reasoning_effort": "max"}
                   ).usage.completion_tokens_details.reasoning_tokens == 1024
        with pytest.raises(openai.NotFoundError) as region:
            ask(client, "openai/gpt-4.1@eu")
        assert region.value.body["code"] == "region_not_supported" and region.value.body["origin"] == "router"
        with pytest.raises(openai.NotFoundError) as policy:
            ask(client, "policy/nope")
        assert "policy/my-fallback" in policy.value.body["message"]
        with pytest.raises(openai.BadRequestError) as bad:
            ask(client, "openai/gpt-4o-mini", extra_body={"requesty": {"user_id": 42}})
        assert bad.value.body["param"] == "$.requesty.user_id"
        regions = {m.id: m.model_extra["regions"] for m in client.models.list()}
        assert regions["anthropic/claude-sonnet-4-20250514"] == ["us", "eu-central-1"]


def test_prompt_caching_through_the_sdk(serve):
    mock = serve()
    messages = [{"role": "system", "content": "You are a careful assistant. " * 20},
                {"role": "user", "content": "First question?"}]
    with sdk(mock) as client:
        first = client.chat.completions.create(model="anthropic/claude-sonnet-4-20250514", messages=messages,
                                               extra_body={"requesty": {"auto_cache": True}})
        second = client.chat.completions.create(model="anthropic/claude-sonnet-4-20250514",
                                                messages=[*messages[:1], {"role": "user", "content": "Another?"}],
                                                extra_body={"requesty": {"auto_cache": True}})
    written = first.usage.prompt_tokens_details.model_extra["caching_tokens"]
    assert written > 100 and first.usage.prompt_tokens_details.cached_tokens == 0
    assert second.usage.prompt_tokens_details.cached_tokens == written
    assert second.usage.cost < first.usage.cost
    assert org_usage(mock)["total_cost"] == money.to_usd(money.from_usd(first.usage.cost)
                                                         + money.from_usd(second.usage.cost))


def test_grouped_reports_add_up_under_200_concurrent_calls(serve):
    mock = serve(routing=ROUTING)
    tags = [["web"], ["web", "beta"], ["batch"], []]
    users = ["ada", "bob", None]
    origins = ["https://one.example", None]

    async def run() -> list:
        async with AsyncOpenAI(base_url=mock.url, api_key=DEFAULT_API_KEY, max_retries=0) as client:
            async def one(i: int):
                requesty = {"tags": tags[i % 4], "trace_id": f"t{i % 7}"}
                if users[i % 3]:
                    requesty["user_id"] = users[i % 3]
                headers = {"HTTP-Referer": origins[i % 2]} if origins[i % 2] else {}
                model = ("policy/lb", "openai/gpt-4o-mini", "openai/gpt-4o-mini@eu", "policy/fb")[i % 4]
                return await client.chat.completions.create(
                    model=model, messages=[{"role": "user", "content": f"call {i} " * (i % 5 + 1)}],
                    extra_body={"requesty": requesty}, extra_headers=headers)

            return await asyncio.gather(*(one(i) for i in range(200)))

    answers = asyncio.run(run())
    total = money.to_usd(sum(money.from_usd(a.usage.cost) for a in answers))
    plain = org_usage(mock)
    assert (plain["total_requests"], plain["total_cost"]) == (200, total)
    for group in ("model", "model_asked", "tag", "user_id", "origin", "key", "day"):
        report = org_usage(mock, group_by=group)
        assert (report["total_requests"], report["total_cost"]) == (200, total)
        assert sum(g["requests"] for g in report["groups"]) == 200
        assert money.to_usd(sum(money.from_usd(g["cost"]) for g in report["groups"])) == total
        assert sum(g["tokens"] for g in report["groups"]) == report["total_tokens"]
    by_user = {g["group"]: g["requests"] for g in org_usage(mock, group_by="user_id")["groups"]}
    assert by_user == {"ada": 67, "bob": 67, None: 66}
    assert org_usage(mock, tag="web")["total_requests"] == 100
    assert org_usage(mock, origin="https://one.example")["total_requests"] == 100
