"""The audit's core: exchanges in, one by one; the run's result (the same cells, the same reports) out.

Each exchange is judged by the schema layer's response checks and by every semantic check's judge
that applies to it, with the :class:`~contract_tests.checks.judge.History` of the exchanges before
it; then it joins that history. The offline audit feeds it a recording, the proxy the traffic that
passes through it: one auditor, two drivers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from contract_tests.audit.schema import JUDGED, NOT_JUDGED, PREFIX, ResponseChecks, level
from contract_tests.checks import Check, all_checks
from contract_tests.checks.judge import History
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped
from contract_tests.events import CheckFinished, CheckStarted, Event, RunFinished, RunStarted
from contract_tests.redact import Redactor
from contract_tests.results import CheckResult, Finding, Layer, Origin, Outcome, RunResult
from contract_tests.schema_layer import SOURCE as SCHEMA_SOURCE
from contract_tests.target import Exchange
from contract_tests.traffic import Seen
from mockserver.spec import LoadedSpec

NOT_JUDGED_PREFIX = "not judged from recorded traffic: "
NO_CREDENTIALS = ("a recording redacts credentials, so a call cannot be tied to the key that made it "
                  "(contract-tests proxy judges it)")
NOTHING = "no exchange in the traffic that it judges"
PROFILE = "audit"


def asked_for_a_fault(seen: Seen) -> bool:
    """Whether the request asked the target to misbehave (a mock's fault directives: ``Prefer: code=``,
    ``X-Mock-Stream-Fault``): its answer is what was asked for, not a finding, so it is not judged."""
    headers = seen.request_headers
    return "x-mock-stream-fault" in headers or "code=" in headers.get("prefer", "")


class Auditor:
    def __init__(self, spec: LoadedSpec, *, credentials_known: bool, redactor: Redactor | None = None):
        self.spec = spec
        self.credentials_known = credentials_known
        self.redactor = redactor or Redactor()
        self.responses = ResponseChecks(spec)
        self.checks = all_checks()
        self.history = History()
        self.cells: dict[tuple[str, str], CheckResult] = {}
        self.exchanges: list[Exchange] = []
        self.unjudged = 0  # exchanges without an answer, or cut short
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self._lock = threading.Lock()

    # -- feeding --------------------------------------------------------------------------------------------------
    def feed(self, seen: Seen, *, complete: bool = True, elapsed: float = 0.0) -> None:
        """Judge one exchange, then remember it for the judges of the next ones."""
        with self._lock:
            self.exchanges.append(Exchange(seen.method, seen.url, seen.request_headers, seen.request_body[:2000],
                                           seen.status, seen.response_headers, "", elapsed))
            if seen.status is None or not complete or asked_for_a_fault(seen):
                self.unjudged += 1
                return
            for name, problem in self.responses.judge(seen):
                self._schema(seen, name, problem)
            for check in self.checks:
                if self._judges(check) and check.judge.applies(seen):
                    self._semantic(seen, check)
            self.history.note(seen)

    def _judges(self, check: Check) -> bool:
        return check.judge is not None and (self.credentials_known or not check.judge.needs_credentials)

    def _schema(self, seen: Seen, name: str, problem: str | None) -> None:
        must, reason = level(name)
        result = CheckResult(check=PREFIX + name, operation=seen.label, layer=Layer.SCHEMA, level=must,
                             outcome=Outcome.PASS, reason=reason, source=SCHEMA_SOURCE)
        if problem is not None:
            result.outcome = Outcome.FAIL
            result.findings.append(self._finding(seen, problem))
        self._add(result)

    def _semantic(self, seen: Seen, check: Check) -> None:
        result = CheckResult(check=check.name, operation=check.operation, layer=Layer.SEMANTIC,
                             level=check.level_for(False), outcome=Outcome.PASS, reason=check.reason,
                             source=check.source)
        try:
            check.judge.verdict(seen, self.history)
        except CheckSkipped:
            return
        except CheckFailed as exc:
            result.outcome = Outcome.FAIL
            result.findings.append(self._finding(seen, str(exc), check))
        except Exception as exc:  # noqa: BLE001  (a surprising answer fails the check; it never ends the audit)
            result.outcome = Outcome.FAIL
            result.findings.append(self._finding(seen, f"the answer could not be read ({type(exc).__name__}: {exc})",
                                                 check))
        self._add(result)

    def _add(self, result: CheckResult) -> None:
        cell = self.cells.get(result.key)
        if cell is None:
            self.cells[result.key] = result
        else:
            cell.merge(result)

    def _finding(self, seen: Seen, message: str, check: Check | None = None) -> Finding:
        text = self.redactor.text
        finding = Finding(message=text(f"{seen.where}: {message}"),
                          request=text(f"{seen.method} {seen.url}\n{seen.request_body[:2000]}").strip(),
                          response=text(f"{seen.status} {seen.content_type}\n{seen.response_body[:1000]}"),
                          curl=seen.curl)  # built redacted, the key as $REQUESTY_API_KEY
        if check is not None and check.basis == "overlay":
            finding.origin = Origin.SPEC_GAP
            finding.origin_note = "rests on an addition of the overlay, not on the upstream spec"
        return finding

    # -- the result -----------------------------------------------------------------------------------------------
    def result(self, target: str, notes: list[str], duration: float = 0.0) -> RunResult:
        """The result so far: every judged cell, and every check traffic did not judge, with the reason."""
        with self._lock:
            if not self.credentials_known:
                notes = list(notes) + [f"{c.name} is judged in part: {c.judge.in_part}" for c in self.checks
                                       if c.judge is not None and c.judge.in_part]
            result = RunResult(target=target, profile=PROFILE, seed=0, started=self.started, duration=duration,
                               requests=len(self.exchanges), notes=list(notes))
            schema = sorted((c for c in self.cells.values() if c.layer is Layer.SCHEMA), key=lambda c: c.key)
            for cell in schema:
                result.add(cell)
            for name in JUDGED:
                if not any(c.check == PREFIX + name for c in schema):
                    result.add(_skip(PREFIX + name, "*", Layer.SCHEMA, *level(name), SCHEMA_SOURCE, NOTHING))
            for name, why in NOT_JUDGED.items():
                result.add(_skip(PREFIX + name, "*", Layer.SCHEMA, *level(name), SCHEMA_SOURCE, NOT_JUDGED_PREFIX + why))
            for check in self.checks:
                cell = self.cells.get((check.operation, check.name))
                if cell is not None:
                    result.add(cell)
                    continue
                if check.judge is None:
                    why = NOT_JUDGED_PREFIX + (check.not_judged or "it needs requests of its own")
                elif not self._judges(check):
                    why = NOT_JUDGED_PREFIX + NO_CREDENTIALS
                else:
                    why = NOTHING
                result.add(_skip(check.name, check.operation, Layer.SEMANTIC, check.level_for(False), check.reason,
                                 check.source, why))
            return result

    def events(self, target: str, notes: list[str], duration: float = 0.0) -> Iterator[Event]:
        """The run's event stream, as ``run`` emits it, for what was fed: the same consumers write the reports."""
        result = self.result(target, notes, duration)
        schema = [r for r in result.results if r.layer is Layer.SCHEMA]
        semantic = [r for r in result.results if r.layer is Layer.SEMANTIC]
        yield RunStarted(target, PROFILE, 0, tuple(dict.fromkeys(r.check for r in schema)),
                         tuple(r.check for r in semantic), tuple(notes))
        for item in schema:
            yield CheckFinished(item, result.requests)
        for item in semantic:
            yield CheckStarted(Layer.SEMANTIC, item.check, item.operation, result.requests)
            yield CheckFinished(item, result.requests)
        with self._lock:
            exchanges = tuple(self.exchanges)
        yield RunFinished(result, exchanges)


def _skip(check: str, operation: str, layer: Layer, must: str, reason: str, source: str, why: str) -> CheckResult:
    return CheckResult(check=check, operation=operation, layer=layer, level=must, outcome=Outcome.SKIP, reason=reason,
                       source=source, skip_reason=why)
