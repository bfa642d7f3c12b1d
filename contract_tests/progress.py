"""A one-line progress display on stderr, for people at a terminal; silent in CI and when piped."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


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

    def __call__(self, line: str) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        self.stream.write("\r\x1b[K" + line[:120])
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
