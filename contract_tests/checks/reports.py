"""Usage reports: they count what was called, their breakdowns add up, the organization covers its keys."""

from __future__ import annotations

import math

from contract_tests.checks.context import CheckContext, number, usage_of
from contract_tests.checks.registry import MUST, CheckFailed, check, expect

SOURCE = "Requesty Usage & Analytics API (seeds/requesty-usage-api.txt); upstream spec UsageReport"
CALLS = 2


def _report(ctx: CheckContext, path: str) -> dict:
    body = ctx.ok(ctx.request("GET", path), f"GET {path}", resource="/api-keys/" in path)
    if not isinstance(body, dict) or not all(number(body.get(k)) for k in ("total_cost", "total_requests")):
        raise CheckFailed(f"GET {path}: expected total_cost and total_requests, received {str(body)[:200]}")
    return body


def _spend_a_little(ctx: CheckContext, *, with_new_key: bool = False) -> None:
    """Make sure the reports have something to add up: one small chat call (shared with other checks)."""
    if with_new_key:
        ctx.chat(key=ctx.secret(ctx.create_key()))
    else:
        ctx.chat()


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


@check("reports.grow_by_calls", operation="GET /api-keys/{key_id}/usage", level=MUST, writes=True, source=SOURCE,
       reason="A key's report grows by exactly the calls made with it: requests, tokens and cost.")
def grow_by_calls(ctx: CheckContext) -> None:
    created = ctx.create_key()
    secret = ctx.secret(created)
    path = f"/api-keys/{created['id']}/usage"
    before = _report(ctx, path)
    usages = []
    for _ in range(CALLS):
        usages.append(usage_of(ctx.ok(ctx.chat(key=secret), "POST /chat/completions"), "POST /chat/completions"))
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


@check("reports.breakdown_sums", operation="GET /organization/usage", level=MUST, source=SOURCE,
       reason="A report's per-model breakdown adds up to its totals.")
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


@check("reports.org_covers_keys", operation="GET /organization/usage", level=MUST, source=SOURCE,
       reason="The organization's totals cover every key's totals.")
def org_covers_keys(ctx: CheckContext) -> None:
    _spend_a_little(ctx, with_new_key=ctx.allow_writes)
    listed = ctx.ok(ctx.request("GET", "/api-keys"), "GET /api-keys")
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
