"""Usage entries and report buckets as the shared stores keep them: flat JSON-able rows, one codec for both.

An entry is the 12 values of :data:`ENTRY_COLUMNS` (time as ISO text, cost as decimal text, the
analytics fields and the request's metadata as JSON text, or None when it had none); a bucket is
the JSON text of a :class:`~mockserver.accounts.reports.Bucket` (its day as ISO text), so that it
can be a primary key in SQLite and a hash field in Redis.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from mockserver.accounts.analytics import Analytics
from mockserver.accounts.ledger import NO_META, UsageEntry, UsageMeta
from mockserver.accounts.reports import Bucket, bucket_of

ENTRY_COLUMNS = ("at", "key_id", "operation_id", "model", "prompt_tokens", "completion_tokens", "total_tokens",
                 "cost_units", "origin", "title", "fields", "meta")


def entry_row(entry: UsageEntry) -> tuple[Any, ...]:
    analytics = entry.analytics
    meta = None if entry.meta == NO_META else json.dumps(entry.meta._asdict())
    return (entry.at.isoformat(), entry.key_id, entry.operation_id, entry.model, entry.prompt_tokens,
            entry.completion_tokens, entry.total_tokens, str(entry.cost), analytics.origin, analytics.title,
            json.dumps(dict(analytics.fields)), meta)


def entry_of(row: Any) -> UsageEntry:
    at, key_id, operation_id, model, prompt, completion, total, cost, origin, title, fields, meta = row
    return UsageEntry(dt.datetime.fromisoformat(at), key_id, operation_id, model, prompt, completion, total, int(cost),
                      Analytics(origin, title, json.loads(fields)), meta_of(meta))


def meta_of(text: str | None) -> UsageMeta:
    if text is None:
        return NO_META
    data = json.loads(text)
    return UsageMeta(data.get("model_asked"), tuple(data.get("tags") or ()), data.get("user_id"), data.get("trace_id"),
                     tuple(tuple(v) for v in data.get("violations") or ()))


def bucket_text(entry: UsageEntry) -> str:
    b = bucket_of(entry)
    return json.dumps([b.key_id, b.day.isoformat(), b.model, b.model_asked, b.origin, b.user_id, list(b.tags)])


def bucket_from_text(text: str) -> Bucket:
    key_id, day, model, asked, origin, user_id, tags = json.loads(text)
    return Bucket(key_id, dt.date.fromisoformat(day), model, asked, origin, user_id, tuple(tags))

