"""``mockserver serve --spec FILE --port 0`` as a subprocess, the way a user starts it: the base URL read from
its banner, stopped with Ctrl-C (SIGINT to its process group) at the end."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPENAI = ROOT / "tests" / "data" / "openai-openapi.yaml"


@dataclass
class Served:
    url: str
    banner: list[str]
    ready: float  # seconds from start to the banner's base URL
    proc: subprocess.Popen
    stderr: list[str] = field(default_factory=list)  # filled once stopped


@contextmanager
def served(spec: Path, cache: Path) -> Iterator[Served]:
    env = {**os.environ, "MOCKSERVER_CACHE_DIR": str(cache)}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--spec", str(spec), "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    running = None
    try:
        lines: list[str] = []
        while not any("base URL" in line for line in lines):
            line = proc.stdout.readline()
            assert line, f"exited early: {proc.stderr.read()[-2000:]}"
            lines.append(line)
        url = re.search(r"base URL:\s+(\S+)", "".join(lines)).group(1)
        running = Served(url, lines, time.monotonic() - started, proc)
        yield running
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
        if running is not None:
            running.stderr = proc.stderr.read().splitlines()
