"""A run's event stream, read only as far as the check a test asks about needs: the pytest plugin's view of a run."""

from __future__ import annotations

from collections.abc import Iterator

from contract_tests.events import CheckFinished, Event, RunFinished, RunStarted
from contract_tests.results import CheckResult, Layer
from contract_tests.schema_layer import PREFIX


def layer_of(check: str) -> Layer:
    return Layer.SCHEMA if check.startswith(PREFIX) else Layer.SEMANTIC


class StreamReader:
    """Pulls events from ``stream`` until a check's results are complete, keeping every result it passes."""

    def __init__(self, stream: Iterator[Event]):
        self._stream = stream
        self._results: dict[str, list[CheckResult]] = {}
        self._finished: set[str] = set()  # semantic checks whose one result is in
        self._layer: Layer | None = None  # the layer the stream has reached
        self._ended = False
        self.finished: RunFinished | None = None
        started = next(stream)  # opens the session: UsageError when the run cannot start
        assert isinstance(started, RunStarted), started
        self.started = started

    def results_of(self, check: str) -> list[CheckResult]:
        """Every observation of ``check`` in this run (none when it did not run)."""
        while not self._complete(check):
            self._read()
        return self._results.get(check, [])

    def _complete(self, check: str) -> bool:
        if self._ended or check in self._finished:
            return True
        return self._layer is not None and self._layer.rank > layer_of(check).rank  # a later layer has begun

    def _read(self) -> None:
        event = next(self._stream, None)
        if event is None or isinstance(event, RunFinished):
            self._ended = True
            self.finished = event
            return
        layer = getattr(event, "layer", None)
        if layer is not None:
            self._layer = layer
        if isinstance(event, CheckFinished):
            self._results.setdefault(event.result.check, []).append(event.result)
            if event.layer is Layer.SEMANTIC:
                self._finished.add(event.result.check)

    def close(self) -> None:
        """End the run here: the session closes (created keys deleted, target closed)."""
        self._stream.close()
