"""The analytics headers Requesty records with each call: origin, title, and ``X-Requesty-<Name>`` fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

FIELD_PREFIX = "x-requesty-"


@dataclass(frozen=True, slots=True)
class Analytics:
    origin: str | None = None  # HTTP-Referer
    title: str | None = None  # X-Title
    fields: Mapping[str, str] = field(default_factory=dict)  # X-Requesty-Team: a -> {"team": "a"}


NONE = Analytics()


def read_analytics(headers: Mapping[str, str]) -> Analytics:
    """The analytics a request carries; ``headers`` has lower-case names, as ASGI gives them."""
    origin = headers.get("http-referer")
    title = headers.get("x-title")
    if origin is None and title is None and FIELD_PREFIX not in "".join(headers):  # the usual call: none of them
        return NONE
    fields = {name[len(FIELD_PREFIX):]: value for name, value in headers.items()
              if name[:len(FIELD_PREFIX)] == FIELD_PREFIX and len(name) > len(FIELD_PREFIX)}
    if origin is None and title is None and not fields:
        return NONE
    return Analytics(origin, title, fields)
