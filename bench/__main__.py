"""``python -m bench [--quick]``: run every measurement once and print the table.

``python -m bench memory [--quick]`` runs only the memory rows (RSS per kind of request);
``python -m bench profile`` profiles the mock under load instead (see bench/profile.py);
``python -m bench record`` measures the recording proxy against a direct connection (bench/record.py);
``python -m bench startup`` measures only start-up time and memory after start-up (three specs);
``python -m bench audit-proxy`` measures ``contract-tests proxy`` the same way (bench/audit_proxy.py);
``python -m bench scaling`` measures 1, 2 and 4 workers on each state backend (see bench/scaling.py).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

from bench import load, servers
from bench.measure import FULL, QUICK, Bench, Settings, labels
from bench.table import render
from bench.targets import judge


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(quick: bool, only_memory: bool = False) -> str:
    settings = QUICK if quick else FULL
    wrk = load.ensure_wrk(log)
    bench = Bench(settings, wrk, log)
    started = time.monotonic()
    prism_reason = "not run in --quick" if quick else servers.ensure_prism(log)
    makers = {"mock": servers.mock_cli, "bare": servers.bare, "prism": servers.prism}
    if prism_reason is not None:
        del makers["prism"]
        bench.fill("prism", prism_reason)
    for name, make in makers.items():
        bench.memory_session(name, make)
    if only_memory:
        for name in ("mock", "bare", "prism"):
            bench.fill(name, "not run (bench memory)")
        return render(bench.rows(), judge(bench.rows(), settings), _notes(settings, wrk, started))
    references = {name: make() for name, make in makers.items()}
    bench.side_by_side(references)
    if prism_reason is None:
        bench.startups("prism", servers.prism(), servers.prism)
    bench.startups("mock", servers.mock_cli("--no-cache"), lambda spec: servers.mock_cli("--spec", str(spec), "--no-cache"))
    bench.cached_startup("mock", servers.mock_cli("--spec", str(servers.OPENAI_SPEC)))
    bench.startups("bare", servers.bare(), lambda spec: servers.bare())
    bench.settings_rows()
    bench.suite()
    bench.fill("prism", "not measured")
    bench.fill("bare", "no reference")
    rows = bench.rows()
    return render(rows, judge(rows, settings), _notes(settings, wrk, started))


def _notes(settings: Settings, wrk: str | None, started: float) -> list[str]:
    first, second = settings.rss_counts
    return [
        f"load generator: {load.generator_name(wrk)}, 1 thread, {settings.connections} connections, "
        f"median of {settings.rounds} rounds of {settings.seconds:g} s, servers alternating; held streams: bench.pyload",
        "servers: mock = `mockserver serve` (validation on); bare = Starlette + uvicorn, fixed bytes; "
        "Prism 5.16 on spec/requesty-openapi.yml; uvicorn settings: auto (httptools + uvloop when installed)",
        f"ratios are mock / reference (higher is better for req/s, lower for ms, s, MiB); "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"run took {time.monotonic() - started:.0f} s",
        f"RSS rows: a fresh server per kind of request, {first:,} then {second:,} of them (bench.pyload, "
        f"{settings.connections} connections); key pairs create a key and delete it (keys are state by design: "
        "only pairs can stay flat)",
    ]


def startup_only() -> str:
    """Only the start-up rows: the mock, Prism and bare Starlette on the three specs."""
    bench = Bench(FULL, None, log)
    prism_reason = servers.ensure_prism(log)
    if prism_reason is None:
        bench.startups("prism", servers.prism(), servers.prism)
    else:
        bench.fill("prism", prism_reason)
    bench.startups("mock", servers.mock_cli("--no-cache"), lambda spec: servers.mock_cli("--spec", str(spec), "--no-cache"))
    bench.cached_startup("mock", servers.mock_cli("--spec", str(servers.OPENAI_SPEC)))
    bench.startups("bare", servers.bare(), lambda spec: servers.bare())
    keys = [key for key in labels(FULL) if key.startswith(("startup_", "rss_start_"))]
    rows = [row for key, row in zip(labels(FULL), bench.rows(), strict=True) if key in keys]
    targets = [t for t in judge(bench.rows(), FULL) if "start-up" in t[0]]
    notes = [f"median of {FULL.startups} starts each, process start to first answer of GET /models; "
             f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"]
    return render(rows, targets, notes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("command", nargs="?", default="run",
                        choices=["run", "memory", "profile", "record", "startup", "audit-proxy", "scaling"])
    parser.add_argument("--quick", action="store_true", help="seconds, not minutes: 1 s per figure, no Prism")
    args = parser.parse_args(argv)
    if args.command == "record":
        from bench.record import main as record

        record(quick=args.quick)
        return
    if args.command == "audit-proxy":
        from bench.audit_proxy import main as audit_proxy

        audit_proxy(quick=args.quick)
        return
    if args.command == "profile":
        from bench.profile import main as profile

        profile(quick=args.quick)
        return
    if args.command == "startup":
        print(startup_only(), flush=True)
        return
    if args.command == "scaling":
        from bench.scaling import run as scaling

        print(scaling(args.quick, log), flush=True)
        return
    print(run(args.quick, only_memory=args.command == "memory"), flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("bench: interrupted")
        sys.exit(130)
