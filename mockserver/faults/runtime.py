"""The faults' mutable state for one app: the scenario in force, the request counter, rate windows, the journal.

In memory by default. With a shared backend (``--state``), all of it lives in the store, so every
worker process sees one scenario, one request sequence, one set of rate windows and one journal:
each request's number comes from the store together with the scenario's generation, and a worker
that finds a newer generation than its own reads the scenario before going on (``docs/scaling.md``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from mockserver.faults.availability import ModelFault, model_fault
from mockserver.faults.journal import DEFAULT_SIZE, Journal, SharedJournal
from mockserver.faults.ratelimit import RateLimiter, SharedRateLimiter
from mockserver.faults.scenario import Scenario, build_scenario


class Faults:
    def __init__(self, seed: int, scenario: Scenario | None = None, *,
                 clock: Callable[[], float] | None = None, journal_size: int = DEFAULT_SIZE, backend: Any = None):
        self.default_seed = seed
        self.initial = scenario or Scenario()
        self.backend = backend
        self.clock = clock or (time.monotonic if backend is None else time.time)  # windows shared: wall clock
        self.journal = Journal(journal_size) if backend is None else SharedJournal(backend)
        self.generation = 0
        if backend is None:
            self.load(self.initial)
            return
        generation, text = backend.scenario()
        if text is None:  # a new store: the start-up scenario goes in force for everyone
            self.load(self.initial)
        else:
            self._adopt(generation, text)

    def load(self, scenario: Scenario) -> None:
        """Put ``scenario`` in force (for every worker); the request counter and rate windows start again."""
        if self.backend is not None:
            self.generation = self.backend.load_scenario(json.dumps(scenario.as_dict()))
        self._apply(scenario)
        self.sequence = 0

    def _apply(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.active = not scenario.empty
        self.seed = scenario.seed if scenario.seed is not None else self.default_seed
        limits = scenario.rate_limits
        if not limits:
            self.limiter = None
        elif self.backend is None:
            self.limiter = RateLimiter(limits.rpm, limits.tpm, self.clock)
        else:
            self.limiter = SharedRateLimiter(limits.rpm, limits.tpm, self.clock, self.backend, self.generation)

    def _adopt(self, generation: int, text: str | None) -> None:
        """The scenario another worker put in force."""
        self.generation = generation
        self._apply(build_scenario(json.loads(text), source="shared scenario") if text else Scenario())

    def reset(self) -> None:
        """Back to the start-up scenario, with an empty journal."""
        self.journal.clear()
        self.load(self.initial)

    def next_sequence(self) -> int:
        if self.backend is None:
            self.sequence += 1
            return self.sequence
        sequence, generation = self.backend.next_sequence()
        if generation != self.generation:
            self._adopt(*self.backend.scenario())
        self.sequence = sequence
        return sequence

    def model_fault(self, operation_id: str, model: str | None, sequence: int, attempt: int = 0) -> ModelFault | None:
        """Is ``model`` available for request ``sequence``'s ``attempt``-th try? None when it is, else its error."""
        if not self.active:
            return None
        return model_fault(self.scenario, self.seed, operation_id, model, sequence, attempt)


def start(backend: Any, scenario: Scenario | None) -> None:
    """Put the start-up scenario in force in a shared store, once per ``mockserver serve`` (not per worker)."""
    backend.load_scenario(json.dumps((scenario or Scenario()).as_dict()))
