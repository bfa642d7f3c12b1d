"""Requesty's additions to a chat request and its usage: the ``requesty`` object, reasoning, prompt caching."""

from __future__ import annotations

import json
import math
from dataclasses import replace

from contract_tests.checks.catalog import expected_cost, kind, price
from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.checks.values import number, usage_of
from contract_tests.results import MUST

CHAT = "POST /chat/completions"
REQUESTY = {"tags": ["contract-tests"], "user_id": "contract-tests", "trace_id": "contract-tests-metadata",
            "extra": {"suite": "contract-tests"}}
EFFORTS = ("max", "min", "none", "10000")
CHEAP_EFFORT = "min"
# A prefix long enough for providers that cache only from 1,024 tokens on.
PREFIX = "You are a terse assistant for a conformance test. " + "Answer in one word, the word asked for. " * 140
REQUEST_OBJECT = "spec/overlay.yml: CreateChatCompletionRequest requesty tags user_id trace_id extra"
EFFORT_SOURCE = ("spec/overlay.yml: CreateChatCompletionRequest reasoning_effort ('max, min, none, or a token budget "
                 "as a string')")


def _flag(model: dict, *names: str) -> bool:
    return any(model.get(name) is True for name in names)


def _cheapest_chat(ctx: CheckContext, *flags: str, missing: str) -> dict:
    listed = [m for m in ctx.catalog.models() if kind(m) == "chat" and _flag(m, *flags)]
    if not listed:
        raise CheckSkipped(missing)
    return min(listed, key=price)


def _reasoning_model(ctx: CheckContext) -> dict:
    return _cheapest_chat(ctx, "supports_reasoning", "reasoning", missing="GET /models lists no reasoning model")


def _caching_model(ctx: CheckContext) -> dict:
    return _cheapest_chat(ctx, "supports_caching", missing="GET /models lists no model that supports caching")


def _details(usage: dict, name: str) -> dict:
    value = usage.get(name)
    return value if isinstance(value, dict) else {}


def _cost_problem(model: dict, usage: dict) -> str | None:
    cost, expected = usage.get("cost"), expected_cost(model, usage)
    if expected is None or not number(cost):
        return f"received usage {usage}, documented token counts and a cost for a model /models prices"
    if math.isclose(cost, expected, rel_tol=1e-6, abs_tol=1e-12):
        return None
    return (f"usage.cost {cost:.12g}, documented {expected:.12g} from {model['id']}'s prices and the token counts "
            f"{json.dumps(usage)}")


# -- the requesty object -----------------------------------------------------------------------------------------------
def requesty_accepted(ctx: CheckContext) -> None:
    response = ctx.http.chat(ctx.catalog.chat_model(), requesty=REQUESTY)
    expect(response.status_code == 200, f"{CHAT} with a valid requesty object: received {response.status_code}, "
                                        f"documented 200: {response.text[:200]}")


def requesty_type_checked(ctx: CheckContext) -> None:
    response = ctx.http.chat(ctx.catalog.chat_model(), requesty={"tags": "contract-tests"})
    expect(response.status_code == 400, f"{CHAT} with requesty.tags a string: received {response.status_code}, "
                                        "documented 400 (tags is an array of strings)")
    try:
        param = (response.json().get("error") or {}).get("param")
    except (ValueError, AttributeError):
        param = None
    expect(isinstance(param, str) and "requesty.tags" in param,
           f"{CHAT} with requesty.tags a string: error.param {param!r}, documented one naming requesty.tags")


# -- reasoning ---------------------------------------------------------------------------------------------------------
def effort_values(ctx: CheckContext) -> None:
    model = _reasoning_model(ctx)["id"]
    refused = []
    for effort in EFFORTS:
        response = ctx.http.chat(model, reasoning_effort=effort)
        if response.status_code != 200:
            refused.append(f"{effort!r} -> {response.status_code} {response.text[:160]}")
    expect(not refused, f"{CHAT} ({model}): reasoning_effort values Requesty documents were refused: "
                        f"{', '.join(refused)}: documented 200")
    response = ctx.http.chat(model, reasoning_effort="lots")
    expect(response.status_code == 400, f"{CHAT} ({model}) with reasoning_effort 'lots': received "
                                        f"{response.status_code}, documented 400")


def billed_as_output(ctx: CheckContext) -> None:
    model = _reasoning_model(ctx)
    what = f"{CHAT} ({model['id']}, reasoning_effort {CHEAP_EFFORT})"
    usage = usage_of(ctx.http.ok(ctx.http.chat(model["id"], reasoning_effort=CHEAP_EFFORT), what), what)
    reasoning = _details(usage, "completion_tokens_details").get("reasoning_tokens") or 0
    completion = usage.get("completion_tokens")
    expect(number(reasoning) and number(completion) and reasoning <= completion,
           f"{what}: reasoning_tokens {reasoning} > completion_tokens {completion}, documented part of them")
    problem = _cost_problem(model, usage)
    expect(problem is None, f"{what}: {problem}")


# -- prompt caching ----------------------------------------------------------------------------------------------------
def _cache_pair(ctx: CheckContext) -> tuple[dict, list[dict]]:
    """The caching model and the usage of two calls with the same prefix and requesty.auto_cache (made once a run)."""
    def send() -> tuple[dict, list[dict]]:
        model = _caching_model(ctx)
        body = ctx.http.chat_body(model["id"], max_tokens=1, requesty={"auto_cache": True})
        body["messages"] = [{"role": "system", "content": PREFIX}, *body["messages"]]
        usages = []
        for _ in range(2):
            answer = ctx.http.ok(ctx.http.request("POST", "/chat/completions", json=body), f"{CHAT} (auto_cache)")
            usages.append(usage_of(answer, f"{CHAT} (auto_cache)"))
        return model, usages

    return ctx.http.once("cache-pair", send)


def within_prompt(ctx: CheckContext) -> None:
    for usage in _cache_pair(ctx)[1]:
        details = _details(usage, "prompt_tokens_details")
        cached, caching = details.get("cached_tokens") or 0, details.get("caching_tokens") or 0
        prompt = usage.get("prompt_tokens")
        if not (number(cached) and number(caching) and number(prompt)):
            raise CheckFailed(f"{CHAT}: received usage {usage}, documented integer token counts")
        expect(cached + caching <= prompt, f"{CHAT}: cached_tokens {cached} + caching_tokens {caching} > prompt_tokens "
                                           f"{prompt}: the cache counts are part of the prompt")


def auto_cache_reads(ctx: CheckContext) -> None:
    model, (_, again) = _cache_pair(ctx)
    cached = _details(again, "prompt_tokens_details").get("cached_tokens")
    expect(number(cached) and cached > 0, f"{CHAT} ({model['id']}, requesty.auto_cache): the same prefix a second "
                                          f"time read {cached!r} cached tokens, documented more than 0")
    problem = _cost_problem(model, again)
    expect(problem is None, f"{CHAT} ({model['id']}, a cache read): {problem}")


# Why contract-tests audit cannot judge these from traffic:
NOT_JUDGED = (
    'it sends requesty objects, reasoning efforts or a repeated long prompt of its own and reads what they cost')
CHECKS = [replace(check, not_judged=NOT_JUDGED) for check in (
    Check("requesty.accepted", requesty_accepted, CHAT, MUST, basis="overlay", source=REQUEST_OBJECT,
          reason="A chat request with a valid requesty object (tags, user_id, trace_id, extra) is accepted."),
    Check("requesty.type_checked", requesty_type_checked, CHAT, MUST, basis="overlay", source=REQUEST_OBJECT,
          reason="A requesty object of the wrong type (tags a string) gets a 400 whose param names requesty.tags."),
    Check("reasoning.effort_values", effort_values, CHAT, MUST, basis="overlay", source=EFFORT_SOURCE,
          reason="A reasoning model takes Requesty's reasoning_effort values (max, min, none, a budget such as "
                 "'10000'); anything else is a 400."),
    Check("reasoning.billed_as_output", billed_as_output, CHAT, MUST, basis="overlay",
          source="spec/overlay.yml: Usage ('Requesty adds cached and reasoning token details'), reasoning_tokens; "
                 "spec/requesty-openapi.yml: Model.output_price",
          reason="Reasoning tokens are part of completion_tokens, and the cost is the catalog's prices times the "
                 "token counts."),
    Check("caching.within_prompt", within_prompt, CHAT, MUST, basis="overlay",
          source="spec/overlay.yml: TokenDetails caching_tokens ('beside cache reads (cached_tokens)')",
          reason="Cache reads and writes are part of the prompt: cached_tokens + caching_tokens <= prompt_tokens."),
    Check("caching.auto_cache_reads", auto_cache_reads, CHAT, MUST, basis="overlay",
          source="spec/overlay.yml: requesty auto_cache, Model cached_price, TokenDetails cached_tokens",
          reason="With requesty.auto_cache on a model that supports caching, the same prefix a second time is read "
                 "from the cache (cached_tokens > 0) and billed at cached_price."),
)]
