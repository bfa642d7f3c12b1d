"""``pytest contract_tests``: the same suite under pytest, with the root conftest's options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pytest_runs_the_suite_on_the_embedded_mock(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-k", "models or auth_required", "--seed", "3", "--junitxml", str(tmp_path / "j.xml")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "4 passed" in proc.stdout
    assert "rq-mock-admin-key" not in proc.stdout + (tmp_path / "j.xml").read_text()


def test_pytest_unreachable_target_exits_2():
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-k", "models", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "some-key-1"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "cannot reach http://127.0.0.1:9/v1" in proc.stdout + proc.stderr
