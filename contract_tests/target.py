"""One HTTP client for any target: the embedded mock in-process, or a gateway at a base URL.

Switching targets is a matter of transport (``httpx.ASGITransport`` for the
embedded mock, the network for a URL, ``httpx.MockTransport`` in unit tests).
Every request goes through :class:`GuardedTransport`, which counts it against
the run's budget, adds up the ``usage.cost`` the target reports, waits out a
429's ``Retry-After`` (not one the request asked for with ``Prefer: code=429``),
refuses to send anything to another host, and keeps a redacted log of each exchange.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from contract_tests.budget import Budget
from contract_tests.redact import Redactor

EXCERPT = 65536
MAX_RETRY_AFTER = 30.0
RETRIES_ON_429 = 2


class ForeignHostRefused(httpx.TransportError):
    """A request (a redirect, say) pointed at another host than the target: the key stays home."""


class SyncASGITransport(httpx.BaseTransport):
    """``httpx.ASGITransport`` for a sync client: the app runs on an event loop in a helper thread.

    Like ASGITransport it buffers the whole answer: right for checking grammar,
    useless for timing.
    """

    def __init__(self, app):
        self._asgi = httpx.ASGITransport(app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="embedded-mock", daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            request.stream = httpx.ByteStream(request.read())
            response = await self._asgi.handle_async_request(request)
            body = b"".join([chunk async for chunk in response.stream])
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return asyncio.run_coroutine_threadsafe(send(), self._loop).result()

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: httpx.URL | str) -> tuple[str, str, int | None]:
    url = httpx.URL(str(url))
    return url.scheme, url.host, url.port


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, redacted: what reports quote and logs show."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None
    response_headers: dict[str, str]
    response_body: str
    elapsed: float


def reported_cost(content_type: str, body: bytes) -> float:
    """The ``usage.cost`` in a JSON answer or an SSE stream's usage chunk (0 when absent)."""
    total = 0.0
    if "text/event-stream" in content_type:
        for line in body.decode("utf-8", "replace").splitlines():
            if line.startswith("data:") and '"cost"' in line:
                total += _cost(line[5:].strip())
        return total
    if "json" in content_type:
        return _cost(body.decode("utf-8", "replace"))
    return 0.0


def _cost(text: str) -> float:
    try:
        usage = json.loads(text).get("usage") or {}
        cost = usage.get("cost")
    except (ValueError, AttributeError):
        return 0.0
    return float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost > 0 else 0.0


class GuardedTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, *, base_url: str, budget: Budget, redactor: Redactor,
                 sleep: Callable[[float], None] = time.sleep):
        self.inner = inner
        self.origin = origin(base_url)
        self.budget = budget
        self.redactor = redactor
        self.sleep = sleep
        self.log: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if origin(request.url) != self.origin:
            raise ForeignHostRefused(f"refused to send a request to {request.url.host}: not the target's host",
                                     request=request)
        asked = "code=" in request.headers.get("prefer", "")  # a status the request asked for is its answer
        for attempt in range(RETRIES_ON_429 + 1):
            self.budget.take_request()
            response = self._send(request)
            delay = retry_after(response)
            if response.status_code != 429 or asked or delay is None or delay > MAX_RETRY_AFTER \
                    or attempt == RETRIES_ON_429:
                return response
            self.sleep(delay)
        raise AssertionError("unreachable")

    def _send(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        response = self.inner.handle_request(request)
        try:
            body = response.read()
        finally:
            response.close()
        elapsed = time.monotonic() - started
        content_type = response.headers.get("content-type", "")
        if 200 <= response.status_code < 300:
            self.budget.add_spend(reported_cost(content_type, body))
        exchange = Exchange(
            method=request.method,
            url=self.redactor.text(str(request.url)),
            request_headers=self.redactor.headers(dict(request.headers)),
            request_body=self.redactor.text(request.content.decode("utf-8", "replace")[:EXCERPT]),
            status=response.status_code,
            response_headers=self.redactor.headers(dict(response.headers)),
            response_body=self.redactor.text(body.decode("utf-8", "replace")[:EXCERPT]),
            elapsed=elapsed,
        )
        self.log.append(exchange)
        return httpx.Response(response.status_code, headers=response.headers, content=body,
                              extensions=response.extensions, request=request)

    def close(self) -> None:
        self.inner.close()


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass
class Target:
    """Where the suite sends its requests, and how."""

    base_url: str  # including the spec's base path, e.g. http://127.0.0.1:8080/v1
    api_key: str
    client: httpx.Client
    transport: GuardedTransport
    budget: Budget
    redactor: Redactor
    embedded: bool = False
    display_url: str = ""

    @property
    def local(self) -> bool:
        return self.embedded or is_loopback(self.base_url)

    @property
    def exchanges(self) -> list[Exchange]:
        """Every exchange of the run so far (redacted), oldest first."""
        return self.transport.log

    @property
    def shown_url(self) -> str:
        return self.display_url or self.base_url

    def auth_headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.api_key}"}


def network_transport() -> httpx.HTTPTransport:
    """The network, with Nagle off: small request bodies otherwise wait ~40 ms for a delayed ACK."""
    return httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])


@contextmanager
def open_target(base_url: str, api_key: str, *, inner: httpx.BaseTransport | None = None, budget: Budget | None = None,
                redactor: Redactor | None = None, embedded: bool = False, display_url: str = "", timeout: float = 60.0,
                sleep: Callable[[float], None] = time.sleep) -> Iterator[Target]:
    """A :class:`Target` whose one client carries the key, the budget and the redaction."""
    budget = budget or Budget()
    redactor = redactor or Redactor()
    redactor.add(api_key)
    transport = GuardedTransport(inner or network_transport(), base_url=base_url, budget=budget, redactor=redactor,
                                 sleep=sleep)
    client = httpx.Client(transport=transport, base_url=base_url.rstrip("/") + "/", follow_redirects=False,
                          timeout=timeout)
    try:
        yield Target(base_url=base_url.rstrip("/"), api_key=api_key, client=client, transport=transport, budget=budget,
                     redactor=redactor, embedded=embedded, display_url=display_url)
    finally:
        client.close()
