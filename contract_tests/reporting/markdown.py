"""Markdown, for people: a summary, the operation x check matrix, then each failure in full."""

from __future__ import annotations

from contract_tests.results import Layer, Outcome, RunResult

SYMBOL = {Outcome.PASS: "pass", Outcome.FAIL: "**FAIL**", Outcome.SKIP: "skip"}


def summary_lines(result: RunResult) -> list[str]:
    counts = result.counts()
    verdict = "does NOT conform" if result.exit_code else "conforms"
    if result.stopped and not result.exit_code:
        verdict = "showed no MUST failure before the run stopped early (incomplete)"
    lines = [
        f"Target {result.target} {verdict} (profile {result.profile}, seed {result.seed}).",
        f"{counts['pass']} passed, {counts['fail']} failed ({len(result.must_failures)} MUST), {counts['skip']} skipped; "
        f"{result.requests} requests, ${result.spend:.6f} reported spend, {result.duration:.1f} s.",
    ]
    if result.stopped:
        lines.append(f"Stopped early: {result.stopped}.")
    lines += result.notes
    return lines


def render(result: RunResult) -> str:
    out = ["# Conformance report", ""]
    out += [f"- {line}" for line in summary_lines(result)]
    operations, checks = result.matrix(Layer.SCHEMA)
    if checks:
        out += ["", "## Schema layer: Schemathesis", "", "| operation | " + " | ".join(c.removeprefix("schema:") for c in checks)
                + " |", "|---|" + "---|" * len(checks)]
        for op in operations:
            cells = [result.cell(op, c) for c in checks]
            out.append(f"| `{op}` | " + " | ".join(SYMBOL[c.outcome] if c else "" for c in cells) + " |")
    operations, checks = result.matrix(Layer.SEMANTIC)
    if checks:  # one check per operation, mostly: a list reads better than a sparse matrix
        out += ["", "## Semantic layer: what no schema says", "", "| operation | check | level | result |", "|---|---|---|---|"]
        out += [f"| `{r.operation}` | {r.check} | {r.level} | {SYMBOL[r.outcome]} |"
                for op in operations for r in result.of_layer(Layer.SEMANTIC) if r.operation == op]
    failures = result.failed
    if failures:
        out += ["", "## Failures", ""]
        for item in failures:
            out += [f"### {item.check} on `{item.operation}` ({item.level})", "", f"Why it matters: {item.reason}",
                    f"Source: {item.source}", ""]
            for finding in item.findings:
                first, _, rest = finding.message.partition("\n")
                out += [f"- **{first.strip()}**", *[f"  {line}" for line in rest.strip().splitlines()],
                        f"  - {finding.origin.value}"
                        + (f": {finding.origin_note}" if finding.origin_note else "")]
                if finding.request:
                    out += ["", "  Request:", "", "  ```", *["  " + line for line in finding.request.splitlines()[:20]],
                            "  ```"]
                if finding.response:
                    out += ["", "  Response (excerpt):", "", "  ```",
                            *["  " + line for line in finding.response.splitlines()[:20]], "  ```"]
                if finding.curl:
                    out += ["", "  Reproduce:", "", "  ```sh", *[f"  {line}" for line in finding.curl.splitlines()], "  ```"]
                out.append("")
    skipped = [r for r in result.results if r.outcome is Outcome.SKIP]
    if skipped:
        out += ["", "## Skipped", ""] + [f"- {r.check} on `{r.operation}`: {r.skip_reason}" for r in skipped]
    return "\n".join(out) + "\n"
