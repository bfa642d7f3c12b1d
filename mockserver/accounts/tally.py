"""A running total of calls: requests, tokens and cost (money units)."""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.accounts.money import Units


@dataclass(slots=True)
class Tally:
    requests: int = 0
    tokens: int = 0
    cost: Units = 0

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.tokens += other.tokens
        self.cost += other.cost
