"""``python -m bench record --quick`` runs end to end and prints each row with figures (no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROWS = ["stream: time to first byte", "stream: time to last byte", "paced stream (100 ms TTFT): time to first byte",
        "paced stream (50 tokens/s): time to last byte", "chat JSON: time to last byte"]
NUMBER = re.compile(r"^[+-]?\d+\.\d\d$")


def test_quick_record_bench_prints_every_row():
    done = subprocess.run([sys.executable, "-m", "bench", "record", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    table = {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")]
                                                for line in done.stdout.splitlines() if line.startswith("| "))}
    for row in ROWS:
        assert row in table, done.stdout
        assert len(table[row]) == 5 and all(NUMBER.match(cell) for cell in table[row]), table[row]
    # The paced stream's first byte comes with the upstream's first token (100 ms), not at its end (~300 ms).
    direct_first, proxied_first = float(table[ROWS[2]][0]), float(table[ROWS[2]][1])
    assert direct_first >= 100 and proxied_first < float(table[ROWS[3]][1]) - 100
    assert re.search(r"^\d+ exchanges recorded", done.stdout, re.M)
