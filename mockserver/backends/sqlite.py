"""The shared state in a SQLite file: one host, any number of worker processes.

Nothing is cached in a worker: every read goes to the file, so a key created through one worker
authenticates at once on every other. Each change is one transaction (``BEGIN IMMEDIATE`` when it
reads before it writes, so two processes never interleave a read-modify-write), committed before
the call that made it returns, and so before the client gets its answer. WAL mode with
``synchronous=NORMAL``: a committed transaction survives the process being killed (``kill -9``) at
any point; only a power loss or an operating-system crash may lose the last ones. Readers never
wait for the writer; writers queue on the file lock (``busy_timeout``).

Money: a key's limit is decimal text (limits are unbounded integers of 10^-10 USD); usage totals are
64-bit integers, exact up to about 920 million USD.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from mockserver.accounts.analytics import Analytics
from mockserver.accounts.keys import ApiKeyRecord
from mockserver.accounts.ledger import Tally, UsageEntry, UsageSummary
from mockserver.accounts.money import Units
from mockserver.backends import StateFileError
from mockserver.faults.ratelimit import count

ORG = "\x00org"  # the organization's tallies, beside each key's
BUSY_TIMEOUT_MS = 10_000
TRIM_EVERY = 128  # journal inserts between trims
VERSION = "2"  # 1: keys and usage only (tallies rebuilt from usage on first open)


class Database:
    """One connection per process (opened after a fork), serialised by a lock for threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.lock = threading.RLock()
        try:
            self.connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                              timeout=BUSY_TIMEOUT_MS / 1000)
            self.connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self.connection.executescript(_schema())
        except sqlite3.Error as exc:
            raise StateFileError(f"{self.path}: cannot use as a state file: {exc}") from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: the file's write lock is taken at BEGIN, so reads inside it stay true."""
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def write(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.connection.execute(sql, parameters)  # autocommit: durable before returning

    def one(self, sql: str, parameters: Sequence[Any] = ()) -> tuple | None:
        with self.lock:
            return self.connection.execute(sql, parameters).fetchone()

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple]:
        with self.lock:
            return self.connection.execute(sql, parameters).fetchall()

    def close(self) -> None:
        with self.lock:
            self.connection.close()


def _schema() -> str:
    return resources.files("mockserver.backends").joinpath("sqlite_schema.sql").read_text(encoding="utf-8")


KEY_COLUMNS = "id, name, labels, limit_units, expiry, created_at, secret_hash"


class SqliteKeyStore:
    def __init__(self, database: Database):
        self.database = database

    def add(self, record: ApiKeyRecord) -> None:
        self.database.write(
            f"INSERT INTO keys ({KEY_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
            (record.id, record.name, json.dumps(list(record.labels)), _units(record.limit), _time(record.expiry),
             _time(record.created_at), record.secret_hash))

    def get(self, key_id: str) -> ApiKeyRecord | None:
        row = self.database.one(f"SELECT {KEY_COLUMNS} FROM keys WHERE id = ?", (key_id,))
        return None if row is None else _record(row)

    def find(self, secret_hash: bytes) -> ApiKeyRecord | None:
        row = self.database.one(f"SELECT {KEY_COLUMNS} FROM keys WHERE secret_hash = ?", (secret_hash,))
        return None if row is None else _record(row)

    def list(self) -> list[ApiKeyRecord]:
        return [_record(row) for row in self.database.rows(f"SELECT {KEY_COLUMNS} FROM keys ORDER BY rowid")]

    def delete(self, key_id: str) -> bool:
        return self.database.write("DELETE FROM keys WHERE id = ?", (key_id,)).rowcount > 0

    def set_limit(self, key_id: str, limit: Units | None) -> ApiKeyRecord | None:
        row = self.database.one(f"UPDATE keys SET limit_units = ? WHERE id = ? RETURNING {KEY_COLUMNS}",
                                (_units(limit), key_id))
        return None if row is None else _record(row)

    def clear(self) -> None:
        self.database.write("DELETE FROM keys")


class SqliteLedger:
    """Every entry in ``usage``; running totals in ``tallies`` and ``monthly``, updated in the same transaction."""

    def __init__(self, database: Database):
        self.database = database

    def record(self, entry: UsageEntry) -> None:
        analytics = entry.analytics
        month = f"{entry.at.year:04d}-{entry.at.month:02d}" if entry.at.tzinfo is dt.UTC else _month(entry.at)
        with self.database.transaction() as db:
            _add(db, entry, month)
            db.execute(
                "INSERT INTO usage (at, key_id, operation_id, model, prompt_tokens, completion_tokens, total_tokens, "
                "cost_units, origin, title, fields) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (_time(entry.at), entry.key_id, entry.operation_id, entry.model, entry.prompt_tokens,
                 entry.completion_tokens, entry.total_tokens, _units(entry.cost), analytics.origin, analytics.title,
                 json.dumps(dict(analytics.fields))))

    def usage_for_key(self, key_id: str) -> UsageSummary:
        return self._summary(key_id)

    def org_usage(self) -> UsageSummary:
        return self._summary(ORG)

    def _summary(self, scope: str) -> UsageSummary:
        rows = self.database.rows("SELECT model, requests, tokens, cost FROM tallies WHERE scope = ? ORDER BY model",
                                  (scope,))
        return UsageSummary({model: Tally(requests, tokens, cost) for model, requests, tokens, cost in rows})

    def spend_in_month(self, key_id: str, month: str) -> Units:
        row = self.database.one("SELECT cost FROM monthly WHERE key_id = ? AND month = ?", (key_id, month))
        return 0 if row is None else row[0]

    def entries(self, key_id: str | None = None) -> list[UsageEntry]:
        columns = ("at, key_id, operation_id, model, prompt_tokens, completion_tokens, total_tokens, cost_units, "
                   "origin, title, fields")
        rows = self.database.rows(f"SELECT {columns} FROM usage ORDER BY seq") if key_id is None else \
            self.database.rows(f"SELECT {columns} FROM usage WHERE key_id = ? ORDER BY seq", (key_id,))
        return [_entry(row) for row in rows]

    def clear(self) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM usage")
            db.execute("DELETE FROM tallies")
            db.execute("DELETE FROM monthly")


def _add(db: sqlite3.Connection, entry: UsageEntry, month: str) -> None:
    for scope in (entry.key_id, ORG):
        db.execute("INSERT INTO tallies (scope, model, requests, tokens, cost) VALUES (?,?,1,?,?) "
                   "ON CONFLICT (scope, model) DO UPDATE SET requests = requests + 1, "
                   "tokens = tokens + excluded.tokens, cost = cost + excluded.cost",
                   (scope, entry.model, entry.total_tokens, entry.cost))
    db.execute("INSERT INTO monthly (key_id, month, cost) VALUES (?,?,?) "
               "ON CONFLICT (key_id, month) DO UPDATE SET cost = cost + excluded.cost", (entry.key_id, month, entry.cost))


class SqliteBackend:
    shared = True

    def __init__(self, path: str | Path, *, journal_size: int = 1000):
        self.database = Database(path)
        self.journal_size = journal_size
        self._added = 0
        try:
            self._upgrade()
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            self.database.close()
            raise StateFileError(f"{path}: not a state file of this mock: {exc}") from None
        self.keys = SqliteKeyStore(self.database)
        self.ledger = SqliteLedger(self.database)

    def _upgrade(self) -> None:
        """A file written before the totals existed gets them, summed from its usage rows, once."""
        with self.database.transaction() as db:
            if db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone() is not None:
                return
            db.execute("DELETE FROM tallies")
            db.execute("DELETE FROM monthly")
            for row in db.execute("SELECT at, key_id, operation_id, model, prompt_tokens, completion_tokens, "
                                  "total_tokens, cost_units, origin, title, fields FROM usage ORDER BY seq").fetchall():
                entry = _entry(row)
                _add(db, entry, _month(entry.at))
            db.execute("INSERT INTO meta (name, value) VALUES ('version', ?)", (VERSION,))

    # -- spend limits --------------------------------------------------------------------------

    def spend_and_limit(self, key_id: str, month: str) -> tuple[Units, Units] | None:
        row = self.database.one("SELECT k.limit_units, m.cost FROM keys k LEFT JOIN monthly m "  # one statement: one snapshot
                                "ON m.key_id = k.id AND m.month = ? WHERE k.id = ?", (month, key_id))
        if row is None or row[0] is None:
            return None
        return int(row[0]), row[1] or 0

    # -- the fault sequence, the scenario, rate windows -------------------------------------------

    def next_sequence(self) -> tuple[int, int]:
        row = self.database.one("UPDATE counters SET value = value + 1 WHERE name = 'sequence' "
                                "RETURNING value, (SELECT value FROM counters WHERE name = 'generation')")
        assert row is not None
        return row[0], row[1]

    def load_scenario(self, text: str) -> int:
        with self.database.transaction() as db:
            generation = db.execute("UPDATE counters SET value = value + 1 WHERE name = 'generation' "
                                    "RETURNING value").fetchone()[0]
            db.execute("UPDATE counters SET value = 0 WHERE name = 'sequence'")
            db.execute("INSERT INTO board (name, value) VALUES ('scenario', ?) "
                       "ON CONFLICT (name) DO UPDATE SET value = excluded.value", (text,))
            db.execute("DELETE FROM windows")
        return generation

    def scenario(self) -> tuple[int, str | None]:
        row = self.database.one("SELECT (SELECT value FROM counters WHERE name = 'generation'), "
                                "(SELECT value FROM board WHERE name = 'scenario')")
        assert row is not None
        return row[0], row[1]

    def rate_window(self, key: str, generation: int, now: float, tokens: int,
                    rpm: int | None, tpm: int | None) -> tuple[float, int, int, str | None]:
        with self.database.transaction() as db:
            row = db.execute("SELECT start, requests, tokens FROM windows WHERE key = ?", (key,)).fetchone()
            start, requests, used, exceeded = count(row, now, tokens, rpm, tpm)
            db.execute("INSERT INTO windows (key, start, requests, tokens) VALUES (?,?,?,?) ON CONFLICT (key) DO "
                       "UPDATE SET start = excluded.start, requests = excluded.requests, tokens = excluded.tokens",
                       (key, start, requests, used))
        return start, requests, used, exceeded

    # -- the journal ---------------------------------------------------------------------------

    def journal_add(self, entry: Sequence[Any]) -> None:
        cursor = self.database.write("INSERT INTO journal (entry) VALUES (?)", (json.dumps(list(entry)),))
        self._added += 1
        if self._added % TRIM_EVERY == 0:
            self.database.write("DELETE FROM journal WHERE seq <= ?", (cursor.lastrowid - self.journal_size,))

    def journal_last(self, limit: int | None) -> list[list[Any]]:
        size = self.journal_size if limit is None else min(limit, self.journal_size)
        return [json.loads(text) for (text,) in
                self.database.rows("SELECT entry FROM journal ORDER BY seq DESC LIMIT ?", (size,))]

    def journal_clear(self) -> None:
        self.database.write("DELETE FROM journal")

    def close(self) -> None:
        self.database.close()


def _units(amount: Units | None) -> str | None:
    return None if amount is None else str(amount)


def _time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _month(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


def _record(row: tuple) -> ApiKeyRecord:
    key_id, name, labels, limit, expiry, created_at, secret_hash = row
    return ApiKeyRecord(id=key_id, name=name, labels=tuple(json.loads(labels)), limit=None if limit is None else int(limit),
                        expiry=None if expiry is None else dt.datetime.fromisoformat(expiry),
                        created_at=dt.datetime.fromisoformat(created_at), secret_hash=bytes(secret_hash))


def _entry(row: tuple) -> UsageEntry:
    at, key_id, operation_id, model, prompt, completion, total, cost, origin, title, fields = row
    return UsageEntry(at=dt.datetime.fromisoformat(at), key_id=key_id, operation_id=operation_id, model=model,
                      prompt_tokens=prompt, completion_tokens=completion, total_tokens=total, cost=int(cost),
                      analytics=Analytics(origin, title, json.loads(fields)))
