"""``python -m bench audit-proxy [--quick]``: what ``contract-tests proxy`` adds, side by side with a direct connection.

The mock serves as the upstream (``mockserver serve``); ``contract-tests proxy`` runs in front of
it, judging every exchange. The client is the official openai SDK, one client (one keep-alive
connection) per side, and requests alternate between the two. The table shows the median (p50)
and the 99th percentile of: a chat answer, a stream's first chunk and its end, embeddings, and
the catalog. After the run, the proxy's report must list every exchange it passed.
"""

from __future__ import annotations

import json
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from openai import OpenAI

from bench import servers
from mockserver.auth import DEFAULT_API_KEY

MESSAGES = [{"role": "user", "content": "Tell me about audit proxies."}]
MODEL = "openai/gpt-4o-mini"


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _chat(sdk: OpenAI) -> tuple[float, float]:
    started = time.perf_counter()
    sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
    done = (time.perf_counter() - started) * 1000
    return done, done


def _stream(sdk: OpenAI) -> tuple[float, float]:
    started = time.perf_counter()
    first = None
    for _ in sdk.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True,
                                         stream_options={"include_usage": True}):
        first = first or time.perf_counter()
    done = time.perf_counter()
    return ((first or done) - started) * 1000, (done - started) * 1000


def _embeddings(sdk: OpenAI) -> tuple[float, float]:
    started = time.perf_counter()
    sdk.embeddings.create(model="openai/text-embedding-3-small", input=["one", "two", "three"])
    done = (time.perf_counter() - started) * 1000
    return done, done


def _models(sdk: OpenAI) -> tuple[float, float]:
    started = time.perf_counter()
    sdk.models.list()
    done = (time.perf_counter() - started) * 1000
    return done, done


MEASURES: list[tuple[str, Callable[[OpenAI], tuple[float, float]], Callable[[tuple[float, float]], float]]] = [
    ("chat JSON", _chat, lambda t: t[1]),
    ("stream: first chunk", _stream, lambda t: t[0]),
    ("stream: to its end", _stream, lambda t: t[1]),
    ("embeddings (3 inputs)", _embeddings, lambda t: t[1]),
    ("GET /models", _models, lambda t: t[1]),
]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def run(quick: bool) -> str:
    rounds = 30 if quick else 300
    rows = []
    sent = 0
    with tempfile.TemporaryDirectory(prefix="bench-audit-proxy-") as out:
        with servers.running(servers.mock_cli()) as upstream:
            proxy_target = servers.Target("audit proxy", (sys.executable, "-m", "contract_tests", "proxy", "--upstream",
                                                          upstream.base, "--port", "{port}", "--report-dir", out))
            with servers.running(proxy_target) as proxy:
                sdks = {name: OpenAI(base_url=base, api_key=DEFAULT_API_KEY, max_retries=0)
                        for name, base in (("direct", upstream.base), ("proxy", proxy.base))}
                sent += 1  # the readiness probe's GET /models went through the proxy
                try:
                    for label, call, pick in MEASURES:
                        log(f"bench audit-proxy: {label} ({rounds} rounds each, alternating)")
                        figures: dict[str, list[float]] = {name: [] for name in sdks}
                        for sdk in sdks.values():  # warm each connection once
                            call(sdk)
                        sent += 1
                        for _ in range(rounds):
                            for name, sdk in sdks.items():
                                figures[name].append(pick(call(sdk)))
                            sent += 1
                        rows.append((label, statistics.median(figures["direct"]), statistics.median(figures["proxy"]),
                                     p99(figures["direct"]), p99(figures["proxy"])))
                finally:
                    for sdk in sdks.values():
                        sdk.close()
                proxy.proc.send_signal(signal.SIGINT)  # Ctrl-C: the final report
                proxy.proc.wait(timeout=60)
        report = json.loads((Path(out) / "report.json").read_text())
    judged = report["requests"]
    failed = [r["check"] for r in report["results"] if r["outcome"] == "fail"]
    lines = ["| measure (ms) | direct p50 | via proxy p50 | added p50 | direct p99 | via proxy p99 | added p99 |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {label} | {d:.2f} | {p:.2f} | {p - d:+.2f} | {d99:.2f} | {p99_:.2f} | {p99_ - d99:+.2f} |"
              for label, d, p, d99, p99_ in rows]
    lines.append("")
    lines.append(f"{judged} exchanges judged by the proxy ({sent} sent through it), {len(failed)} failed checks; "
                 f"openai SDK, one keep-alive connection per side, requests alternate; "
                 f"{'--quick' if quick else 'full'} run, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    return "\n".join(lines)


def main(quick: bool = False) -> None:
    print(run(quick), flush=True)
