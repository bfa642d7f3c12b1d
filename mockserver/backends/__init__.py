"""Shared state backends: keys, usage, spend limits, rate windows, the journal and the fault sequence.

``mockserver serve --state`` picks one (:func:`open_backend`):

- none (the default): everything in the process's memory, one worker, no store round trip;
- a SQLite file path: one host, any number of worker processes (WAL, transactions);
- ``redis://host:port/db``: any number of hosts (Lua scripts run in Redis).

Every backend has the same interface (:class:`Backend`); checks that must be atomic across processes
(a key's spend against its limit, a rate window) run inside the store, never as read-modify-write
in a worker. ``docs/scaling.md`` lists what each request costs in round trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from mockserver.accounts.keys import ApiKeyRecord, KeyStore
from mockserver.accounts.ledger import Ledger
from mockserver.accounts.money import Units


class StateFileError(Exception):
    """The state cannot be opened or is not ours; one line naming it."""


class Backend(Protocol):
    keys: KeyStore
    ledger: Ledger
    shared: bool  # whether several processes may use it at once
    governance: Any  # the governance settings made over the API: rows(), put(kind, name, value), clear()
    deliveries: Any  # the alerts' outbox: rows(), insert(...), update(...), claim(id, now, lease_s), clear()
    governance_version: int  # the settings' version as of this process's last next_sequence()

    def find_key(self, secret_hash: bytes, month: str) -> tuple[ApiKeyRecord | None, Units]:
        """The key with that secret and its spend in ``month``, read together (None, 0 when unknown)."""

    def spend_and_limit(self, key_id: str, month: str) -> tuple[Units, Units] | None:
        """The key's (limit, spend this month), read together; None when the key has no limit."""

    def next_sequence(self) -> tuple[int, int]:
        """The next request number and the scenario generation in force, in one step (and, kept in
        ``governance_version``, the governance settings' version)."""

    def load_scenario(self, text: str) -> int:
        """Put a scenario (JSON text) in force for every worker; the request counter and rate windows start again."""

    def scenario(self) -> tuple[int, str | None]:
        """The generation and the scenario text in force (None before any was loaded)."""

    def rate_window(self, key: str, generation: int, now: float, tokens: int,
                    rpm: int | None, tpm: int | None) -> tuple[float, int, int, str | None]:
        """Count a request in ``key``'s window, or refuse it: (start, requests, tokens, exceeded)."""

    def journal_add(self, entry: Sequence[Any]) -> None: ...
    def journal_last(self, limit: int | None) -> list[list[Any]]: ...  # newest first
    def journal_clear(self) -> None: ...
    def close(self) -> None: ...


def open_backend(url: str, *, journal_size: int = 1000) -> Backend:
    """The backend for ``--state``: ``redis://...`` or a SQLite file path (created when missing)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        from mockserver.backends.redis_store import RedisBackend

        return RedisBackend(url, journal_size=journal_size)
    if "://" in url:
        raise StateFileError(f"{url}: --state takes a SQLite file path or a redis:// URL")
    from mockserver.backends.sqlite import SqliteBackend

    return SqliteBackend(url, journal_size=journal_size)


def describe(url: str | None) -> str:
    """How the start-up lines name the state: the URL without a password."""
    if url is None:
        return "memory"
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
