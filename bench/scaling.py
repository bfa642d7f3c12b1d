"""``python -m bench scaling [--quick]``: chat throughput and p99 with 1, 2 and 4 workers on each state backend.

Rows: the mock on memory (1 worker only), SQLite and Redis (1, 2, 4 workers), and bare Starlette
with the same number of worker processes (the ceiling). Every server runs in turn under the same
load (wrk, one thread), chat completions with a created API key, so each request authenticates
against the store, checks the key's spend limit and records its usage.

CPU is measured for everything on the machine that serves a request: the server's process tree,
the Redis server, and the load generator itself. "req/s per server-CPU-second" is throughput
divided by the CPU the mock (and Redis) used: it is what the workers would serve with a core each,
when the load generator and they share fewer cores than they need. "Speed-up with a core per
worker" is N times that figure for N workers over the same figure for one: the throughput N
workers reach over one when CPU is not the limit, i.e. what is left once the load generator's
CPU and the machine's core count are taken out.

``python -m bench.scaling serve-bare --port N --workers N`` serves bare Starlette on N forked
workers (the same :class:`mockserver.workers.Supervisor` the mock uses).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace

import httpx

from bench import load, servers
from bench.measure import JSON, chat_body

WORKERS = (1, 2, 4)
QUICK_SECONDS, FULL_SECONDS = 3.0, 8.0
QUICK_ROUNDS, FULL_ROUNDS = 1, 3
CONNECTIONS = 32
REDIS_FSYNC = "everysec"  # Redis's own default for the AOF; "always" costs an fsync (2-4 ms here) per write


@dataclass
class Figure:
    name: str
    workers: int
    rps: float
    p99_ms: float
    server_cpu_us: float  # per request: the server's processes and, for Redis, redis-server
    loadgen_cpu_us: float  # per request: wrk

    @property
    def per_cpu(self) -> float:
        """Requests per second of server CPU: throughput with a core per worker."""
        return 1e6 / self.server_cpu_us if self.server_cpu_us else 0.0


def mock(workers: int, state: str | None) -> servers.Target:
    label = "memory" if state is None else "redis" if state.startswith("redis://") else "sqlite"
    target = servers.mock_cli("--workers", str(workers), *(("--state", state) if state else ()))
    return replace(target, name=f"{label} x{workers}")


def bare(workers: int) -> servers.Target:
    return servers.Target(f"bare x{workers}", (sys.executable, "-m", "bench.scaling", "serve-bare", "--port", "{port}",
                                               "--workers", str(workers)))


def measure(server: servers.Server, headers: dict[str, str], seconds: float, rounds: int, wrk: str | None,
            redis_pid: int | None) -> Figure:
    """The median round by req/s, with its CPU per request."""
    def cpu_now() -> float:  # the server's processes, and redis-server when it serves the state
        return server.cpu_seconds() + (servers.cpu_seconds(redis_pid) if redis_pid is not None else 0.0)

    figures = []
    body = chat_body()
    load.run(load.Load("POST", server.base + "/chat/completions", {**JSON, **headers}, body, 1, CONNECTIONS), wrk)
    for _ in range(rounds):
        cpu = cpu_now()
        children = _children_cpu()
        result = load.run(load.Load("POST", server.base + "/chat/completions", {**JSON, **headers}, body, seconds,
                                    CONNECTIONS), wrk)
        served = max(result.requests, 1)
        if result.errors:
            raise RuntimeError(f"{server.target.name}: {result.errors} errors of {result.requests}")
        figures.append(Figure(server.target.name, 0, result.rps, result.p99_ms,
                              1e6 * (cpu_now() - cpu) / served,
                              1e6 * (_children_cpu() - children) / served))
    return sorted(figures, key=lambda f: f.rps)[len(figures) // 2]


def created_key(server: servers.Server) -> dict[str, str]:
    """A key made for the run (the mock), so each request looks it up; bare Starlette needs none."""
    if server.target.name.startswith("bare"):
        return {}
    made = httpx.post(server.base + "/api-keys", json={"name": "bench", "limit": 1000}, headers=servers.AUTH, timeout=10)
    made.raise_for_status()
    return {"Authorization": f"Bearer {made.json()['key']}"}


def run(quick: bool, log=print) -> str:
    from tests.redis_server import running_redis

    wrk = load.ensure_wrk(log)
    seconds = QUICK_SECONDS if quick else FULL_SECONDS
    rounds = QUICK_ROUNDS if quick else FULL_ROUNDS
    figures: list[Figure] = []
    started = time.monotonic()
    with ExitStack() as stack:
        url = stack.enter_context(running_redis(fsync=REDIS_FSYNC))
        redis_pid = _redis_pid(url)
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-scaling-"))
        plan: list[tuple[servers.Target, int, int | None]] = [(mock(1, None), 1, None)]
        for workers in WORKERS:
            plan.append((mock(workers, os.path.join(scratch, f"state-{workers}.db")), workers, None))
            plan.append((mock(workers, f"{url.rsplit('/', 1)[0]}/{workers}"), workers, redis_pid))  # a database each
            plan.append((bare(workers), workers, None))
        for target, workers, pid in plan:
            log(f"bench: scaling: {target.name} ...")
            with servers.running(target) as server:
                figure = measure(server, created_key(server), seconds, rounds, wrk, pid)
                figure.workers = workers
                figures.append(figure)
    notes = [f"load generator: {load.generator_name(wrk)}, 1 thread, {CONNECTIONS} connections, "
             f"{seconds:g} s per figure, median of {rounds}; chat completions with a created key (limit set)",
             f"SQLite: WAL, synchronous=NORMAL; Redis 7 on loopback, appendonly yes, appendfsync {REDIS_FSYNC}",
             f"{os.cpu_count()} cores shared by the load generator, the workers and Redis; "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, run took {time.monotonic() - started:.0f} s"]
    return render(figures, notes)


def render(figures: list[Figure], notes: list[str]) -> str:
    by = {(f.name.split(" x")[0], f.workers): f for f in figures}
    lines = ["| backend | workers | chat req/s | vs 1 worker | p99 ms | server CPU us/req | wrk CPU us/req "
             "| req/s per server-CPU-s | speed-up with a core per worker | bare Starlette req/s (same workers) "
             "| mock / bare |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for backend in ("memory", "sqlite", "redis"):
        for workers in WORKERS:
            f = by.get((backend, workers))
            if f is None:
                continue
            one = by[(backend, 1)]
            ceiling = by.get(("bare", workers))
            bare_rps = f"{ceiling.rps:,.0f} | {f.rps / ceiling.rps:.2f}x" if ceiling else "n/a | n/a"
            projected = workers * f.per_cpu / one.per_cpu if one.per_cpu else 0.0
            lines.append(f"| {backend} | {workers} | {f.rps:,.0f} | {f.rps / one.rps:.2f}x | {f.p99_ms:.1f} | "
                         f"{f.server_cpu_us:.0f} | {f.loadgen_cpu_us:.0f} | {f.per_cpu:,.0f} | {projected:.2f}x | "
                         f"{bare_rps} |")
    return "\n".join([*lines, "", *[f"- {note}" for note in notes]])


# -- helpers ----------------------------------------------------------------------------------


def _children_cpu() -> float:
    """CPU of this process's finished children (the load generator runs and is waited for in between)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _redis_pid(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def serve_bare(port: int, workers: int) -> None:
    import uvicorn

    from bench.serve import bare_app
    from mockserver.server import bind
    from mockserver.workers import Supervisor

    sock = bind("127.0.0.1", port)
    print(f"  base URL:  http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)

    def worker(number: int) -> None:
        config = uvicorn.Config(bare_app(), log_level="warning", access_log=False, lifespan="off")
        uvicorn.Server(config).run(sockets=[sock])

    if workers == 1:
        worker(0)
    else:
        Supervisor(worker, workers, lambda line: print(line, file=sys.stderr, flush=True)).run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling")
    parser.add_argument("command", choices=["serve-bare"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    serve_bare(args.port, args.workers)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
