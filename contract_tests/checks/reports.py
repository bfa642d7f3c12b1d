"""Usage reports: they count what was called, their breakdowns add up, the organization covers its keys."""

from __future__ import annotations

import math

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.judge import KEY_USAGE, History, Judge, judge_all, key_id_of, operation_is
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.checks.values import number, usage_of
from contract_tests.results import MUST
from contract_tests.traffic import Seen

SOURCE = "Requesty usage API page: Usage & Analytics API; spec/requesty-openapi.yml: UsageReport"
CALLS = 2
CHAT = "POST /chat/completions"


INFERENCE = ("/chat/completions", "/embeddings")


def _totals(seen: Seen) -> dict:
    body = seen.response_json
    if not isinstance(body, dict) or not all(number(body.get(k)) for k in ("total_cost", "total_requests")):
        raise CheckFailed(f"GET {seen.path}: expected total_cost and total_requests, received {seen.response_body[:200]}")
    return body


def _usage_in(seen: Seen) -> dict:
    """The usage an inference answer reports: its JSON ``usage``, or a stream's usage chunk (empty when none)."""
    if seen.asked_stream:
        usages = [c["usage"] for c in seen.chunks if isinstance(c.get("usage"), dict)]
        return usages[-1] if usages else {}
    body = seen.response_json
    return body.get("usage") if isinstance(body, dict) and isinstance(body.get("usage"), dict) else {}


def judge_grow_by_calls(seen: Seen, history: History) -> None:
    key_id = key_id_of(seen) or ""
    credential = history.credential_of(key_id)
    if key_id not in history.reports or credential is None:
        raise CheckSkipped("no earlier report of a key whose calls are known")
    earlier = history.seen[history.reports[key_id]]
    calls = [s for s in history.seen[history.reports[key_id] + 1:] if s.credential == credential
             and s.operation is not None and s.operation.path in INFERENCE and s.status == 200]
    before, after = _totals(earlier), _totals(seen)
    path = seen.path
    grew = after["total_requests"] - before["total_requests"]
    expect(grew == len(calls), f"{path}: total_requests grew by {grew} after {len(calls)} calls")
    usages = [_usage_in(s) for s in calls]
    tokens = sum(u.get("total_tokens") or 0 for u in usages)
    if number(after.get("total_tokens")) and number(before.get("total_tokens")):
        expect(after["total_tokens"] - before["total_tokens"] == tokens,
               f"{path}: total_tokens grew by {after['total_tokens'] - before['total_tokens']}, the calls used {tokens}")
    cost = sum(u.get("cost") or 0 for u in usages)
    expect(_close(after["total_cost"] - before["total_cost"], cost),
           f"{path}: total_cost grew by {after['total_cost'] - before['total_cost']:.12g}, the calls cost {cost:.12g}")


def org_report(seen: Seen) -> bool:
    """An answer of ``GET /organization/usage``: a report, or drift from the spec (404 or 405 on the fixed path)."""
    return operation_is("GET", "/organization/usage")(seen) and seen.status in (200, 404, 405)


def unfiltered_org_report(seen: Seen) -> bool:
    """An organization report over everything: a filtered one (``?tag=``, ``?origin=``...) covers only part."""
    return org_report(seen) and "?" not in seen.url


def _drift(seen: Seen) -> None:
    if seen.status != 200:
        raise CheckFailed(f"documented operation missing on target: GET /organization/usage answered {seen.status}")


def judge_breakdown_sums(seen: Seen, history: History) -> None:
    _drift(seen)
    report = _totals(seen)
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


def judge_org_covers_keys(seen: Seen, history: History) -> None:
    _drift(seen)
    if not history.reports:
        raise CheckSkipped("no key report read before it")
    org = _totals(seen)
    keys = [_totals(history.seen[position]) for position in history.reports.values()]
    requests = sum(k["total_requests"] for k in keys)
    cost = sum(k["total_cost"] for k in keys)
    expect(org["total_requests"] >= requests, f"organization total_requests {org['total_requests']} < the keys' "
                                              f"{requests:g}")
    expect(org["total_cost"] + 1e-9 >= cost, f"organization total_cost {org['total_cost']:.12g} < the keys' {cost:.12g}")


JUDGES = {
    "reports.grow_by_calls": Judge(lambda seen: operation_is("GET", KEY_USAGE, 200)(seen) and "?" not in seen.url,
                                   judge_grow_by_calls, needs_credentials=True),
    "reports.breakdown_sums": Judge(org_report, judge_breakdown_sums),
    "reports.org_covers_keys": Judge(unfiltered_org_report, judge_org_covers_keys),
}


def _read(ctx: CheckContext, path: str) -> Seen:
    response = ctx.http.request("GET", path)
    ctx.http.ok(response, f"GET {path}", resource="/api-keys/" in path)
    seen = ctx.seen(response)
    _totals(seen)
    return seen


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _spend_a_little(ctx: CheckContext, *, with_new_key: bool = False) -> None:
    """Make sure the reports have something to add up: one small chat call (shared with other checks)."""
    model = ctx.catalog.chat_model()
    if with_new_key:
        ctx.http.chat(model, key=ctx.keys.secret(ctx.keys.create()))
    else:
        ctx.http.chat(model)


def grow_by_calls(ctx: CheckContext) -> None:
    created = ctx.keys.create()
    creation = ctx.seen(ctx.http.last_response)
    secret = ctx.keys.secret(created)
    path = f"/api-keys/{created['id']}/usage"
    seen = [creation, _read(ctx, path)]
    model = ctx.catalog.chat_model()
    for _ in range(CALLS):
        response = ctx.http.chat(model, key=secret)
        usage_of(ctx.http.ok(response, CHAT), CHAT)
        seen.append(ctx.seen(response))
    seen.append(_read(ctx, path))
    judge_all(JUDGES["reports.grow_by_calls"], seen)


def breakdown_sums(ctx: CheckContext) -> None:
    _spend_a_little(ctx)
    judge_all(JUDGES["reports.breakdown_sums"], [_read(ctx, "/organization/usage")])


def org_covers_keys(ctx: CheckContext) -> None:
    _spend_a_little(ctx, with_new_key=ctx.allow_writes)
    listed = ctx.http.ok(ctx.http.request("GET", "/api-keys"), "GET /api-keys")
    keys = [k for k in (listed.get("data") or []) if isinstance(k, dict) and isinstance(k.get("id"), str)][:10]
    seen = [_read(ctx, f"/api-keys/{key['id']}/usage") for key in keys]
    seen.append(_read(ctx, "/organization/usage"))
    if keys:
        judge_all(JUDGES["reports.org_covers_keys"], seen)


CHECKS = [
    Check("reports.grow_by_calls", grow_by_calls, "GET /api-keys/{key_id}/usage", MUST, writes=True, source=SOURCE,
          judge=JUDGES["reports.grow_by_calls"],
          reason="A key's report grows by exactly the calls made with it: requests, tokens and cost."),
    Check("reports.breakdown_sums", breakdown_sums, "GET /organization/usage", MUST, source=SOURCE,
          judge=JUDGES["reports.breakdown_sums"], reason="A report's per-model breakdown adds up to its totals."),
    Check("reports.org_covers_keys", org_covers_keys, "GET /organization/usage", MUST, source=SOURCE,
          judge=JUDGES["reports.org_covers_keys"], reason="The organization's totals cover every key's totals."),
]
