"""Secrets out of what the inspector shows: credential headers, created keys' secrets, the admin key."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "••••"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie"})
CREATED_SECRET = re.compile(r"rqk_[A-Za-z0-9_\-]{8,}")  # mockserver.accounts.keys: "rqk_" + 43 URL-safe characters


class Masker:
    """Masks the admin key (given) and any created key's secret (by its form) wherever they appear."""

    def __init__(self, known: Iterable[str] = ()):
        self.known = [secret for secret in known if secret]

    def text(self, value: str) -> str:
        for secret in self.known:
            if secret in value:
                value = value.replace(secret, MASK)
        return CREATED_SECRET.sub("rqk_" + MASK, value)

    def header(self, name: str, value: str) -> str:
        if name.lower() in SECRET_HEADERS:
            scheme, _, token = value.partition(" ")
            return f"{scheme} {MASK}" if token and scheme.lower() in ("bearer", "basic") else MASK
        return self.text(value)

    def headers(self, pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
        return [[name, self.header(name, value)] for name, value in pairs]
