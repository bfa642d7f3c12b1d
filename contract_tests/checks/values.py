"""Reading values out of a target's answers, for the checks."""

from __future__ import annotations

from contract_tests.checks.outcomes import CheckFailed


def number(value: object) -> bool:
    """A JSON number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def usage_of(body: dict, what: str) -> dict:
    """The ``usage`` object of an answer, or a failure that says what came instead."""
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        raise CheckFailed(f"{what}: expected a usage object, received {str(usage)[:200]}")
    return usage
