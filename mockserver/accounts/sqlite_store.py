"""Keys and usage kept in SQLite (``mockserver serve --state PATH``).

Write-through: every change is committed to the database before the call that
made it returns, and so before the client gets its answer; reads are served
from the in-memory stores, which are filled from the database at start. The
database runs in WAL mode with ``synchronous=NORMAL``: a committed change
survives the process being killed (``kill -9``) at any point; only a power
loss or an operating-system crash may lose the last transactions.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path

from mockserver.accounts.analytics import Analytics
from mockserver.accounts.keys import ApiKeyRecord, MemoryKeyStore
from mockserver.accounts.ledger import NO_META, MemoryLedger, UsageEntry, UsageMeta
from mockserver.accounts.money import Units

SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    labels TEXT NOT NULL,
    limit_units TEXT,  -- money as decimal text: amounts are unbounded integers in memory
    expiry TEXT,
    created_at TEXT NOT NULL,
    secret_hash BLOB NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS usage (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    total_tokens INTEGER NOT NULL,
    cost_units TEXT NOT NULL,
    origin TEXT,
    title TEXT,
    fields TEXT NOT NULL,
    meta TEXT  -- JSON: model_asked, tags, user_id, trace_id (NULL for none)
);
"""


class StateFileError(Exception):
    """The state file cannot be opened or is not ours; one line naming it."""


class Database:
    """One SQLite connection shared by both stores, serialised by a lock."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.lock = threading.Lock()
        try:
            self.connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self.connection.executescript(SCHEMA)
            columns = {row[1] for row in self.connection.execute("PRAGMA table_info(usage)")}
            if "meta" not in columns:  # a state file from before request metadata was recorded
                self.connection.execute("ALTER TABLE usage ADD COLUMN meta TEXT")
        except sqlite3.Error as exc:
            raise StateFileError(f"{self.path}: cannot use as a state file: {exc}") from None

    def write(self, sql: str, parameters: tuple = ()) -> None:
        with self.lock:
            self.connection.execute(sql, parameters)  # autocommit: durable before returning

    def rows(self, sql: str) -> list[tuple]:
        with self.lock:
            return self.connection.execute(sql).fetchall()

    def close(self) -> None:
        with self.lock:
            self.connection.close()


class SqliteKeyStore(MemoryKeyStore):
    """The memory store, with every change written to the database first."""

    def __init__(self, database: Database):
        super().__init__()
        self.database = database
        for row in database.rows("SELECT id, name, labels, limit_units, expiry, created_at, secret_hash "
                                 "FROM keys ORDER BY rowid"):
            super().add(_record(row))

    def add(self, record: ApiKeyRecord) -> None:
        self.database.write(
            "INSERT INTO keys (id, name, labels, limit_units, expiry, created_at, secret_hash) VALUES (?,?,?,?,?,?,?)",
            (record.id, record.name, json.dumps(list(record.labels)), _units(record.limit), _time(record.expiry),
             _time(record.created_at), record.secret_hash))
        super().add(record)

    def delete(self, key_id: str) -> bool:
        self.database.write("DELETE FROM keys WHERE id = ?", (key_id,))
        return super().delete(key_id)

    def set_limit(self, key_id: str, limit: Units | None) -> ApiKeyRecord | None:
        self.database.write("UPDATE keys SET limit_units = ? WHERE id = ?", (_units(limit), key_id))
        return super().set_limit(key_id, limit)

    def clear(self) -> None:
        self.database.write("DELETE FROM keys")
        super().clear()


class SqliteLedger(MemoryLedger):
    """The memory ledger (totals and recent entries), with every entry written to the database first."""

    def __init__(self, database: Database):
        super().__init__()
        self.database = database
        for row in database.rows("SELECT at, key_id, operation_id, model, prompt_tokens, completion_tokens, "
                                 "total_tokens, cost_units, origin, title, fields, meta FROM usage ORDER BY seq"):
            super().record(_entry(row))

    def record(self, entry: UsageEntry) -> None:
        analytics = entry.analytics
        self.database.write(
            "INSERT INTO usage (at, key_id, operation_id, model, prompt_tokens, completion_tokens, total_tokens, "
            "cost_units, origin, title, fields, meta) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (_time(entry.at), entry.key_id, entry.operation_id, entry.model, entry.prompt_tokens,
             entry.completion_tokens, entry.total_tokens, _units(entry.cost), analytics.origin, analytics.title,
             json.dumps(dict(analytics.fields)), None if entry.meta == NO_META else json.dumps(entry.meta._asdict())))
        super().record(entry)

    def clear(self) -> None:
        self.database.write("DELETE FROM usage")
        super().clear()


def open_stores(path: str | Path) -> tuple[SqliteKeyStore, SqliteLedger]:
    """The key store and ledger kept in the SQLite file at ``path`` (created if missing)."""
    database = Database(path)
    try:
        return SqliteKeyStore(database), SqliteLedger(database)
    except (sqlite3.Error, ValueError, KeyError) as exc:
        database.close()
        raise StateFileError(f"{path}: not a state file of this mock: {exc}") from None


def _units(amount: Units | None) -> str | None:
    return None if amount is None else str(amount)


def _time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _record(row: tuple) -> ApiKeyRecord:
    key_id, name, labels, limit, expiry, created_at, secret_hash = row
    return ApiKeyRecord(id=key_id, name=name, labels=tuple(json.loads(labels)), limit=None if limit is None else int(limit),
                        expiry=None if expiry is None else dt.datetime.fromisoformat(expiry),
                        created_at=dt.datetime.fromisoformat(created_at), secret_hash=bytes(secret_hash))


def _entry(row: tuple) -> UsageEntry:
    at, key_id, operation_id, model, prompt, completion, total, cost, origin, title, fields, meta = row
    return UsageEntry(at=dt.datetime.fromisoformat(at), key_id=key_id, operation_id=operation_id, model=model,
                      prompt_tokens=prompt, completion_tokens=completion, total_tokens=total, cost=int(cost),
                      analytics=Analytics(origin, title, json.loads(fields)), meta=_meta(meta))


def _meta(text: str | None) -> UsageMeta:
    if text is None:
        return NO_META
    data = json.loads(text)
    return UsageMeta(data.get("model_asked"), tuple(data.get("tags") or ()), data.get("user_id"), data.get("trace_id"),
                     tuple(tuple(v) for v in data.get("violations") or ()))
