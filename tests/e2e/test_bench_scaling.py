"""bench/scaling.py: the table it prints, and bare Starlette on forked workers (the ceiling it compares with)."""

from __future__ import annotations

import httpx

from bench import scaling, servers
from bench.scaling import Figure, render


def test_the_table_compares_each_backend_with_one_worker_and_with_bare_starlette():
    figures = [Figure("memory", 1, 4000, 10, 80, 10), Figure("sqlite", 1, 1000, 50, 250, 20),
               Figure("sqlite", 2, 1600, 40, 300, 20), Figure("bare", 1, 8000, 5, 30, 10),
               Figure("bare", 2, 9000, 5, 30, 10)]
    table = render(figures, ["a note"])
    rows = {tuple(cell.strip() for cell in line.split("|")[1:3]): line for line in table.splitlines()[2:] if "|" in line}
    assert "| 1,600 | 1.60x |" in rows[("sqlite", "2")]
    assert "| 1.67x |" in rows[("sqlite", "2")]  # 2 x (1e6/300) over 1e6/250: the speed-up with a core each
    assert rows[("sqlite", "2")].endswith("| 9,000 | 0.18x |") and rows[("memory", "1")].endswith("| 8,000 | 0.50x |")
    assert table.endswith("- a note")


def test_bare_starlette_serves_on_two_forked_workers():
    with servers.running(scaling.bare(2)) as server:  # up once GET /v1/models answers
        answer = httpx.get(f"{server.base}/models")
        assert answer.status_code == 200 and answer.json()["object"] == "list"
        assert len(servers._tree(server.proc.pid)) - 1 == 2  # the supervisor's two forked workers
