"""Usage reports as Requesty's analytics read them: grouped, the groups add up; filtered, the filters keep their calls."""

from __future__ import annotations

import math
import uuid
from dataclasses import replace
from urllib.parse import urlencode

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.checks.values import number
from contract_tests.results import MUST, SHOULD

ORG = "/organization/usage"
CHAT = "POST /chat/completions"
MEASURES = (("requests", "total_requests"), ("tokens", "total_tokens"), ("cost", "total_cost"))
TAGGED_CALLS = 2
REFERRED_CALLS = 1
SOURCE = ("spec/overlay.yml: UsageGroupBy ('the groups add up to the totals'); "
          "Requesty usage API page: Usage & Analytics API")


def _report(ctx: CheckContext, **query: str) -> dict:
    path = ORG + ("?" + urlencode(query) if query else "")
    body = ctx.http.ok(ctx.http.request("GET", path), f"GET {path}")
    if not isinstance(body, dict) or not all(number(body.get(total)) for total in ("total_requests", "total_cost")):
        raise CheckFailed(f"GET {path}: expected total_requests and total_cost, received {str(body)[:200]}")
    return body


def group_by_values(ctx: CheckContext) -> list[str]:
    """The ``group_by`` values the spec documents for the organization's usage report."""
    for operation in ctx.spec.operations:
        if operation.method == "GET" and operation.path == ORG:
            for parameter in operation.parameters:
                if parameter.name == "group_by" and parameter.location == "query":
                    return [v for v in parameter.schema.get("enum") or [] if isinstance(v, str)]
    return []


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def groups_sum(ctx: CheckContext) -> None:
    values = group_by_values(ctx)
    if not values:
        raise CheckSkipped(f"the spec documents no group_by for GET {ORG}")
    ctx.http.chat(ctx.catalog.chat_model())  # something to group (the call other checks share)
    for value in values:
        report = _report(ctx, group_by=value)
        groups = report.get("groups")
        if not isinstance(groups, list):
            raise CheckFailed(f"GET {ORG}?group_by={value}: received no groups list, documented groups")
        for measure, total in MEASURES:
            if not number(report.get(total)):
                continue
            summed = sum(g.get(measure) or 0 for g in groups if isinstance(g, dict))
            expect(_close(summed, report[total]), f"GET {ORG}?group_by={value}: the groups' {measure} sum to "
                                                  f"{summed:.12g}, {total} is {report[total]:.12g}")


def filters_keep(ctx: CheckContext) -> None:
    run = uuid.uuid4().hex[:12]
    tag, origin = f"contract-tests-{run}", f"https://contract-tests-{run}.example"
    model = ctx.catalog.chat_model()
    for _ in range(TAGGED_CALLS):
        ctx.http.ok(ctx.http.request("POST", "/chat/completions",
                                     json=ctx.http.chat_body(model, max_tokens=1, requesty={"tags": [tag]})),
                    f"{CHAT} (requesty.tags)")
    for _ in range(REFERRED_CALLS):
        ctx.http.ok(ctx.http.request("POST", "/chat/completions", json=ctx.http.chat_body(model, max_tokens=1),
                                     headers={"HTTP-Referer": origin}), f"{CHAT} (HTTP-Referer)")
    everything = _report(ctx)
    for name, value, made in (("tag", tag, TAGGED_CALLS), ("origin", origin, REFERRED_CALLS)):
        kept = _report(ctx, **{name: value})
        expect(kept["total_requests"] == made, f"GET {ORG}?{name}={value}: total_requests {kept['total_requests']}, "
                                               f"documented {made}: the calls made with that {name}")
        for _, total in MEASURES:
            if number(kept.get(total)) and number(everything.get(total)):
                expect(kept[total] <= everything[total] + 1e-9,
                       f"GET {ORG}?{name}={value}: {total} {kept[total]:.12g} is more than the unfiltered "
                       f"{everything[total]:.12g}")


# Why contract-tests audit cannot judge these from traffic:
NOT_JUDGED = (
    'it makes tagged calls of its own and reads the usage reports they must change')
CHECKS = [replace(check, not_judged=NOT_JUDGED) for check in (
    Check("reports.groups_sum", groups_sum, "GET /organization/usage", MUST, basis="overlay", source=SOURCE,
          reason="For every group_by the report documents, the groups' requests, tokens and cost add up to the "
                 "totals."),
    Check("reports.filters_keep", filters_keep, "GET /organization/usage", MUST, basis="overlay", live_level=SHOULD,
          source="spec/overlay.yml: UsageTag UsageOrigin ('Only calls whose requesty.tags include this tag'); "
                 "Requesty changelog: Tag traffic by app with analytics headers",
          reason="The tag and origin filters count exactly the calls made with that tag or HTTP-Referer; a filtered "
                 "total is never more than the unfiltered one."),
)]
