"""The ``requesty`` body object: request metadata for analytics, tracing and caching.

``{"tags": [...], "user_id": "...", "trace_id": "...", "extra": {...}, "auto_cache": true}``; its
types are checked by the overlay's schema (a wrong type is a 400 naming the field). ``trace_id``
also pins a load-balancing policy to one model; ``auto_cache`` asks for prompt caching.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class RequestMeta(NamedTuple):
    tags: tuple[str, ...] = ()
    user_id: str | None = None
    trace_id: str | None = None
    extra: Mapping[str, Any] | None = None
    auto_cache: bool = False


NO_META = RequestMeta()


def read_meta(body: Any) -> RequestMeta:
    """The (schema-valid) request's metadata."""
    value = body.get("requesty") if isinstance(body, dict) else None  # parsed JSON: objects are dicts
    if not isinstance(value, dict):
        return NO_META
    return RequestMeta(tuple(dict.fromkeys(value.get("tags") or ())), value.get("user_id"), value.get("trace_id"),
                       value.get("extra"), bool(value.get("auto_cache")))
