"""Requests- and tokens-per-minute windows per key: pure logic over an injected clock.

Each key gets a fixed one-minute window that opens with its first request;
a request that would go over either limit is refused (and not counted) until
the window ends. The answer carries OpenAI's headers either way.

A window that has ended is the same as none, so ended windows are dropped
whenever the table has doubled since the last sweep: the table holds at most
about twice the keys that called within the last minute (and at least
:data:`SWEEP_FLOOR` before any sweep), however many keys come and go.

:func:`count` is the rule; :class:`RateLimiter` keeps the windows in memory, and
:class:`SharedRateLimiter` in a shared backend, which applies the same rule atomically
(``mockserver/backends/``), so the limits hold across every worker (there a window is a
store entry that expires a little after its minute).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WINDOW_S = 60.0
SWEEP_FLOOR = 64  # windows kept before the first sweep looks for ended ones


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after_s: int = 0
    exceeded: str | None = None  # "requests" or "tokens"


def count(window: tuple[float, int, int] | None, now: float, tokens: int, rpm: int | None,
          tpm: int | None) -> tuple[float, int, int, str | None]:
    """The window (start, requests, tokens) after one request of ``tokens``, and what it exceeded, if anything."""
    if window is None or now - window[0] >= WINDOW_S:
        window = (now, 0, 0)
    start, requests, used = window
    if rpm is not None and requests + 1 > rpm:
        return start, requests, used, "requests"
    if tpm is not None and used + tokens > tpm:
        return start, requests, used, "tokens"
    return start, requests + 1, used + tokens, None


def verdict(rpm: int | None, tpm: int | None, now: float, start: float, requests: int, tokens: int,
            exceeded: str | None) -> Verdict:
    """The answer's headers (and Retry-After when refused) for a window as :func:`count` left it."""
    reset = max(0.0, start + WINDOW_S - now)
    headers = {}
    if rpm is not None:
        headers.update(_headers("requests", rpm, rpm - requests, reset))
    if tpm is not None:
        headers.update(_headers("tokens", tpm, tpm - tokens, reset))
    if exceeded is None:
        return Verdict(True, headers)
    retry = max(1, math.ceil(reset))
    headers["Retry-After"] = str(retry)
    return Verdict(False, headers, retry, exceeded)


class RateLimiter:
    def __init__(self, rpm: int | None, tpm: int | None, clock: Callable[[], float]):
        self.rpm = rpm
        self.tpm = tpm
        self.clock = clock
        self._windows: dict[str, tuple[float, int, int]] = {}  # key -> (start, requests, tokens), as count() takes it
        self._sweep_at = SWEEP_FLOOR

    def windows(self) -> int:
        """How many keys have a window now (ended ones included until the next sweep).

        A method, not ``__len__``: a limiter with no window yet must still be truthy.
        """
        return len(self._windows)

    def check(self, key: str, tokens: int) -> Verdict:
        """Count one request of ``tokens`` estimated tokens for ``key``, or refuse it."""
        now = self.clock()
        window = self._windows.get(key)
        if window is None and len(self._windows) >= self._sweep_at:
            self._sweep(now)
        start, requests, used, exceeded = count(window, now, tokens, self.rpm, self.tpm)
        self._windows[key] = (start, requests, used)
        return verdict(self.rpm, self.tpm, now, start, requests, used, exceeded)

    def _sweep(self, now: float) -> None:
        """Drop the ended windows; the next sweep comes when the live ones have doubled (amortized O(1))."""
        self._windows = {key: w for key, w in self._windows.items() if now - w[0] < WINDOW_S}
        self._sweep_at = max(SWEEP_FLOOR, 2 * len(self._windows))


class SharedRateLimiter:
    """The same windows kept in a shared backend (wall-clock time: every worker's clock must agree)."""

    def __init__(self, rpm: int | None, tpm: int | None, clock: Callable[[], float], backend: Any, generation: int):
        self.rpm = rpm
        self.tpm = tpm
        self.clock = clock
        self.backend = backend
        self.generation = generation

    def check(self, key: str, tokens: int) -> Verdict:
        now = self.clock()
        start, requests, used, exceeded = self.backend.rate_window(key, self.generation, now, tokens, self.rpm, self.tpm)
        return verdict(self.rpm, self.tpm, now, start, requests, used, exceeded)


def _headers(kind: str, limit: int, remaining: int, reset_s: float) -> dict[str, str]:
    return {
        f"x-ratelimit-limit-{kind}": str(limit),
        f"x-ratelimit-remaining-{kind}": str(max(0, remaining)),
        f"x-ratelimit-reset-{kind}": format_duration(reset_s),
    }


def format_duration(seconds: float) -> str:
    """OpenAI's reset format: ``1s``, ``6m0s``, ``250ms``."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    whole = math.ceil(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def estimate_tokens(body: bytes, max_tokens: object) -> int:
    """A request's tokens before it runs: body bytes / 4 (the usual chars-per-token rule) plus ``max_tokens``."""
    extra = max_tokens if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0 else 0
    return math.ceil(len(body) / 4) + extra
