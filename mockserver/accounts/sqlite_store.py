"""Keys and usage kept in SQLite (``mockserver serve --state PATH``): the stores of :mod:`mockserver.backends.sqlite`."""

from __future__ import annotations

from pathlib import Path

from mockserver.backends import StateFileError
from mockserver.backends.sqlite import SqliteBackend, SqliteKeyStore, SqliteLedger

__all__ = ["StateFileError", "open_stores"]


def open_stores(path: str | Path) -> tuple[SqliteKeyStore, SqliteLedger]:
    """The key store and ledger kept in the SQLite file at ``path`` (created if missing)."""
    backend = SqliteBackend(path)
    return backend.keys, backend.ledger
