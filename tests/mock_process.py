"""``mockserver serve`` as a subprocess on a free port, the way a user starts it, for the tests that need a real
process (restarts, workers, big specs): the base URL read from its banner, stopped with Ctrl-C at the end."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ADMIN

ROOT = Path(__file__).resolve().parents[1]
URL_LINE = re.compile(r"base URL:\s+(\S+)")


@dataclass
class Running:
    proc: subprocess.Popen
    url: str
    banner: list[str]  # the lines printed up to the base URL
    ready: float  # seconds from start to the first answer
    stderr: list[str] = field(default_factory=list)  # its lines, once stopped (when stderr is a pipe)

    def __iter__(self) -> Iterator[Any]:  # ``as (proc, url)``
        return iter((self.proc, self.url))


@contextmanager
def served(*options: str, stop_timeout: float = 10, **popen: Any) -> Iterator[Running]:
    """``mockserver serve --port 0 OPTIONS``: the process once it answers; SIGINT to its process group at the end."""
    popen.setdefault("stderr", subprocess.PIPE)
    popen.setdefault("cwd", ROOT)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", "0", *options],
                            stdout=subprocess.PIPE, text=True, start_new_session=True, **popen)
    running = None
    try:
        banner: list[str] = []
        while not banner or "base URL:" not in banner[-1]:
            line = proc.stdout.readline()
            if not line:
                error = proc.stderr.read()[-2000:] if popen["stderr"] is subprocess.PIPE else ""
                raise RuntimeError(f"mockserver serve {' '.join(options)} stopped before serving: {error}")
            banner.append(line)
        url = banner[-1].split("base URL:")[1].strip()
        for _ in range(200):
            try:
                httpx.get(f"{url}/models", headers=ADMIN)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        running = Running(proc, url, banner, time.monotonic() - started)
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=stop_timeout)
        if running is not None and popen["stderr"] is subprocess.PIPE:
            running.stderr = proc.stderr.read().splitlines()


def start_logged(command: list[str], log: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """``python -m COMMAND`` (``mockserver record``, ``contract-tests proxy``, ...) writing to ``log``: the process
    and the base URL its banner prints, within 30 s (a clear error with the log otherwise)."""
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", *command], stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = URL_LINE.search(log.read_text())
        if found:
            return proc, found.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"{' '.join(command[:2])} did not start:\n{log.read_text()}")


def interrupt(proc: subprocess.Popen, timeout: float = 30) -> int:
    """Ctrl-C: its exit code."""
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=timeout)
