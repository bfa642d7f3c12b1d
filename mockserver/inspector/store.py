"""What the inspector keeps of each exchange: bounded in entries and in bytes, oldest dropped first.

A record holds references to what the request path made anyway (the headers dict, the body bytes,
the answer's body messages); only what exceeds an excerpt is sliced. The store counts each record's
bytes (headers, request body excerpt, response excerpts, a fixed overhead) and drops the oldest
records while it holds more than :data:`DEFAULT_ENTRIES` records or :data:`DEFAULT_BYTES` bytes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

DEFAULT_ENTRIES = 1_000  # records kept (as many as the journal's entries, faults/journal.py DEFAULT_SIZE)
DEFAULT_BYTES = 8 * 1024 * 1024  # bytes of captured headers and bodies kept, all records together
BODY_EXCERPT = 16 * 1024  # bytes of a request body, and of a response body (all its chunks together), kept
TAIL_CHUNKS = 3  # the last chunks of a stream are kept whole beyond the excerpt (they carry the usage)
OVERHEAD = 512  # bytes counted per record for the objects around the captured bytes
HEADER_BYTES = 64  # bytes counted per response header line


class Record:
    """One finished exchange as captured: its journal entry, its request and its answer."""

    __slots__ = ("id", "entry", "request_headers", "request_body", "request_bytes", "query_string",
                 "response_headers", "start", "chunks", "sizes", "response_bytes", "size", "summary")

    def __init__(self, ident: int, entry: tuple[Any, ...], request_headers: Mapping[str, str], header_bytes: int,
                 request_body: bytes, query_string: bytes, response_headers: list[tuple[bytes, bytes]] | None,
                 start: float, chunks: list[tuple[float, bytes]]):
        """``chunks``: the answer's body messages as (``time.perf_counter()`` when handed over, bytes);
        ``start``: the request's arrival on the same clock."""
        self.id = ident
        self.entry = entry
        self.request_headers = request_headers
        self.request_bytes = size = len(request_body)
        self.request_body = request_body if size <= BODY_EXCERPT else request_body[:BODY_EXCERPT]
        self.query_string = query_string
        self.response_headers = response_headers or []
        self.start = start
        if len(chunks) == 1 and len(chunks[0][1]) <= BODY_EXCERPT:  # the usual answer: one body, kept whole
            self.chunks, self.sizes = chunks, None
            self.response_bytes = kept = len(chunks[0][1])
        else:
            self.sizes = [len(body) for _, body in chunks]
            self.response_bytes = sum(self.sizes)
            self.chunks = excerpt(chunks)
            kept = sum(len(body) for _, body in self.chunks)
        self.summary: dict[str, Any] | None = None  # made when first shown
        self.size = (OVERHEAD + header_bytes + len(self.request_body) + len(query_string)
                     + HEADER_BYTES * len(self.response_headers) + kept)

    def timed_chunks(self) -> Iterator[tuple[float, int, bytes]]:
        """(milliseconds since arrival, the chunk's size, the bytes kept of it)."""
        sizes = self.sizes
        for i, (at, body) in enumerate(self.chunks):
            yield (at - self.start) * 1000, sizes[i] if sizes else len(body), body

    def response_body(self) -> bytes:
        """The bytes of the answer that were kept, in order."""
        return b"".join(body for _, body in self.chunks)


def excerpt(chunks: list[tuple[float, bytes]]) -> list[tuple[float, bytes]]:
    """Every chunk's time; its bytes only for the first :data:`BODY_EXCERPT` and the last few chunks (else ``b""``)."""
    kept, budget, last = [], BODY_EXCERPT, len(chunks) - TAIL_CHUNKS
    for i, (at, body) in enumerate(chunks):
        if i >= last and i > 0:
            kept.append((at, body if len(body) <= BODY_EXCERPT else body[-BODY_EXCERPT:]))
        elif budget > 0:
            piece = body if len(body) <= budget else body[:budget]
            budget -= len(piece)
            kept.append((at, piece))
        else:
            kept.append((at, b""))
    return kept


class DetailStore:
    """Records oldest first, found by id; at most ``entries`` of them and ``max_bytes`` bytes."""

    def __init__(self, entries: int = DEFAULT_ENTRIES, max_bytes: int = DEFAULT_BYTES):
        self.max_entries = entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._records: deque[Record] = deque()

    def add(self, record: Record) -> None:
        records = self._records
        records.append(record)
        self.bytes += record.size
        while len(records) > self.max_entries or self.bytes > self.max_bytes:
            self.bytes -= records.popleft().size

    def get(self, ident: int) -> Record | None:
        """Ids are consecutive, so a record's place is its id less the oldest's."""
        records = self._records
        if not records:
            return None
        place = ident - records[0].id
        return records[place] if 0 <= place < len(records) and records[place].id == ident else None

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self._records))

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        self._records.clear()
        self.bytes = 0
