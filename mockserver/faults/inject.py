"""The fault step of the request path: after routing and authentication, before the call is read.

It works on the request's :class:`~mockserver.exchange.Exchange`, and runs only when a scenario is in
force or the request names a directive. In order: the ``Prefer: code=`` error, the key's rate
limits, an unavailable model, a random error; then the latency (before an error too); then, for an
answer that goes ahead, the rate-limit headers and the stream fault's ``send`` wrapper.
Faults reach only callers the operation accepts: a refused key got its 401 before this step.
The body, when a rule needs it (token estimate, model), comes from the exchange's bounded reader,
so ``--max-body`` and ``--body-timeout`` hold for it as for any other reader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from mockserver.errors import MockError
from mockserver.exchange import Exchange
from mockserver.faults.decide import NOTHING, applies, decide
from mockserver.faults.headers import Directives
from mockserver.faults.ratelimit import estimate_tokens
from mockserver.faults.runtime import Faults
from mockserver.faults.streams import FaultySend, StreamAborted

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]
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


async def inject(exchange: Exchange, faults: Faults, directives: Directives | None, send: Send,
                 read_body: Callable[[], Awaitable[bytes]]) -> Send:
    """The ``send`` to answer with; raises the injected error (noted on the exchange) after its latency."""
    scenario = faults.scenario
    op_id = exchange.operation.operation_id
    decision = decide(scenario, faults.seed, exchange.sequence, op_id) if faults.active else NOTHING
    error: MockError | None = None
    fault: str | None = None
    extra_headers: dict[str, str] = {}
    if directives is not None and directives.code is not None and directives.code >= 400:
        error, fault = injected_error(directives.code), f"prefer:{directives.code}"
    if error is None and faults.limiter and applies(scenario.rate_limits.operations, op_id):
        key = exchange.key_id or "anonymous"
        body = await read_body() if faults.limiter.tpm else b""
        verdict = faults.limiter.check(key, estimate_tokens(body, exchange.json_field("max_tokens")))
        extra_headers = verdict.headers
        if not verdict.allowed:
            error = MockError(429, f"Rate limit reached for {verdict.exceeded} per minute "
                              f"(injected fault). Please try again in {verdict.retry_after_s}s.",
                              code="rate_limit_exceeded", headers=verdict.headers)
            fault = f"ratelimit:{verdict.exceeded}"
    if error is None and scenario.unavailable_models:
        await read_body()
        model = exchange.json_field("model")
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
        raise error
    if extra_headers:
        send = _with_headers(send, extra_headers)
    stream_fault = (directives.stream_fault if directives else None) or decision.stream_fault
    if stream_fault is not None:
        send = exchange.stream = FaultySend(send, stream_fault)
    return send


def aborted(exc: BaseException) -> bool:
    """Whether ``exc`` is (only) a deliberate drop of the connection by a stream fault."""
    if isinstance(exc, StreamAborted):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(aborted(e) for e in exc.exceptions)
    return False


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *raw]}
        await send(message)

    return sending
