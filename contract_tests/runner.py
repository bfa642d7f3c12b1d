"""The suite's run as one stream of events (:mod:`contract_tests.events`), and ``run()`` that hands them out.

``run_events(options)`` opens the session, runs the schema layer (Schemathesis)
then the semantic checks, and emits what happens; ``run(options, *consumers)``
gives every event to each consumer (the progress line, the report files) and
returns the final :class:`~contract_tests.results.RunResult`. The pytest plugin
reads the same stream (:mod:`contract_tests.stream_reader`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from fnmatch import fnmatchcase

import httpx

from contract_tests.budget import BudgetExhausted
from contract_tests.checks import Check, all_checks
from contract_tests.checks.applies import not_applicable
from contract_tests.checks.context import CheckContext
from contract_tests.checks.key_manager import WRITES_NEEDED
from contract_tests.checks.outcomes import NOT_IMPLEMENTED, CheckFailed, CheckSkipped
from contract_tests.coverage import coverage
from contract_tests.curl import curl_line
from contract_tests.events import BudgetStopped, CheckFinished, CheckStarted, Consumer, Event, RunFinished, RunStarted, deliver
from contract_tests.results import CheckResult, Finding, Layer, Origin, Outcome, RunResult
from contract_tests.schema_layer import CHECKS as SCHEMA_CHECKS
from contract_tests.schema_layer import PREFIX
from contract_tests.session import Options, Session, open_session
from contract_tests.target import Exchange

SCHEMA_STOPPED = "the schema layer stopped"
SEMANTIC_SHARE = 0.5  # of a request budget, kept for the semantic checks while Schemathesis runs


def selected(name: str, options: Options) -> bool:
    def matches(patterns: tuple[str, ...]) -> bool:
        return any(fnmatchcase(name, p) or fnmatchcase(name.removeprefix(PREFIX), p) for p in patterns)

    return (not options.include or matches(options.include)) and not matches(options.exclude)


def run(options: Options, *consumers: Consumer) -> RunResult:
    """Run the suite, hand every event to each consumer, return the result (:class:`UsageError` if it cannot start)."""
    return deliver(run_events(options), consumers)


def run_events(options: Options) -> Iterator[Event]:
    """The run's events, ``RunStarted`` to ``RunFinished``; closing the stream early still cleans up."""
    started = time.monotonic()
    schema_checks = [PREFIX + name for name in SCHEMA_CHECKS if selected(PREFIX + name, options)]
    semantic_checks = [check for check in all_checks() if selected(check.name, options)]
    with open_session(options) as session:
        target = session.target
        result = RunResult(target=target.shown_url, profile=session.profile.name, seed=options.seed,
                           started=datetime.now(UTC).isoformat(timespec="seconds"), notes=_notes(session))
        yield RunStarted(result.target, result.profile, result.seed, tuple(schema_checks),
                         tuple(c.name for c in semantic_checks), tuple(result.notes))
        skipped: dict[str, str] = {}  # operations Schemathesis generated nothing for, and why
        if schema_checks:
            yield from _schema_layer(session, schema_checks, result, skipped)
        yield from _semantic_layer(session.context, semantic_checks, result)
        stopped = target.budget.stopped or next((n for n in result.notes if n.startswith(SCHEMA_STOPPED)), "")
        result.coverage = coverage(session.spec, result.results, target.exchanges, skipped=skipped,
                                   read_only=session.profile.read_only, stopped=stopped)
    # The session is closed: the keys the run created are deleted, and those requests are counted too.
    result.requests = target.budget.requests
    result.spend = target.budget.spend
    result.stopped = target.budget.stopped or ""
    result.duration = time.monotonic() - started
    yield RunFinished(result, tuple(target.exchanges))


def _notes(session: Session) -> list[str]:
    notes = []
    if session.target.embedded:
        notes.append("target: the embedded mock, in-process; curl lines reproduce on `mockserver serve` "
                     "with REQUESTY_API_KEY set to its admin key")
    if not session.writes:
        notes.append("writes disabled (not a loopback target): key checks skipped; use --allow-writes")
    return notes


def _schema_layer(session: Session, checks: list[str], result: RunResult, skipped: dict[str, str]) -> Iterator[Event]:
    budget = session.target.budget
    with budget.holding_back(SEMANTIC_SHARE):
        layer = session.schema_layer([name.removeprefix(PREFIX) for name in checks])
        layer.skipped = skipped
        for item in layer.run():
            result.add(item)
            yield CheckFinished(item, budget.requests)
        if budget.stopped:
            result.notes.append(f"{SCHEMA_STOPPED} at its part of the request budget ({budget.requests} "
                                "requests); the rest was kept for the semantic layer")
            yield BudgetStopped(Layer.SCHEMA, budget.stopped, budget.requests)


def _semantic_layer(ctx: CheckContext, checks: list[Check], result: RunResult) -> Iterator[Event]:
    told = False
    for check in checks:
        yield CheckStarted(Layer.SEMANTIC, check.name, check.operation, ctx.budget.requests)
        item = run_check(check, ctx)
        result.add(item)
        yield CheckFinished(item, ctx.budget.requests)
        if ctx.budget.exhausted and not told:
            told = True
            yield BudgetStopped(Layer.SEMANTIC, ctx.budget.stopped or "", ctx.budget.requests)
    result.notes.extend(missing_notes(ctx, result))


def missing_notes(ctx: CheckContext, result: RunResult) -> list[str]:
    """One note per documented operation the target lacks, naming the checks skipped for it."""
    notes = []
    for operation, status in ctx.http.missing.items():
        reason = f"{NOT_IMPLEMENTED}: {operation} (answered {status})"
        skipped = [item.check for item in result.results if item.skip_reason == reason]
        notes.append(f"{reason}; {len(skipped)} check(s) that depend on it skipped: {', '.join(skipped)}")
    return notes


def run_check(check: Check, ctx: CheckContext) -> CheckResult:
    """One semantic check as one result: pass, fail (with what was received and documented) or skip."""
    result = CheckResult(check=check.name, operation=check.operation, layer=Layer.SEMANTIC,
                         level=check.level_for(ctx.deterministic), outcome=Outcome.PASS, reason=check.reason,
                         source=check.source)
    why_not = not_applicable(check.operation, check.basis, ctx.documented, ctx.overlaid, check.needs)
    if why_not is not None:
        return _skip(result, why_not)
    if check.writes and not ctx.allow_writes:
        return _skip(result, WRITES_NEEDED)
    if ctx.budget.exhausted:
        return _skip(result, ctx.budget.stopped or "budget reached")
    mark = ctx.http.mark()
    try:
        check.func(ctx)
        return result
    except (CheckSkipped, BudgetExhausted) as exc:
        return _skip(result, str(exc))
    except CheckFailed as exc:
        message = str(exc)
    except httpx.TransportError as exc:
        message = f"the request failed: {exc}"
    except Exception as exc:  # noqa: BLE001  (a surprising answer fails the check; it never ends the run)
        message = f"the answer could not be read ({type(exc).__name__}: {exc})"
    result.outcome = Outcome.FAIL
    result.findings.append(_finding(message, check, ctx, ctx.http.exchanges_since(mark)))
    return result


def _skip(result: CheckResult, reason: str) -> CheckResult:
    result.outcome = Outcome.SKIP
    result.skip_reason = reason
    return result


def _finding(message: str, check: Check, ctx: CheckContext, exchanges: list[Exchange]) -> Finding:
    redactor = ctx.redactor
    finding = Finding(message=redactor.text(message))
    if check.basis == "overlay":
        finding.origin = Origin.SPEC_GAP
        finding.origin_note = "rests on an addition of the overlay, not on the upstream spec"
    if exchanges:
        last = next((e for e in reversed(exchanges) if e.status is None or e.status >= 400), exchanges[-1])
        finding.request = f"{last.method} {last.url}\n{last.request_body}".strip()
        finding.response = f"{last.status} {last.response_headers.get('content-type', '')}\n{last.response_body[:1000]}"
        finding.curl = curl_line(last.method, last.url, last.request_headers, last.request_body, redactor)
    return finding
