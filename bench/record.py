"""``python -m bench record [--quick]``: what the recording proxy adds, side by side with a direct connection.

The mock serves as the upstream (``mockserver serve``); ``mockserver record`` runs in front of it.
Requests alternate between the two, over one keep-alive connection each, and the table shows the
median and the 95th percentile of: time to the first body byte of a stream (the upstream answers at
once, so this is the proxy's own cost), the same with a paced upstream (100 ms to the first token,
50 tokens/s: a proxy that buffered would move the first byte towards the end), the time to the
stream's last byte, and a JSON chat answer.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench import servers

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Tell me about recording proxies."}]}
STREAM = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
PACED = {"X-Mock-TTFT-Ms": "100", "X-Mock-Tokens-Per-S": "50"}


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def timed(client: httpx.Client, url: str, body: dict, headers: dict[str, str]) -> tuple[float, float]:
    """Milliseconds to the first body byte and to the last."""
    started = time.perf_counter()
    first = None
    with client.stream("POST", url, json=body, headers=headers) as answer:
        for piece in answer.iter_raw():
            if piece and first is None:
                first = time.perf_counter()
        answer.raise_for_status()
    done = time.perf_counter()
    return ((first or done) - started) * 1000, (done - started) * 1000


def side_by_side(bases: dict[str, str], rounds: int, body: dict, headers: dict[str, str],
                 pick: Callable[[tuple[float, float]], float]) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {name: [] for name in bases}
    clients = {name: httpx.Client(timeout=30) for name in bases}
    try:
        for name, base in bases.items():  # warm each connection once
            timed(clients[name], base + "/chat/completions", body, headers)
        for _ in range(rounds):
            for name, base in bases.items():
                figures[name].append(pick(timed(clients[name], base + "/chat/completions", body, headers)))
    finally:
        for client in clients.values():
            client.close()
    return figures


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def run(quick: bool) -> str:
    rounds = 30 if quick else 300
    paced_rounds = 5 if quick else 30
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-record-") as out:
        with servers.running(servers.mock_cli()) as upstream:
            recorder = servers.Target("record", (sys.executable, "-m", "mockserver", "record", "--upstream",
                                                 upstream.base, "--port", "{port}", "--out", out))
            with servers.running(recorder) as proxy:
                bases = {"direct": upstream.base, "record": proxy.base}
                auth = dict(servers.AUTH)
                measures = [
                    ("stream: time to first byte", rounds, STREAM, auth, lambda t: t[0]),
                    ("stream: time to last byte", rounds, STREAM, auth, lambda t: t[1]),
                    ("paced stream (100 ms TTFT): time to first byte", paced_rounds, STREAM, {**auth, **PACED},
                     lambda t: t[0]),
                    ("paced stream (50 tokens/s): time to last byte", paced_rounds, STREAM, {**auth, **PACED},
                     lambda t: t[1]),
                    ("chat JSON: time to last byte", rounds, CHAT, auth, lambda t: t[1]),
                ]
                for label, count, body, headers, pick in measures:
                    log(f"bench record: {label} ({count} rounds each, alternating)")
                    figures = side_by_side(bases, count, body, headers, pick)
                    direct, proxied = figures["direct"], figures["record"]
                    rows.append((label, statistics.median(direct), statistics.median(proxied), p95(direct),
                                 p95(proxied)))
        written = sum(1 for _ in open(next(Path(out).glob("*.jsonl")))) - 1
    lines = ["| measure (ms) | direct median | via record median | added | direct p95 | via record p95 |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {label} | {d:.2f} | {r:.2f} | {r - d:+.2f} | {dp:.2f} | {rp:.2f} |"
              for label, d, r, dp, rp in rows]
    lines.append("")
    lines.append(f"{written} exchanges recorded; one keep-alive connection per side; requests alternate; "
                 f"{'--quick' if quick else 'full'} run, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    return "\n".join(lines)


def main(quick: bool = False) -> None:
    print(run(quick), flush=True)
