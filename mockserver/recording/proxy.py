"""The recording reverse proxy: every request goes to the upstream, every answer back piece by piece, and each
exchange, redacted, is appended to the recording when it ends.

Nothing is buffered on the way back: each piece the upstream sends is handed to the client as it
arrives (``httpx`` streaming, ``aiter_raw``), and noted with its time for the recording. The request
body is read whole first (it is recorded, and requests to an LLM gateway are small). The upstream
is asked for ``Accept-Encoding: identity`` so that the recording holds readable bodies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

import httpx
from starlette.types import Receive, Scope, Send

from mockserver.errors import error_body
from mockserver.recording.format import Chunk, RecordedExchange, RecordedRequest, RecordedResponse
from mockserver.recording.operations import Operations
from mockserver.recording.redaction import Redactor
from mockserver.recording.writer import RecordingWriter, utc_now
from mockserver.responses import dumps

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
                        "upgrade", "host", "content-length", "accept-encoding"})
RESPONSE_DROPPED = frozenset({"connection", "keep-alive", "transfer-encoding", "trailer", "upgrade"})


@dataclass(frozen=True)
class Upstream:
    origin: str  # scheme://host[:port]
    base_path: str  # the upstream URL's path ("/v1"), for the base URL the proxy prints

    @classmethod
    def parse(cls, url: str) -> Upstream:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"--upstream must be an http(s) URL such as https://router.requesty.ai/v1, not {url!r}")
        return cls(f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/"))


class Proxy:
    """An ASGI app in front of ``upstream``: its HTTP client opened and closed with the lifespan, and each HTTP
    request, numbered from 1, handed to :meth:`exchange` (``mockserver record``, ``contract-tests proxy``)."""

    def __init__(self, upstream: Upstream, client: httpx.AsyncClient | None = None):
        self.upstream = upstream
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(600, connect=10), follow_redirects=False)
        self._next = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send, self.client)
            return
        if scope["type"] != "http":
            return
        self._next += 1
        await self.exchange(self._next, scope, receive, send)

    async def exchange(self, number: int, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError

    async def forward(self, request: Incoming, body: bytes, receive: Receive, send: Send,
                      on_piece: Callable[[bytes], None]) -> Forwarded:
        """Send the request upstream and its answer back piece by piece as it arrives (``on_piece`` sees each one
        first); a 502 in the error shape when the upstream cannot be reached. A client that leaves stops the
        upstream's answer too."""
        try:
            upstream = await self.client.send(self.client.build_request(request.method, request.url,
                                                                        headers=request.forwarded, content=body),
                                              stream=True)
        except httpx.HTTPError as exc:
            await send_error(send, 502, f"The upstream {self.upstream.origin} could not be reached "
                                         f"({type(exc).__name__}).")
            return Forwarded(None, (), False, f"upstream unreachable: {type(exc).__name__}: {exc}")
        headers = tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in upstream.headers.raw
                        if k.decode("latin-1").lower() not in RESPONSE_DROPPED)
        error: str | None = None
        complete = False
        gone = asyncio.create_task(disconnected(receive))
        try:
            await send({"type": "http.response.start", "status": upstream.status_code,
                        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]})
            async for data in upstream.aiter_raw():
                if gone.done():
                    error = "client dropped the answer"
                    break
                if data:
                    on_piece(data)
                    await send({"type": "http.response.body", "body": data, "more_body": True})
            if error is None:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                complete = True
        except httpx.HTTPError as exc:
            error = f"upstream dropped the answer: {type(exc).__name__}: {exc}"
        except OSError as exc:  # the client went away
            error = f"client dropped the answer: {type(exc).__name__}"
        finally:
            gone.cancel()
            await upstream.aclose()
        return Forwarded(upstream.status_code, headers, complete, error)


class Forwarded(NamedTuple):
    """How a forwarded exchange went: the upstream's status (None when it could not be reached), its headers
    (without hop-by-hop ones), whether the whole answer reached the client, and what went wrong if not."""

    status: int | None
    headers: tuple[tuple[str, str], ...]
    complete: bool
    error: str | None


class Recorder(Proxy):
    """The recording proxy: each exchange, redacted, written as it ends."""

    def __init__(self, upstream: Upstream, writer: RecordingWriter, redactor: Redactor, operations: Operations,
                 client: httpx.AsyncClient | None = None):
        super().__init__(upstream, client)
        self.writer = writer
        self.redactor = redactor
        self.operations = operations

    async def exchange(self, ident: int, scope: Scope, receive: Receive, send: Send) -> None:
        started, t0 = utc_now(), time.perf_counter()
        body = await read_body(receive)
        came = incoming(scope, self.upstream.origin)
        request = RecordedRequest(came.method, came.path, came.query, came.headers, body)
        operation = self.operations.operation(came.method, came.path)
        chunks: list[Chunk] = []

        def note(data: bytes) -> None:
            chunks.append(Chunk(round((time.perf_counter() - t0) * 1000, 3), data))

        went = await self.forward(came, body, receive, send, note)
        if went.status is None:
            self._write(ident, started, request, None, operation, went.error, True)
            return
        is_stream = any(k == "content-type" and "text/event-stream" in v for k, v in went.headers)
        response = RecordedResponse(went.status, went.headers, b"".join(chunk.data for chunk in chunks),
                                    tuple(chunks) if is_stream else None, chunks[0].t_ms if chunks else None,
                                    round((time.perf_counter() - t0) * 1000, 3))
        self._write(ident, started, request, response, operation, went.error, went.complete)

    def _write(self, ident: int, started: str, request: RecordedRequest, response: RecordedResponse | None,
               operation: str | None, error: str | None, complete: bool) -> None:
        exchange = RecordedExchange(ident, request, response, started, operation,
                                    self.operations.is_management(operation, request.path), complete, error)
        self.writer.write(self.redactor.redact(exchange))



class Incoming(NamedTuple):
    """A request as a proxy reads it from its ASGI scope, and where it forwards it."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]  # lower-case names, as sent
    forwarded: list[tuple[str, str]]  # without hop-by-hop headers, and asking for the body as it is
    url: str  # the upstream's origin with the request's raw path and query


def incoming(scope: Scope, origin: str) -> Incoming:
    method, path = scope["method"], scope["path"]
    query = scope["query_string"].decode("latin-1")
    headers = tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"])
    forwarded = [(k, v) for k, v in headers if k not in HOP_BY_HOP] + [("accept-encoding", "identity")]
    url = origin + scope.get("raw_path", path.encode()).decode("latin-1") + (f"?{query}" if query else "")
    return Incoming(method, path, query, headers, forwarded, url)


async def lifespan(receive: Receive, send: Send, client: httpx.AsyncClient) -> None:
    """A proxy's lifespan: nothing to start; the upstream client is closed at shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def disconnected(receive: Receive) -> None:
    """Returns when the client has gone (after the request body, ``receive`` has nothing else to say)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def send_error(send: Send, status: int, message: str) -> None:
    body = dumps(error_body(status, message, code="upstream_unreachable"))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
