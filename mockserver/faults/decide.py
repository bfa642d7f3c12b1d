"""Which random faults one request gets: pure, from (seed, request sequence number, operation).

The same seed and sequence number always give the same decision, whatever
happened before, so a run of sequential requests replays exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from mockserver.faults.scenario import ErrorRule, Latency, Scenario, StreamFault
from mockserver.generation import seeded_rng

DEFAULT_LATENCY_CAP_MS = 60_000.0
Rule = TypeVar("Rule", ErrorRule, StreamFault)


@dataclass(frozen=True, slots=True)
class Decision:
    latency_ms: float = 0.0
    error: ErrorRule | None = None
    stream_fault: StreamFault | None = None


NOTHING = Decision()


def decide(scenario: Scenario, seed: int, sequence: int, operation_id: str, model: str | None = None) -> Decision:
    """The request's faults; ``error`` is the one for its first attempt, served by ``model``."""
    rng = seeded_rng("faults", seed, sequence)
    u_error, u_stream, u_latency_1, u_latency_2 = rng.random(), rng.random(), rng.random(), rng.random()
    return Decision(
        latency_ms=latency_ms(scenario.latency, operation_id, u_latency_1, u_latency_2),
        error=pick(for_model(scenario.errors, model), operation_id, u_error),
        stream_fault=pick(scenario.stream_faults, operation_id, u_stream),
    )


def error_for_attempt(scenario: Scenario, seed: int, sequence: int, operation_id: str, model: str | None,
                      attempt: int) -> ErrorRule | None:
    """The error rule that fires for the request's ``attempt``-th try (0: the first, the one :func:`decide`
    draws), served by ``model``. Each later try (a retry, a fallback's next model) has its own draw."""
    if attempt == 0:
        return decide(scenario, seed, sequence, operation_id, model).error
    u = seeded_rng("faults", seed, sequence, "attempt", attempt).random()
    return pick(for_model(scenario.errors, model), operation_id, u)


def for_model(rules: Sequence[ErrorRule], model: str | None) -> Sequence[ErrorRule]:
    """The rules for calls served by ``model`` (all of them when none is scoped to models)."""
    if all(rule.models is None for rule in rules):
        return rules
    return [rule for rule in rules if rule.for_model(model)]


def applies(operations: tuple[str, ...] | None, operation_id: str) -> bool:
    return operations is None or operation_id in operations


def pick(rules: Sequence[Rule], operation_id: str, u: float) -> Rule | None:
    """The rule whose slice of [0, 1) holds ``u``, slices laid end to end in order; None past the last."""
    edge = 0.0
    for rule in rules:
        if applies(rule.operations, operation_id):
            edge += rule.rate
            if u < edge:
                return rule
    return None


def latency_ms(latency: Latency | None, operation_id: str, u1: float, u2: float) -> float:
    if latency is None or not applies(latency.operations, operation_id):
        return 0.0
    if latency.distribution == "fixed":
        return latency.ms
    if latency.distribution == "uniform":
        return latency.min_ms + (latency.max_ms - latency.min_ms) * u1
    # lognormal: median * exp(sigma * z), z standard normal from two uniforms (Box-Muller)
    z = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
    cap = latency.max_cap_ms if latency.max_cap_ms is not None else DEFAULT_LATENCY_CAP_MS
    return min(latency.median_ms * math.exp(latency.sigma * z), cap)
