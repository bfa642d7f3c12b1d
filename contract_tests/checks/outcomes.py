"""How a check ends when it does not pass: it failed (what was received, what was documented), or it cannot run here."""

from __future__ import annotations


class CheckFailed(AssertionError):
    """The target did not do what is documented: the message says what was received and what was documented.

    ``exchange``: the exchange (a :class:`contract_tests.traffic.Seen`) it was found on, when a judge knows it.
    """

    def __init__(self, message: str = "", exchange: object = None):
        super().__init__(message)
        self.exchange = exchange


class CheckSkipped(Exception):
    """The check cannot run here (no embedding model, writes not allowed, budget reached, ...)."""


NOT_IMPLEMENTED = "not implemented on the target"


class NotImplementedOnTarget(CheckSkipped):
    """A documented operation the check depends on is missing on the target (404 unknown path, 405)."""

    def __init__(self, operation: str, status: int):
        super().__init__(f"{NOT_IMPLEMENTED}: {operation} (answered {status})")
        self.operation = operation


def expect(condition: object, message: str) -> None:
    """Fail the check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)
