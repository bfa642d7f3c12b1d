"""The alerts' outbox: each crossing's event kept once, POSTed in the background, retried with backoff.

:meth:`Outbox.add` is what the call that crossed a threshold does: one dictionary insert (and, with
``--state``, one SQLite row) and a notify, so the call is never delayed by the receiver. A daemon
thread sends: a 2xx answer delivers; anything else (an error status, a refused connection, a timeout)
is retried after ``backoff_ms``, doubled for each further retry, up to ``retries`` retries, then the
delivery is marked failed. Each attempt is recorded (time, status or error) for ``/__mock/alerts``.
With ``--state`` the outbox is a table of the state file, so deliveries pending when the process is
killed are sent after the restart. A crossing is added at most once (its id is the table's key).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from mockserver.governance.alerts import SIGNATURE_HEADER, sign

TABLE = """
CREATE TABLE IF NOT EXISTS alert_deliveries (
    id TEXT PRIMARY KEY,      -- the crossing: key id, month, threshold
    key_id TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,       -- the event, as sent (no secret in it)
    state TEXT NOT NULL,      -- pending | delivered | failed
    next_at REAL NOT NULL,
    attempts TEXT NOT NULL    -- JSON list of {at, status, error}
);
"""
MAX_KEPT = 1000  # finished deliveries kept in memory for /__mock/alerts


@dataclass(slots=True)
class Delivery:
    id: str
    key_id: str
    url: str
    body: bytes
    state: str = "pending"
    next_at: float = 0.0
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        event = json.loads(self.body)
        return {"id": self.id, "event_id": event.get("id"), "key_id": self.key_id, "url": self.url,
                "state": self.state, "threshold": event.get("threshold"), "spend_usd": event.get("spend_usd"),
                "attempts": list(self.attempts)}


@dataclass(frozen=True, slots=True)
class Retry:
    retries: int
    backoff_ms: float
    timeout_s: float


class Outbox:
    def __init__(self, retry: Callable[[], Retry], secret_for: Callable[[Delivery], str | None], database: Any = None):
        self._retry, self._secret_for, self._database = retry, secret_for, database
        self._cond = threading.Condition()
        self._deliveries: dict[str, Delivery] = {}
        self._thread: threading.Thread | None = None
        self._stopped = False
        if database is not None:
            database.connection.executescript(TABLE)
            for row in database.rows("SELECT id, key_id, url, body, state, next_at, attempts FROM alert_deliveries "
                                     "ORDER BY rowid"):
                delivery = Delivery(row[0], row[1], row[2], row[3].encode(), row[4], row[5], json.loads(row[6]))
                self._deliveries[delivery.id] = delivery
            if any(d.state == "pending" for d in self._deliveries.values()):
                self._start()

    def knows(self, crossing: str) -> bool:
        return crossing in self._deliveries

    def add(self, crossing: str, key_id: str, url: str, body: bytes) -> bool:
        """Queue the crossing's event; False (and nothing queued) when that crossing was queued before."""
        with self._cond:
            if crossing in self._deliveries:
                return False
            delivery = Delivery(crossing, key_id, url, body, next_at=time.monotonic())
            self._deliveries[crossing] = delivery
            self._save(delivery, insert=True)
            self._start()
            self._cond.notify()
            return True

    def list(self) -> list[dict[str, Any]]:
        with self._cond:
            return [d.view() for d in self._deliveries.values()]

    def clear(self) -> None:
        with self._cond:
            self._deliveries.clear()
            if self._database is not None:
                self._database.write("DELETE FROM alert_deliveries")

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # -- the sender ------------------------------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="mock-alert-outbox", daemon=True)
            self._thread.start()

    def _next(self) -> Delivery | None:
        """The next due delivery, waiting for one; None once stopped."""
        with self._cond:
            while not self._stopped:
                pending = [d for d in self._deliveries.values() if d.state == "pending"]
                now = time.monotonic()
                due = min(pending, key=lambda d: d.next_at, default=None)
                if due is not None and due.next_at <= now:
                    return due
                self._cond.wait(None if due is None else due.next_at - now)
            return None

    def _run(self) -> None:
        with httpx.Client(follow_redirects=False) as client:
            while (delivery := self._next()) is not None:
                self._attempt(client, delivery)

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> None:
        retry = self._retry()
        headers = {"Content-Type": "application/json", "User-Agent": "mockserver-alerts"}
        secret = self._secret_for(delivery)
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, delivery.body)
        record: dict[str, Any] = {"at": time.time(), "status": None, "error": None}
        try:
            status = client.post(delivery.url, content=delivery.body, headers=headers, timeout=retry.timeout_s).status_code
            record["status"] = status
            ok = 200 <= status < 300
        except httpx.HTTPError as exc:
            record["error"] = type(exc).__name__
            ok = False
        with self._cond:
            delivery.attempts.append(record)
            if ok:
                delivery.state = "delivered"
            elif len(delivery.attempts) > retry.retries:
                delivery.state = "failed"
            else:
                delivery.next_at = time.monotonic() + retry.backoff_ms / 1000 * 2 ** (len(delivery.attempts) - 1)
            self._save(delivery)
            self._trim()

    def _trim(self) -> None:
        finished = [k for k, d in self._deliveries.items() if d.state != "pending"]
        for key in finished[:max(0, len(finished) - MAX_KEPT)]:
            del self._deliveries[key]

    def _save(self, delivery: Delivery, insert: bool = False) -> None:
        if self._database is None:
            return
        if insert:
            self._database.write("INSERT OR IGNORE INTO alert_deliveries (id, key_id, url, body, state, next_at, "
                                 "attempts) VALUES (?,?,?,?,?,?,?)", (delivery.id, delivery.key_id, delivery.url,
                                                                      delivery.body.decode(), delivery.state, 0.0, "[]"))
        else:
            self._database.write("UPDATE alert_deliveries SET state = ?, attempts = ? WHERE id = ?",
                                 (delivery.state, json.dumps(delivery.attempts), delivery.id))
