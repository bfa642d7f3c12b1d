"""Usage reports: they count what was called, their breakdowns add up, the organization covers its keys."""

from __future__ import annotations

import math

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.outcomes import CheckFailed, expect
from contract_tests.checks.values import number, usage_of
from contract_tests.results import MUST

SOURCE = "Requesty usage API page: Usage & Analytics API; spec/requesty-openapi.yml: UsageReport"
CALLS = 2
CHAT = "POST /chat/completions"


def _report(ctx: CheckContext, path: str) -> dict:
    body = ctx.http.ok(ctx.http.request("GET", path), f"GET {path}", resource="/api-keys/" in path)
    if not isinstance(body, dict) or not all(number(body.get(k)) for k in ("total_cost", "total_requests")):
        raise CheckFailed(f"GET {path}: expected total_cost and total_requests, received {str(body)[:200]}")
    return body


def _spend_a_little(ctx: CheckContext, *, with_new_key: bool = False) -> None:
    """Make sure the reports have something to add up: one small chat call (shared with other checks)."""
    model = ctx.catalog.chat_model()
    if with_new_key:
        ctx.http.chat(model, key=ctx.keys.secret(ctx.keys.create()))
    else:
        ctx.http.chat(model)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def grow_by_calls(ctx: CheckContext) -> None:
    created = ctx.keys.create()
    secret = ctx.keys.secret(created)
    path = f"/api-keys/{created['id']}/usage"
    before = _report(ctx, path)
    model = ctx.catalog.chat_model()
    usages = [usage_of(ctx.http.ok(ctx.http.chat(model, key=secret), CHAT), CHAT) for _ in range(CALLS)]
    after = _report(ctx, path)
    grew = after["total_requests"] - before["total_requests"]
    expect(grew == CALLS, f"{path}: total_requests grew by {grew} after {CALLS} calls")
    tokens = sum(u.get("total_tokens") or 0 for u in usages)
    if number(after.get("total_tokens")) and number(before.get("total_tokens")):
        expect(after["total_tokens"] - before["total_tokens"] == tokens,
               f"{path}: total_tokens grew by {after['total_tokens'] - before['total_tokens']}, the calls used {tokens}")
    cost = sum(u.get("cost") or 0 for u in usages)
    expect(_close(after["total_cost"] - before["total_cost"], cost),
           f"{path}: total_cost grew by {after['total_cost'] - before['total_cost']:.12g}, the calls cost {cost:.12g}")


def breakdown_sums(ctx: CheckContext) -> None:
    _spend_a_little(ctx)
    report = _report(ctx, "/organization/usage")
    rows = report.get("breakdown")
    if not isinstance(rows, list) or not rows:
        expect(report["total_requests"] == 0, "GET /organization/usage: totals without a breakdown")
        return
    for field, total in (("requests", "total_requests"), ("tokens", "total_tokens"), ("cost", "total_cost")):
        if not number(report.get(total)):
            continue
        summed = sum(r.get(field) or 0 for r in rows if isinstance(r, dict))
        expect(_close(summed, report[total]), f"GET /organization/usage: breakdown {field} sum to {summed:.12g}, "
                                              f"{total} is {report[total]:.12g}")


def org_covers_keys(ctx: CheckContext) -> None:
    _spend_a_little(ctx, with_new_key=ctx.allow_writes)
    listed = ctx.http.ok(ctx.http.request("GET", "/api-keys"), "GET /api-keys")
    keys = [k for k in (listed.get("data") or []) if isinstance(k, dict) and isinstance(k.get("id"), str)][:10]
    requests = cost = 0.0
    for key in keys:
        report = _report(ctx, f"/api-keys/{key['id']}/usage")
        requests += report["total_requests"]
        cost += report["total_cost"]
    org = _report(ctx, "/organization/usage")
    expect(org["total_requests"] >= requests, f"organization total_requests {org['total_requests']} < the keys' "
                                              f"{requests:g}")
    expect(org["total_cost"] + 1e-9 >= cost, f"organization total_cost {org['total_cost']:.12g} < the keys' {cost:.12g}")


CHECKS = [
    Check("reports.grow_by_calls", grow_by_calls, "GET /api-keys/{key_id}/usage", MUST, writes=True, source=SOURCE,
          reason="A key's report grows by exactly the calls made with it: requests, tokens and cost."),
    Check("reports.breakdown_sums", breakdown_sums, "GET /organization/usage", MUST, source=SOURCE,
          reason="A report's per-model breakdown adds up to its totals."),
    Check("reports.org_covers_keys", org_covers_keys, "GET /organization/usage", MUST, source=SOURCE,
          reason="The organization's totals cover every key's totals."),
]
