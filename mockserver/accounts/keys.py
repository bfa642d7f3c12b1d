"""API keys: the record, its secret, and the store behind them.

A secret is shown once, when its key is created; the store keeps only its
SHA-256 digest and looks a presented token up by digest, comparing in
constant time. Secrets are never logged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
import threading
import uuid
from collections.abc import Sequence
from typing import Protocol

from mockserver.accounts.money import Units

SECRET_PREFIX = "rqk_"


@dataclasses.dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    name: str
    labels: tuple[str, ...]
    limit: Units | None  # monthly spending limit; None for no limit
    expiry: dt.datetime | None
    created_at: dt.datetime
    secret_hash: bytes = dataclasses.field(repr=False)

    def expired(self, now: dt.datetime) -> bool:
        return self.expiry is not None and self.expiry <= now


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).digest()


def new_key(*, name: str, labels: Sequence[str], limit: Units | None, expiry: dt.datetime | None,
            now: dt.datetime) -> tuple[ApiKeyRecord, str]:
    """A new key record and its secret (``rqk_`` and 43 URL-safe characters, 256 random bits)."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    record = ApiKeyRecord(id=str(uuid.uuid4()), name=name, labels=tuple(labels), limit=limit, expiry=expiry,
                          created_at=now, secret_hash=hash_secret(secret))
    return record, secret


class KeyStore(Protocol):
    """Where key records live. Implementations are safe to call from several threads."""

    def add(self, record: ApiKeyRecord) -> None: ...
    def get(self, key_id: str) -> ApiKeyRecord | None: ...
    def find(self, secret_hash: bytes) -> ApiKeyRecord | None: ...
    def list(self) -> list[ApiKeyRecord]: ...  # in creation order
    def delete(self, key_id: str) -> bool: ...
    def set_limit(self, key_id: str, limit: Units | None) -> ApiKeyRecord | None: ...
    def clear(self) -> None: ...


class MemoryKeyStore:
    """Key records in dictionaries, by id and by secret digest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, ApiKeyRecord] = {}
        self._by_hash: dict[bytes, str] = {}

    def add(self, record: ApiKeyRecord) -> None:
        with self._lock:
            self._by_id[record.id] = record
            self._by_hash[record.secret_hash] = record.id

    def get(self, key_id: str) -> ApiKeyRecord | None:
        return self._by_id.get(key_id)

    def find(self, secret_hash: bytes) -> ApiKeyRecord | None:
        record = self._by_id.get(self._by_hash.get(secret_hash, ""))
        if record is not None and hmac.compare_digest(record.secret_hash, secret_hash):
            return record
        return None

    def list(self) -> list[ApiKeyRecord]:
        with self._lock:
            return list(self._by_id.values())

    def delete(self, key_id: str) -> bool:
        with self._lock:
            record = self._by_id.pop(key_id, None)
            if record is None:
                return False
            self._by_hash.pop(record.secret_hash, None)
            return True

    def set_limit(self, key_id: str, limit: Units | None) -> ApiKeyRecord | None:
        with self._lock:
            record = self._by_id.get(key_id)
            if record is None:
                return None
            record = self._by_id[key_id] = dataclasses.replace(record, limit=limit)
            return record

    def clear(self) -> None:
        with self._lock:
            self._by_id.clear()
            self._by_hash.clear()
