"""Which operations of the spec a run covered, and for each one it did not, why.

An operation is covered when a check judged an answer of it (passed or failed). The requests are
counted from the run's exchanges, matched to the spec's operations by method and path. One that
was not covered gets the first reason that holds: the profile leaves it out (``live`` sends GET
only), the budget ran out (the whole run's, or the schema layer's part), Schemathesis generated
no request for it (its reason in each phase), or no selected check reaches it (``--include``/``--exclude``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from contract_tests.results import CheckResult, Outcome
from contract_tests.target import Exchange
from contract_tests.traffic import Operations
from mockserver.spec import LoadedSpec

READ_ONLY = "left out by the profile: it sends only GET operations"
BUDGET = "the request budget ran out before it"
NOT_SELECTED = "no selected check reaches it"


def coverage(spec: LoadedSpec, results: Iterable[CheckResult], exchanges: Iterable[Exchange], *, read_only: bool,
             skipped: Mapping[str, str], stopped: str = "") -> list[dict[str, Any]]:
    """One entry per operation of ``spec``: ``operation``, ``requests``, ``checks``, ``covered``, ``reason``."""
    operations = Operations(spec)
    requests: Counter[str] = Counter()
    for exchange in exchanges:
        label = _label(operations, exchange.method, exchange.url)
        if label is not None:
            requests[label] += 1
    judged = Counter(r.operation for r in results if r.outcome is not Outcome.SKIP)
    out = []
    for op in spec.operations:
        label = f"{op.method} {op.path}"
        covered = judged[label] > 0
        reason = "" if covered else _why_not(op.method, label, read_only=read_only, skipped=skipped, stopped=stopped)
        out.append({"operation": label, "requests": requests[label], "checks": judged[label], "covered": covered,
                    "reason": reason})
    return out


def _label(operations: Operations, method: str, url: str) -> str | None:
    """The label of the operation a request reached; one keyed with a query when the request carries that query."""
    parts = urlsplit(url)
    found = operations.find(method, parts.path, parts.query)
    return f"{found.method} {found.path}" if found is not None else None


def _why_not(method: str, label: str, *, read_only: bool, skipped: Mapping[str, str], stopped: str) -> str:
    if read_only and method != "GET":
        return READ_ONLY
    if stopped:
        return BUDGET
    if label in skipped:
        return f"Schemathesis generated no request: {skipped[label]}"
    return NOT_SELECTED


def summary(entries: list[dict[str, Any]], shown: int = 5) -> str:
    """``Operations covered: 280 of 288; not covered: GET /a (why), ...`` in one line."""
    missed = [e for e in entries if not e["covered"]]
    line = f"Operations covered: {len(entries) - len(missed)} of {len(entries)}"
    if not missed:
        return line + "."
    named = "; ".join(f"{e['operation']} ({e['reason']})" for e in missed[:shown])
    more = f"; and {len(missed) - shown} more (report.json: coverage)" if len(missed) > shown else ""
    return f"{line}; not covered: {named}{more}."
