"""Route one inference call: resolve its model, try the plan's models, note what happened.

The thin glue between a handler and the pure parts (:func:`~mockserver.router.resolve.resolve`,
:func:`~mockserver.router.attempts.first_available`): it seeds the draws from ``--seed``, the
request's sequence number and its body; asks the faults runtime whether each model answers; and
notes on the request's exchange the model asked for, the one that served, and the failed tries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.call import Call
from mockserver.faults.availability import ModelFault
from mockserver.generation import seeded_rng
from mockserver.governance.gate import admit
from mockserver.llm.catalog import DEFAULT_MODEL
from mockserver.router.attempts import Served, first_available
from mockserver.router.resolve import Candidate, resolve


async def route_call(call: Call, trace_id: str | None, kind: str = "chat") -> Served:
    """The candidate that serves ``call``; raises the router's or the last provider's error."""
    asked = call.body.get("model") or DEFAULT_MODEL
    exchange, faults = call.exchange, call.faults
    sequence = exchange.sequence if exchange is not None else 0
    rng = LazyRandom(call.config.seed, sequence, call.raw_body)
    if exchange is not None:
        exchange.model_asked = asked
    plan = resolve(asked, call.config.routing, call.config.catalog, trace_id, rng, kind=kind)
    plan = admit(call, plan)  # the key's access list filters the candidates; the guardrail sees the prompt
    failed: list[str] = []
    operation_id = call.operation.operation_id

    candidates = plan.candidates
    if len(candidates) == 1 and not candidates[0].retries:  # the usual call: one model, one try, no backoff
        candidate = candidates[0]
        fault = faults.model_fault(operation_id, candidate.name, sequence, 0) if faults is not None else None
        if fault is not None:
            if exchange is not None:
                exchange.fault = fault.label
            raise fault.error
        if exchange is not None:
            exchange.model_served = candidate.name
        return Served(candidate, (), 1)

    def check(candidate: Candidate, attempt: int) -> ModelFault | None:
        if faults is None:
            return None
        fault = faults.model_fault(operation_id, candidate.name, sequence, attempt)
        if fault is not None:
            failed.append(f"{candidate.name}:{fault.label}")  # one model with one try took the path above
        return fault

    try:
        served = await first_available(plan, check, base_ms=call.config.routing.backoff_ms, rng=rng)
    finally:
        if exchange is not None and failed:
            exchange.fault = ";".join(failed)
    if exchange is not None:
        exchange.model_served = served.candidate.name
    return served


class LazyRandom:
    """A seeded generator made on its first draw: most calls (a plain model, no retry) never draw."""

    __slots__ = ("_seed", "_sequence", "_body", "_rng")

    def __init__(self, seed: int, sequence: int, body: bytes):
        self._seed, self._sequence, self._body, self._rng = seed, sequence, body, None

    def random(self) -> float:
        if self._rng is None:
            self._rng = seeded_rng(self._seed, "route", self._sequence, body=self._body)
        return self._rng.random()


def with_presets(body: Mapping[str, Any], parameters: Mapping[str, Any]) -> Mapping[str, Any]:
    """The request with an alias's preset parameters where it leaves them out."""
    if not parameters:
        return body
    missing = {name: value for name, value in parameters.items() if body.get(name) is None}
    return {**body, **missing} if missing else body
