"""The quick benchmark runs end to end and prints every row, each with figures or a reason.

No timing is asserted: only that the bench works and its table is well formed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from bench import load, measure, servers
from bench.cells import Cell, Row
from bench.load import parse_wrk
from bench.measure import MEMORY_KINDS, QUICK, labels
from bench.table import HEADER

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"-?[\d,]+(\.\d+)?"
FIGURE = re.compile(rf"^({NUMBER}|n/a \(.+\))$")
RATIO = re.compile(rf"^({NUMBER}x|n/a \(.+\))$")


def test_quick_bench_prints_every_row_with_figures_or_reasons():
    done = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True,
                          timeout=240, env={**os.environ, "BENCH_NO_INSTALL": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    table = {cells[0]: cells for cells in (_cells(line) for line in lines) if len(cells) == len(HEADER)}
    for label, unit in labels(QUICK).values():
        assert label in table, f"row {label!r} missing from:\n{done.stdout}"
        _, shown_unit, mock, to_bare, to_prism, bare, prism = table[label]
        assert shown_unit == unit
        for figure in (mock, bare, prism):
            assert FIGURE.match(figure), f"{label}: {figure!r}"
        for ratio in (to_bare, to_prism):
            assert RATIO.match(ratio), f"{label}: {ratio!r}"
    # what the mock serves today is measured, not excused
    for key in ("models_rps", "chat_rps", "startup_upstream", "startup_generated", "rss_chat_second"):
        label = labels(QUICK)[key][0]
        assert not table[label][2].startswith("n/a"), table[label]
        assert not table[label][3].startswith("n/a"), table[label]
    for kind in MEMORY_KINDS:  # every kind of request gets its memory figures, and a verdict on them
        for row in ("first", "second", "ratio"):
            label = labels(QUICK)[f"rss_{kind.key}_{row}"][0]
            assert not table[label][2].startswith("n/a"), table[label]
        verdict = next(line for line in lines if line.startswith(f"| RSS after 5,000 {kind.label} within 5%"))
        assert verdict.rstrip(" |").endswith(("PASS", "FAIL")), verdict
    assert "| target | measured | verdict |" in done.stdout
    assert "not run in --quick" in table[labels(QUICK)["models_rps"][0]][6]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split(" | ")]


def test_ratio_is_mock_over_reference_or_says_which_figure_is_missing():
    row = Row("r", "req/s", {"mock": Cell(50.0), "bare": Cell(100.0), "prism": Cell.na("npm not found")})
    assert row.ratio("bare").value == 0.5
    assert row.ratio("prism").reason == "no Prism figure"
    assert Row("r", "s", {"bare": Cell(1.0)}).ratio("bare").reason == "no mock figure"


WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:8080/v1/models
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.51ms  286.73us   9.97ms   96.47%
  Latency Distribution
     50%  812.00us
     75%    3.60ms
     90%    3.80ms
     99%    1.20s
  13676 requests in 3.00s, 1.93MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   4558.91
"""


def test_wrk_output_is_read_with_its_units_and_every_error_counted():
    result = parse_wrk(WRK_OUTPUT)
    assert (result.requests, result.seconds, result.p50_ms, result.p99_ms, result.errors) == (13676, 3.0, 0.812, 1200.0, 7)


def test_python_load_generator_drives_a_server_in_another_process():
    with servers.running(servers.bare()) as server:
        result = load.run(load.Load("POST", server.base + "/chat/completions", measure.JSON, measure.chat_body(),
                                    seconds=1, connections=4), wrk=None)
        streams = load.pyload("streams", {"method": "POST", "url": server.base + "/chat/completions",
                                          "headers": measure.JSON, "count": 3,
                                          "body": measure.chat_body(stream=True, max_tokens=5)}, 60)
    assert result.generator == "pyload" and result.requests > 0 and result.errors == 0
    assert result.p50_ms <= result.p99_ms
    assert [(s["error"], s["events"]) for s in streams["streams"]] == [(None, 6)] * 3  # 5 chunks + [DONE]


def test_key_pairs_create_and_delete_so_the_mock_ends_with_no_keys():
    keys = next(kind for kind in MEMORY_KINDS if kind.then is not None)
    with servers.running(servers.mock_cli()) as server:
        result = load.pyload("load", {"method": "POST", "url": server.base + keys.path, "headers": measure.JSON,
                                      "body": keys.body, "then": keys.then, "seconds": 60, "connections": 4,
                                      "max_requests": 40}, 120)
        listed = httpx.get(server.base + "/api-keys", headers=servers.AUTH).json()
    assert result["errors"] == 0 and 40 <= result["requests"] < 44
    assert listed == {"data": []}
