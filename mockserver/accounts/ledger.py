"""The usage ledger: one entry per successful inference call, and running totals.

Totals are kept per key and model, per model for the organization, and per
key and calendar month (the period of a spending limit), so reports and the
limit check cost a dictionary lookup, not a scan. Recording takes one lock, so
the ledger is exact when called from several threads as well as from the
event loop. The latest entries are kept for inspection (analytics headers
included); the totals cover every call since start or the last reset.

Bounds: the latest :data:`KEEP_ENTRIES` entries; per-key totals for the keys
that exist (a deleted key's totals go with it, :meth:`Ledger.forget_key`; the
organization's stay), times the models and months they called in.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from mockserver.accounts.analytics import NONE, Analytics
from mockserver.accounts.clock import month_of
from mockserver.accounts.money import Units
from mockserver.accounts.reports import Bucket, Report, ReportQuery, bucket_of, build_report
from mockserver.accounts.tally import Tally

KEEP_ENTRIES = 10_000
FOLD_EVERY = 256  # calls queued before they are added to the totals (any read adds them first)


class UsageMeta(NamedTuple):
    """What the request said about itself: the model name it asked for, and its ``requesty`` metadata."""

    model_asked: str | None = None  # the request's ``model`` (a policy, alias or id@region), when not ``model``
    tags: tuple[str, ...] = ()
    user_id: str | None = None
    trace_id: str | None = None
    violations: tuple[tuple[str, str, int, int], ...] = ()  # guardrail findings: kind, path, start, end


NO_META = UsageMeta()


class UsageEntry(NamedTuple):
    """One call's usage (a named tuple: immutable, and made once per call, so cheap to make)."""

    at: dt.datetime
    key_id: str
    operation_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: Units
    analytics: Analytics = NONE
    meta: UsageMeta = NO_META

    @property
    def asked(self) -> str:
        """The model name the request asked for (the served model when it asked for that one)."""
        return self.meta.model_asked or self.model


@dataclass(frozen=True)
class UsageSummary:
    """Totals by model; the overall totals are their sums, so they always agree."""

    by_model: Mapping[str, Tally] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(t.requests for t in self.by_model.values())

    @property
    def tokens(self) -> int:
        return sum(t.tokens for t in self.by_model.values())

    @property
    def cost(self) -> Units:
        return sum(t.cost for t in self.by_model.values())


class Ledger(Protocol):
    """Where usage lives. Implementations are safe to call from several threads."""

    def record(self, entry: UsageEntry) -> None: ...
    def usage_for_key(self, key_id: str) -> UsageSummary: ...
    def org_usage(self) -> UsageSummary: ...
    def spend_in_month(self, key_id: str, month: str) -> Units: ...
    def entries(self, key_id: str | None = None) -> list[UsageEntry]: ...  # oldest first
    def report(self, query: ReportQuery) -> Report: ...
    def forget_key(self, key_id: str) -> None: ...  # a deleted key's own totals; the organization's stay
    def clear(self) -> None: ...


class MemoryLedger:
    """The ledger in the process. A call's entry is queued; the queue is added to the totals in one pass
    when it holds :data:`FOLD_EVERY` entries or when anything is read, so every read sees every call
    recorded before it, and a call pays for one append (the totals' dictionaries stay warm through a pass)."""

    def __init__(self, keep_entries: int = KEEP_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, dict[str, Tally]] = {}
        self._org: dict[str, Tally] = {}
        self._monthly: dict[tuple[str, str], Units] = {}
        self._entries: deque[UsageEntry] = deque(maxlen=keep_entries)
        self._last_month: tuple[int, int, str] = (0, 0, "")
        self._buckets: dict[Bucket, Tally] = {}  # every call since start, by what reports filter and group on
        self._queued: list[UsageEntry] = []  # recorded, not yet in the totals (at most FOLD_EVERY)

    def record(self, entry: UsageEntry) -> None:
        with self._lock:
            queued = self._queued
            queued.append(entry)
            if len(queued) >= FOLD_EVERY:
                self._fold()

    def _fold(self) -> None:
        """Add the queued entries to the totals (the lock held)."""
        queued, self._queued = self._queued, []
        by_key, org, monthly, buckets = self._by_key, self._org, self._monthly, self._buckets
        for entry in queued:
            key_id, model, tokens, cost = entry.key_id, entry.model, entry.total_tokens, entry.cost
            by_model = by_key.get(key_id)
            if by_model is None:
                by_model = by_key[key_id] = {}
            for table in (by_model, org):
                tally = table.get(model)
                if tally is None:
                    tally = table[model] = Tally()
                tally.requests += 1
                tally.tokens += tokens
                tally.cost += cost
            month = (key_id, self._month_of(entry.at))
            monthly[month] = monthly.get(month, 0) + cost
            bucket = bucket_of(entry)
            tally = buckets.get(bucket)
            if tally is None:
                tally = buckets[bucket] = Tally()
            tally.requests += 1
            tally.tokens += tokens
            tally.cost += cost
        self._entries.extend(queued)

    def _month_of(self, at: dt.datetime) -> str:
        """:func:`month_of`, remembered for the month of the last call (nearly every call is in it)."""
        last = self._last_month
        if at.tzinfo is dt.UTC and at.month == last[1] and at.year == last[0]:
            return last[2]
        month = month_of(at)
        if at.tzinfo is dt.UTC:
            self._last_month = (at.year, at.month, month)
        return month

    def usage_for_key(self, key_id: str) -> UsageSummary:
        with self._lock:
            self._fold()
            return _summary(self._by_key.get(key_id, {}))

    def org_usage(self) -> UsageSummary:
        with self._lock:
            self._fold()
            return _summary(self._org)

    def spend_in_month(self, key_id: str, month: str) -> Units:
        with self._lock:
            if self._queued:
                self._fold()
            return self._monthly.get((key_id, month), 0)

    def entries(self, key_id: str | None = None) -> list[UsageEntry]:
        with self._lock:
            self._fold()
            return [e for e in self._entries if key_id is None or e.key_id == key_id]

    def report(self, query: ReportQuery) -> Report:
        with self._lock:
            self._fold()
            buckets = list(self._buckets.items())
        return build_report(buckets, query)

    def forget_key(self, key_id: str) -> None:
        with self._lock:
            self._fold()  # the key's queued calls count for the organization
            self._by_key.pop(key_id, None)
            for month in [month for month in self._monthly if month[0] == key_id]:
                del self._monthly[month]

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._by_key.clear()
            self._org.clear()
            self._monthly.clear()
            self._entries.clear()
            self._queued.clear()


def _summary(tallies: Mapping[str, Tally]) -> UsageSummary:
    return UsageSummary({model: Tally(t.requests, t.tokens, t.cost) for model, t in sorted(tallies.items())})
