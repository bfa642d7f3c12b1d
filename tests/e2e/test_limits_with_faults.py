"""The request limits hold whatever scenario is in force: a served mock with rate limits on tokens,
unavailable models, a latency and an error rate still answers 413, 408 and 431 without reading
more than its limit, so its memory does not grow by the size of what was sent."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.mock_process import served

ADMIN = b"Authorization: Bearer rq-mock-admin-key\r\n"
SCENARIO = """seed: 7
latency: {distribution: fixed, ms: 20}
errors: [{status: 503, rate: 0.3}]
rate_limits: {rpm: 100000, tpm: 100000000}
unavailable_models: [anthropic/claude-3-opus]
"""
BODY = 30 * 1024 * 1024  # 30 MB against a 1 MiB limit


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _exchange(port: int, head: bytes, body_pieces=(), pause: float = 0.0, wait: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(head)
        try:
            for piece in body_pieces:
                sock.sendall(piece)
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the mock answered and closed before the rest was sent: what a limit should do
        data = b""
        deadline = time.monotonic() + wait
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            if time.monotonic() > deadline:
                break
            try:
                piece = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not piece:
                break
            data += piece
        return data


@pytest.fixture
def faulty_mock(tmp_path):
    scenario = tmp_path / "scenario.yml"
    scenario.write_text(SCENARIO)
    with served("--scenario", str(scenario), "--body-timeout", "0.5", "--max-body", str(1024 * 1024),
                "--max-headers", "16384") as running:
        yield running.proc, httpx.URL(running.url).port


def _head(length: int | None, extra: bytes = b"") -> bytes:
    framing = b"Transfer-Encoding: chunked\r\n" if length is None else b"Content-Length: %d\r\n" % length
    return (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + ADMIN + b"Content-Type: application/json\r\n"
            + framing + extra + b"\r\n")


def _chunked(total: int, piece: int = 256 * 1024):
    sent = 0
    while sent < total:
        yield b"%x\r\n" % piece + b"a" * piece + b"\r\n"
        sent += piece
    yield b"0\r\n\r\n"


def test_limits_hold_with_every_fault_in_force(faulty_mock):
    proc, port = faulty_mock
    before = _rss_kib(proc.pid)
    for _ in range(3):  # several times: an error rate of 30% must never get in first
        declared = _exchange(port, _head(BODY), [b"a" * (1024 * 1024)] * 2)
        assert declared.startswith(b"HTTP/1.1 413"), declared[:200]
        streamed = _exchange(port, _head(None), _chunked(BODY))
        assert streamed.startswith(b"HTTP/1.1 413"), streamed[:200]
        stalled = _exchange(port, _head(100), [b'{"model'], wait=5)
        assert stalled.startswith(b"HTTP/1.1 408"), stalled[:200]
        big = _exchange(port, _head(2, b"X-Big: " + b"a" * 20000 + b"\r\n"), [b"{}"])
        assert big.startswith(b"HTTP/1.1 431"), big[:200]
    grown = _rss_kib(proc.pid) - before
    assert grown < 8 * 1024, f"the mock grew by {grown} KiB after refusing bodies of {BODY // 1024} KiB"
    assert proc.poll() is None
