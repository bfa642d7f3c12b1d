"""Hard limits on what a run may send: a request count and a spend in USD.

The spend is summed from the ``usage.cost`` the target reports. Once a limit is
reached every further request is refused before it leaves the process, and the
run stops and reports what it got so far.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


class BudgetExhausted(Exception):
    """A request was refused because a limit of the run is reached."""


@dataclass
class Budget:
    max_requests: int | None = None
    max_spend: float | None = None
    requests: int = 0
    spend: float = 0.0
    stopped: str | None = None
    reserved: int = 0  # requests held back for later work (the semantic layer) while earlier work runs
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take_request(self) -> None:
        """Count one request, or raise :class:`BudgetExhausted` when none is left."""
        with self._lock:
            if self.max_requests is not None and self.requests >= self.max_requests - self.reserved:
                self.stopped = f"request budget reached ({self.max_requests - self.reserved} requests)"
                raise BudgetExhausted(self.stopped)
            if self.max_spend is not None and self.spend >= self.max_spend:
                self.stopped = f"spend budget reached (${self.spend:.6f} of ${self.max_spend:.6f})"
                raise BudgetExhausted(self.stopped)
            self.requests += 1

    def add_spend(self, cost: float) -> None:
        with self._lock:
            self.spend += max(0.0, cost)

    @property
    def exhausted(self) -> bool:
        return self.stopped is not None

    @contextmanager
    def holding_back(self, share: float) -> Iterator[None]:
        """Run a block on ``1 - share`` of the requests left, so the work after it still gets ``share``.

        When the block stops at its part, the run goes on: only the block's part was spent.
        """
        if self.max_requests is None:
            yield
            return
        self.reserved = int((self.max_requests - self.requests) * share)
        try:
            yield
        finally:
            held, self.reserved = self.reserved, 0
            if held and self.stopped and self.stopped.startswith("request budget") and self.requests < self.max_requests:
                self.stopped = None
