"""Keep secrets out of everything the suite writes: reports, logs, curl lines.

The redactor knows the run's API key and every key secret the target hands out
during the run; it also masks any bearer token and any ``"key"`` field in JSON,
so a secret it was never told about does not leak either.
"""

from __future__ import annotations

import re
import threading

MASK = "[REDACTED]"
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"\\,]+")
_KEY_FIELD = re.compile(r'("key"\s*:\s*")[^"]*(")')
_HEADER_NAMES = {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie"}


class Redactor:
    def __init__(self, *secrets: str | None):
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Mask ``secret`` from now on (secrets shorter than 6 characters would mask ordinary words)."""
        if secret and len(secret) >= 6:
            with self._lock:
                self._secrets.add(secret)

    def text(self, value: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            value = value.replace(secret, MASK)
        value = _BEARER.sub(lambda m: m.group(1) + MASK, value)
        return _KEY_FIELD.sub(lambda m: m.group(1) + MASK + m.group(2), value)

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {name: MASK if name.lower() in _HEADER_NAMES else self.text(value) for name, value in headers.items()}
