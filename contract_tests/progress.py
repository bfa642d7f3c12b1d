"""A one-line progress display on stderr, for people at a terminal; silent in CI and when piped.

It consumes the run's events (:mod:`contract_tests.events`).
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from contract_tests.events import BudgetStopped, CheckFinished, CheckStarted, Event, RunFinished


def progress_line(event: Event) -> str | None:
    """What the progress line says for ``event`` (None: nothing new)."""
    match event:
        case CheckStarted(layer=layer, check=check, requests=requests):
            return f"{layer}: {check} ({requests} requests)"
        case CheckFinished(result=result, requests=requests) if result.operation:
            return f"{result.layer}: {result.operation} ({requests} requests)"
        case BudgetStopped(layer=layer, reason=reason):
            return f"{layer}: stopped: {reason}"
    return None


class Progress:
    def __init__(self, stream: TextIO | None = None, interval: float = 0.1):
        self.stream = stream or sys.stderr
        self.interval = interval
        self._last = 0.0
        self._shown = False

    @staticmethod
    def wanted(stream: TextIO | None = None) -> bool:
        stream = stream or sys.stderr
        return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("CI")

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.close()
            return
        line = progress_line(event)
        now = time.monotonic()
        if line is None or now - self._last < self.interval:
            return
        self._last = now
        self.stream.write("\r\x1b[K" + line[:120])
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
