"""The CI integration: ci/contract-tests-action.sh (what action.yml runs) with a fake GitHub environment.

Each test runs the script as GitHub would, with ``GITHUB_STEP_SUMMARY`` and
``GITHUB_OUTPUT`` pointing at files, and checks the job summary, the step
outputs, the reports, the JUnit file and the exit code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from mockserver.config import MockConfig
from mockserver.testing import serve_in_thread
from tests.e2e.failing_run import faulty_app

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ci" / "contract-tests-action.sh"
SECRET = "rq-ci-secret-key-7f3a9c"


def run_action(tmp_path: Path, **inputs: str) -> tuple[subprocess.CompletedProcess, dict[str, str], str]:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    summary.write_text("earlier step's summary\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_", "REQUESTY_"))}
    env.update({"PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", "CI": "true",
                "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output),
                "INPUT_REPORT_DIR": str(tmp_path / "reports")})
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    done = subprocess.run(["bash", str(SCRIPT)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()) if output.exists() else {}
    return done, outputs, summary.read_text()


def test_a_conforming_run_appends_the_report_to_the_job_summary(tmp_path):
    done, outputs, summary = run_action(tmp_path, args="--include 'sse.*,models.*' --seed 3")
    assert done.returncode == 0, done.stderr
    assert "--include sse.*,models.* --seed 3" in done.stdout  # args passed through, quotes removed
    reports = tmp_path / "reports"
    assert outputs == {"exit-code": "0", "report-dir": str(reports), "junit": str(reports / "junit.xml")}
    assert summary.startswith("earlier step's summary\n# Conformance report\n")  # appended, not overwritten
    assert "## ✅ Conforms: embedded mock" in summary and summary.endswith((reports / "report.md").read_text())
    assert {p.name for p in reports.iterdir()} == {"report.html", "report.md", "report.json", "junit.xml", "run.log"}
    suites = ET.parse(reports / "junit.xml").getroot()
    checks = {r["check"] for r in json.loads((reports / "report.json").read_text())["results"]}
    assert checks == {"sse.content_type", "sse.data_json", "sse.done_last", "sse.one_id_model", "sse.role_first",
                      "sse.one_finish_reason", "sse.usage_chunk", "sse.matches_non_stream", "sse.chunk_object",
                      "sse.tool_call_deltas", "sse.usage_only_when_asked", "models.unique_ids",
                      "models.non_negative_prices", "models.prices_listed"}
    assert sum(int(s.get("tests")) for s in suites) == len(checks) and all(s.get("failures") == "0" for s in suites)


def test_a_failing_gateway_fails_the_step_with_its_failures_and_curl_lines_in_the_summary(tmp_path):
    with serve_in_thread(MockConfig(api_key=SECRET), app=faulty_app(SECRET)) as gateway:
        done, outputs, summary = run_action(tmp_path, base_url=gateway.url, api_key=SECRET,
                                            args="--include 'sse.*' --include models.non_negative_prices,errors.auth_required")
    assert done.returncode == 1, done.stderr
    assert outputs["exit-code"] == "1"
    assert "## ❌ Does not conform: " + gateway.url in summary
    for check in ("sse.done_last", "models.non_negative_prices", "errors.auth_required"):
        assert re.search(rf"### \d+\. MUST · [a-z -]+: `{re.escape(check)}`", summary), check
    assert "MUST · upstream-spec gap: `models.non_negative_prices`" in summary
    assert re.search(r"```sh\ncurl -sS -X \w+ " + re.escape(gateway.url), summary)
    junit = ET.parse(tmp_path / "reports" / "junit.xml").getroot()
    failed = {case.get("name").split(" ")[0] for case in junit.iter("testcase") if case.find("failure") is not None}
    assert {"sse.done_last", "models.non_negative_prices", "errors.auth_required"} <= failed
    written = summary + done.stdout + done.stderr + "".join(p.read_text() for p in (tmp_path / "reports").iterdir())
    assert SECRET not in written  # the key went through the environment and is redacted everywhere


def test_a_usage_error_is_exit_2_with_the_reason_in_the_summary(tmp_path):
    done, outputs, summary = run_action(tmp_path, base_url="ftp://gateway.example/v1", api_key=SECRET)
    assert done.returncode == 2 and outputs["exit-code"] == "2"
    assert "contract-tests could not run (exit code 2)" in summary
    assert "--base-url must be an http(s) URL, got 'ftp://gateway.example/v1'" in summary
    assert "Traceback" not in done.stderr + summary
    done, outputs, summary = run_action(tmp_path, args="--include 'sse.*")
    assert done.returncode == 2 and "cannot read the args input (No closing quotation)" in summary


def test_args_are_split_like_a_shell_without_expanding_anything(tmp_path):
    done, _, summary = run_action(tmp_path, args="--include '$(touch pwned)' --include \"`touch pwned2`\" --seed 1")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
    assert "## ✅ Conforms" in summary  # patterns that match no check: nothing ran, nothing failed


def test_the_action_runs_the_script_with_every_input_and_uploads_after_a_failure():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"base-url", "api-key", "args", "report-dir", "python-version"}
    steps = action["runs"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/setup-python@") and steps[0]["with"]["python-version"] == "${{ inputs.python-version }}"
    run = next(s for s in steps if s.get("id") == "run")
    assert "ci/contract-tests-action.sh" in run["run"]
    script_inputs = set(re.findall(r"\bINPUT_[A-Z_]+", SCRIPT.read_text()))
    assert script_inputs == set(run["env"])  # every input the script reads is passed, and nothing else
    for name, value in run["env"].items():
        assert value == "${{ inputs." + name.removeprefix("INPUT_").lower().replace("_", "-") + " }}"
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert len(uploads) == 2 and all(s["if"] == "always()" for s in uploads)
    assert steps.index(uploads[-1]) < len(steps) - 1 and "exit" in steps[-1]["run"]  # fail only after uploading
    assert set(action["outputs"]) == {"exit-code", "report-dir", "junit"}
