"""``python -m bench [--quick]``: run every measurement once and print the table.

``python -m bench profile`` profiles the mock under load instead (see bench/profile.py);
``python -m bench scaling`` measures 1, 2 and 4 workers on each state backend (see bench/scaling.py).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

from bench import load, servers
from bench.measure import FULL, QUICK, Bench
from bench.table import render
from bench.targets import judge


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(quick: bool) -> str:
    settings = QUICK if quick else FULL
    wrk = load.ensure_wrk(log)
    bench = Bench(settings, wrk, log)
    started = time.monotonic()
    prism_reason = "not run in --quick" if quick else servers.ensure_prism(log)
    references = {"mock": servers.mock_cli(), "bare": servers.bare()}
    if prism_reason is None:
        references["prism"] = servers.prism()
    else:
        bench.fill("prism", prism_reason)
    for name, target in references.items():
        bench.memory_session(name, target)
    bench.side_by_side(references)
    if prism_reason is None:
        bench.startups("prism", servers.prism(), servers.prism)
    bench.startups("mock", servers.mock_cli(), lambda spec: servers.mock_cli("--spec", str(spec)))
    bench.startups("bare", servers.bare(), lambda spec: servers.bare())
    bench.settings_rows()
    bench.suite()
    bench.fill("prism", "not measured")
    bench.fill("bare", "no reference")
    notes = [
        f"load generator: {load.generator_name(wrk)}, 1 thread, {settings.connections} connections, "
        f"median of {settings.rounds} rounds of {settings.seconds:g} s, servers alternating; held streams: bench.pyload",
        "servers: mock = `mockserver serve` (validation on); bare = Starlette + uvicorn, fixed bytes; "
        "Prism 5.16 on spec/requesty-openapi.yml; uvicorn settings: auto (httptools + uvloop when installed)",
        f"ratios are mock / reference (higher is better for req/s, lower for ms, s, MiB); "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"run took {time.monotonic() - started:.0f} s",
    ]
    rows = bench.rows()
    return render(rows, judge(rows, settings), notes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["run", "profile", "scaling"], default="run")
    parser.add_argument("--quick", action="store_true", help="seconds, not minutes: 1 s per figure, no Prism")
    args = parser.parse_args(argv)
    if args.command == "profile":
        from bench.profile import main as profile

        profile(quick=args.quick)
        return
    if args.command == "scaling":
        from bench.scaling import run as scaling

        print(scaling(args.quick, log), flush=True)
        return
    print(run(args.quick), flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("bench: interrupted")
        sys.exit(130)
