"""A semantic check: a plain function with its name, level, reason and the document it rests on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contract_tests.checks.context import CheckContext
    from contract_tests.checks.judge import Judge


@dataclass(frozen=True)
class Check:
    name: str
    func: Callable[[CheckContext], None]
    operation: str  # the operation the matrix files the check under, e.g. "POST /chat/completions"
    level: str  # MUST or SHOULD (contract_tests.results)
    reason: str
    source: str  # the documents it rests on, "; "-separated: spec/requesty-openapi.yml, spec/overlay.yml, ...
    basis: str = "docs"  # "overlay": holds only by an overlay addition, so a failure is an upstream-spec gap
    live_level: str | None = None  # a different level against a live (non-deterministic) router
    writes: bool = False  # creates, changes or deletes keys
    judge: Judge | None = None  # its pure part, which the audit applies to recorded or passing traffic
    not_judged: str = ""  # without a judge: why traffic cannot judge it (it needs requests of its own)
    needs: tuple[str, ...] = ()  # other operations it calls, e.g. "POST /api-keys": a spec without them skips it

    def level_for(self, deterministic: bool) -> str:
        return self.level if deterministic or self.live_level is None else self.live_level
