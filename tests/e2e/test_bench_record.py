"""``python -m bench record --quick`` runs end to end and prints each row with figures (no timing is asserted)."""

from __future__ import annotations

import re

from tests.e2e.bench_runs import assert_rows, run_bench

ROWS = ["stream: time to first byte", "stream: time to last byte", "paced stream (100 ms TTFT): time to first byte",
        "paced stream (50 tokens/s): time to last byte", "chat JSON: time to last byte"]


def test_quick_record_bench_prints_every_row():
    output, table = run_bench("record", "--quick")
    assert_rows(table, ROWS, 5, output)
    # The paced stream's first byte comes with the upstream's first token (100 ms), not at its end (~300 ms).
    direct_first, proxied_first = float(table[ROWS[2]][0]), float(table[ROWS[2]][1])
    assert direct_first >= 100 and proxied_first < float(table[ROWS[3]][1]) - 100
    assert re.search(r"^\d+ exchanges recorded", output, re.M)
