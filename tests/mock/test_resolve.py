"""Model resolution, the tries of a plan, reasoning and caching rules: the pure parts, without HTTP."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.errors import MockError
from mockserver.faults.availability import ModelFault, model_fault
from mockserver.faults.decide import decide
from mockserver.faults.scenario import build_scenario
from mockserver.llm import tokens
from mockserver.llm.caching import PromptCache, prefix
from mockserver.llm.catalog import default_catalog
from mockserver.llm.reasoning import level_of, reason
from mockserver.router.attempts import backoff_ms, first_available
from mockserver.router.config import parse_routing
from mockserver.router.resolve import pick_weighted, resolve, trace_uniform

CATALOG = default_catalog()
ROUTING = parse_routing({
    "policies": {
        "fb": {"type": "fallback", "models": [{"model": "openai/gpt-4o", "retries": 2}, "coding/x", "policy/lb"]},
        "lb": {"type": "loadbalance", "models": [{"model": "openai/gpt-4o-mini", "weight": 1},
                                                 {"model": "mistral/mistral-small-latest@eu", "weight": 3}]},
        "outer": {"type": "loadbalance", "models": [{"model": "policy/lb", "weight": 1},
                                                    {"model": "google/gemini-2.5-flash", "weight": 1}]},
    },
    "aliases": {"coding/x": {"model": "anthropic/claude-sonnet-4-20250514@eu-central-1",
                             "parameters": {"temperature": 0.2, "reasoning_effort": "high"}}},
}, "r.yml", CATALOG)


def names(plan):
    return [(c.name, c.retries) for c in plan.candidates]


def test_a_fallback_lists_its_models_in_order_with_their_retries():
    plan = resolve("policy/fb", ROUTING, CATALOG, "trace-1", random.Random(0))
    assert names(plan)[:2] == [("openai/gpt-4o", 2), ("anthropic/claude-sonnet-4-20250514@eu-central-1", 0)]
    assert names(plan)[2][0] in ("openai/gpt-4o-mini", "mistral/mistral-small-latest@eu")
    assert plan.candidates[1].parameters == {"temperature": 0.2, "reasoning_effort": "high"}
    assert plan.candidates[1].via == ("policy/fb", "coding/x") and plan.routed


def test_plain_names_and_regions():
    plan = resolve("openai/gpt-4o-mini@eu", ROUTING, CATALOG, None, random.Random(0))
    assert names(plan) == [("openai/gpt-4o-mini@eu", 0)] and plan.candidates[0].region == "eu" and not plan.routed
    assert names(resolve("openai/gpt-4o", None, CATALOG, None, random.Random(0))) == [("openai/gpt-4o", 0)]


@pytest.mark.parametrize(("name", "status", "code", "words"), [
    ("policy/nope", 404, "model_not_found", "Defined policies: policy/fb, policy/lb, policy/outer"),
    ("coding/nope", 404, "model_not_found", "does not exist"),
    ("openai/gpt-4o@mars", 404, "region_not_supported", "it is served in: us, eu"),
    ("openai/gpt-4.1-nano@eu", 404, "region_not_supported", "it is served in: us"),
    ("openai/text-embedding-3-small", 404, "model_not_supported", "embedding"),
])
def test_names_that_cannot_be_routed(name, status, code, words):
    with pytest.raises(MockError) as caught:
        resolve(name, ROUTING, CATALOG, None, random.Random(0))
    assert (caught.value.status, caught.value.code, caught.value.origin) == (status, code, "router")
    assert words in caught.value.message


def test_without_a_config_a_policy_says_how_to_get_one():
    with pytest.raises(MockError, match="start the mock with --config FILE"):
        resolve("policy/my-fallback", None, CATALOG, None, random.Random(0))


def test_a_trace_id_always_reaches_the_same_model_even_through_nested_policies():
    for trace in ("a", "b", "trace-42", "ü"):
        first = names(resolve("policy/outer", ROUTING, CATALOG, trace, random.Random(1)))
        assert all(names(resolve("policy/outer", ROUTING, CATALOG, trace, random.Random(seed))) == first
                   for seed in range(20))


def test_trace_ids_spread_by_weight():
    picks = [resolve("policy/lb", ROUTING, CATALOG, f"trace-{i}", random.Random(0)).candidates[0].model.id
             for i in range(4000)]
    share = picks.count("openai/gpt-4o-mini") / len(picks)
    assert abs(share - 0.25) < 3 * (0.25 * 0.75 / 4000) ** 0.5


@given(st.lists(st.floats(min_value=0.01, max_value=100), min_size=1, max_size=6), st.floats(0, 0.999999))
def test_weights_are_normalised(weights, u):
    from mockserver.router.config import Entry
    entries = [Entry(f"m{i}", weight=w) for i, w in enumerate(weights)]
    chosen = pick_weighted(entries, u)
    index = entries.index(chosen)
    total = sum(weights)
    assert sum(weights[:index]) / total <= u + 1e-9 and u < sum(weights[:index + 1]) / total + 1e-9


def test_trace_uniform_is_in_the_unit_interval_and_fixed():
    values = {trace_uniform("p", str(i)) for i in range(1000)}
    assert all(0 <= v < 1 for v in values) and len(values) == 1000
    assert trace_uniform("p", "x") == trace_uniform("p", "x") != trace_uniform("q", "x")


def test_the_backoff_schedule():
    assert [backoff_ms(r, 500, 0.5) for r in (1, 2, 3, 4, 5, 10)] == [500, 1000, 2000, 4000, 4000, 4000]
    assert backoff_ms(1, 500, 0.0) == pytest.approx(450) and backoff_ms(1, 500, 0.999999) == pytest.approx(550, abs=0.01)


def _fault(name):
    return ModelFault(MockError(503, f"{name} down", origin="provider"), "error:503")


def test_tries_each_model_with_backoff_then_the_next():
    plan = resolve("policy/fb", ROUTING, CATALOG, "t", random.Random(0))
    slept, tried = [], []

    def check(candidate, attempt):
        tried.append((candidate.name, attempt))
        return _fault(candidate.name) if candidate.model.id == "openai/gpt-4o" else None

    async def sleep(seconds):
        slept.append(seconds)

    served = asyncio.run(first_available(plan, check, base_ms=100, rng=random.Random(0), sleep=sleep))
    assert served.candidate.name == "anthropic/claude-sonnet-4-20250514@eu-central-1" and served.attempts == 4
    assert tried == [("openai/gpt-4o", 0), ("openai/gpt-4o", 1), ("openai/gpt-4o", 2),
                     ("anthropic/claude-sonnet-4-20250514@eu-central-1", 3)]
    assert len(slept) == 2 and 0.09 <= slept[0] < 0.11 and 0.18 <= slept[1] < 0.22
    assert served.failures == ("openai/gpt-4o:error:503",) * 3


def test_when_every_model_fails_the_last_provider_error_is_raised():
    plan = resolve("policy/fb", ROUTING, CATALOG, "t", random.Random(0))

    async def sleep(seconds):
        pass

    with pytest.raises(MockError) as caught:
        asyncio.run(first_available(plan, lambda c, a: _fault(c.name), base_ms=1, rng=random.Random(0), sleep=sleep))
    assert caught.value.origin == "provider" and "Every model of 'policy/fb' failed" in caught.value.message


def test_the_first_try_of_a_plain_model_is_decided_as_the_fault_step_decides():
    scenario = build_scenario({"seed": 3, "errors": [{"status": 503, "rate": 0.4}]})
    for sequence in range(1, 300):
        found = model_fault(scenario, 3, "createChatCompletion", "openai/gpt-4o", sequence)
        rule = decide(scenario, 3, sequence, "createChatCompletion").error
        assert (found is None) == (rule is None)
        assert found is None or (found.error.status, found.error.origin, found.label) == (503, "provider", "error:503")


def test_error_rules_scoped_to_models():
    scenario = build_scenario({"errors": [{"status": 503, "rate": 1, "models": ["openai/gpt-4o"]}]})
    assert model_fault(scenario, 0, "op", "openai/gpt-4o", 1) is not None
    assert model_fault(scenario, 0, "op", "openai/gpt-4o@eu", 1, attempt=3) is not None
    assert model_fault(scenario, 0, "op", "openai/gpt-4o-mini", 1) is None
    assert model_fault(scenario, 0, "op", None, 1) is None
    unavailable = build_scenario({"unavailable_models": ["openai/gpt-4o"]})
    assert model_fault(unavailable, 0, "op", "openai/gpt-4o@eu", 1).label == "unavailable:openai/gpt-4o@eu"


def test_rates_scoped_to_different_models_may_each_be_whole():
    build_scenario({"errors": [{"status": 503, "rate": 1, "models": ["a/x"]}, {"status": 429, "rate": 1, "models": ["a/y"]}]})
    with pytest.raises(Exception, match="add up to 1.5"):
        build_scenario({"errors": [{"status": 503, "rate": 1, "models": ["a/x"]}, {"status": 429, "rate": 0.5}]})


@pytest.mark.parametrize(("effort", "level"), [
    ("low", "low"), ("medium", "medium"), ("high", "high"), ("max", "high"), ("min", "low"), ("none", "low"),
    ("0", "low"), ("1024", "low"), ("1025", "medium"), ("8192", "medium"), ("8193", "high"), ("10000", "high"),
])
def test_reasoning_effort_levels(effort, level):
    assert level_of(effort) == level
    assert reason(CATALOG.get("openai/o4-mini"), effort).level == level


def test_reasoning_tokens_and_text():
    o4, r1, claude, mini = (CATALOG.get(m) for m in ("openai/o4-mini", "deepseek/deepseek-reasoner",
                                                      "anthropic/claude-sonnet-4-20250514", "openai/gpt-4o-mini"))
    assert reason(o4, None)[:2] == ("medium", 256) and reason(o4, None).text is None
    assert reason(o4, "none")[:2] == ("low", 64)
    assert reason(mini, "high").tokens == 0
    assert reason(claude, None).tokens == 0 and reason(claude, "none").tokens == 0
    thought = reason(claude, "100")
    assert thought[:2] == ("low", 64) and tokens.count(thought.text) == 64
    assert reason(claude, "10").tokens == 10
    high = reason(r1, "max")
    assert high.tokens == 1024 and tokens.count(high.text) == 1024


def test_the_cacheable_prefix_is_what_comes_before_the_last_user_message():
    system, user, assistant = ({"role": r, "content": r} for r in ("system", "user", "assistant"))
    assert list(prefix([system, user])) == [system]
    assert list(prefix([system, user, assistant, user])) == [system, user, assistant]
    assert list(prefix([user])) == [] and list(prefix([system])) == []


def test_the_prompt_cache_writes_then_reads_per_key_and_model_and_is_bounded():
    cache = PromptCache(entries_per_key=2, keys=2)
    sonnet, mini = CATALOG.get("anthropic/claude-sonnet-4-20250514"), CATALOG.get("openai/gpt-4o-mini")
    llama = CATALOG.get("together/meta-llama/Llama-3-8b-chat-hf")
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "hi"}]
    size = tokens.count_message(messages[0])
    assert cache.use("k", sonnet, messages, asked=False) == (0, 0)  # Claude caches only when asked
    assert cache.use("k", sonnet, messages, asked=True) == (0, size)
    assert cache.use("k", sonnet, messages, asked=True) == (size, 0)
    assert cache.use("other", sonnet, messages, asked=True) == (0, size)
    assert cache.use("k", mini, messages, asked=False) == (0, size)  # OpenAI caches by itself
    assert cache.use("k", llama, messages, asked=True) == (0, 0)  # no caching at all
    for text in ("a", "b"):
        cache.use("k", sonnet, [{"role": "system", "content": text}, messages[1]], asked=True)
    assert cache.use("k", sonnet, messages, asked=True) == (0, size)  # evicted: two entries per key


def test_cost_with_cache_reads_and_writes():
    sonnet = CATALOG.get("anthropic/claude-sonnet-4-20250514")
    # 1000 prompt tokens: 600 read at 0.3, 300 written at 3.75, 100 fresh at 3; 10 out at 15 (USD per million)
    expected = (600 * 0.3 + 300 * 3.75 + 100 * 3 + 10 * 15) / 1e6
    assert sonnet.cost(1000, 10) == pytest.approx((1000 * 3 + 10 * 15) / 1e6)
    from mockserver.accounts import money
    units = sonnet.cost_units(1000, 10, cached_tokens=600, caching_tokens=300)
    assert money.to_usd(units) == pytest.approx(expected, abs=1e-12)
