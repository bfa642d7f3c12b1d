"""A curl line that reproduces a request, with the key as an environment variable, never its value."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from contract_tests.redact import Redactor

KEY_VARIABLE = "$REQUESTY_API_KEY"
# The embedded mock has no address; its curl lines point where `mockserver serve` listens by default.
EMBEDDED_ORIGIN = "http://embedded-mock.invalid"
SERVED_ORIGIN = "http://127.0.0.1:8080"
_SKIPPED = {"content-length", "host", "user-agent", "accept-encoding", "connection", "accept"}


def curl_line(method: str, url: str, headers: Mapping[str, str], body: bytes | str | None, redactor: Redactor) -> str:
    parts = ["curl", "-sS", "-X", method, shlex.quote(redactor.text(url.replace(EMBEDDED_ORIGIN, SERVED_ORIGIN)))]
    for name, value in headers.items():
        if name.lower() in _SKIPPED:
            continue
        if name.lower() == "authorization":
            parts += ["-H", f'"Authorization: Bearer {KEY_VARIABLE}"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {redactor.text(value)}")]
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        parts += ["--data-raw", shlex.quote(redactor.text(text))]
    return " ".join(parts)
