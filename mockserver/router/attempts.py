"""Trying a plan's models in order: retries with backoff, then the next model. The first that answers serves.

Whether a model answers a try is asked of one function (``check``: the faults runtime's
:meth:`~mockserver.faults.runtime.Faults.model_fault`), the same rule the fault step uses for a
plain model. Between tries of the same model the router waits ``backoff(retry)``: the base
(``backoff_ms``, 500 ms by default), doubled per retry up to 8x (500 ms -> 1 s -> 2 s -> 4 s -> 4 s ...),
times a jitter in [0.9, 1.1) from the seeded ``rng``. The next model is tried at once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from mockserver.errors import MockError
from mockserver.faults.availability import ModelFault
from mockserver.router.resolve import Candidate, Plan

Check = Callable[[Candidate, int], "ModelFault | None"]  # (candidate, attempt number in the request)
MAX_DOUBLINGS = 3


class Served(NamedTuple):  # made for every routed call: a named tuple is the cheapest to make
    candidate: Candidate
    failures: tuple[str, ...]  # "MODEL:LABEL" for each try that failed before, in order
    attempts: int  # tries made, the serving one included


def backoff_ms(retry: int, base_ms: float, u: float) -> float:
    """The wait before the ``retry``-th retry (1-based) of a model, for a uniform ``u`` in [0, 1)."""
    return base_ms * 2 ** min(retry - 1, MAX_DOUBLINGS) * (0.9 + 0.2 * u)


async def first_available(plan: Plan, check: Check, *, base_ms: float, rng: random.Random,
                          sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Served:
    """The candidate that serves; raises the last provider error when every try of every model failed."""
    failures: list[str] = []
    attempt = 0
    last: MockError | None = None
    for candidate in plan.candidates:
        for retry in range(candidate.retries + 1):
            if retry:
                delay = backoff_ms(retry, base_ms, rng.random())
                if delay > 0:
                    await sleep(delay / 1000)
            fault = check(candidate, attempt)
            attempt += 1
            if fault is None:
                return Served(candidate, tuple(failures), attempt)
            failures.append(f"{candidate.name}:{fault.label}")
            last = fault.error
    assert last is not None
    if len(plan.candidates) > 1 or plan.candidates[0].retries:
        last.message = f"{last.message} Every model of '{plan.asked}' failed: {', '.join(failures)}."
    raise last
