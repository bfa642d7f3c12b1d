"""What the inspector keeps of each exchange: bounded in entries and in bytes, oldest dropped first.

A record holds references to what the request path made anyway (the headers dict, the body bytes,
the answer's body messages); only what exceeds an excerpt is sliced. The store counts each record's
bytes (headers, request body excerpt, response excerpts, a fixed overhead) and drops the oldest
records while it holds more than :data:`DEFAULT_ENTRIES` records or :data:`DEFAULT_BYTES` bytes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

DEFAULT_ENTRIES = 10_000  # records kept; the page shows as many
DEFAULT_BYTES = 32 * 1024 * 1024  # bytes of captured headers and bodies kept, all records together
BODY_EXCERPT = 16 * 1024  # bytes of a request body, and of a response body (all its chunks together), kept
TAIL_CHUNKS = 3  # the last chunks of a stream are kept whole beyond the excerpt (they carry the usage)
OVERHEAD = 512  # bytes counted per record for the objects around the captured bytes


class Record:
    """One finished exchange as captured: its journal entry, its request and its answer."""

    __slots__ = ("id", "entry", "request_headers", "request_body", "request_bytes", "query_string",
                 "response_headers", "chunks", "response_bytes", "size", "summary")

    def __init__(self, ident: int, entry: tuple[Any, ...], request_headers: Mapping[str, str], request_body: bytes,
                 query_string: bytes, response_headers: list[tuple[bytes, bytes]] | None,
                 chunks: list[tuple[float, bytes]]):
        """``chunks``: the answer's body messages as (milliseconds since arrival, bytes)."""
        self.id = ident
        self.entry = entry
        self.request_headers = request_headers
        self.request_bytes = len(request_body)
        self.request_body = request_body if len(request_body) <= BODY_EXCERPT else request_body[:BODY_EXCERPT]
        self.query_string = query_string
        self.response_headers = response_headers or []
        self.response_bytes = sum(len(body) for _, body in chunks)
        self.chunks = excerpt(chunks)
        self.summary: dict[str, Any] | None = None  # made when first shown
        self.size = (OVERHEAD + len(self.request_body) + len(query_string)
                     + sum(len(k) + len(v) for k, v in request_headers.items())
                     + sum(len(k) + len(v) for k, v in self.response_headers)
                     + sum(len(body) for _, _, body in self.chunks))


def excerpt(chunks: list[tuple[float, bytes]]) -> list[tuple[float, int, bytes]]:
    """(ms, size, bytes kept) per chunk: bytes only for the first :data:`BODY_EXCERPT` and the last few chunks."""
    kept, budget, last = [], BODY_EXCERPT, len(chunks) - TAIL_CHUNKS
    for i, (at, body) in enumerate(chunks):
        if i >= last and i > 0:
            kept.append((at, len(body), body if len(body) <= BODY_EXCERPT else body[-BODY_EXCERPT:]))
        elif budget > 0:
            piece = body if len(body) <= budget else body[:budget]
            budget -= len(piece)
            kept.append((at, len(body), piece))
        else:
            kept.append((at, len(body), b""))
    return kept


class DetailStore:
    """Records by id, oldest first; at most ``entries`` of them and ``max_bytes`` bytes."""

    def __init__(self, entries: int = DEFAULT_ENTRIES, max_bytes: int = DEFAULT_BYTES):
        self.max_entries = entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._records: OrderedDict[int, Record] = OrderedDict()

    def add(self, record: Record) -> None:
        self._records[record.id] = record
        self.bytes += record.size
        records = self._records
        while records and (len(records) > self.max_entries or self.bytes > self.max_bytes):
            _, dropped = records.popitem(last=False)
            self.bytes -= dropped.size

    def get(self, ident: int) -> Record | None:
        return self._records.get(ident)

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self._records.values()))

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        self._records.clear()
        self.bytes = 0
