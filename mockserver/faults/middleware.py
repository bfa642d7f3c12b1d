"""The pure ASGI middleware that injects faults into the spec's operations and journals every request.

Faults reach only callers the operation accepts (a missing or unknown key
gets the usual 401). With no scenario in force and no fault header on the request, a request costs
one header scan and one journal entry. Otherwise, in order: the per-request
``Prefer: code=`` error, the key's rate limits, an unavailable model, a random
error; then the latency; then the app, with rate-limit headers added and its
event stream wrapped when a stream fault was chosen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from starlette.requests import Request

from mockserver import error_shapes
from mockserver.auth import authenticate, bearer_token
from mockserver.errors import MockError
from mockserver.faults.decide import NOTHING, applies, decide
from mockserver.faults.headers import DIRECTIVE_NAMES, Directives, read_directives, undocumented_code
from mockserver.faults.ratelimit import estimate_tokens
from mockserver.faults.runtime import Faults
from mockserver.faults.streams import FaultySend, StreamAborted
from mockserver.request_headers import headers_of
from mockserver.validation import query_lists

Scope = MutableMapping[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CALLER_SCOPE_KEY = "mockserver.seen"  # the request's Seen: the app notes the operation and caller it found there
PREFER_SCOPE_KEY = "mockserver.prefer"  # the Directives a handler needs (example, dynamic, a 2xx code)
RESERVED_PREFIX = "/__mock/"
MESSAGES = {
    429: "Rate limit reached for requests (injected fault). Please try again in {retry}s.",
    500: "The server had an error while processing your request (injected fault).",
    502: "Bad gateway: the upstream provider sent an invalid response (injected fault).",
    503: "The service is temporarily unavailable (injected fault).",
    504: "The upstream provider did not answer in time (injected fault).",
}


def retry_headers(retry_after_s: int) -> dict[str, str]:
    return {"Retry-After": str(retry_after_s), "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{retry_after_s}s"}


def injected_error(status: int, message: str | None = None) -> MockError:
    headers = retry_headers(1) if status == 429 else None
    text = message or MESSAGES.get(status, "Injected fault.").format(retry=1)
    return MockError(status, text, headers=headers)


class FaultMiddleware:
    def __init__(self, app: ASGIApp, faults: Faults, keys: Any):
        """``keys`` has ``authenticate(token) -> Principal | None`` (the app's MockState)."""
        self.app = app
        self.faults = faults
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(RESERVED_PREFIX):
            await self.app(scope, receive, send)
            return
        faults = self.faults
        exchange = _Exchange(self, scope, send, faults.next_sequence())
        scope[CALLER_SCOPE_KEY] = exchange.seen  # shared by the shallow copies of the scope made downstream
        try:
            try:
                # The usual request names no directive: a look in the shared header dict says so.
                directives = None if headers_of(scope)[0].keys().isdisjoint(DIRECTIVE_NAMES) \
                    else read_directives(scope["headers"])
            except MockError as error:
                await error.response()(scope, receive, exchange.send)
                return
            if directives is None and not faults.active:
                await self.app(scope, receive, exchange.send)
                return
            exchange.seen.operation = faults.operation(scope["method"], scope["path"])
            if exchange.seen.operation is None:
                await self.app(scope, receive, exchange.send)
                return
            await self._faulty(scope, receive, exchange, directives)
        finally:
            exchange.record()  # once: at the last body message, or here when there was none (a dropped stream)

    async def _faulty(self, scope: Scope, receive: Receive, exchange: _Exchange, directives: Directives | None) -> None:
        """Answer one request of the exchange's operation with its faults, noting what was injected."""
        faults = self.faults
        scenario = faults.scenario
        operation, send = exchange.seen.operation, exchange.send
        try:
            principal = self._principal(scope, operation)
        except MockError:  # no faults for a refused key: the app answers 401 as usual
            await self.app(scope, receive, send)
            return
        op_id = operation.operation_id
        decision = decide(scenario, faults.seed, exchange.sequence, op_id) if faults.active else NOTHING
        error: MockError | None = None
        fault: str | None = None
        extra_headers: dict[str, str] = {}
        if scenario.unavailable_models or (faults.limiter and faults.limiter.tpm):
            body, receive = await _buffered(receive)
        else:
            body = b""
        if directives and directives.code is not None and directives.code >= 400:
            error, fault = self._preferred_error(operation, directives.code), f"prefer:{directives.code}"
        if error is None and faults.limiter and applies(scenario.rate_limits.operations, op_id):
            key = principal.key_id if principal is not None else "anonymous"
            verdict = faults.limiter.check(key, estimate_tokens(body, _field(body, "max_tokens")))
            extra_headers = verdict.headers
            if not verdict.allowed:
                error = MockError(429, f"Rate limit reached for {verdict.exceeded} per minute "
                                  f"(injected fault). Please try again in {verdict.retry_after_s}s.",
                                  code="rate_limit_exceeded", headers=verdict.headers)
                fault = f"ratelimit:{verdict.exceeded}"
        if error is None and scenario.unavailable_models:
            model = _field(body, "model")
            if isinstance(model, str) and model in scenario.unavailable_models:
                error = MockError(503, f"The model '{model}' is currently unavailable (injected fault).",
                                  code="model_unavailable")
                fault = f"unavailable:{model}"
        if error is None and decision.error is not None:
            error, fault = injected_error(decision.error.status, decision.error.message), f"error:{decision.error.status}"
        delay = decision.latency_ms + ((directives.latency_ms or 0) if directives else 0)
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        if error is not None:
            exchange.fault = fault
            await error_shapes.render(error, operation.error_shape)(scope, receive, send)
            return
        if directives is not None and directives.shapes_body:
            scope = dict(scope)
            scope[PREFER_SCOPE_KEY] = directives
        if extra_headers:
            send = _with_headers(send, extra_headers)
        stream_fault = (directives.stream_fault if directives else None) or decision.stream_fault
        if stream_fault is None:
            await self.app(scope, receive, send)
            return
        faulty = exchange.stream = FaultySend(send, stream_fault)
        try:
            await self.app(scope, receive, faulty)
        except Exception as exc:  # noqa: BLE001  (only a deliberate drop is swallowed)
            if not _aborted(exc):
                raise

    def _preferred_error(self, operation: Any, code: int) -> MockError:
        if str(code) not in operation.responses and f"{str(code)[0]}XX" not in operation.responses:
            return undocumented_code(operation.operation_id, code, list(operation.responses))
        return injected_error(code)

    def _principal(self, scope: Scope, operation: Any) -> Any:
        """The caller as the app will see it (None for an open operation); a MockError for a refused key."""
        request = Request(scope)
        return authenticate(operation, self.keys, request.headers, query_lists(request.query_params.multi_items()),
                            request.cookies)

    def key_id(self, scope: Scope, known: str | None) -> str | None:
        """The caller's key id for the journal: ``known`` when the app authenticated it, else looked up."""
        if known is not None:  # the app authenticated the caller already: no second lookup
            return known
        token = _bearer(scope)
        if not token:
            return None
        try:
            principal = self.keys.authenticate(token)
        except MockError:  # an expired key: refused by the app, journaled as unknown
            principal = None
        return principal.key_id if principal is not None else "unknown"


class Seen:
    """What is known about a request, for its journal entry: the operation it reached (found by the
    middleware when faults are active, else by the app) and the key the app authenticated; no lookup is
    made twice.

    It holds no reference back to the scope, so a request leaves no reference cycle behind
    (a cycle waits for the garbage collector, which costs every request).
    """

    __slots__ = ("operation", "key_id")

    def __init__(self) -> None:
        self.operation: Any = None  # the spec operation the request reached
        self.key_id: str | None = None  # the key the app authenticated


class _Exchange:
    """One request on its way through: the ``send`` that notes the status, and its journal entry."""

    __slots__ = ("middleware", "scope", "downstream", "sequence", "start", "arrived", "status", "seen", "fault",
                 "stream", "recorded")

    def __init__(self, middleware: FaultMiddleware, scope: Scope, send: Send, sequence: int):
        self.middleware = middleware
        self.scope = scope
        self.downstream = send
        self.sequence = sequence
        self.start = time.perf_counter()
        self.arrived = time.time()
        self.status = 0
        self.seen = Seen()
        self.fault: str | None = None
        self.stream: FaultySend | None = None
        self.recorded = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif not message.get("more_body", False) and not self.recorded:
            self.record()  # before the last bytes leave, so a client that got its answer finds it journaled
        await self.downstream(message)

    def record(self) -> None:
        if self.recorded:
            return
        self.recorded = True
        scope, middleware = self.scope, self.middleware
        operation = self.seen.operation or middleware.faults.operation(scope["method"], scope["path"])
        fault = self.fault
        if self.stream is not None and self.stream.fired:
            fault = f"stream:{self.stream.fault.fault}@{self.stream.count}"
        middleware.faults.journal.record(
            self.sequence, self.arrived, scope["method"], scope["path"], operation.operation_id if operation else None,
            self.status, round((time.perf_counter() - self.start) * 1000, 3), fault,
            middleware.key_id(scope, self.seen.key_id),
        )


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bearer_token(value.decode("latin-1"))
    return None


def _field(body: bytes, name: str) -> Any:
    if not body:
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data.get(name) if isinstance(data, dict) else None


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body, and a ``receive`` that replays it to the app."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", receive
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *raw]}
        await send(message)

    return sending


def _aborted(exc: BaseException) -> bool:
    if isinstance(exc, StreamAborted):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_aborted(e) for e in exc.exceptions)
    return False
