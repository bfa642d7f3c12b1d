"""One result model: every layer emits observations, every report reads a :class:`RunResult`.

A result is one cell of the operation x check matrix: pass, fail or skip. A
failure carries findings, each saying what was received and what was
documented, the request, a response excerpt, a curl line, and whether it is a
violation by the target or a gap of the upstream spec (a finding that holds
only because of an addition in the project's overlay).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


class Layer(StrEnum):
    """The suite's two layers, in the order a run goes through them."""

    SCHEMA = "schema"  # Schemathesis over every operation of the overlaid spec
    SEMANTIC = "semantic"  # the named checks of what no schema says

    @property
    def rank(self) -> int:
        return list(Layer).index(self)


MUST = "MUST"
SHOULD = "SHOULD"


class Origin(StrEnum):
    TARGET = "target violation"
    SPEC_GAP = "upstream-spec gap"


MAX_FINDINGS = 3


@dataclass
class Finding:
    message: str
    request: str = ""
    response: str = ""
    curl: str = ""
    origin: Origin = Origin.TARGET
    origin_note: str = ""


@dataclass
class CheckResult:
    check: str
    operation: str
    layer: Layer
    level: str  # MUST or SHOULD
    outcome: Outcome
    reason: str = ""
    source: str = ""
    findings: list[Finding] = field(default_factory=list)
    skip_reason: str = ""
    observations: int = 1

    @property
    def key(self) -> tuple[str, str]:
        return self.operation, self.check

    def merge(self, other: CheckResult) -> None:
        """Fold another observation of the same cell in: a failure wins over a pass, a pass over a skip."""
        self.observations += other.observations
        rank = {Outcome.SKIP: 0, Outcome.PASS: 1, Outcome.FAIL: 2}
        if rank[other.outcome] > rank[self.outcome]:
            self.outcome = other.outcome
            self.skip_reason = other.skip_reason
        for finding in other.findings:
            same = next((i for i, f in enumerate(self.findings) if f.message == finding.message), None)
            if same is None and len(self.findings) < MAX_FINDINGS:
                self.findings.append(finding)
            elif same is not None and not self.findings[same].response and finding.response:
                self.findings[same] = finding  # the same failure, now with the exchange that shows it


@dataclass
class RunResult:
    target: str
    profile: str
    seed: int
    started: str
    duration: float = 0.0
    results: list[CheckResult] = field(default_factory=list)
    requests: int = 0
    spend: float = 0.0
    stopped: str = ""
    notes: list[str] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)  # per operation (contract_tests.coverage)

    def __post_init__(self) -> None:
        # key -> index in results (not a field: not reported); results change only through add()
        self._cells: dict[tuple[str, str], int] = {existing.key: i for i, existing in enumerate(self.results)}

    def add(self, result: CheckResult) -> None:
        """Merge ``result`` into its cell (operation x check), found through an index: a big spec's schema layer
        adds tens of thousands of observations."""
        at = self._cells.get(result.key)
        if at is not None:
            self.results[at].merge(result)
            return
        self._cells[result.key] = len(self.results)
        self.results.append(replace(result, findings=list(result.findings)))  # the cell, apart from the observation

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.outcome is Outcome.FAIL]

    @property
    def must_failures(self) -> list[CheckResult]:
        return [r for r in self.failed if r.level == MUST]

    @property
    def exit_code(self) -> int:
        return 1 if self.must_failures else 0

    def counts(self) -> dict[str, int]:
        counts = {o.value: 0 for o in Outcome}
        for r in self.results:
            counts[r.outcome.value] += 1
        return counts

    def matrix(self, layer: Layer) -> tuple[list[str], list[str]]:
        """The rows (operations) and columns (checks) of one layer's matrix; both empty when it did not run."""
        items = self.of_layer(layer)
        return sorted({r.operation for r in items}, key=_operation_order), sorted({r.check for r in items})

    def cell(self, operation: str, check: str) -> CheckResult | None:
        for r in self.results:
            if r.operation == operation and r.check == check:
                return r
        return None

    def of_layer(self, layer: Layer) -> list[CheckResult]:
        return [r for r in self.results if r.layer == layer]

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["counts"] = self.counts()
        data["exit_code"] = self.exit_code
        return data


def _operation_order(label: str) -> tuple[str, str]:
    method, _, path = label.partition(" ")
    return path, method
