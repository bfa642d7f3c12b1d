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

from mockserver.accounts.clock import month_of
from mockserver.accounts.keys import ApiKeyRecord
from mockserver.accounts.ledger import KEEP_ENTRIES, Tally, UsageEntry, UsageSummary
from mockserver.accounts.money import Units
from mockserver.accounts.reports import Report, ReportQuery, build_report
from mockserver.backends import StateFileError
from mockserver.backends.rows import ENTRY_COLUMNS, bucket_from_text, bucket_text, entry_of, entry_row
from mockserver.faults.ratelimit import count

ORG = "\x00org"  # the organization's tallies, beside each key's
BUSY_TIMEOUT_MS = 10_000
TRIM_EVERY = 128  # journal or usage inserts between trims
VERSION = "3"  # 1: keys and usage only; 2: + tallies; 3: + report buckets (totals rebuilt from usage on first open)
USAGE_COLUMNS = ", ".join(ENTRY_COLUMNS)


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
    """Every entry in ``usage`` (the latest :data:`KEEP_ENTRIES` kept); running totals in ``tallies``,
    ``monthly`` and ``buckets``, updated in the same transaction, cover every call."""

    def __init__(self, database: Database, keep_entries: int = KEEP_ENTRIES):
        self.database = database
        self.keep = keep_entries
        self._added = 0

    def record(self, entry: UsageEntry) -> None:
        with self.database.transaction() as db:
            _add(db, entry)
            seq = db.execute(f"INSERT INTO usage ({USAGE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                             entry_row(entry)).lastrowid
            self._added += 1
            if self._added % TRIM_EVERY == 0:
                db.execute("DELETE FROM usage WHERE seq <= ?", (seq - self.keep,))

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
        rows = self.database.rows(f"SELECT {USAGE_COLUMNS} FROM usage ORDER BY seq DESC LIMIT ?", (self.keep,)) \
            if key_id is None else \
            self.database.rows(f"SELECT {USAGE_COLUMNS} FROM usage WHERE key_id = ? ORDER BY seq DESC LIMIT ?",
                               (key_id, self.keep))
        return [entry_of(row) for row in reversed(rows)]

    def report(self, query: ReportQuery) -> Report:
        rows = self.database.rows("SELECT bucket, requests, tokens, cost FROM buckets")
        return build_report(((bucket_from_text(text), Tally(r, t, c)) for text, r, t, c in rows), query)

    def forget_key(self, key_id: str) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM tallies WHERE scope = ?", (key_id,))
            db.execute("DELETE FROM monthly WHERE key_id = ?", (key_id,))

    def clear(self) -> None:
        with self.database.transaction() as db:
            for table in ("usage", "tallies", "monthly", "buckets"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)


def _add(db: sqlite3.Connection, entry: UsageEntry) -> None:
    db.execute("INSERT INTO tallies (scope, model, requests, tokens, cost) VALUES (?,?,1,?,?), (?,?,1,?,?) "
               "ON CONFLICT (scope, model) DO UPDATE SET requests = requests + 1, "
               "tokens = tokens + excluded.tokens, cost = cost + excluded.cost",
               (entry.key_id, entry.model, entry.total_tokens, entry.cost, ORG, entry.model, entry.total_tokens,
                entry.cost))  # the key's and the organization's, one statement
    db.execute("INSERT INTO monthly (key_id, month, cost) VALUES (?,?,?) ON CONFLICT (key_id, month) "
               "DO UPDATE SET cost = cost + excluded.cost", (entry.key_id, month_of(entry.at), entry.cost))
    db.execute("INSERT INTO buckets (bucket, requests, tokens, cost) VALUES (?,1,?,?) ON CONFLICT (bucket) "
               "DO UPDATE SET requests = requests + 1, tokens = tokens + excluded.tokens, cost = cost + excluded.cost",
               (bucket_text(entry), entry.total_tokens, entry.cost))


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
        self.governance = SqliteSettings(self.database)
        self.deliveries = SqliteDeliveries(self.database)
        self.governance_version = self.governance.version()  # as of the last request (next_sequence)

    def _upgrade(self) -> None:
        """A file written before the totals existed gets them, summed from its usage rows, once."""
        with self.database.transaction() as db:
            if "claimed_until" not in {info[1] for info in db.execute("PRAGMA table_info(alert_deliveries)")}:
                db.execute("ALTER TABLE alert_deliveries ADD COLUMN claimed_until REAL NOT NULL DEFAULT 0")
            row = db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
            if row is not None and row[0] == VERSION:
                return
            if "meta" not in {info[1] for info in db.execute("PRAGMA table_info(usage)")}:
                db.execute("ALTER TABLE usage ADD COLUMN meta TEXT")  # before the request's metadata was kept
            for table in ("tallies", "monthly", "buckets"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
            for row in db.execute(f"SELECT {USAGE_COLUMNS} FROM usage ORDER BY seq").fetchall():
                _add(db, entry_of(row))
            db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('version', ?)", (VERSION,))

    # -- spend limits --------------------------------------------------------------------------

    def find_key(self, secret_hash: bytes, month: str) -> tuple[ApiKeyRecord | None, Units]:
        row = self.database.one(f"SELECT {KEY_COLUMNS}, m.cost FROM keys k LEFT JOIN monthly m "  # one snapshot
                                "ON m.key_id = k.id AND m.month = ? WHERE k.secret_hash = ?", (month, secret_hash))
        return (None, 0) if row is None else (_record(row[:-1]), row[-1] or 0)

    def spend_and_limit(self, key_id: str, month: str) -> tuple[Units, Units] | None:
        row = self.database.one("SELECT k.limit_units, m.cost FROM keys k LEFT JOIN monthly m "  # one statement: one snapshot
                                "ON m.key_id = k.id AND m.month = ? WHERE k.id = ?", (month, key_id))
        if row is None or row[0] is None:
            return None
        return int(row[0]), row[1] or 0

    # -- the fault sequence, the scenario, rate windows -------------------------------------------

    def next_sequence(self) -> tuple[int, int]:
        row = self.database.one("UPDATE counters SET value = value + 1 WHERE name = 'sequence' "
                                "RETURNING value, (SELECT value FROM counters WHERE name = 'generation'), "
                                "(SELECT value FROM counters WHERE name = 'governance')")
        assert row is not None
        self.governance_version = row[2]
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


def _record(row: tuple) -> ApiKeyRecord:
    key_id, name, labels, limit, expiry, created_at, secret_hash = row
    return ApiKeyRecord(id=key_id, name=name, labels=tuple(json.loads(labels)), limit=None if limit is None else int(limit),
                        expiry=None if expiry is None else dt.datetime.fromisoformat(expiry),
                        created_at=dt.datetime.fromisoformat(created_at), secret_hash=bytes(secret_hash))


class SqliteSettings:
    """Governance settings made over the API (``governance`` rows: kind, name, JSON value); each change bumps
    the ``governance`` counter, which every worker reads with its next request number."""

    def __init__(self, database: Database):
        self.database = database

    def version(self) -> int:
        return self.database.one("SELECT value FROM counters WHERE name = 'governance'")[0]

    def rows(self) -> list[tuple[str, str, str]]:
        return self.database.rows("SELECT kind, name, value FROM governance ORDER BY rowid")

    def put(self, kind: str, name: str, value: str | None) -> None:
        with self.database.transaction() as db:
            if value is None:
                db.execute("DELETE FROM governance WHERE kind = ? AND name = ?", (kind, name))
            else:
                db.execute("INSERT INTO governance (kind, name, value) VALUES (?,?,?) ON CONFLICT (kind, name) "
                           "DO UPDATE SET value = excluded.value", (kind, name, value))
            db.execute("UPDATE counters SET value = value + 1 WHERE name = 'governance'")

    def clear(self) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM governance")
            db.execute("UPDATE counters SET value = value + 1 WHERE name = 'governance'")


class SqliteDeliveries:
    """The alerts' outbox rows. A worker sends a delivery only while it holds its claim (``claimed_until``,
    wall-clock seconds), so each event is sent by one worker at a time and never again once delivered."""

    def __init__(self, database: Database):
        self.database = database

    def rows(self) -> list[tuple]:
        return self.database.rows("SELECT id, key_id, url, body, state, attempts FROM alert_deliveries ORDER BY rowid")

    def insert(self, ident: str, key_id: str, url: str, body: str) -> bool:
        return self.database.write("INSERT OR IGNORE INTO alert_deliveries (id, key_id, url, body, state, next_at, "
                                   "attempts) VALUES (?,?,?,?,'pending',0,'[]')", (ident, key_id, url, body)).rowcount > 0

    def update(self, ident: str, state: str, attempts: str) -> None:
        self.database.write("UPDATE alert_deliveries SET state = ?, attempts = ?, claimed_until = 0 WHERE id = ?",
                            (state, attempts, ident))

    def claim(self, ident: str, now: float, lease_s: float) -> str:
        """``ok`` (this worker sends it now), ``busy`` (another does), or the delivery's final state."""
        with self.database.transaction() as db:
            row = db.execute("SELECT state, claimed_until FROM alert_deliveries WHERE id = ?", (ident,)).fetchone()
            if row is None or row[0] != "pending":
                return "gone" if row is None else row[0]
            if row[1] > now:
                return "busy"
            db.execute("UPDATE alert_deliveries SET claimed_until = ? WHERE id = ?", (now + lease_s, ident))
            return "ok"

    def clear(self) -> None:
        self.database.write("DELETE FROM alert_deliveries")
