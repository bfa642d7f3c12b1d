"""The faults' mutable state for one app: the scenario in force, the request counter, rate windows, the journal."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from mockserver.faults.journal import DEFAULT_SIZE, Journal
from mockserver.faults.ratelimit import RateLimiter
from mockserver.faults.scenario import Scenario
from mockserver.spec.model import LoadedSpec, Operation

_TEMPLATE = re.compile(r"\\{[^}]*\\}")


class Faults:
    def __init__(self, spec: LoadedSpec, seed: int, scenario: Scenario | None = None, *,
                 clock: Callable[[], float] = time.monotonic, journal_size: int = DEFAULT_SIZE):
        self.default_seed = seed
        self.initial = scenario or Scenario()
        self.clock = clock
        self.journal = Journal(journal_size)
        self._routes = _route_table(spec)
        self._fixed = {(op.method, spec.base_path + op.path): op for op in spec.operations if "{" not in op.path}
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

    def operation(self, method: str, path: str) -> Operation | None:
        """The spec operation a request reaches, None for unknown paths and the mock's own endpoints."""
        fixed = self._fixed.get((method, path))
        if fixed is not None:
            return fixed
        for pattern, by_method in self._routes:
            if pattern.fullmatch(path):
                return by_method.get(method)
        return None


def _route_table(spec: LoadedSpec) -> list[tuple[re.Pattern[str], dict[str, Operation]]]:
    """Spec paths as regular expressions, fixed segments before templated ones (as the router orders them)."""
    table = []
    for path, operations in sorted(spec.paths.items(), key=lambda item: tuple(("{" in s, s) for s in item[0].split("/"))):
        pattern = _TEMPLATE.sub("[^/]+", re.escape(spec.base_path + path))
        table.append((re.compile(pattern), {op.method: op for op in operations}))
    return table
