"""``pytest contract_tests -n 4``: one request and spend budget for the whole run, and one merged JSON result.

The gateway is the mock on a real port; its journal counts every request that reached it, and its
organization usage adds up the ``usage.cost`` of every answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx

from contract_tests.shared_budget import JSON_ENV
from tests.conftest import ADMIN, DEFAULT_API_KEY

ROOT = Path(__file__).resolve().parents[2]


def run_suite(url: str, *options: str, env: dict[str, str] | None = None,
              select: str = "test_semantics or ignored_auth or not_a_server_error") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests", "-q", "-p", "no:cacheprovider", "-n", "4", "-k", select,
         "--base-url", url, "--api-key", DEFAULT_API_KEY, *options],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})


def requests_seen(mock) -> int:
    return len(httpx.get(f"{mock.origin}/__mock/journal?limit=100000", headers=ADMIN).json()["data"])


def test_four_workers_share_one_request_budget(serve, tmp_path):
    mock = serve()
    merged = tmp_path / "run.json"
    proc = run_suite(mock.url, "--max-requests", "40", "--profile", "quick", env={JSON_ENV: str(merged)})
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    seen = requests_seen(mock)
    assert 30 <= seen <= 40, seen  # without a shared budget each of the 4 workers would send up to 40
    run = json.loads(merged.read_text())
    assert run["requests"] >= seen  # each worker's own count includes the requests the run's budget refused
    assert "merged from 4 workers" in run["notes"]
    assert {r["layer"] for r in run["results"]} == {"schema", "semantic"}
    skipped = [r["skip_reason"] for r in run["results"] if r["outcome"] == "skip"]
    assert any("over all workers" in reason for reason in skipped), skipped


def test_four_workers_share_one_spend_budget(serve):
    mock = serve()
    max_spend = Decimal("0.00001")  # about three chat calls of the mock
    proc = run_suite(mock.url, "--max-spend", str(max_spend), "--profile", "quick", select="test_semantics")
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    org = httpx.get(f"{mock.url}/organization/usage", headers=ADMIN).json()
    dearest = max(Decimal(repr(m["cost"])) / m["requests"] for m in org["breakdown"]) if org["breakdown"] else 0
    spent = Decimal(repr(org["total_cost"]))
    assert spent > 0 and dearest > 0
    # The promise: over by at most one call. A call costs about its model's average (the margin is for calls of
    # one model that differ); four budgets of their own would each go over, to about four times the budget.
    assert spent <= max_spend + dearest * Decimal("1.5"), (spent, max_spend, dearest)
