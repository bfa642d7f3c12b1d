"""Start and stop the benchmark's servers: each a subprocess on a free loopback port, always stopped.

A :class:`Target` says how to start one server; :func:`running` starts it, waits until
``GET {base}/models`` answers, yields a :class:`Server`, and stops the whole process
group on the way out (also on Ctrl-C and errors).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from mockserver.auth import DEFAULT_API_KEY

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
UPSTREAM_SPEC = ROOT / "spec" / "requesty-openapi.yml"
OPENAI_SPEC = ROOT / "tests" / "data" / "openai-openapi.yaml"  # OpenAI's published spec (MIT, licence beside it)
PRISM_BIN = BENCH_DIR / "node_modules" / ".bin" / "prism"
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


class StartError(RuntimeError):
    """A server did not come up; the message carries the tail of its log."""


@dataclass(frozen=True)
class Target:
    """How to start one server. ``argv`` may hold ``{port}``; ``prefix`` is the path before ``/models``."""

    name: str
    argv: tuple[str, ...]
    prefix: str = "/v1"
    env: dict[str, str] = field(default_factory=dict)


def bare(http: str = "auto", loop: str = "auto") -> Target:
    return Target(f"bare {http}/{loop}", (sys.executable, "-m", "bench.serve", "bare", "--port", "{port}",
                                          "--http", http, "--loop", loop))


def mock_with(http: str, loop: str) -> Target:
    return Target(f"mock {http}/{loop}", (sys.executable, "-m", "bench.serve", "mock", "--port", "{port}",
                                          "--http", http, "--loop", loop))


def mock_cli(*extra: str) -> Target:
    """The mock exactly as users start it: ``mockserver serve``."""
    return Target("mock", (sys.executable, "-m", "mockserver", "serve", "--port", "{port}", *extra))


def prism(spec: Path = UPSTREAM_SPEC) -> Target:
    # Prism serves the spec's paths without the servers' base path.
    return Target("prism", (str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", "{port}", str(spec)), prefix="")


def ensure_prism(log=print) -> str | None:
    """Install Prism from bench/package.json when missing; None when ready, else why not."""
    if PRISM_BIN.exists():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm not found"
    if os.environ.get("BENCH_NO_INSTALL"):
        return "Prism not installed (npm install --prefix bench)"
    log("bench: installing Prism (npm install --prefix bench) ...")
    try:
        done = subprocess.run([npm, "install", "--prefix", str(BENCH_DIR), "--no-audit", "--no-fund"],
                              capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return "npm install timed out"
    if done.returncode != 0 or not PRISM_BIN.exists():
        return f"npm install failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    target: Target
    proc: subprocess.Popen
    port: int
    startup_s: float
    log_path: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return self.origin + self.target.prefix

    def rss_kib(self) -> int:
        """Resident memory of the server's process tree, from /proc."""
        return sum(_rss_kib(pid) for pid in _tree(self.proc.pid))

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's process tree so far, from /proc."""
        return sum(cpu_seconds(pid) for pid in _tree(self.proc.pid))

    def log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def running(target: Target, *, timeout: float = 30) -> Iterator[Server]:
    port = free_port()
    argv = [part.replace("{port}", str(port)) for part in target.argv]
    log = tempfile.NamedTemporaryFile(prefix=f"bench-{target.name.replace(' ', '-').replace('/', '-')}-",
                                      suffix=".log", delete=False)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
                            env={**os.environ, **target.env})
    server = Server(target, proc, port, 0.0, Path(log.name))
    try:
        server.startup_s = _wait_ready(server, started, timeout)
        yield server
    finally:
        _stop(proc)
        log.close()
        os.unlink(log.name)


def _wait_ready(server: Server, started: float, timeout: float) -> float:
    deadline = started + timeout
    with httpx.Client(timeout=2) as client:
        while time.perf_counter() < deadline:
            if server.proc.poll() is not None:
                raise StartError(f"{server.target.name} exited with {server.proc.returncode}: {server.log_tail()}")
            try:
                if client.get(server.base + "/models", headers=AUTH).status_code < 500:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.01)
    raise StartError(f"{server.target.name} did not answer within {timeout:.0f} s: {server.log_tail()}")


def _stop(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGINT, 5), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # leftovers of the group (Prism's node children)
    except ProcessLookupError:
        pass


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in task.read_text().split())
            except OSError:
                pass
    return pids


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
