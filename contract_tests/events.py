"""What a run tells as it goes: one stream of typed events (the map: docs/suite-events.md).

:func:`contract_tests.runner.run_events` emits them in this order:
``RunStarted``, then for each layer its ``CheckStarted`` / ``CheckFinished``
(and at most one ``BudgetStopped``), then ``RunFinished``. The progress line,
the report files and the pytest plugin all read this one stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass

from contract_tests.results import CheckResult, Layer, RunResult
from contract_tests.target import Exchange


@dataclass(frozen=True)
class RunStarted:
    """The session is open: the target answered and took the key."""

    target: str  # as reports show it ("embedded mock" in-process)
    profile: str
    seed: int
    schema_checks: tuple[str, ...]  # what each layer will run, after --include / --exclude
    semantic_checks: tuple[str, ...]
    notes: tuple[str, ...]  # what a reader should know about this run (writes disabled, ...)


@dataclass(frozen=True)
class CheckStarted:
    """A semantic check starts. (Schemathesis runs the schema checks together, so that layer emits none.)"""

    layer: Layer
    check: str
    operation: str
    requests: int  # sent so far in the run


@dataclass(frozen=True)
class CheckFinished:
    """One observation of one check on one operation: one per semantic check, one per check and scenario on the
    schema layer (the run folds them into one cell per operation x check)."""

    result: CheckResult
    requests: int

    @property
    def layer(self) -> Layer:
        return self.result.layer


@dataclass(frozen=True)
class BudgetStopped:
    """A budget stopped a layer: the schema layer at its share of the requests, or the run at a limit."""

    layer: Layer
    reason: str
    requests: int


@dataclass(frozen=True)
class RunFinished:
    """The run is over and its session closed (created keys deleted): the result every report is written from."""

    result: RunResult
    exchanges: tuple[Exchange, ...]  # every request of the run, redacted: run.log


Event = RunStarted | CheckStarted | CheckFinished | BudgetStopped | RunFinished
Consumer = Callable[[Event], None]


def deliver(events: Iterator[Event], consumers: Iterable[Consumer]) -> RunResult:
    """Hand every event to each consumer, in order; the result of the closing :class:`RunFinished`. The stream is
    closed whatever happens, so a consumer that raises still ends the session (its clean-up runs)."""
    with closing(events):
        for event in events:
            for consume in consumers:
                consume(event)
    assert isinstance(event, RunFinished)
    return event.result
