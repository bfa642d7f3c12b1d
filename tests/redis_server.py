"""A throwaway Redis for tests and the bench: Debian's redis-server, installed with apt-get on first use.

Started on a free loopback port with ``appendonly yes`` and ``appendfsync always`` (every
acknowledged write is on disk before Redis answers), in a temporary directory; stopped on exit.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from bench.servers import free_port
from tests.debian import installed

FSYNC = "always"  # every acknowledged write is on disk before Redis answers (what the tests run)


def redis_server_binary() -> str:
    """``redis-server``, installed from Debian's packages when missing."""
    return installed(("redis-server",), "redis-server")


@contextmanager
def running_redis(directory: str | None = None, port: int | None = None, fsync: str = FSYNC) -> Iterator[str]:
    """A Redis URL (``redis://127.0.0.1:PORT/0``) served until the block ends (``appendonly yes``,
    ``appendfsync`` as ``fsync`` says: ``always`` for the tests, ``everysec`` for the bench)."""
    binary = redis_server_binary()
    with tempfile.TemporaryDirectory(prefix="mock-redis-") as scratch:
        port = port or free_port()
        log = Path(scratch) / "redis.log"  # a file, not a pipe: a full pipe would stall Redis
        proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", directory or scratch,
                                 "--daemonize", "no", "--protected-mode", "yes", "--appendonly", "yes",
                                 "--appendfsync", fsync, "--save", ""],
                                stdout=log.open("wb"), stderr=subprocess.STDOUT)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_until_up(url, proc, log)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 20.0) -> None:
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = log.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"redis-server did not start on {url}: {output}") from None
                time.sleep(0.025)
    finally:
        client.close()
