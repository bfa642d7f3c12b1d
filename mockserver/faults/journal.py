"""The request journal: the last N requests with status, latency and fault; keys appear only by id."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Entry:
    sequence: int
    time: float  # unix seconds at arrival
    method: str
    path: str
    operation: str | None
    status: int
    latency_ms: float  # arrival to the last byte sent
    fault: str | None  # what was injected, e.g. "error:503", "ratelimit:requests", "stream:truncate@2"
    key: str | None  # the key's id ("admin", a created key's id), "unknown" for a refused key, None for none


class Journal:
    def __init__(self, size: int = DEFAULT_SIZE):
        self._entries: deque[Entry] = deque(maxlen=size)

    def record(self, **fields: Any) -> None:
        self._entries.append(Entry(**fields))

    def last(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Newest first."""
        entries = list(self._entries)[::-1]
        return [asdict(e) for e in (entries if limit is None else entries[:limit])]

    def clear(self) -> None:
        self._entries.clear()
