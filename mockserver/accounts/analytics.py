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
    """The analytics a request carries; header names are matched without regard to case."""
    origin = title = None
    fields: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower == "http-referer":
            origin = value
        elif lower == "x-title":
            title = value
        elif lower.startswith(FIELD_PREFIX) and len(lower) > len(FIELD_PREFIX):
            fields[lower[len(FIELD_PREFIX):]] = value
    if origin is None and title is None and not fields:
        return NONE
    return Analytics(origin, title, fields)
