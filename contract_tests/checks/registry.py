"""The registry of Layer-2 checks: plain functions, each with a level, a reason and a source."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contract_tests.checks.context import CheckContext

MUST = "MUST"
SHOULD = "SHOULD"


class CheckFailed(AssertionError):
    """The target did not do what is documented: the message says what was received and what was documented."""


class CheckSkipped(Exception):
    """The check cannot run here (no embedding model, writes not allowed, budget reached, ...)."""


@dataclass(frozen=True)
class Check:
    name: str
    operation: str  # the operation the matrix files the check under, e.g. "POST /chat/completions"
    level: str
    reason: str
    source: str
    func: Callable[[CheckContext], None]
    basis: str = "docs"  # "overlay": holds only by an overlay addition, so a failure is an upstream-spec gap
    live_level: str | None = None  # a different level against a live (non-deterministic) router
    writes: bool = False  # creates, changes or deletes keys

    def level_for(self, deterministic: bool) -> str:
        return self.level if deterministic or self.live_level is None else self.live_level


REGISTRY: dict[str, Check] = {}


def check(name: str, *, operation: str, level: str, reason: str, source: str, basis: str = "docs",
          live_level: str | None = None, writes: bool = False) -> Callable[[Callable], Callable]:
    """Register the decorated function as the check ``name``."""

    def register(func: Callable[[CheckContext], None]) -> Callable[[CheckContext], None]:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} is registered twice")
        REGISTRY[name] = Check(name, operation, level, reason, source, func, basis, live_level, writes)
        return func

    return register


def all_checks() -> list[Check]:
    """Every registered check, in registration order (``contract_tests.checks`` imports them all)."""
    import contract_tests.checks  # noqa: F401

    return list(REGISTRY.values())


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)
