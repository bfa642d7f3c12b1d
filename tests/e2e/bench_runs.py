"""Run one ``python -m bench`` command as a user would and read back its Markdown table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"^[+-]?\d+\.\d\d$")


def run_bench(*args: str) -> tuple[str, dict[str, list[str]]]:
    """``python -m bench ARGS``: its standard output (it must exit 0) and its table rows by first cell."""
    done = subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    table = {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")]
                                                for line in done.stdout.splitlines() if line.startswith("| "))}
    return done.stdout, table


def assert_rows(table: dict[str, list[str]], rows: list[str], cells: int, output: str) -> None:
    """Each row is there with ``cells`` figures."""
    for row in rows:
        assert row in table, output
        assert len(table[row]) == cells and all(NUMBER.match(cell) for cell in table[row]), table[row]
