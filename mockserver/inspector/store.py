"""What the inspector keeps of each exchange: bounded in entries and in bytes, oldest dropped first.

A record (a plain tuple, see :func:`capture`) holds references to what the request path made
anyway (the headers dict, the body bytes, the answer's body messages); only what exceeds an
excerpt is sliced. The store counts each record's
bytes (headers, request body excerpt, response excerpts, a fixed overhead) and drops the oldest
records while it holds more than :data:`DEFAULT_ENTRIES` records or :data:`DEFAULT_BYTES` bytes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any

DEFAULT_ENTRIES = 10_000  # records kept (as many rows as the page keeps)
DEFAULT_BYTES = 32 * 1024 * 1024  # bytes of captured headers and bodies kept, all records together
BODY_EXCERPT = 16 * 1024  # bytes of a request body, and of a response body (all its chunks together), kept
TAIL_CHUNKS = 3  # the last chunks of a stream are kept whole beyond the excerpt (they carry the usage)
OVERHEAD = 512  # bytes counted per record for the objects around the captured bytes
HEADER_BYTES = 64  # bytes counted per response header line


ROW = ("id", "entry", "request_headers", "request_body", "request_bytes", "query_string", "response_headers",
       "start", "times", "bodies", "sizes", "response_bytes", "size")  # a row's fields: see :func:`capture`


def capture(ident: int, entry: tuple[Any, ...], request_headers: Mapping[str, str], header_bytes: int,
            request_body: bytes, query_string: bytes, response_headers: list[tuple[bytes, bytes]] | None,
            start: float, chunks: list[tuple[float, bytes]]) -> tuple[Any, ...]:
    """One finished exchange as the store keeps it: a flat tuple of :data:`ROW`.

    Every field is a number, bytes, str, None or a flat tuple of those (the headers as name, value,
    name, value, ...; the chunks' times and bytes side by side). The garbage collector stops tracking
    such a tuple at its first pass, so the rows held cost no collection time; rows holding objects
    of a class, lists or dicts stay tracked, and a thousand of them made every full collection
    longer (measured: ~19 µs more per chat request). ``chunks``: the answer's body messages as
    (``time.perf_counter()`` when handed over, bytes); ``start``: the arrival, on the same clock.
    """
    request_bytes = len(request_body)
    if request_bytes > BODY_EXCERPT:
        request_body = request_body[:BODY_EXCERPT]
    heads = tuple(chain.from_iterable(response_headers)) if response_headers else ()
    if len(chunks) == 1 and len(chunks[0][1]) <= BODY_EXCERPT:  # the usual answer: one body, kept whole
        at, body = chunks[0]
        times, bodies, sizes, response_bytes = (at,), (body,), None, len(body)
        kept = response_bytes
    else:
        sizes = tuple(len(body) for _, body in chunks)
        response_bytes = sum(sizes)
        times, bodies = tuple(at for at, _ in chunks), excerpt(chunks)
        kept = sum(len(body) for body in bodies)
    size = OVERHEAD + header_bytes + len(request_body) + len(query_string) + HEADER_BYTES * len(heads) // 2 + kept
    return (ident, entry, tuple(chain.from_iterable(request_headers.items())), request_body, request_bytes,
            query_string, heads, start, times, bodies, sizes, response_bytes, size)


class Record:
    """A kept row, read: its fields by name (made only when the page asks)."""

    __slots__ = ("id", "entry", "request_headers", "request_body", "request_bytes", "query_string",
                 "response_headers", "start", "chunks", "sizes", "response_bytes", "size")

    def __init__(self, row: tuple[Any, ...]):
        (self.id, self.entry, headers, self.request_body, self.request_bytes, self.query_string, heads, self.start,
         times, bodies, self.sizes, self.response_bytes, self.size) = row
        self.request_headers: dict[str, str] = dict(zip(headers[::2], headers[1::2], strict=True))
        self.response_headers: list[tuple[bytes, bytes]] = list(zip(heads[::2], heads[1::2], strict=True))
        self.chunks: list[tuple[float, bytes]] = list(zip(times, bodies, strict=True))

    def timed_chunks(self) -> Iterator[tuple[float, int, bytes]]:
        """(milliseconds since arrival, the chunk's size, the bytes kept of it)."""
        sizes = self.sizes
        for i, (at, body) in enumerate(self.chunks):
            yield (at - self.start) * 1000, sizes[i] if sizes else len(body), body

    def response_body(self) -> bytes:
        """The bytes of the answer that were kept, in order."""
        return b"".join(body for _, body in self.chunks)


def excerpt(chunks: list[tuple[float, bytes]]) -> tuple[bytes, ...]:
    """Each chunk's bytes kept: the first :data:`BODY_EXCERPT` bytes in all and the last few chunks (else ``b""``)."""
    kept, budget, last = [], BODY_EXCERPT, len(chunks) - TAIL_CHUNKS
    for i, (_, body) in enumerate(chunks):
        if i >= last and i > 0:
            kept.append(body if len(body) <= BODY_EXCERPT else body[-BODY_EXCERPT:])
        elif budget > 0:
            piece = body if len(body) <= budget else body[:budget]
            budget -= len(piece)
            kept.append(piece)
        else:
            kept.append(b"")
    return tuple(kept)


ID, SIZE = ROW.index("id"), ROW.index("size")


class DetailStore:
    """Records oldest first, found by id; at most ``entries`` of them and ``max_bytes`` bytes."""

    def __init__(self, entries: int = DEFAULT_ENTRIES, max_bytes: int = DEFAULT_BYTES):
        self.max_entries = entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._rows: deque[tuple[Any, ...]] = deque()

    def add(self, row: tuple[Any, ...]) -> None:
        """A row made by :func:`capture`."""
        rows = self._rows
        rows.append(row)
        self.bytes += row[SIZE]
        while len(rows) > self.max_entries or self.bytes > self.max_bytes:
            self.bytes -= rows.popleft()[SIZE]

    def get(self, ident: int) -> Record | None:
        """Ids are consecutive, so a record's place is its id less the oldest's."""
        rows = self._rows
        if not rows:
            return None
        place = ident - rows[0][ID]
        return Record(rows[place]) if 0 <= place < len(rows) and rows[place][ID] == ident else None

    def __iter__(self) -> Iterator[Record]:
        return iter([Record(row) for row in self._rows])

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        self._rows.clear()
        self.bytes = 0
