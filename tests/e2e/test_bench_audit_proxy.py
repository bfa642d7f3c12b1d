"""``python -m bench audit-proxy --quick`` runs end to end: every row has figures, and the proxy's final report
judged every exchange sent through it (no timing is asserted)."""

from __future__ import annotations

import re

from tests.e2e.bench_runs import assert_rows, run_bench

ROWS = ["chat JSON", "stream: first chunk", "stream: to its end", "embeddings (3 inputs)", "GET /models"]


def test_quick_audit_proxy_bench_prints_every_row_and_judges_every_exchange():
    output, table = run_bench("audit-proxy", "--quick")
    assert_rows(table, ROWS, 6, output)
    found = re.search(r"^(\d+) exchanges judged by the proxy \((\d+) sent through it\), 0 failed checks", output, re.M)
    assert found and found.group(1) == found.group(2), output
