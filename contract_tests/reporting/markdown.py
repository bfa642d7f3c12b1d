"""Markdown, for people: in a terminal, a pull-request comment or a GitHub job summary.

The order is the HTML report's (see :mod:`contract_tests.reporting.view`):
verdict, counts, failures first with their curl line, then every check by
operation (collapsed in ``<details>``, which GitHub renders), then the schema
matrix. Text from the target is escaped or fenced, so it cannot turn into markup.
"""

from __future__ import annotations

from contract_tests.reporting.view import (
    GAP,
    Group,
    ReportView,
    Row,
    build,
    finding_kind,
    first_line,
    short_name,
    summary_lines,
)
from contract_tests.results import Finding, Outcome, RunResult

__all__ = ["render", "summary_lines"]

MARK = {"fail": "❌", "pass": "✅", "incomplete": "⚠️"}
RESULT = {Outcome.PASS: "pass", Outcome.FAIL: "**FAIL**", Outcome.SKIP: "skip"}
CELL = {Outcome.PASS: "✓", Outcome.FAIL: "**✗**", Outcome.SKIP: "–"}
KIND = {GAP: "upstream-spec gap", "violation": "target violation"}
MAX_LINES = 20
# GitHub takes 65,536 characters in a comment: past this the passing checks are only counted, excerpts shortened,
# and past it again the last failures are left to report.html.
BUDGET = 60_000


def render(result: RunResult, budget: int = BUDGET) -> str:
    view = build(result)
    page = _render(view, compact=False)
    if len(page) <= budget:
        return page
    page = _render(view, compact=True)
    if len(page) <= budget:
        return page
    cut = page.rfind("\n### ", 0, budget - 200)
    cut = cut if cut > 0 else budget - 200
    return page[:cut].rstrip("\n") + ("\n\n*The report is cut here to fit a comment: every failure and check is in "
                                      "report.html and report.json.*\n")


def _render(view: ReportView, compact: bool) -> str:
    result = view.result
    lines = 8 if compact else MAX_LINES
    out = ["# Conformance report", "", f"## {MARK[view.verdict.state]} {view.verdict.title}: {text(result.target)}", "",
           text(view.verdict.detail), ""]
    out += _counts(view) + [""]
    out += [f"- {text(line)}" for line in summary_lines(result)[1:]]
    out += _coverage(result, compact)
    out += ["", f"## Failures ({len(view.failures)})", ""]
    if not view.failures:
        out += ["No check failed.", ""]
    for number, row in enumerate(view.failures, 1):
        out += _failure(number, row, lines)
    out += ["## Checks by operation", ""]
    if compact:
        out += ["Passing checks are counted, not listed, to keep this report short: report.html lists them.", ""]
    for group in view.groups:
        out += _group(group, compact)
    out += _matrix(view)
    return "\n".join(out).rstrip("\n") + "\n"


def _coverage(result: RunResult, compact: bool) -> list[str]:
    """The operations not covered, each with why; the covered ones with their requests (collapsed)."""
    entries = result.coverage
    if not entries:
        return []
    missed = [e for e in entries if not e["covered"]]
    out = ["", f"## Operations covered: {len(entries) - len(missed)} of {len(entries)}", ""]
    if missed:
        out += ["| not covered | why |", "|---|---|"]
        out += [f"| {code(e['operation'])} | {text(e['reason'])} |" for e in missed]
        out += [""]
    if not compact:
        out += ["<details><summary>Covered operations</summary>", "", "| operation | requests | checks |", "|---|---|---|"]
        out += [f"| {code(e['operation'])} | {e['requests']} | {e['checks']} |" for e in entries if e["covered"]]
        out += ["", "</details>"]
    return out


def text(value: object) -> str:
    """Plain text from the run, safe in Markdown prose: no HTML, no table breaks."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def code(value: str) -> str:
    """Inline code that survives backticks in the value."""
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def block(value: str, lang: str = "", limit: int = MAX_LINES) -> list[str]:
    lines = value.splitlines() or [""]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more lines)"]
    fence = "````" if any(line.lstrip().startswith("```") for line in lines) else "```"
    return [f"{fence}{lang}", *lines, fence]


def _counts(view: ReportView) -> list[str]:
    out = ["| level | failed | passed | skipped |", "|---|---:|---:|---:|"]
    for level, tally in view.counts.items():
        failed = f"**{tally.failed}**" if tally.failed else "0"
        out.append(f"| {level} | {failed} | {tally.passed} | {tally.skipped} |")
    return out


def _failure(number: int, row: Row, lines: int) -> list[str]:
    item = row.item
    out = [f"### {number}. {item.level} · {KIND[row.kind]}: {code(row.name)} on {code(item.operation)}", "",
           f"Why it matters: {text(item.reason)}" + (f" *Source: {text(item.source)}*" if item.source else ""), ""]
    for finding in item.findings:
        out += _finding(finding, row.kind, lines)
    return out


def _finding(finding: Finding, card_kind: str, lines: int) -> list[str]:
    head, _, rest = finding.message.strip().partition("\n")
    out = [f"**{text(head.strip())}**", ""]
    if rest.strip():
        out += [*block(rest.strip("\n"), limit=lines), ""]
    if finding.origin_note or finding_kind(finding) != card_kind:
        out += [f"*{text(finding.origin.value)}" + (f": {text(finding.origin_note)}" if finding.origin_note else "") + "*",
                ""]
    if finding.request:
        out += ["Request:", "", *block(finding.request, "http", lines), ""]
    if finding.response:
        out += ["Response (excerpt):", "", *block(finding.response, limit=lines), ""]
    if finding.curl:
        out += ["Reproduce:", "", *block(finding.curl, "sh", limit=200), ""]
    return out


def _group(group: Group, compact: bool) -> list[str]:
    tally = group.tally
    counts = ", ".join(filter(None, [f"<b>{tally.failed} failed</b>" if tally.failed else "", f"{tally.passed} passed",
                                     f"{tally.skipped} skipped" if tally.skipped else ""]))
    title = "every operation" if not group.method else f"<code>{text(group.operation)}</code>"
    rows = [r for r in group.rows if not compact or r.item.outcome is not Outcome.PASS]
    if not rows:
        return [f"- {title}: {counts}", ""]
    out = [f"<details{' open' if tally.failed else ''}><summary>{title}: {counts}</summary>", "",
           "| check | layer | level | result | detail |", "|---|---|---|---|---|"]
    for row in rows:
        note = first_line(row.note)
        if row.kind == GAP:
            note = f"upstream-spec gap: {note}"
        out.append(f"| {code(row.name)} | {row.layer} | {row.item.level} | {RESULT[row.item.outcome]} | {text(note)} |")
    return [*out, "", "</details>", ""]


def _matrix(view: ReportView) -> list[str]:
    matrix = view.matrix
    if not matrix.checks:
        return []
    out = ["## Schema checks (Schemathesis) by operation", "",
           "✓ passed, **✗** failed (see *Failures*), – skipped; *SHOULD* checks in italics.", "",
           "| operation | " + " | ".join(_column(check, matrix.levels[check]) for check in matrix.checks) + " |",
           "|---|" + "---|" * len(matrix.checks)]
    for operation in matrix.operations:
        cells = [matrix.cell(operation, check) for check in matrix.checks]
        out.append(f"| {code(operation)} | " + " | ".join(CELL[c.item.outcome] if c else "" for c in cells) + " |")
    return out


def _column(check: str, level: str) -> str:
    name = short_name(check)
    return f"*{name}*" if level == "SHOULD" else name
