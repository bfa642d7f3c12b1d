"""``contract-tests run --spec`` with OpenAI's published spec against ``mockserver serve --spec`` of the same file,
with the default budget (the quick profile on loopback): it completes, gives a verdict, and both reports say which
operations it covered and why the others were not."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from mockserver.auth import DEFAULT_API_KEY
from mockserver.spec import load_spec
from tests.e2e.served import OPENAI, ROOT, served


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openai-suite")
    with served(OPENAI, folder / "cache") as mock:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "contract_tests", "run", "--spec", str(OPENAI), "--base-url",
                               mock.url, "--api-key", DEFAULT_API_KEY, "--report-dir", str(folder / "reports")],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
        elapsed = time.monotonic() - started
    return done, folder / "reports", elapsed


def test_the_run_completes_with_a_verdict_and_no_traceback(run):
    done, reports, elapsed = run
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "Traceback" not in done.stderr + done.stdout
    verdict = next(line for line in done.stdout.splitlines() if line.startswith("Target "))
    assert ("does NOT conform" in verdict) == (done.returncode == 1) and "profile quick" in verdict
    warnings = [line for line in done.stderr.splitlines() if line.startswith("contract-tests: warning: ")]
    assert len(warnings) == len(load_spec(OPENAI).defects)  # spec defects are warnings, one line each
    report = json.loads((reports / "report.json").read_text())
    assert report["exit_code"] == done.returncode and not report["stopped"]
    assert elapsed < 400  # the default budget: no request or spend limit on loopback; a few minutes at most


def test_no_answer_is_a_server_error_and_every_violation_is_explained(run):
    report = json.loads((run[1] / "report.json").read_text())
    server_errors = [r for r in report["results"] if r["check"] == "schema:not_a_server_error" and r["outcome"] == "fail"]
    assert server_errors == []
    for result in report["results"]:
        if result["outcome"] == "skip":
            assert result["skip_reason"], result["check"]


def test_the_reports_say_which_operations_were_covered_and_why_not(run):
    done, reports, _ = run
    report = json.loads((reports / "report.json").read_text())
    coverage = report["coverage"]
    assert len(coverage) == 288 and len({c["operation"] for c in coverage}) == 288
    covered = [c for c in coverage if c["covered"]]
    assert len(covered) >= 280 and all(c["requests"] > 0 and c["checks"] > 0 for c in covered)
    assert all(c["reason"] for c in coverage if not c["covered"])
    line = next(line for line in done.stdout.splitlines() if line.startswith("Operations covered: "))
    assert line.startswith(f"Operations covered: {len(covered)} of 288")
    markdown = (reports / "report.md").read_text()
    assert f"## Operations covered: {len(covered)} of 288" in markdown
    semantic = {r["check"]: r for r in report["results"] if r["layer"] == "semantic"}
    assert semantic["keys.created_key_authenticates"]["skip_reason"] == \
        "not documented by the spec under test: POST /api-keys"
    assert semantic["requesty.type_checked"]["outcome"] == "skip"  # Requesty's extension: an overlay addition
    assert semantic["embeddings.one_per_input"]["outcome"] == "pass"
