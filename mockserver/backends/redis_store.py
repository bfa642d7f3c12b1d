"""The shared state in Redis (``--state redis://host:port/db``): any number of workers on any number of hosts.

Every change is one Lua script, so it is atomic in Redis and needs no lock in a worker (the journal's
push and trim are one pipelined round trip); reads are single commands or scripts. Nothing is cached
in a worker. What survives a crash of Redis itself is Redis's setting: with ``appendonly yes`` and
``appendfsync always`` (what the tests run) every acknowledged write is on disk before Redis answers; a worker's ``kill -9`` loses
nothing either way, since each change is in Redis before the client gets its answer.

Money: limits are decimal text (exact at any size), read with the spend in one script; totals are
``HINCRBY`` 64-bit integers of 10^-10 USD, exact up to about 920 million USD.
Every key the mock writes starts with ``mock:`` (``?prefix=`` in the URL to change it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import redis

from mockserver.accounts.clock import month_of
from mockserver.accounts.keys import ApiKeyRecord
from mockserver.accounts.ledger import KEEP_ENTRIES, Tally, UsageEntry, UsageSummary
from mockserver.accounts.money import Units
from mockserver.accounts.reports import Report, ReportQuery, build_report
from mockserver.backends import StateFileError
from mockserver.backends.rows import bucket_from_text, bucket_text, entry_of, entry_row
from mockserver.faults.ratelimit import WINDOW_S

DEFAULT_PREFIX = "mock:"
SCRIPTS = ("next_sequence", "add_key", "find_key", "delete_key", "set_limit", "record", "spend_and_limit", "rate_window",
           "load_scenario", "clear", "forget_key", "governance_put", "delivery_insert", "delivery_claim")


def _script(client: redis.Redis, name: str):
    return client.register_script(resources.files("mockserver.backends").joinpath(f"lua/{name}.lua").read_text())


class RedisKeyStore:
    def __init__(self, backend: RedisBackend):
        self.r = backend.client
        self.p = backend.prefix
        self.s = backend.scripts

    def add(self, record: ApiKeyRecord) -> None:
        fields = {"id": record.id, "name": record.name, "labels": json.dumps(list(record.labels)),
                  "created_at": record.created_at.isoformat(), "secret_hash": record.secret_hash.hex()}
        if record.limit is not None:
            fields["limit"] = str(record.limit)
        if record.expiry is not None:
            fields["expiry"] = record.expiry.isoformat()
        pairs = [item for pair in fields.items() for item in pair]
        self.s["add_key"](keys=[f"{self.p}key:{record.id}", f"{self.p}keyhash:{fields['secret_hash']}",
                                f"{self.p}keys", f"{self.p}keyorder"], args=[record.id, *pairs])

    def get(self, key_id: str) -> ApiKeyRecord | None:
        return _record(self.r.hgetall(f"{self.p}key:{key_id}"))

    def find(self, secret_hash: bytes) -> ApiKeyRecord | None:
        return self.find_with_spend(secret_hash, "")[0]

    def find_with_spend(self, secret_hash: bytes, month: str) -> tuple[ApiKeyRecord | None, Units]:
        found = self.s["find_key"](keys=[f"{self.p}keyhash:{secret_hash.hex()}"], args=[self.p, month])
        if not found:
            return None, 0
        flat, spent = found
        return _record(dict(zip(flat[::2], flat[1::2], strict=True))), int(spent)

    def list(self) -> list[ApiKeyRecord]:
        ids = self.r.zrange(f"{self.p}keys", 0, -1)
        pipe = self.r.pipeline(transaction=False)
        for key_id in ids:
            pipe.hgetall(f"{self.p}key:{key_id}")
        return [record for fields in pipe.execute() if (record := _record(fields)) is not None]

    def delete(self, key_id: str) -> bool:
        return bool(self.s["delete_key"](keys=[f"{self.p}key:{key_id}", f"{self.p}keys"], args=[self.p, key_id]))

    def set_limit(self, key_id: str, limit: Units | None) -> ApiKeyRecord | None:
        flat = self.s["set_limit"](keys=[f"{self.p}key:{key_id}"], args=["" if limit is None else str(limit)])
        return _record(dict(zip(flat[::2], flat[1::2], strict=True)))

    def clear(self) -> None:
        self.s["clear"](keys=[], args=[self.p, "keys"])


class RedisLedger:
    def __init__(self, backend: RedisBackend, keep_entries: int = KEEP_ENTRIES):
        self.r = backend.client
        self.p = backend.prefix
        self.s = backend.scripts
        self.keep = keep_entries

    def record(self, entry: UsageEntry) -> None:
        p = self.p
        self.s["record"](keys=[f"{p}tally:{entry.key_id}", f"{p}org", f"{p}month:{entry.key_id}", f"{p}entries",
                               f"{p}tallied", f"{p}buckets"],
                         args=[entry.model, entry.total_tokens, entry.cost, month_of(entry.at),
                               json.dumps(entry_row(entry)), self.keep, entry.key_id, bucket_text(entry)])

    def usage_for_key(self, key_id: str) -> UsageSummary:
        return _summary(self.r.hgetall(f"{self.p}tally:{key_id}"))

    def org_usage(self) -> UsageSummary:
        return _summary(self.r.hgetall(f"{self.p}org"))

    def spend_in_month(self, key_id: str, month: str) -> Units:
        return int(self.r.hget(f"{self.p}month:{key_id}", month) or 0)

    def entries(self, key_id: str | None = None) -> list[UsageEntry]:
        rows = (json.loads(text) for text in self.r.lrange(f"{self.p}entries", 0, -1))
        return [entry_of(row) for row in rows if key_id is None or row[1] == key_id]

    def report(self, query: ReportQuery) -> Report:
        tallies: dict[str, Tally] = {}
        for name, value in self.r.hgetall(f"{self.p}buckets").items():
            text, _, what = name.rpartition("\x00")
            _count(tallies.setdefault(text, Tally()), what, int(value))
        return build_report(((bucket_from_text(text), tally) for text, tally in tallies.items()), query)

    def forget_key(self, key_id: str) -> None:
        self.s["forget_key"](keys=[f"{self.p}tally:{key_id}", f"{self.p}month:{key_id}", f"{self.p}tallied"],
                             args=[key_id])

    def clear(self) -> None:
        self.s["clear"](keys=[], args=[self.p, "usage"])


class RedisSettings:
    """Governance settings made over the API: a hash of JSON values, their order in a sorted set; each
    change bumps ``governance``, which every worker reads with its next request number."""

    def __init__(self, backend: RedisBackend):
        self.r, self.p, self.s = backend.client, backend.prefix, backend.scripts

    def version(self) -> int:
        return int(self.r.get(f"{self.p}governance") or 0)

    def rows(self) -> list[tuple[str, str, str]]:
        names = self.r.zrange(f"{self.p}settings:order", 0, -1)
        values = self.r.hmget(f"{self.p}settings", names) if names else []
        return [(*name.split("\x00", 1), value) for name, value in zip(names, values, strict=True) if value is not None]

    def put(self, kind: str, name: str, value: str | None) -> None:
        p = self.p
        self.s["governance_put"](keys=[f"{p}settings", f"{p}settings:order", f"{p}settings:count", f"{p}governance"],
                                 args=[f"{kind}\x00{name}", "" if value is None else value])

    def clear(self) -> None:
        p = self.p
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(f"{p}settings", f"{p}settings:order")
        pipe.incr(f"{p}governance")
        pipe.execute()


class RedisDeliveries:
    """The alerts' outbox: a hash per delivery, their order in a sorted set, a claim key (``SET NX PX``) held
    by the worker sending one."""

    def __init__(self, backend: RedisBackend):
        self.r, self.p, self.s = backend.client, backend.prefix, backend.scripts

    def rows(self) -> list[tuple]:
        ids = self.r.zrange(f"{self.p}alerts", 0, -1)
        pipe = self.r.pipeline(transaction=False)
        for ident in ids:
            pipe.hmget(f"{self.p}alert:{ident}", "key_id", "url", "body", "state", "attempts")
        return [(ident, *fields) for ident, fields in zip(ids, pipe.execute(), strict=True) if fields[0] is not None]

    def insert(self, ident: str, key_id: str, url: str, body: str) -> bool:
        return bool(self.s["delivery_insert"](keys=[f"{self.p}alert:{ident}", f"{self.p}alerts", f"{self.p}alerts:count"],
                                              args=[ident, key_id, url, body]))

    def update(self, ident: str, state: str, attempts: str) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(f"{self.p}alert:{ident}", mapping={"state": state, "attempts": attempts})
        pipe.delete(f"{self.p}alertclaim:{ident}")
        pipe.execute()

    def claim(self, ident: str, now: float, lease_s: float) -> str:
        return self.s["delivery_claim"](keys=[f"{self.p}alert:{ident}", f"{self.p}alertclaim:{ident}"],
                                        args=[int(lease_s * 1000)])

    def clear(self) -> None:
        self.s["clear"](keys=[], args=[self.p, "alerts"])


def client_url(url: str) -> tuple[str, str]:
    """redis-py's URL (the mock's own ``prefix`` parameter taken out, the others quoted again) and the prefix."""
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    prefix = query.pop("prefix", [DEFAULT_PREFIX])[0]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True))), prefix


class RedisBackend:
    shared = True

    def __init__(self, url: str, *, journal_size: int = 1000):
        parts = urlsplit(url)
        clean, self.prefix = client_url(url)
        shown = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1], query=""))
        try:
            self.client = redis.Redis.from_url(clean, decode_responses=True, socket_connect_timeout=5,
                                               socket_timeout=10, health_check_interval=30)
            self.client.ping()
            self.scripts = {name: _script(self.client, name) for name in SCRIPTS}
        except (redis.RedisError, ValueError) as exc:
            raise StateFileError(f"{shown}: cannot use Redis: {exc}") from None
        self.journal_size = journal_size
        self.keys = RedisKeyStore(self)
        self.ledger = RedisLedger(self)
        self.governance = RedisSettings(self)
        self.deliveries = RedisDeliveries(self)
        self.governance_version = self.governance.version()  # as of the last request (next_sequence)

    def spend_and_limit(self, key_id: str, month: str) -> tuple[Units, Units] | None:
        found = self.scripts["spend_and_limit"](keys=[f"{self.prefix}key:{key_id}", f"{self.prefix}month:{key_id}"],
                                                args=[month])
        return (int(found[0]), int(found[1])) if found else None

    def find_key(self, secret_hash: bytes, month: str) -> tuple[ApiKeyRecord | None, Units]:
        return self.keys.find_with_spend(secret_hash, month)

    def next_sequence(self) -> tuple[int, int]:
        p = self.prefix
        sequence, generation, self.governance_version = self.scripts["next_sequence"](
            keys=[f"{p}sequence", f"{p}generation", f"{p}governance"])
        return sequence, generation

    def load_scenario(self, text: str) -> int:
        p = self.prefix
        return int(self.scripts["load_scenario"](keys=[f"{p}scenario", f"{p}generation", f"{p}sequence"], args=[text]))

    def scenario(self) -> tuple[int, str | None]:
        generation, text = self.client.mget(f"{self.prefix}generation", f"{self.prefix}scenario")
        return int(generation or 0), text

    def rate_window(self, key: str, generation: int, now: float, tokens: int,
                    rpm: int | None, tpm: int | None) -> tuple[float, int, int, str | None]:
        start, requests, used, exceeded = self.scripts["rate_window"](
            keys=[f"{self.prefix}window:{generation}:{key}"],
            args=[repr(now), tokens, "" if rpm is None else rpm, "" if tpm is None else tpm, WINDOW_S])
        return float(start), int(requests), int(used), exceeded or None

    def journal_add(self, entry: Sequence[Any]) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.lpush(f"{self.prefix}journal", json.dumps(list(entry)))
        pipe.ltrim(f"{self.prefix}journal", 0, self.journal_size - 1)
        pipe.execute()

    def journal_last(self, limit: int | None) -> list[list[Any]]:
        end = self.journal_size if limit is None else min(limit, self.journal_size)
        return [json.loads(text) for text in self.client.lrange(f"{self.prefix}journal", 0, end - 1)] if end else []

    def journal_clear(self) -> None:
        self.client.delete(f"{self.prefix}journal")

    def close(self) -> None:
        self.client.close()


def _record(fields: dict[str, str]) -> ApiKeyRecord | None:
    if not fields:
        return None
    limit, expiry = fields.get("limit"), fields.get("expiry")
    return ApiKeyRecord(id=fields["id"], name=fields["name"], labels=tuple(json.loads(fields["labels"])),
                        limit=None if limit is None else int(limit),
                        expiry=None if expiry is None else dt.datetime.fromisoformat(expiry),
                        created_at=dt.datetime.fromisoformat(fields["created_at"]),
                        secret_hash=bytes.fromhex(fields["secret_hash"]))


def _summary(fields: dict[str, str]) -> UsageSummary:
    by_model: dict[str, Tally] = {}
    for name, value in fields.items():
        model, _, what = name.rpartition("\x00")
        _count(by_model.setdefault(model, Tally()), what, int(value))
    return UsageSummary(dict(sorted(by_model.items())))


def _count(tally: Tally, what: str, value: int) -> None:
    """One field of a tally kept as hash fields ``NAME\\0r`` (requests), ``\\0t`` (tokens), ``\\0c`` (cost)."""
    if what == "r":
        tally.requests = value
    elif what == "t":
        tally.tokens = value
    else:
        tally.cost = value
