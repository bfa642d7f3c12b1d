"""One request on its way through the mock: everything known about it, found once, read by every step.

The edge (:mod:`mockserver.edge`) builds an :class:`Exchange` per request; the pipeline's steps
(limits, Prefer, authentication, faults, the call) and the journal read it. What costs something
is found only when asked, and at most once:

- the headers as a dict, and their size, when the exchange is made (every request needs them);
- the query and cookies, parsed on first use;
- the caller, authenticated on first use against the operation's security (:func:`auth.authenticate`);
- the body, read on first use through the one bounded reader (:func:`body.read_limited_body`).

It notes what happened to the request for the journal: its status, the fault injected, the
stream fault's wrapper; and, while the inspector (:mod:`mockserver.inspector`) is watching, the
answer's body messages with the time each was handed over (references to bytes already made, at
most :data:`MAX_CHUNKS` of them; the edge sets :attr:`chunks` to a list to ask for them). It holds
no reference to the ASGI scope, so a request leaves no reference cycle behind (a cycle waits for
the garbage collector, which costs every request).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import cookie_parser

from mockserver import auth
from mockserver.body import read_limited_body
from mockserver.cors import NOTHING, with_vary
from mockserver.errors import MockError
from mockserver.request_headers import headers_of
from mockserver.validation import query_lists

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]
_NO_QUERY: Mapping[str, list[str]] = {}
_NO_COOKIES: Mapping[str, str] = {}
_UNREAD = object()
_NO_PATH_PARAMS: Mapping[str, str] = MappingProxyType({})
MAX_CHUNKS = 4096  # body messages noted per answer for the inspector; later ones are sent, not noted


class Exchange:
    # What a request starts with, shared until a step sets its own (a request sets only what happens to it).
    operation: Any = None  # the spec operation the request reached, once routed
    path_params: Mapping[str, str] = _NO_PATH_PARAMS
    status = 0
    sequence = 0  # the request's number, when it is journaled (:meth:`journaled`)
    cors: list[tuple[bytes, bytes]] = NOTHING  # the CORS headers every answer gains (:mod:`mockserver.cors`)
    fault: str | None = None  # what was injected, for the journal
    stream: Any = None  # the stream fault's send wrapper, when one was chosen
    model_asked: str | None = None  # the model name the request asked for (a policy, an alias, ...)
    model_served: str | None = None  # the model that answered it
    response_headers: list[tuple[bytes, bytes]] | None = None  # the answer's head, as sent
    chunks: list[tuple[float, bytes]] | None = None  # the answer's body messages, when asked for
    violations: list[dict[str, Any]] | None = None  # guardrail findings: kind and position, never values
    guardrail: str | None = None  # the guardrail action taken on them: report | mask | block
    _query: Mapping[str, list[str]] | None = None
    _cookies: Mapping[str, str] | None = None
    _principal: Any = _UNREAD
    _refused = False
    _body: bytes | None = None
    _json: Any = _UNREAD
    _on_done: Callable[[Exchange], None] | None = None

    def __init__(self, scope: dict[str, Any], receive: Receive, send: Send, keys: Any):
        """``keys`` has ``authenticate(token) -> Principal | None`` (the app's MockState)."""
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query_string: bytes = scope["query_string"]
        self.headers, self.header_bytes = headers_of(scope)
        self.receive = receive
        self.keys = keys
        self.start = time.perf_counter()
        self.arrived = time.time()
        self._downstream = send

    def journaled(self, sequence: int, on_done: Callable[[Exchange], None]) -> None:
        """Number the request (what fault decisions are seeded with); ``on_done`` is called once, when the
        answer's last bytes are handed over or the request ends without them (the journal entry)."""
        self.sequence = sequence
        self._on_done = on_done

    # -- the request ---------------------------------------------------------------------------

    @property
    def query(self) -> Mapping[str, list[str]]:
        if self._query is None:
            qs = self.query_string
            self._query = query_lists(parse_qsl(qs.decode("latin-1"), keep_blank_values=True)) if qs else _NO_QUERY
        return self._query

    @property
    def cookies(self) -> Mapping[str, str]:
        if self._cookies is None:
            cookie = self.headers.get("cookie")
            self._cookies = cookie_parser(cookie) if cookie else {}
        return self._cookies

    def principal(self, security: tuple = auth.BEARER) -> Any:
        """The caller, authenticated once (for the operation's ``security``); a 401 MockError when refused."""
        if self._principal is _UNREAD:
            try:
                self._principal = auth.authenticate(security, self.keys, self.headers,
                                                    self.query if self.query_string else _NO_QUERY,
                                                    self.cookies if "cookie" in self.headers else _NO_COOKIES)
            except MockError:
                self._principal, self._refused = None, True
                raise
        elif self._refused:
            auth.authenticate(security, self.keys, self.headers, self.query, self.cookies)  # raises the 401 again
        return self._principal

    async def body(self, limit: int, timeout: float) -> bytes:
        """The whole body, read once within ``limit`` bytes and ``timeout`` seconds a piece (413, 408)."""
        if self._body is None:
            if "content-length" not in self.headers and "transfer-encoding" not in self.headers:
                self._body = b""  # no body is coming (RFC 9112 6.3): nothing to wait for
            else:
                self._body = await read_limited_body(self.receive, self.headers, limit, timeout)
        return self._body

    def json_field(self, name: str) -> Any:
        """A top-level field of the body read so far, if it is a JSON object (for fault rules; not validated)."""
        if self._json is _UNREAD:
            try:
                self._json = orjson.loads(self._body) if self._body else None
            except orjson.JSONDecodeError:
                self._json = None
        return self._json.get(name) if isinstance(self._json, dict) else None

    # -- what happened, for the journal --------------------------------------------------------

    async def send(self, message: Message) -> None:
        """The downstream ``send``: the head gains the CORS headers; notes the status, the head and the body
        messages; the journal entry is made before the last bytes leave."""
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.response_headers = message["headers"] = with_vary(message.get("headers", ()), self.cors)
        else:
            chunks = self.chunks
            if chunks is not None and len(chunks) < MAX_CHUNKS:
                chunks.append((time.perf_counter(), message.get("body", b"")))
            if not message.get("more_body", False):
                self.done()  # before the last bytes leave, so a client that got its answer finds it journaled
        await self._downstream(message)

    def done(self) -> None:
        """Once: at the last body message, or when the request ends without one (a dropped stream)."""
        on_done, self._on_done = self._on_done, None
        if on_done is not None:
            on_done(self)

    @property
    def request_body(self) -> bytes:
        """The body as read so far (empty when no step read it)."""
        return self._body or b""

    @property
    def latency_ms(self) -> float:
        return int((time.perf_counter() - self.start) * 1_000_000) / 1000  # to the microsecond

    @property
    def key_id(self) -> str | None:
        """The caller's key id: as authenticated, ``"unknown"`` for a refused key, None when none was sent."""
        if self._principal is _UNREAD:  # no step needed the caller (an unknown path): find it for the journal
            try:
                self.principal()
            except MockError:
                pass
        if self._refused:
            return "unknown"
        return self._principal.key_id if self._principal is not None else None
