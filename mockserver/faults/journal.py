"""The request journal: the last N requests with status, latency and fault; keys appear only by id.

:class:`Journal` keeps them in the process; :class:`SharedJournal` in a shared backend, so that
``GET /__mock/journal`` shows every worker's requests (the ``worker`` field says whose).
"""

from __future__ import annotations

import logging
import os
from collections import deque
from typing import Any, Protocol

log = logging.getLogger("mockserver")
DEFAULT_SIZE = 1000
FIELDS = (
    "sequence",  # the request's number since start or the last reset (what fault decisions are seeded with)
    "time",  # unix seconds at arrival
    "method",
    "path",
    "operation",  # the spec's operationId, None for other paths
    "status",
    "latency_ms",  # arrival to the last byte handed to the server
    "fault",  # what was injected: "error:503", "ratelimit:requests", "unavailable:MODEL", "prefer:429", "stream:truncate@2"
    "key",  # the key's id ("admin", a created key's id), "unknown" for a refused key, None when none was sent
    "model",  # the model name the request asked for (a routed inference call), else None
    "served",  # the model that answered it (a fallback's later model, a load-balanced pick), else None
    "guardrail",  # the guardrail action taken on the prompt's violations (report, mask, block), else None
    "violations",  # the guardrail's findings: [{kind, path, start, end}], never the values; else None
    "worker",  # the process id of the worker that served it (several with ``--workers N``)
)


class Listener(Protocol):
    """Told of each entry of a watched exchange as it is recorded (the inspector's live feed: an exchange is
    watched when it arrived while :attr:`Journal.capturing` was on); must not raise or block."""

    def recorded(self, entry: tuple[Any, ...], exchange: Any) -> None: ...

    def cleared(self) -> None: ...


def entry_of(exchange: Any, worker: int) -> tuple[Any, ...]:
    """The journal entry of a finished :class:`~mockserver.exchange.Exchange`, in the order of :data:`FIELDS`."""
    operation, fault, stream = exchange.operation, exchange.fault, exchange.stream
    if stream is not None and stream.fired:
        fault = f"stream:{stream.fault.fault}@{stream.count}"
    return (exchange.sequence, exchange.arrived, exchange.method, exchange.path,
            operation.operation_id if operation is not None else None, exchange.status,
            exchange.latency_ms, fault, exchange.key_id, exchange.model_asked, exchange.model_served,
            exchange.guardrail, exchange.violations, worker)


class Journal:
    """The last ``size`` entries in the process: a bounded deque of plain tuples (cheap to add), turned into
    dicts only when read. :class:`SharedJournal` keeps them in a shared backend instead; the rest is the same."""

    def __init__(self, size: int = DEFAULT_SIZE):
        entries: deque[tuple[Any, ...]] = deque(maxlen=size)
        self._add = entries.append  # where an entry goes (bound once: called per request)
        self._newest = lambda limit: list(entries)[::-1][:limit]
        self._clear = entries.clear
        self.listeners: list[Listener] = []  # see :class:`Listener`
        self.capturing = False  # a listener wants each exchange's answer noted (the inspector, while a page is open)
        self.worker = os.getpid()  # each worker builds its app after it is forked

    def record(self, *values: Any) -> None:
        """One request, its values in the order of :data:`FIELDS`."""
        self._add(values)

    def last(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Newest first."""
        return [dict(zip(FIELDS, e, strict=True)) for e in self._newest(limit)]

    def record_exchange(self, exchange: Any) -> None:
        """One finished :class:`~mockserver.exchange.Exchange`: what it reached, its status, its fault."""
        entry = entry_of(exchange, self.worker)
        self._add(entry)
        if exchange.chunks is not None:  # watched (the inspector)
            for listener in self.listeners:
                listener.recorded(entry, exchange)

    def clear(self) -> None:
        self._clear()
        for listener in self.listeners:
            listener.cleared()


class SharedJournal(Journal):
    """The same entries, kept in a shared backend (one round trip per request), so every worker's are listed.

    Listeners (the inspector) are this worker's: they are told of the entries this worker records.
    """

    def __init__(self, backend: Any):
        super().__init__()
        self.backend = backend
        self._add, self._newest, self._clear = self._add_shared, backend.journal_last, backend.journal_clear

    def _add_shared(self, entry: tuple[Any, ...]) -> None:
        """The entry in the store; a store that fails (down, locked) loses the entry, never the answer it is made
        for (the journal is written before the answer's last bytes leave)."""
        try:
            self.backend.journal_add(entry)
        except Exception:  # noqa: BLE001  (the store's own errors: redis, sqlite, OS)
            log.warning("the journal entry of request %s was not stored", entry[0], exc_info=True)
