"""Secrets out of an exchange before it touches disk.

Three sources of secrets, each redacted where it is found and learned, so that its value is also
scrubbed wherever else it appears in the recording (an echoed prompt, a query string, a later body):

- the headers the settings name (``Authorization``, ``x-api-key``, ...): the value becomes ``[REDACTED]``
  (after the scheme: ``Bearer [REDACTED]``);
- the answers of management calls at ``management_paths`` (the ``key`` of a key-creation answer);
- any JSON path the settings name, in request bodies, response bodies and each SSE event.

A learned value shorter than :data:`MIN_SECRET` characters is only redacted where it was found, not
scrubbed elsewhere (scrubbing ``"abc"`` everywhere would corrupt the recording). A stream is scrubbed
as a whole, so a secret split across two chunks is caught; the chunk boundaries move to stay around it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import jsonpath
import orjson

from mockserver.recording.format import Chunk, RecordedExchange
from mockserver.recording.settings import PLACEHOLDER, Settings

MIN_SECRET = 8
_MARK = PLACEHOLDER.encode()


class Redactor:
    """Redacts exchanges; remembers every secret it has seen for the rest of the session."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.secrets: set[bytes] = set()
        self._paths = [jsonpath.compile(p) for p in settings.redact_paths]
        self._management_paths = [jsonpath.compile(p) for p in settings.management_paths]

    def learn(self, value: str) -> None:
        if len(value) >= MIN_SECRET and value != PLACEHOLDER:
            self.secrets.add(value.encode("utf-8"))

    def redact(self, exchange: RecordedExchange) -> RecordedExchange:
        request, response = exchange.request, exchange.response
        request_headers = self._headers(request.headers)
        request_body = self._json_paths(request.body, self._paths)
        if response is not None:
            response_headers = self._headers(response.headers)
            paths = self._paths + (self._management_paths if exchange.management else [])
            response_body = self._json_paths(response.body, paths)
            if response.chunks is not None:
                for event in _sse_data(response.body):
                    self._json_paths(event, self._paths)
        # Every secret is known now: scrub all that will be written.
        request = replace(request, headers=request_headers, body=self.scrub(request_body),
                          path=self.scrub(request.path.encode()).decode(), query=self.scrub(request.query.encode()).decode())
        if response is not None:
            chunks = None if response.chunks is None else self._scrub_chunks(response.chunks)
            body = b"".join(c.data for c in chunks) if chunks is not None else self.scrub(response_body)
            response = replace(response, headers=response_headers, body=body, chunks=chunks)
        error = None if exchange.error is None else self.scrub(exchange.error.encode()).decode()
        return replace(exchange, request=request, response=response, error=error)

    # -- the pieces ------------------------------------------------------------------------------

    def _headers(self, headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        redacted = []
        for name, value in headers:
            if name.lower() in self.settings.redact_headers:
                scheme, space, token = value.partition(" ")
                if space and scheme.isalpha() and token:
                    self.learn(token.strip())
                    value = f"{scheme} {PLACEHOLDER}"
                else:
                    self.learn(value.strip())
                    value = PLACEHOLDER
            redacted.append((name, value))
        return tuple(redacted)

    def _json_paths(self, body: bytes, paths: list[Any]) -> bytes:
        """Learn the string values at ``paths``; others (numbers, objects) are replaced in a rewritten body."""
        if not paths or not body or body[:1] not in b"{[":
            return body
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        rewrite = False
        for path in paths:
            for match in path.finditer(document):
                if isinstance(match.value, str):
                    self.learn(match.value)
                    if len(match.value) < MIN_SECRET:
                        rewrite = _set(document, match.parts) or rewrite
                elif match.value != PLACEHOLDER:
                    rewrite = _set(document, match.parts) or rewrite
        return orjson.dumps(document) if rewrite else body

    def scrub(self, data: bytes) -> bytes:
        if not self.secrets or not data:
            return data
        spans = self._spans(data)
        return _replace(data, spans) if spans else data

    def _scrub_chunks(self, chunks: tuple[Chunk, ...]) -> tuple[Chunk, ...]:
        joined = b"".join(chunk.data for chunk in chunks)
        spans = self._spans(joined) if self.secrets else []
        if not spans:
            return chunks
        clean = _replace(joined, spans)
        result, old = [], 0
        start_new = 0
        for chunk in chunks:
            old += len(chunk.data)
            end_new = _moved(old, spans)
            result.append(Chunk(chunk.t_ms, clean[start_new:end_new]))
            start_new = end_new
        return tuple(result)

    def _spans(self, data: bytes) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for secret in sorted(self.secrets, key=len, reverse=True):
            at = data.find(secret)
            while at != -1:
                end = at + len(secret)
                if not any(a < end and at < b for a, b in spans):
                    spans.append((at, end))
                at = data.find(secret, at + 1)
        return sorted(spans)


def _replace(data: bytes, spans: list[tuple[int, int]]) -> bytes:
    out, last = [], 0
    for start, end in spans:
        out += [data[last:start], _MARK]
        last = end
    out.append(data[last:])
    return b"".join(out)


def _moved(offset: int, spans: list[tuple[int, int]]) -> int:
    """Where ``offset`` of the original lands in the scrubbed bytes (an offset inside a secret: after its mark)."""
    shift = 0
    for start, end in spans:
        if end <= offset:
            shift += len(_MARK) - (end - start)
        elif start < offset:
            return start + shift + len(_MARK)
        else:
            break
    return offset + shift


def _set(document: Any, parts: tuple[Any, ...]) -> bool:
    if not parts:
        return False
    node = document
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = PLACEHOLDER
    return True


def _sse_data(body: bytes) -> list[bytes]:
    return [line[5:].strip() for line in body.splitlines() if line.startswith(b"data:")]
