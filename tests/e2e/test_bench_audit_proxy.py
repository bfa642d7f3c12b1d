"""``python -m bench audit-proxy --quick`` runs end to end: every row has figures, and the proxy's final report
judged every exchange sent through it (no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROWS = ["chat JSON", "stream: first chunk", "stream: to its end", "embeddings (3 inputs)", "GET /models"]
NUMBER = re.compile(r"^[+-]?\d+\.\d\d$")


def test_quick_audit_proxy_bench_prints_every_row_and_judges_every_exchange():
    done = subprocess.run([sys.executable, "-m", "bench", "audit-proxy", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    table = {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")]
                                                for line in done.stdout.splitlines() if line.startswith("| "))}
    for row in ROWS:
        assert row in table, done.stdout
        assert len(table[row]) == 6 and all(NUMBER.match(cell) for cell in table[row]), table[row]
    found = re.search(r"^(\d+) exchanges judged by the proxy \((\d+) sent through it\), 0 failed checks", done.stdout,
                      re.M)
    assert found and found.group(1) == found.group(2), done.stdout
