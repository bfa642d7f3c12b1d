"""Load generator adapters: ``wrk`` where installed, else :mod:`bench.pyload`; both in their own process.

Every adapter takes one :class:`Load` and returns one :class:`LoadResult`, so a
measurement never knows which generator ran.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Load:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    seconds: float = 5.0
    connections: int = 16


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    generator: str
    cpu_us: float | None = None  # the server's CPU time per request, when measured

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk(log=print) -> str | None:
    """wrk's path, installed from Debian's packages when missing (as root); None means bench.pyload.

    ``BENCH_LOADGEN=python`` forces the Python generator; ``BENCH_NO_INSTALL=1`` never installs.
    """
    if os.environ.get("BENCH_LOADGEN") == "python":
        return None
    if shutil.which("wrk") is None and not os.environ.get("BENCH_NO_INSTALL") and os.geteuid() == 0 \
            and shutil.which("apt-get"):
        log("bench: installing wrk (apt-get install -y wrk) ...")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, timeout=300)
    return shutil.which("wrk")


def generator_name(wrk: str | None) -> str:
    return "wrk" if wrk else "bench.pyload (asyncio raw-socket keep-alive client)"


def run(load: Load, wrk: str | None) -> LoadResult:
    return _run_wrk(load, wrk) if wrk else _run_pyload(load)


def lua_script(load: Load) -> str:
    lines = [f'wrk.method = "{load.method}"']
    for name, value in load.headers.items():
        lines.append(f'wrk.headers["{name}"] = [==[{value}]==]')
    if load.body is not None:
        lines.append(f"wrk.body = [==[{load.body}]==]")
    return "\n".join(lines) + "\n"


def _run_wrk(load: Load, wrk: str) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(load))
    try:
        done = subprocess.run(
            [wrk, "-t1", f"-c{load.connections}", f"-d{max(1, round(load.seconds))}s", "--latency",
             "--timeout", "10s", "-s", script.name, load.url],
            capture_output=True, text=True, timeout=load.seconds + 30,
        )
    finally:
        os.unlink(script.name)
    return parse_wrk(done.stdout)


def parse_wrk(out: str) -> LoadResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if total is None:
        raise RuntimeError(f"wrk printed no totals: {out.strip()[-300:]}")
    seconds = float(total.group(2)) * _UNITS[total.group(3)] / 1000
    percentiles = {p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return LoadResult(int(total.group(1)), seconds, percentiles.get("50", 0.0), percentiles.get("99", 0.0), errors,
                      "wrk")


def pyload(mode: str, spec: dict, timeout: float) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.pyload", mode, json.dumps(spec)], capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"bench.pyload failed: {done.stderr.strip()[-300:]}")
    return json.loads(done.stdout)


def _run_pyload(load: Load) -> LoadResult:
    result = pyload("load", {"method": load.method, "url": load.url, "headers": load.headers, "body": load.body,
                             "seconds": load.seconds, "connections": load.connections}, load.seconds + 60)
    latencies = sorted(result["latencies_ms"]) or [0.0]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return LoadResult(result["requests"], result["seconds"], statistics.median(latencies), p99, result["errors"],
                      "pyload")
