"""What the people-facing reports show, in the order they show it: one view of a :class:`RunResult`.

The HTML and Markdown writers both read this view, so they agree on the verdict,
the counts, which failures come first and how checks are grouped; they differ
only in markup. The order: verdict, counts (MUST / SHOULD x failed / passed /
skipped), failures (MUST before SHOULD, target violations before upstream-spec
gaps), then every check grouped by operation, then the schema matrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contract_tests.coverage import summary as coverage_summary
from contract_tests.results import CheckResult, Finding, Layer, Origin, Outcome, RunResult

SCHEMA = Layer.SCHEMA.value  # Schemathesis over the overlaid spec
SEMANTIC = Layer.SEMANTIC.value  # the named checks for what no schema says
LEVELS = ("MUST", "SHOULD")
EVERY_OPERATION = "*"
VIOLATION = "violation"
GAP = "gap"


def layer_of(item: CheckResult) -> str:
    """The layer of a result, ``schema`` or ``semantic``: the one place the writers read ``CheckResult.layer``."""
    return Layer(item.layer).value


def short_name(check: str) -> str:
    return check.removeprefix("schema:")


def operation_order(label: str) -> tuple[int, str, str]:
    """``*`` (every operation) first, then by path and method."""
    method, _, path = label.partition(" ")
    return (0 if label == EVERY_OPERATION else 1), path, method


def first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


def finding_kind(finding: Finding) -> str:
    return GAP if finding.origin is Origin.SPEC_GAP else VIOLATION


def result_kind(item: CheckResult) -> str:
    """An upstream-spec gap when every finding is one; a target violation otherwise."""
    if item.findings and all(f.origin is Origin.SPEC_GAP for f in item.findings):
        return GAP
    return VIOLATION


@dataclass
class Tally:
    failed: int = 0
    passed: int = 0
    skipped: int = 0

    def count(self, item: CheckResult) -> None:
        if item.outcome is Outcome.FAIL:
            self.failed += 1
        elif item.outcome is Outcome.PASS:
            self.passed += 1
        else:
            self.skipped += 1

    @property
    def total(self) -> int:
        return self.failed + self.passed + self.skipped


@dataclass
class Row:
    """One check on one operation, as the pages show it."""

    item: CheckResult
    anchor: str

    @property
    def name(self) -> str:
        return short_name(self.item.check)

    @property
    def layer(self) -> str:
        return layer_of(self.item)

    @property
    def kind(self) -> str:
        return result_kind(self.item) if self.item.outcome is Outcome.FAIL else ""

    @property
    def note(self) -> str:
        """A line saying why it failed, why it was skipped, or what it checks."""
        if self.item.outcome is Outcome.FAIL and self.item.findings:
            return first_line(self.item.findings[0].message)
        if self.item.outcome is Outcome.SKIP:
            return self.item.skip_reason
        return self.item.reason


@dataclass
class Group:
    operation: str
    rows: list[Row] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)

    @property
    def method(self) -> str:
        return "" if self.operation == EVERY_OPERATION else self.operation.partition(" ")[0]

    @property
    def path(self) -> str:
        return "every operation" if self.operation == EVERY_OPERATION else self.operation.partition(" ")[2]


@dataclass
class Verdict:
    state: str  # "fail", "pass" or "incomplete"
    title: str
    detail: str


@dataclass
class Matrix:
    """The schema layer's operation x check grid."""

    operations: list[str]
    checks: list[str]
    levels: dict[str, str]
    cells: dict[tuple[str, str], Row]

    def cell(self, operation: str, check: str) -> Row | None:
        return self.cells.get((operation, check))

    def failed(self, operation: str) -> bool:
        return any(r.item.outcome is Outcome.FAIL for (op, _), r in self.cells.items() if op == operation)


@dataclass
class ReportView:
    result: RunResult
    verdict: Verdict
    counts: dict[str, Tally]
    failures: list[Row]
    groups: list[Group]
    matrix: Matrix


def build(result: RunResult) -> ReportView:
    rows: list[Row] = []
    taken: set[str] = set()
    for item in result.results:
        anchor = _anchor(item)
        while anchor in taken:
            anchor += "-"
        taken.add(anchor)
        rows.append(Row(item, anchor))
    counts = {level: Tally() for level in LEVELS}
    for row in rows:
        counts.setdefault(row.item.level, Tally()).count(row.item)
    failures = sorted((r for r in rows if r.item.outcome is Outcome.FAIL), key=_failure_order)
    return ReportView(result=result, verdict=verdict(result), counts=counts, failures=failures,
                      groups=_groups(rows), matrix=_matrix(rows))


def verdict(result: RunResult) -> Verdict:
    must = len(result.must_failures)
    should = len(result.failed) - must
    should_text = f"{plural(should, 'SHOULD check')} not met" if should else ""
    if must:
        gaps = sum(1 for r in result.must_failures if result_kind(r) == GAP)
        split = f"{plural(must - gaps, 'target violation')}, {plural(gaps, 'upstream-spec gap')}"
        detail = f"{plural(must, 'MUST check')} failed ({split})"
        return Verdict("fail", "Does not conform", "; ".join(filter(None, [detail, should_text])) + ".")
    if result.stopped:
        return Verdict("incomplete", "Incomplete",
                       f"No MUST check failed before the run stopped early: {result.stopped}."
                       + (f" {should_text}." if should_text else ""))
    return Verdict("pass", "Conforms", "Every MUST check passed" + (f"; {should_text}." if should_text else "."))


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_lines(result: RunResult) -> list[str]:
    """The run in a few plain lines: the command line prints them, the reports begin with them."""
    counts = result.counts()
    state = "does NOT conform" if result.exit_code else "conforms"
    if result.stopped and not result.exit_code:
        state = "showed no MUST failure before the run stopped early (incomplete)"
    lines = [
        f"Target {result.target} {state} (profile {result.profile}, seed {result.seed}).",
        f"{counts['pass']} passed, {counts['fail']} failed ({len(result.must_failures)} MUST), {counts['skip']} skipped; "
        f"{result.requests} requests, ${result.spend:.6f} reported spend, {result.duration:.1f} s.",
    ]
    if result.stopped:
        lines.append(f"Stopped early: {result.stopped}.")
    if result.coverage:
        lines.append(coverage_summary(result.coverage))
    return lines + list(result.notes)


def _failure_order(row: Row) -> tuple[int, int, tuple[int, str, str], str]:
    return (LEVELS.index(row.item.level) if row.item.level in LEVELS else len(LEVELS),
            0 if row.kind == VIOLATION else 1, operation_order(row.item.operation), row.item.check)


def _groups(rows: list[Row]) -> list[Group]:
    groups: dict[str, Group] = {}
    for row in rows:
        group = groups.setdefault(row.item.operation, Group(row.item.operation))
        group.rows.append(row)
        group.tally.count(row.item)
    for group in groups.values():  # failures first, then the semantic checks, then the schema ones
        group.rows.sort(key=lambda r: (r.item.outcome is not Outcome.FAIL, r.layer != SEMANTIC, r.name))
    return [groups[op] for op in sorted(groups, key=operation_order)]


def _matrix(rows: list[Row]) -> Matrix:
    schema = [r for r in rows if r.layer == SCHEMA]
    operations = sorted({r.item.operation for r in schema}, key=operation_order)
    checks = sorted({r.item.check for r in schema}, key=short_name)
    levels = {r.item.check: r.item.level for r in schema}
    return Matrix(operations, checks, levels, {(r.item.operation, r.item.check): r for r in schema})


def _anchor(item: CheckResult) -> str:
    return "f-" + re.sub(r"[^a-z0-9]+", "-", f"{item.check} {item.operation}".lower()).strip("-")
