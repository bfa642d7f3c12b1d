"""A request's headers as one dict, made once per request and kept in its ASGI scope.

CORS, the fault directives and the call all read the request's headers: one pass over the raw
list serves them all. Names are lower case, as ASGI gives them; a repeated header keeps its first
value (a reader that joins repeated values reads ``scope["headers"]`` itself). No layer changes
``scope["headers"]`` after the first read.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

SCOPE_KEY = "mockserver.headers"


def headers_of(scope: MutableMapping[str, Any]) -> tuple[dict[str, str], int]:
    """The request's headers as a dict, and their total size in bytes (names and values)."""
    found = scope.get(SCOPE_KEY)
    if found is None:
        found = scope[SCOPE_KEY] = header_dict(scope["headers"])
    return found


def header_dict(raw_headers: list[tuple[bytes, bytes]]) -> tuple[dict[str, str], int]:
    """ASGI headers as a dict of lower-case names (a repeated header keeps its first value), and
    their total size in bytes (names and values)."""
    headers: dict[str, str] = {}
    size = 0
    for name, value in raw_headers:
        size += len(name) + len(value)
        key = name.decode("latin-1")
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers, size
