"""``mockserver serve`` as a subprocess on a free port, for the tests that need a real process (restarts, workers)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.conftest import ADMIN


@contextmanager
def served(*options: str, stop_timeout: float = 10, **popen: Any) -> Iterator[tuple[subprocess.Popen, str]]:
    """``mockserver serve --port 0 OPTIONS``: the process and its base URL once it answers; SIGINT at the end."""
    popen.setdefault("stderr", subprocess.PIPE)
    proc = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", "0", *options],
                            stdout=subprocess.PIPE, text=True, **popen)
    try:
        url = None
        while url is None:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"mockserver serve {' '.join(options)} stopped before serving")
            if "base URL:" in line:
                url = line.split("base URL:")[1].strip()
        for _ in range(200):
            try:
                httpx.get(f"{url}/models", headers=ADMIN)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=stop_timeout)
