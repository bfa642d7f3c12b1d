"""The Python load generator: raw HTTP/1.1 keep-alive over asyncio, run as its own process.

Used when ``wrk`` is not installed, and always for held streams (``wrk`` cannot time a
stream's chunks). One request template, N connections, each sending the next request
as soon as the previous answer is read in full (``Content-Length`` or chunked).

``python -m bench.pyload load SPEC_JSON``    -> JSON: requests, seconds, latencies_ms (sample), errors
``python -m bench.pyload streams SPEC_JSON`` -> JSON: one record per stream (seconds, ttfb, events, error)

A load SPEC with ``"then": {"method": "DELETE", "path": "/v1/api-keys/{id}"}`` sends, after each
answer, that second request with the answer's JSON ``id`` in its path, and counts the pair as one
request (create + delete: state that comes and goes).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

try:  # the client should not be the bottleneck where uvloop is installed
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None


@dataclass
class Answer:
    status: int
    events: int
    ttfb: float
    body: bytes = b""


def build_request(method: str, url: str, headers: dict[str, str], body: str | None) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    payload = body.encode() if body is not None else b""
    lines = [f"{method} {parts.path}{'?' + parts.query if parts.query else ''} HTTP/1.1",
             f"Host: {parts.netloc}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(payload)}")
    return parts.hostname or "127.0.0.1", parts.port or 80, ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def read_answer(reader: asyncio.StreamReader, sent: float, keep_body: bool = False) -> Answer:
    head = await reader.readuntil(b"\r\n\r\n")
    ttfb = time.perf_counter() - sent
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    events = 0
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await reader.readexactly(size + 2)
            events += data.count(b"data:")
            if size == 0:
                break
    else:
        data = await reader.readexactly(int(headers.get("content-length", 0)))
        events = data.count(b"data:")
        if keep_body:
            return Answer(status, events, ttfb, data)
    return Answer(status, events, ttfb)


async def _load(spec: dict) -> dict:
    host, port, raw = build_request(spec["method"], spec["url"], spec["headers"], spec.get("body"))
    then = spec.get("then")
    if then is not None:
        origin = spec["url"].split("/", 3)
        follow = "/".join(origin[:3]) + then["path"]
    stop_at = time.perf_counter() + spec["seconds"]
    limit = spec.get("max_requests") or 10**12
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0}

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at and counts["requests"] < limit:
                sent = time.perf_counter()
                writer.write(raw)
                answer = await read_answer(reader, sent, keep_body=then is not None)
                if then is not None and answer.status < 400:
                    key_id = json.loads(answer.body)["id"]
                    writer.write(build_request(then["method"], follow.replace("{id}", key_id), spec["headers"], None)[2])
                    answer = await read_answer(reader, sent)
                counts["requests"] += 1
                if answer.status >= 400:
                    counts["errors"] += 1
                if len(latencies) < 200_000:
                    latencies.append((time.perf_counter() - sent) * 1000)
        except (OSError, asyncio.IncompleteReadError):
            counts["errors"] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(spec["connections"])))
    return {**counts, "seconds": time.perf_counter() - started, "latencies_ms": latencies}


async def _streams(spec: dict) -> dict:
    host, port, raw = build_request(spec["method"], spec["url"], spec["headers"], spec.get("body"))
    timeout = spec.get("timeout", 60)

    async def one() -> dict:
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(raw)
                answer = await asyncio.wait_for(read_answer(reader, started), timeout)
            finally:
                writer.close()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            return {"error": f"{type(exc).__name__}: {exc}"[:200], "seconds": time.perf_counter() - started}
        error = None if answer.status == 200 else f"HTTP {answer.status}"
        return {"error": error, "seconds": time.perf_counter() - started, "ttfb": answer.ttfb,
                "events": answer.events}

    return {"streams": await asyncio.gather(*(one() for _ in range(spec["count"])))}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    mode, spec = argv[0], json.loads(argv[1])
    run = {"load": _load, "streams": _streams}[mode]
    result = uvloop.run(run(spec)) if uvloop is not None else asyncio.run(run(spec))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
