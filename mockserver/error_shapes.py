"""Error bodies in the shape an operation's clients parse, chosen per operation by ``x-mock-error-shape``.

- ``openai`` (the default): ``{"error": {"message", "type", "param", "code"}}``, :class:`MockError`'s own body;
- ``anthropic``: ``{"type": "error", "error": {"type", "message"}}`` with Anthropic's error type for the
  status (``mockserver/data/anthropic_errors.yml``), as the Anthropic SDKs parse it.

The status and headers (``Retry-After``, ``WWW-Authenticate``, ``Allow``) are the same in every shape.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from mockserver.errors import MockError
from mockserver.llm.catalog import DATA_DIR
from mockserver.responses import JSONResponse

OPENAI = "openai"
ANTHROPIC = "anthropic"


@cache
def anthropic_types() -> dict[int, str]:
    with open(DATA_DIR / "anthropic_errors.yml", encoding="utf-8") as file:
        return {int(status): kind for status, kind in yaml.safe_load(file).items()}


def anthropic_type(status: int) -> str:
    return anthropic_types().get(status) or ("api_error" if status >= 500 else "invalid_request_error")


def anthropic_body(status: int, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": anthropic_type(status), "message": message}}


def body(error: MockError, shape: str) -> dict[str, Any]:
    if shape == ANTHROPIC:
        return anthropic_body(error.status, error.message)
    return error.body()


def render(error: MockError, shape: str = OPENAI) -> JSONResponse:
    """``error`` as the response an operation with ``shape`` answers."""
    if shape == OPENAI:
        return error.response()
    return JSONResponse(body(error, shape), status_code=error.status, headers=error.headers)
