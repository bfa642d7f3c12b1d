"""Per-request overrides of the mock's settings, read from documented ``X-Mock-*`` headers.

| header | value | overrides |
|---|---|---|
| ``X-Mock-Reply`` | any text | the reply text, for this request |
| ``X-Mock-Reply-Style`` | ``echo``, ``lorem`` or ``fixed`` | ``--reply-style`` |
| ``X-Mock-TTFT-Ms`` | milliseconds >= 0 | ``--ttft-ms`` (streams) |
| ``X-Mock-Tokens-Per-S`` | tokens per second >= 0 (0: unpaced) | ``--tokens-per-s`` (streams) |
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

from mockserver.errors import MockError
from mockserver.llm.replies import STYLES

REPLY = "x-mock-reply"
REPLY_STYLE = "x-mock-reply-style"
TTFT_MS = "x-mock-ttft-ms"
TOKENS_PER_S = "x-mock-tokens-per-s"


class Overrides(NamedTuple):
    """Immutable, and made for every chat call: a named tuple, the cheapest record to make."""

    style: str = "echo"
    reply: str | None = None  # forced reply text
    ttft_ms: float = 0.0
    tokens_per_s: float = 0.0  # 0: no pacing between tokens


def read_overrides(headers: Mapping[str, str], defaults: Overrides) -> Overrides:
    """``defaults`` (from the command line) with any ``X-Mock-*`` header applied; 400 on a bad value."""
    if REPLY_STYLE not in headers and REPLY not in headers and TTFT_MS not in headers and TOKENS_PER_S not in headers:
        return defaults  # the common case: no override header
    style = headers.get(REPLY_STYLE, defaults.style).strip().lower()
    if style not in STYLES:
        raise MockError(400, f"X-Mock-Reply-Style must be one of {', '.join(STYLES)}; got {style!r}.",
                        code="invalid_header", param="X-Mock-Reply-Style")
    return Overrides(
        style=style,
        reply=headers.get(REPLY, defaults.reply),
        ttft_ms=_non_negative(headers, TTFT_MS, "X-Mock-TTFT-Ms", defaults.ttft_ms),
        tokens_per_s=_non_negative(headers, TOKENS_PER_S, "X-Mock-Tokens-Per-S", defaults.tokens_per_s),
    )


def _non_negative(headers: Mapping[str, str], key: str, name: str, default: float) -> float:
    raw = headers.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise MockError(400, f"{name} must be a number >= 0; got {raw!r}.", code="invalid_header", param=name)
    return value
