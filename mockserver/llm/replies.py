"""The text a mock model answers: deterministic, readable, chosen by a reply style.

- ``echo`` (default): ``You said: <the last user message's text>``;
- ``lorem``: a lorem-ipsum passage of 20 to 80 words, picked by the request's seed;
- ``fixed``: always :data:`FIXED_REPLY`.

``X-Mock-Reply: <text>`` replaces the reply for one request, whatever the style.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from mockserver.llm.catalog import DATA_DIR
from mockserver.llm.tokens import text_of

STYLES = ("echo", "lorem", "fixed")
FIXED_REPLY = "This is a mock reply from the Requesty Router mock."
ECHO_EMPTY = "Hello! How can I help you today?"


def reply_text(style: str, messages: Sequence[Mapping[str, Any]], make_rng: Callable[[], random.Random]) -> str:
    """``make_rng`` gives the request's seeded generator; only ``lorem`` draws from it."""
    if style == "fixed":
        return FIXED_REPLY
    if style == "lorem":
        words = _lorem()
        rng = make_rng()
        start = rng.randrange(len(words))
        length = rng.randint(20, 80)
        text = " ".join(words[(start + i) % len(words)] for i in range(length))
        return text[:1].upper() + text[1:].rstrip(",.") + "."
    last = last_user_text(messages)
    return f"You said: {last}" if last else ECHO_EMPTY


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return text_of(message.get("content")).strip()
    return ""


@cache
def _lorem() -> list[str]:
    return (DATA_DIR / "lorem.txt").read_text(encoding="utf-8").split()
