"""The inspector: a journal listener that keeps each exchange in the detail store and pushes it to the page.

Exchanges are captured only while a page is subscribed (the journal's ``capturing`` flag, read
by the edge): when nobody watches, a request costs the inspector nothing but a call that returns.
The listener runs in the request's own task when its journal entry is recorded. It puts the
exchange's captured parts in a row of the store (:func:`~mockserver.inspector.store.capture`:
references, sliced only past the excerpt) and encodes its summary row as one SSE event for each
subscriber. A subscriber that falls :data:`MAX_PENDING` events behind is sent the whole list again
instead (``event: snapshot``).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from mockserver.inspector.detail import detail, summary
from mockserver.inspector.masking import Masker
from mockserver.inspector.store import DEFAULT_BYTES, DEFAULT_ENTRIES, DetailStore, Record, capture

MAX_PENDING = 20_000  # events waiting for one subscriber before it is sent a fresh snapshot instead
KEEPALIVE_SECONDS = 15.0


def sse(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class Subscriber:
    def __init__(self) -> None:
        self.pending: list[bytes] = []
        self.behind = False
        self.ready = asyncio.Event()

    def push(self, event: bytes) -> None:
        if len(self.pending) >= MAX_PENDING:
            self.behind, self.pending = True, []
        elif not self.behind:
            self.pending.append(event)
        self.ready.set()


class Inspector:
    """Listens to ``journal`` (a :class:`~mockserver.faults.journal.Journal`); masks ``secrets`` wherever shown."""

    def __init__(self, journal: Any, secrets: Iterable[str] = (), *, entries: int = DEFAULT_ENTRIES,
                 max_bytes: int = DEFAULT_BYTES):
        self.store = DetailStore(entries, max_bytes)
        self.masker = Masker(secrets)
        self.subscribers: set[Subscriber] = set()
        self._ids = itertools.count(1)
        self.journal = journal
        journal.listeners.append(self)

    # -- the journal listener ------------------------------------------------------------------

    def recorded(self, entry: tuple[Any, ...], exchange: Any) -> None:
        if exchange.chunks is None:  # nobody was watching when it arrived
            return
        row = capture(next(self._ids), entry, exchange.headers, exchange.header_bytes, exchange.request_body,
                      exchange.query_string, exchange.response_headers, exchange.start, exchange.chunks)
        self.store.add(row)
        if self.subscribers:
            event = sse("entry", summary(Record(row)))
            for subscriber in self.subscribers:
                subscriber.push(event)

    def cleared(self) -> None:
        self.store.clear()
        for subscriber in self.subscribers:
            subscriber.push(b"event: reset\ndata: {}\n\n")

    # -- what the page reads -------------------------------------------------------------------

    def snapshot(self) -> bytes:
        return sse("snapshot", {"entries": [summary(r) for r in self.store], "bound": self.bound()})

    def bound(self) -> dict[str, int]:
        return {"entries": self.store.max_entries, "bytes": self.store.max_bytes, "held": len(self.store),
                "held_bytes": self.store.bytes}

    def detail(self, ident: int) -> dict[str, Any] | None:
        record = self.store.get(ident)
        return None if record is None else detail(record, self.masker)

    def subscribe(self) -> Subscriber:
        """A new subscriber; from now on each exchange is captured (until the last one leaves)."""
        subscriber = Subscriber()
        self.subscribers.add(subscriber)
        self.journal.capturing = True
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        self.journal.capturing = bool(self.subscribers)

    async def feed(self, keepalive: float = KEEPALIVE_SECONDS) -> AsyncIterator[bytes]:
        """The SSE body: the list so far, then each new entry as it is recorded."""
        subscriber = self.subscribe()
        try:
            yield self.snapshot()
            while True:
                try:
                    await asyncio.wait_for(subscriber.ready.wait(), keepalive)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                subscriber.ready.clear()
                if subscriber.behind:
                    subscriber.behind = False
                    yield self.snapshot()
                    continue
                events, subscriber.pending = subscriber.pending, []
                if events:
                    yield b"".join(events)
        finally:
            self.unsubscribe(subscriber)
