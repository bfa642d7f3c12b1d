"""The checks' keys part: create API keys (when writes are allowed), read their secret, delete them at the end."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from contract_tests.checks.http_calls import HttpCalls
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped
from contract_tests.redact import Redactor

WRITES_NEEDED = "creates or deletes API keys: run with --allow-writes"
EXPIRY_S = 3  # how far ahead an expiring key's expiry is: time for one call while it still works
EXPIRY_MARGIN_S = 0.3  # waited past an expiry before the key is used as expired (clocks, rounding)


class KeyManager:
    def __init__(self, http: HttpCalls, redactor: Redactor, *, allow_writes: bool):
        self._http = http
        self._redactor = redactor
        self.allow_writes = allow_writes
        self.created: list[str] = []  # ids of the keys this run created, for clean-up
        self._expiring: tuple[str, datetime] | None = None

    def create(self, **fields: Any) -> dict:
        """``POST /api-keys``: the new key, its secret masked from now on in everything the run writes."""
        if not self.allow_writes:
            raise CheckSkipped(WRITES_NEEDED)
        created = self._http.ok(self._http.request("POST", "/api-keys", json={"name": "contract-tests", **fields}),
                                "POST /api-keys")
        if not isinstance(created, dict) or not isinstance(created.get("id"), str):
            raise CheckFailed(f"POST /api-keys: expected an object with an id, received {str(created)[:200]}")
        self._redactor.add(created.get("key"))
        self.created.append(created["id"])
        return created

    @staticmethod
    def secret(created: dict) -> str:
        secret = created.get("key")
        if not isinstance(secret, str) or not secret:
            raise CheckFailed("POST /api-keys: the answer carries no key secret (documented: returned on creation)")
        return secret

    def expiring(self, seconds: int = EXPIRY_S) -> tuple[str, datetime]:
        """A key of this run that expires ``seconds`` after it is made, made once for every check that needs one
        (so the run waits for one expiry, not one per check): its secret and its expiry."""
        if self._expiring is None:
            expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
            secret = self.secret(self.create(expiry=expiry.isoformat().replace("+00:00", "Z")))
            self._expiring = (secret, expiry)
        return self._expiring

    @staticmethod
    def wait_past(expiry: datetime) -> None:
        """Sleep until just after ``expiry`` (at once when it has passed)."""
        time.sleep(max(0.0, (expiry - datetime.now(UTC)).total_seconds()) + EXPIRY_MARGIN_S)

    def cleanup(self) -> None:
        """Delete the keys the run created (best effort: the budget may be spent)."""
        for key_id in self.created:
            try:
                self._http.request("DELETE", f"/api-keys/{key_id}")
            except Exception:  # noqa: BLE001  (cleanup never hides the run's results)
                pass
        self.created.clear()
