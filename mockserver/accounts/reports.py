"""Usage reports filtered and grouped by what the calls carried: tag, user, origin, model asked for, day.

The ledger keeps one running :class:`Tally` per :class:`Bucket` (every distinct combination of key,
UTC day, model served, model asked for, origin, user and tag set), so a report is a scan of the
buckets, never of the calls, and covers every call since start. Each call is in exactly one bucket,
and a grouping puts each bucket in exactly one group, so the groups of a report always add up to its
totals. Grouping by ``tag`` groups by the call's *set* of tags (sorted, joined by commas; ``null``
for untagged calls); the ``tag`` filter keeps the calls that carry that tag.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mockserver.accounts.tally import Tally

GROUPS = ("model", "model_asked", "tag", "user_id", "origin", "key", "day")


class Bucket(NamedTuple):
    key_id: str
    day: dt.date
    model: str
    model_asked: str
    origin: str | None
    user_id: str | None
    tags: tuple[str, ...]


def bucket_of(entry: Any) -> Bucket:
    """The bucket of a :class:`~mockserver.accounts.ledger.UsageEntry`."""
    meta, at = entry.meta, entry.at
    day = at.date() if at.tzinfo is dt.UTC else at.astimezone(dt.UTC).date()
    tags = meta.tags if len(meta.tags) < 2 else tuple(sorted(meta.tags))
    return Bucket(entry.key_id, day, entry.model, meta.model_asked or entry.model, entry.analytics.origin,
                  meta.user_id, tags)


@dataclass(frozen=True, slots=True)
class ReportQuery:
    key_id: str | None = None  # None: the whole organization
    start: dt.date | None = None  # UTC days, both ends included
    end: dt.date | None = None
    tag: str | None = None
    user_id: str | None = None
    origin: str | None = None
    model: str | None = None  # served
    model_asked: str | None = None
    group_by: str | None = None  # one of GROUPS

    def keeps(self, bucket: Bucket) -> bool:
        return ((self.key_id is None or bucket.key_id == self.key_id)
                and (self.start is None or bucket.day >= self.start)
                and (self.end is None or bucket.day <= self.end)
                and (self.tag is None or self.tag in bucket.tags)
                and (self.user_id is None or bucket.user_id == self.user_id)
                and (self.origin is None or bucket.origin == self.origin)
                and (self.model is None or bucket.model == self.model)
                and (self.model_asked is None or bucket.model_asked == self.model_asked))


@dataclass(frozen=True)
class Report:
    total: Tally = field(default_factory=Tally)
    by_model: dict[str, Tally] = field(default_factory=dict)
    groups: dict[str | None, Tally] | None = None


def group_of(bucket: Bucket, group_by: str) -> str | None:
    if group_by == "tag":
        return ",".join(bucket.tags) or None
    if group_by == "key":
        return bucket.key_id
    if group_by == "day":
        return bucket.day.isoformat()
    return getattr(bucket, group_by)


def build_report(buckets: Iterable[tuple[Bucket, Tally]], query: ReportQuery) -> Report:
    total, by_model = Tally(), {}
    groups: dict[str | None, Tally] | None = {} if query.group_by else None
    for bucket, tally in buckets:
        if not query.keeps(bucket):
            continue
        total.add(tally)
        by_model.setdefault(bucket.model, Tally()).add(tally)
        if groups is not None:
            groups.setdefault(group_of(bucket, query.group_by), Tally()).add(tally)
    ordered = None if groups is None else dict(sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or "")))
    return Report(total, dict(sorted(by_model.items())), ordered)
