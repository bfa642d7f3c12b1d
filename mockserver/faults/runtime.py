"""The faults' mutable state for one app: the scenario in force, the request counter, rate windows, the journal."""

from __future__ import annotations

import time
from collections.abc import Callable

from mockserver.faults.availability import ModelFault, model_fault
from mockserver.faults.journal import DEFAULT_SIZE, Journal
from mockserver.faults.ratelimit import RateLimiter
from mockserver.faults.scenario import Scenario


class Faults:
    def __init__(self, seed: int, scenario: Scenario | None = None, *,
                 clock: Callable[[], float] = time.monotonic, journal_size: int = DEFAULT_SIZE):
        self.default_seed = seed
        self.initial = scenario or Scenario()
        self.clock = clock
        self.journal = Journal(journal_size)
        self.load(self.initial)

    def load(self, scenario: Scenario) -> None:
        """Put ``scenario`` in force; the request counter and rate windows start again."""
        self.scenario = scenario
        self.active = not scenario.empty
        self.seed = scenario.seed if scenario.seed is not None else self.default_seed
        limits = scenario.rate_limits
        self.limiter = RateLimiter(limits.rpm, limits.tpm, self.clock) if limits else None
        self.sequence = 0

    def reset(self) -> None:
        """Back to the start-up scenario, with an empty journal."""
        self.journal.clear()
        self.load(self.initial)

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence

    def model_fault(self, operation_id: str, model: str | None, sequence: int, attempt: int = 0) -> ModelFault | None:
        """Is ``model`` available for request ``sequence``'s ``attempt``-th try? None when it is, else its error."""
        if not self.active:
            return None
        return model_fault(self.scenario, self.seed, operation_id, model, sequence, attempt)
