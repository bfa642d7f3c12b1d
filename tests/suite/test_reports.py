"""The reports, written from one result model: what CI, machines and people read."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from contract_tests import reporting
from contract_tests.cli import main
from contract_tests.events import RunFinished
from contract_tests.progress import Progress
from contract_tests.reporting import html, markdown, report_files
from contract_tests.reporting.view import build, layer_of
from contract_tests.results import CheckResult, Finding, Layer, Origin, Outcome, RunResult

SCHEMA, SEMANTIC = Layer.SCHEMA, Layer.SEMANTIC


def sample() -> RunResult:
    result = RunResult(target="https://gw.test/v1", profile="live", seed=1, started="2026-01-01T00:00:00+00:00")
    result.add(CheckResult("sse.done_last", "POST /chat/completions", SEMANTIC, "MUST", Outcome.FAIL, "why", "src",
                           [Finding("no [DONE] <b>", "POST https://gw.test/v1/chat/completions", "200 text/event-stream",
                                    "curl -sS -X POST 'https://gw.test/v1/chat/completions'")]))
    result.add(CheckResult("sse.matches_non_stream", "POST /chat/completions", SEMANTIC, "SHOULD", Outcome.FAIL, "why", "src",
                           [Finding("differs")]))
    result.add(CheckResult("schema:response_schema_conformance", "GET /models", SCHEMA, "MUST", Outcome.FAIL, "why", "src",
                           [Finding("price < 0", origin=Origin.SPEC_GAP, origin_note="only the overlay bounds it")]))
    result.add(CheckResult("schema:response_schema_conformance", "GET /models", SCHEMA, "MUST", Outcome.PASS))
    result.add(CheckResult("keys.deleted_key_rejected", "DELETE /api-keys/{key_id}", SEMANTIC, "MUST", Outcome.SKIP,
                           skip_reason="run with --allow-writes"))
    return result


def test_one_cell_per_operation_and_check_a_failure_wins():
    result = sample()
    cell = result.cell("GET /models", "schema:response_schema_conformance")
    assert cell.outcome is Outcome.FAIL and cell.observations == 2
    assert result.exit_code == 1 and len(result.must_failures) == 2


def write_reports(result: RunResult, directory, junit=None) -> None:
    for report in report_files(directory, junit=junit):
        report(RunFinished(result, ()))


def test_every_report_from_the_same_result(tmp_path):
    write_reports(sample(), tmp_path, junit=tmp_path / "ci" / "junit.xml")
    assert {p.name for p in tmp_path.iterdir()} == {"report.json", "report.md", "report.html", "junit.xml", "run.log", "ci"}
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["format_version"] == 2 and list(data)[0] == "format_version"
    assert data["counts"] == {"pass": 0, "fail": 3, "skip": 1} and data["exit_code"] == 1
    assert {(r["check"], r["layer"]) for r in data["results"]} >= {("sse.done_last", "semantic"),
                                                                     ("schema:response_schema_conformance", "schema")}
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    assert [(s.get("name"), s.get("failures"), s.get("skipped")) for s in suites] == [
        ("schema", "1", "0"), ("semantic", "1", "2")]
    assert (tmp_path / "ci" / "junit.xml").read_text() == (tmp_path / "junit.xml").read_text()
    markdown = (tmp_path / "report.md").read_text()
    assert "## Schema checks (Schemathesis) by operation" in markdown and "| check | layer |" in markdown
    assert "Layer 1" not in markdown and "Layer 2" not in markdown
    assert "upstream-spec gap: only the overlay bounds it" in markdown
    assert "curl -sS -X POST" in markdown and "run with --allow-writes" in markdown
    html = (tmp_path / "report.html").read_text()
    assert "no [DONE] &lt;b&gt;" in html and "no [DONE] <b>" not in html
    assert html.count("<script") == 1 and "<script src" not in html and "<link" not in html  # one inline script
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no external asset


def positions(text: str, *needles: str) -> list[int]:
    found = [text.find(n) for n in needles]
    assert -1 not in found, [n for n, i in zip(needles, found, strict=True) if i < 0]
    return found


def test_html_reads_verdict_counts_failures_then_operations_then_matrix():
    page = html.render(sample())
    order = positions(page, 'class="verdict fail"', '<h2 id="verdict">Does not conform', 'class="counts"', 'id="failures"',
                      'id="operations"', 'id="matrix"')
    assert order == sorted(order)
    # MUST before SHOULD, target violations before upstream-spec gaps, each card with its badge
    cards = positions(page, 'id="f-sse-done-last-post-chat-completions"',
                      'id="f-schema-response-schema-conformance-get-models"',
                      'id="f-sse-matches-non-stream-post-chat-completions"')
    assert cards == sorted(cards)
    first = page[cards[0]:cards[1]]
    assert 'class="badge violation"' in first and "curl -sS -X POST" in first and "200 text/event-stream" in first
    assert 'class="badge gap"' in page[cards[1]:cards[2]]
    counts = re.search(r'<table class="counts">.*?</table>', page, re.S).group(0)
    assert re.findall(r"<th scope=\"row\">(\w+)</th><td[^>]*>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", counts) == [
        ("MUST", "2", "0", "1"), ("SHOULD", "1", "0", "0")]
    assert "3 MUST checks failed" not in page and "2 MUST checks failed (1 target violation, 1 upstream-spec gap)" in page


def test_html_groups_checks_by_operation_and_opens_only_failing_ones():
    page = html.render(sample())
    groups = re.findall(r'<details class="op" data-failed="(\d+)"( open)?>\s*<summary>\s*(?:<span class="method">(\w+)'
                        r'</span>)?\s*<span class="path">([^<]+)</span>', page)
    assert [(method, path, bool(opened)) for _, opened, method, path in groups] == [
        ("DELETE", "/api-keys/{key_id}", False), ("POST", "/chat/completions", True), ("GET", "/models", True)]


def test_markdown_has_the_same_order_with_curl_lines():
    text = markdown.render(sample())
    order = positions(text, "## ❌ Does not conform: https://gw.test/v1", "| MUST | **2** | 0 | 1 |",
                      "## Failures (3)", "### 1. MUST · target violation: `sse.done_last`",
                      "### 2. MUST · upstream-spec gap: `response_schema_conformance` on `GET /models`",
                      "### 3. SHOULD · target violation: `sse.matches_non_stream`", "## Checks by operation",
                      "## Schema checks (Schemathesis) by operation")
    assert order == sorted(order)
    assert "```sh\ncurl -sS -X POST 'https://gw.test/v1/chat/completions'\n```" in text
    assert "<details open><summary><code>POST /chat/completions</code>: <b>2 failed</b>, 0 passed</summary>" in text
    assert "<details><summary><code>DELETE /api-keys/{key_id}</code>: 0 passed, 1 skipped</summary>" in text


def test_markdown_never_lets_the_target_write_markup():
    result = sample()
    result.results[0].findings[0].message = "got <img src=x onerror=alert(1)> | and `ticks`"
    text = markdown.render(result)
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt; \\| and" in text


def test_markdown_fits_a_pull_request_comment():
    """Past the budget the passing checks are counted, not listed; past it again the report says where it was cut."""
    result = sample()
    for i in range(40):
        result.add(CheckResult(f"schema:check_{i}", "GET /models", SCHEMA, "MUST", Outcome.PASS, reason="x" * 200))
    full = markdown.render(result)
    assert "`check_39`" in full and len(full) > 12_000
    compact = markdown.render(result, budget=12_000)
    assert len(compact) <= 12_000 and "`check_39` | schema" not in compact
    assert "Passing checks are counted, not listed" in compact and "### 3. SHOULD" in compact
    cut = markdown.render(result, budget=1_500)
    assert len(cut) <= 1_500 and cut.endswith("every failure and check is in report.html and report.json.*\n")
    assert "## Failures (3)" in cut


def test_verdicts_conforms_and_incomplete():
    passing = RunResult(target="t", profile="quick", seed=0, started="s")
    passing.add(CheckResult("sse.done_last", "POST /chat/completions", SEMANTIC, "MUST", Outcome.PASS))
    passing.add(CheckResult("sse.matches_non_stream", "POST /chat/completions", SEMANTIC, "SHOULD", Outcome.FAIL,
                            findings=[Finding("differs")]))
    assert build(passing).verdict.title == "Conforms" and "1 SHOULD check not met" in build(passing).verdict.detail
    assert 'class="verdict pass"' in html.render(passing) and "## ✅ Conforms: t" in markdown.render(passing)
    passing.stopped = "request budget reached (5 requests)"
    assert build(passing).verdict.state == "incomplete"
    assert 'class="verdict incomplete"' in html.render(passing)
    assert "Stopped early: request budget reached (5 requests)." in markdown.render(passing)


def test_the_writers_read_the_layer_through_one_function():
    item = CheckResult("x", "GET /models", SCHEMA, "MUST", Outcome.PASS)
    assert layer_of(item) == "schema"
    item.layer = SEMANTIC
    assert layer_of(item) == "semantic"
    sources = "".join((Path(reporting.__file__).parent / name).read_text() for name in ("html.py", "markdown.py"))
    assert ".layer" not in sources.replace("row.layer", "")
    assert "<style" not in sources and (Path(reporting.__file__).parent / "templates" / "report.html").is_file()


def test_progress_is_quiet_when_not_a_terminal(monkeypatch):
    assert not Progress.wanted(io.StringIO())

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("CI", "1")
    assert not Progress.wanted(Tty())
    monkeypatch.delenv("CI")
    assert Progress.wanted(Tty())


def test_help_lists_every_option():
    output = CliRunner().invoke(main, ["run", "--help"]).output
    for option in ("--base-url", "--api-key", "--spec", "--overlay", "--seed", "--profile", "--report-dir", "--junit",
                   "--max-requests", "--max-spend", "--allow-writes", "--include", "--exclude"):
        assert option in output


EMBEDDED_NOTE = ("target: the embedded mock, in-process; curl lines reproduce on `mockserver serve` with REQUESTY_API_KEY "
                 "set to its admin key")


@pytest.mark.parametrize(("include", "summary", "notes", "layers"), [
    ("models.*", "3 passed, 0 failed (0 MUST), 0 skipped", [EMBEDDED_NOTE], {"semantic"}),
    ("schema:not_a_server_error,models.unique_ids", "6 passed, 0 failed (0 MUST), 0 skipped",
     [EMBEDDED_NOTE, "the schema layer stopped at its part of the request budget (11 requests); the rest was kept for "
                     "the semantic layer"], {"schema", "semantic"}),
])
def test_cli_output_names_the_layers_and_the_reports(include, summary, notes, layers, tmp_path):
    """The CLI's output is a contract: a snapshot, with the numbers that vary masked."""
    result = CliRunner().invoke(main, ["run", "--include", include, "--max-requests", "20", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    masked = re.sub(r"\d+ requests, \$[\d.]+ reported spend, [\d.]+ s", "N requests, $S reported spend, T s",
                    result.output.replace(str(tmp_path), "DIR"))
    masked = re.sub(r"Operations covered: \d+ of 26.*", "Operations covered: K of 26...", masked)
    assert masked.splitlines() == [
        "Target embedded mock conforms (profile quick, seed 0).",
        f"{summary}; N requests, $S reported spend, T s.",
        "Operations covered: K of 26...",
        *notes,
        "Reports in DIR/",
    ]
    data = json.loads((tmp_path / "report.json").read_text())
    assert {r["layer"] for r in data["results"]} == layers
