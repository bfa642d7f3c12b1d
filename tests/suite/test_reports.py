"""The reports, written from one result model: what CI, machines and people read."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from contract_tests.cli import main
from contract_tests.events import RunFinished
from contract_tests.progress import Progress
from contract_tests.reporting import report_files
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
    assert "## Schema layer: Schemathesis" in markdown and "## Semantic layer" in markdown
    assert "Layer 1" not in markdown and "Layer 2" not in markdown
    assert "upstream-spec gap: only the overlay bounds it" in markdown
    assert "curl -sS -X POST" in markdown and "run with --allow-writes" in markdown
    html = (tmp_path / "report.html").read_text()
    assert "no [DONE] &lt;b&gt;" in html and "<script" not in html


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
    ("models.*", "2 passed, 0 failed (0 MUST), 0 skipped", [EMBEDDED_NOTE], {"semantic"}),
    ("schema:not_a_server_error,models.unique_ids", "3 passed, 0 failed (0 MUST), 0 skipped",
     [EMBEDDED_NOTE, "the schema layer stopped at its part of the request budget (11 requests); the rest was kept for "
                     "the semantic layer"], {"schema", "semantic"}),
])
def test_cli_output_names_the_layers_and_the_reports(include, summary, notes, layers, tmp_path):
    """The CLI's output is a contract: a snapshot, with the numbers that vary masked."""
    result = CliRunner().invoke(main, ["run", "--include", include, "--max-requests", "20", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    masked = re.sub(r"\d+ requests, \$[\d.]+ reported spend, [\d.]+ s", "N requests, $S reported spend, T s",
                    result.output.replace(str(tmp_path), "DIR"))
    assert masked.splitlines() == [
        "Target embedded mock conforms (profile quick, seed 0).",
        f"{summary}; N requests, $S reported spend, T s.",
        *notes,
        "Reports in DIR/",
    ]
    data = json.loads((tmp_path / "report.json").read_text())
    assert {r["layer"] for r in data["results"]} == layers
