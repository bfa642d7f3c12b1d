"""The alerts' outbox: each crossing's event kept once, POSTed in the background, retried with backoff.

:meth:`Outbox.add` is what the call that crossed a threshold does: one dictionary insert (and, with
``--state``, one SQLite row) and a notify, so the call is never delayed by the receiver. A daemon
thread sends: a 2xx answer delivers; anything else (an error status, a refused connection, a timeout)
is retried after ``backoff_ms``, doubled for each further retry, up to ``retries`` retries, then the
delivery is marked failed. Each attempt is recorded (time, status or error) for ``/__mock/alerts``.
With ``--state`` the outbox is kept in the shared store (``deliveries`` of :mod:`mockserver.backends`),
so deliveries pending when the process is killed are sent after the restart. A crossing is added at
most once (its id is the store's key: of two workers adding it, one wins and sends it), and a worker
sends a delivery only while it holds the store's claim on it (:data:`CLAIM_S` beyond the request's
timeout), so across workers each event is delivered once.
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

CLAIM_S = 5.0  # a sender's claim on a delivery outlasts its request's timeout by this much
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
    def __init__(self, retry: Callable[[], Retry], secret_for: Callable[[Delivery], str | None], store: Any = None):
        self._retry, self._secret_for, self._store = retry, secret_for, store
        self._cond = threading.Condition()
        self._deliveries: dict[str, Delivery] = {}
        self._thread: threading.Thread | None = None
        self._stopped = False
        if store is not None:
            self._deliveries = _from_rows(store.rows())
            if any(d.state == "pending" for d in self._deliveries.values()):
                self._start()

    def knows(self, crossing: str) -> bool:
        return crossing in self._deliveries

    def add(self, crossing: str, key_id: str, url: str, body: bytes) -> bool:
        """Queue the crossing's event; False (and nothing queued) when that crossing was queued before."""
        with self._cond:
            if crossing in self._deliveries:
                return False
            if self._store is not None and not self._store.insert(crossing, key_id, url, body.decode()):
                return False  # another worker queued it first, and sends it
            delivery = Delivery(crossing, key_id, url, body, next_at=time.monotonic())
            self._deliveries[crossing] = delivery
            self._start()
            self._cond.notify()
            return True

    def list(self) -> list[dict[str, Any]]:
        """Every delivery (with a shared store: every worker's)."""
        if self._store is not None:
            return [d.view() for d in _from_rows(self._store.rows()).values()]
        with self._cond:
            return [d.view() for d in self._deliveries.values()]

    def clear(self) -> None:
        with self._cond:
            self._deliveries.clear()
            if self._store is not None:
                self._store.clear()

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
        if self._store is not None:
            claim = self._store.claim(delivery.id, time.time(), retry.timeout_s + CLAIM_S)
            if claim != "ok":
                with self._cond:
                    if claim == "busy":  # another worker is sending it: look again when its claim ends
                        delivery.next_at = time.monotonic() + retry.timeout_s + CLAIM_S
                    else:  # delivered, failed or cleared by another worker
                        delivery.state = "done elsewhere" if claim == "gone" else claim
                        self._trim()
                return
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
            if self._store is not None:
                self._store.update(delivery.id, delivery.state, json.dumps(delivery.attempts))
            self._trim()

    def _trim(self) -> None:
        finished = [k for k, d in self._deliveries.items() if d.state != "pending"]
        for key in finished[:max(0, len(finished) - MAX_KEPT)]:
            del self._deliveries[key]


def _from_rows(rows: list[tuple]) -> dict[str, Delivery]:
    deliveries = {}
    for ident, key_id, url, body, state, attempts in rows:
        deliveries[ident] = Delivery(ident, key_id, url, body.encode(), state, 0.0, json.loads(attempts))
    return deliveries
