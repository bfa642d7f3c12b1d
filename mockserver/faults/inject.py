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

from mockserver.errors import PROVIDER, MockError
from mockserver.exchange import Exchange
from mockserver.faults.availability import MESSAGES, injected_error, retry_headers  # noqa: F401  (re-exported)
from mockserver.faults.decide import NOTHING, applies, decide
from mockserver.faults.headers import Directives
from mockserver.faults.ratelimit import estimate_tokens
from mockserver.faults.runtime import Faults
from mockserver.faults.streams import FaultySend, StreamAborted

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]


async def inject(exchange: Exchange, faults: Faults, directives: Directives | None, send: Send,
                 read_body: Callable[[], Awaitable[bytes]], *, routed: bool = False) -> Send:
    """The ``send`` to answer with; raises the injected error (noted on the exchange) after its latency.

    ``routed``: the operation's handler resolves the model itself (policies, aliases, regions) and asks
    :meth:`Faults.model_fault` per model it tries, so the unavailable models and error rates are left to it.
    """
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
                              code="rate_limit_exceeded", headers=verdict.headers, origin=PROVIDER)
            fault = f"ratelimit:{verdict.exceeded}"
    if error is None and not routed and (scenario.unavailable_models or scenario.errors):
        model = None
        if scenario.unavailable_models or any(rule.models for rule in scenario.errors):
            await read_body()
            asked = exchange.json_field("model")
            model = asked if isinstance(asked, str) else None
        found = faults.model_fault(op_id, model, exchange.sequence)
        if found is not None:
            error, fault = found.error, found.label
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
