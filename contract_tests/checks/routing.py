"""Routing: models in a region, the catalog's routing fields, fallback and load-balancing policies."""

from __future__ import annotations

import math
from dataclasses import replace

from contract_tests.checks.catalog import kind, price
from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.checks.policies import NEEDS_BALANCE, NEEDS_POLICY, POLICY_PREFIX
from contract_tests.checks.values import number, usage_of
from contract_tests.results import MUST

CHAT = "POST /chat/completions"
NOWHERE = "contract-tests-nowhere-1"
TRACE_ID = "contract-tests-trace-1"
TRACE_CALLS = 4
CHANGELOG_REGIONS = "Requesty changelog: Filter models by deployment region"
POLICY_SOURCE = "Requesty changelog: fallback policies"


def _regional_model(ctx: CheckContext) -> dict:
    listed = [m for m in ctx.catalog.models() if kind(m) == "chat" and isinstance(m.get("regions"), list)
              and any(isinstance(r, str) and r for r in m["regions"])]
    if not listed:
        raise CheckSkipped("GET /models lists no chat model with regions")
    return min(listed, key=price)


def regions_enforced(ctx: CheckContext) -> None:
    model = _regional_model(ctx)
    model_id, regions = model["id"], [r for r in model["regions"] if isinstance(r, str) and r]
    asked = f"{model_id}@{regions[0]}"
    body = ctx.http.ok(ctx.http.chat(asked), f"{CHAT} (model {asked})")
    served = body.get("model") if isinstance(body, dict) else None
    expect(served in (asked, model_id), f"{CHAT} (model {asked}): the answer's model is {served!r}, documented "
                                        f"{asked!r} (the model in its region)")
    unlisted = f"{model_id}@{NOWHERE}"
    response = ctx.http.chat(unlisted)
    expect(response.status_code == 404, f"{CHAT} (model {unlisted}): received {response.status_code}, documented 404 "
                                        f"({model_id} is served only in {', '.join(regions)}): {response.text[:200]}")
    missing = [r for r in regions if r not in response.text]
    expect(not missing, f"{CHAT} (model {unlisted}): the 404 does not name the regions {missing} /models lists: "
                        f"{response.text[:200]}")


def catalog_fields(ctx: CheckContext) -> None:
    problems = []
    for model in ctx.catalog.models():
        regions = model.get("regions")
        if regions is not None and not (isinstance(regions, list) and all(isinstance(r, str) for r in regions)):
            problems.append(f"{model.get('id')}: regions {regions!r}, documented an array of strings")
        for name in ("cached_price", "caching_price"):
            value = model.get(name)
            if value is not None and not (number(value) and math.isfinite(value) and value >= 0):
                problems.append(f"{model.get('id')}: {name} {value!r}, documented a number >= 0")
    expect(not problems, f"GET /models: {len(problems)} problem(s); first: {problems[0] if problems else ''}")


def _policy(ctx: CheckContext, name: str | None, missing: str) -> str:
    if not name:
        raise CheckSkipped(missing)
    return POLICY_PREFIX + name


def _served_by(ctx: CheckContext, policy: str, served: object) -> None:
    """``served`` is a model ``policy`` can serve: one of its models when the routing file is known, else a listed
    model (or a listed model in a region); never the policy's own name."""
    expect(isinstance(served, str) and served and not served.startswith(POLICY_PREFIX),
           f"{CHAT} (model {policy}): the answer's model is {served!r}, documented the model that served it")
    members = ctx.policies.models_of(policy.removeprefix(POLICY_PREFIX))
    if members is not None:
        expect(served in members, f"{CHAT} (model {policy}): the answer's model {served!r} is none of the policy's "
                                  f"models {sorted(members)}")
    else:
        expect(ctx.catalog.model(served.partition("@")[0]) is not None,
               f"{CHAT} (model {policy}): the answer's model {served!r} is not listed by GET /models")


def fallback_names_model(ctx: CheckContext) -> None:
    policy = _policy(ctx, ctx.policies.fallback, NEEDS_POLICY)
    body = ctx.http.ok(ctx.http.chat(policy), f"{CHAT} (model {policy})")
    _served_by(ctx, policy, body.get("model") if isinstance(body, dict) else None)


def _key_report(ctx: CheckContext, path: str) -> dict:
    body = ctx.http.ok(ctx.http.request("GET", path), f"GET {path}", resource=True)
    if not isinstance(body, dict) or not all(number(body.get(k)) for k in ("total_cost", "total_requests")):
        raise CheckFailed(f"GET {path}: expected total_cost and total_requests, received {str(body)[:200]}")
    return body


def fallback_bills_once(ctx: CheckContext) -> None:
    policy = _policy(ctx, ctx.policies.fallback, NEEDS_POLICY)
    created = ctx.keys.create()
    secret = ctx.keys.secret(created)
    path = f"/api-keys/{created['id']}/usage"
    before = _key_report(ctx, path)
    usage = usage_of(ctx.http.ok(ctx.http.chat(policy, key=secret), f"{CHAT} (model {policy})"), CHAT)
    cost = usage.get("cost")
    expect(number(cost), f"{CHAT} (model {policy}): received usage {usage}, documented a usage.cost")
    after = _key_report(ctx, path)
    grew = after["total_requests"] - before["total_requests"]
    expect(grew == 1, f"{path}: total_requests grew by {grew} after one call to {policy}, documented 1 (only the "
                      "try that served is billed)")
    spent = after["total_cost"] - before["total_cost"]
    expect(math.isclose(spent, cost, rel_tol=1e-6, abs_tol=1e-9),
           f"{path}: total_cost grew by {spent:.12g} after one call to {policy} whose usage.cost is {cost:.12g}")


def trace_sticks(ctx: CheckContext) -> None:
    policy = _policy(ctx, ctx.policies.balance, NEEDS_BALANCE)
    served = []
    for _ in range(TRACE_CALLS):
        body = ctx.http.ok(ctx.http.request("POST", "/chat/completions", json=ctx.http.chat_body(
            policy, max_tokens=1, requesty={"trace_id": TRACE_ID})), f"{CHAT} (model {policy})")
        model = body.get("model") if isinstance(body, dict) else None
        _served_by(ctx, policy, model)
        served.append(model)
    expect(len(set(served)) == 1, f"{CHAT} (model {policy}, requesty.trace_id {TRACE_ID!r}): {TRACE_CALLS} calls "
                                  f"reached {served}, documented one model for one trace id")


# Why contract-tests audit cannot judge these from traffic:
NOT_JUDGED = (
    'it calls regional and policy model names of its own and compares the answers of several of its calls')
CHECKS = [replace(check, not_judged=NOT_JUDGED) for check in (
    Check("routing.regions_enforced", regions_enforced, CHAT, MUST, basis="overlay",
          source=f"spec/overlay.yml: Model regions ('called as model@region'); {CHANGELOG_REGIONS}",
          reason="A model asked for in one of its listed regions (id@region) is served there; a region it is not "
                 "listed in gets a 404 naming the regions it has."),
    Check("routing.catalog_fields", catalog_fields, "GET /models", MUST, basis="overlay",
          source=f"spec/overlay.yml: Model regions cached_price caching_price; {CHANGELOG_REGIONS}",
          reason="regions is an array of strings; cached_price and caching_price are non-negative numbers where "
                 "present."),
    Check("routing.fallback_names_model", fallback_names_model, CHAT, MUST, source=POLICY_SOURCE,
          reason="A fallback policy's answer names the model that served it, one of the policy's models, never "
                 "policy/NAME."),
    Check("routing.fallback_bills_once", fallback_bills_once, "GET /api-keys/{key_id}/usage", MUST, writes=True,
          source=f"{POLICY_SOURCE}; Requesty usage API page: Usage & Analytics API",
          reason="A call to a fallback policy is billed once: the key's usage grows by one request and by the "
                 "answer's usage.cost."),
    Check("routing.trace_sticks", trace_sticks, CHAT, MUST, basis="overlay",
          source="spec/overlay.yml: requesty trace_id ('load-balancing stickiness')",
          reason="Calls to a load-balancing policy with the same requesty.trace_id reach the same model."),
)]
