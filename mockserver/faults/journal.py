"""The request journal: the last N requests with status, latency and fault; keys appear only by id.

:class:`Journal` keeps them in the process; :class:`SharedJournal` in a shared backend, so that
``GET /__mock/journal`` shows every worker's requests (the ``worker`` field says whose).
"""

from __future__ import annotations

import os
from collections import deque
from typing import Any

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
    "worker",  # the process id of the worker that served it
)


def _values(exchange: Any, worker: int) -> tuple[Any, ...]:
    operation, fault, stream = exchange.operation, exchange.fault, exchange.stream
    if stream is not None and stream.fired:
        fault = f"stream:{stream.fault.fault}@{stream.count}"
    return (exchange.sequence, exchange.arrived, exchange.method, exchange.path,
            operation.operation_id if operation is not None else None, exchange.status,
            exchange.latency_ms, fault, exchange.key_id, worker)


class Journal:
    """A bounded deque of plain tuples (cheap to add), turned into dicts only when read."""

    def __init__(self, size: int = DEFAULT_SIZE):
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=size)
        self.worker = os.getpid()

    def record(self, *values: Any) -> None:
        """One request, its values in the order of :data:`FIELDS`."""
        self._entries.append(values)

    def last(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Newest first."""
        entries = list(self._entries)[::-1]
        return [dict(zip(FIELDS, e, strict=True)) for e in (entries if limit is None else entries[:limit])]

    def record_exchange(self, exchange: Any) -> None:
        """One finished :class:`~mockserver.exchange.Exchange`: what it reached, its status, its fault."""
        operation, fault, stream = exchange.operation, exchange.fault, exchange.stream  # _values, inlined: hot path
        if stream is not None and stream.fired:
            fault = f"stream:{stream.fault.fault}@{stream.count}"
        self._entries.append((exchange.sequence, exchange.arrived, exchange.method, exchange.path,
                              operation.operation_id if operation is not None else None, exchange.status,
                              exchange.latency_ms, fault, exchange.key_id, self.worker))

    def clear(self) -> None:
        self._entries.clear()


class SharedJournal:
    """The same entries, kept in a shared backend (one round trip per request)."""

    def __init__(self, backend: Any):
        self.backend = backend
        self.worker = os.getpid()  # each worker builds its app after it is forked

    def record(self, *values: Any) -> None:
        self.backend.journal_add(values)

    def last(self, limit: int | None = None) -> list[dict[str, Any]]:
        return [dict(zip(FIELDS, e, strict=True)) for e in self.backend.journal_last(limit)]

    def record_exchange(self, exchange: Any) -> None:
        self.backend.journal_add(_values(exchange, self.worker))

    def clear(self) -> None:
        self.backend.journal_clear()
