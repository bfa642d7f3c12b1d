"""The recording format: one JSON object per line (JSON lines), a header line first, then one line per exchange.

A recording is a directory of ``*.jsonl`` files (one per ``mockserver record`` session), one such file,
or a HAR 1.2 file (:mod:`mockserver.recording.har`). :func:`read_exchanges` reads any of them and
yields :class:`RecordedExchange` values; every consumer (the replayer, an offline audit) reads
recordings through it. ``docs/recording.md`` documents each field.

A body is an object: ``{"text": "..."}`` when its bytes are UTF-8, else ``{"base64": "..."}``; no body is ``null``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 field names
HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")  # no CR, LF or NUL; one byte per character (latin-1)
FORMAT_NAME = "mockserver-recording"
VERSION = 1
SUFFIX = ".jsonl"


class RecordingError(Exception):
    """A recording that cannot be read: the message names the file and line, in one line."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a streamed answer as the recorder received it, ``t_ms`` after the request went upstream."""

    t_ms: float
    data: bytes


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: str = ""  # the raw query string, without "?"
    headers: tuple[tuple[str, str], ...] = ()  # as sent, secrets redacted; names lower-case
    body: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""  # the whole body (for a stream, its chunks joined)
    chunks: tuple[Chunk, ...] | None = None  # SSE answers: the pieces with their timing; None otherwise
    ttfb_ms: float | None = None  # first body byte after the request went upstream
    total_ms: float | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    @property
    def is_stream(self) -> bool:
        return self.chunks is not None


@dataclass(frozen=True, slots=True)
class RecordedExchange:
    id: int
    request: RecordedRequest
    response: RecordedResponse | None  # None when the upstream could not be reached (see ``error``)
    started: str = ""  # RFC 3339, UTC
    operation: str | None = None  # the spec's operationId, when the path is one of the spec's
    management: bool = False  # key management and usage: recorded, never to be replayed against a live target
    complete: bool = True  # False when the answer was cut short (client or upstream dropped)
    error: str | None = None
    source: str = ""  # "file:line" it was read from
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Header:
    """A recording file's first line: where it came from and how it was made."""

    upstream: str
    started: str
    redaction: dict[str, Any]
    match: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT_NAME, "version": VERSION, "upstream": self.upstream, "started": self.started,
                "redaction": self.redaction, "match": self.match}


# -- writing ---------------------------------------------------------------------------------------


def encode_body(data: bytes | None) -> dict[str, str] | None:
    if not data:
        return None
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def exchange_json(exchange: RecordedExchange) -> dict[str, Any]:
    request = exchange.request
    line: dict[str, Any] = {
        "id": exchange.id,
        "started": exchange.started,
        "operation": exchange.operation,
        "management": exchange.management,
        "complete": exchange.complete,
        "request": {"method": request.method, "path": request.path, "query": request.query,
                    "headers": [list(pair) for pair in request.headers], "body": encode_body(request.body)},
        "response": None,
        "error": exchange.error,
    }
    response = exchange.response
    if response is not None:
        line["response"] = {
            "status": response.status,
            "headers": [list(pair) for pair in response.headers],
            "body": encode_body(response.body),
            "chunks": None if response.chunks is None else [
                {"t_ms": chunk.t_ms, **(encode_body(chunk.data) or {"text": ""})} for chunk in response.chunks],
            "ttfb_ms": response.ttfb_ms,
            "total_ms": response.total_ms,
        }
    return line


def dump_line(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value) + b"\n"


# -- reading ---------------------------------------------------------------------------------------


def read_exchanges(source: str | Path) -> Iterator[RecordedExchange]:
    """Every exchange of a recording: a directory (its ``*.jsonl`` and ``*.har`` files, by name), a ``.jsonl``
    file or a ``.har`` file. Raises :class:`RecordingError` (one line, naming the file and line) when unreadable."""
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (SUFFIX, ".har"))
        if not files:
            raise RecordingError(f"{path}: no recording in this directory (no *{SUFFIX} or *.har file)")
        for file in files:
            yield from read_exchanges(file)
        return
    if not path.is_file():
        raise RecordingError(f"{path}: no such recording file or directory")
    if path.suffix == ".har":
        from mockserver.recording.har import read_har

        yield from read_har(path)
        return
    yield from _read_lines(path)


def read_header(path: str | Path) -> Header:
    """A ``.jsonl`` recording's header line."""
    with open(path, "rb") as file:
        first = file.readline()
    return _header(_parse(first, f"{path}:1"), f"{path}:1")


def _read_lines(path: Path) -> Iterator[RecordedExchange]:
    try:
        file = open(path, "rb")  # noqa: SIM115  (closed below; the generator may stop early)
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with file:
        header_seen = False
        for number, raw in enumerate(file, 1):
            where = f"{path}:{number}"
            if not raw.strip():
                continue
            value = _parse(raw, where)
            if not header_seen:
                _header(value, where)
                header_seen = True
                continue
            yield parse_exchange(value, where)
        if not header_seen:
            raise RecordingError(f"{path}: empty file, not a recording")


def _parse(raw: bytes, where: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RecordingError(f"{where}: not JSON ({str(exc).splitlines()[0]})") from None


def _header(value: Any, where: str) -> Header:
    if not isinstance(value, dict) or value.get("format") != FORMAT_NAME:
        raise RecordingError(f"{where}: not a recording (the first line must be a {FORMAT_NAME!r} header)")
    if value.get("version") != VERSION:
        raise RecordingError(f"{where}: recording version {value.get('version')!r} is not supported (expected {VERSION})")
    return Header(str(value.get("upstream", "")), str(value.get("started", "")),
                  _object(value.get("redaction", {}), where, "redaction"), _object(value.get("match", {}), where, "match"))


def parse_exchange(value: Any, where: str) -> RecordedExchange:
    """One exchange line, checked: a :class:`RecordingError` naming the field that is wrong."""
    line = _object(value, where, "exchange")
    request = _object(line.get("request"), where, "request")
    response_value = line.get("response")
    response = None
    if response_value is not None:
        raw = _object(response_value, where, "response")
        chunks_value = raw.get("chunks")
        chunks = None
        if chunks_value is not None:
            if not isinstance(chunks_value, list):
                raise RecordingError(f"{where}: response.chunks must be a list or null")
            chunks = tuple(Chunk(_number(c.get("t_ms") if isinstance(c, dict) else None, where, "response.chunks[].t_ms"),
                                 decode_body(c, where, "response.chunks[]")) for c in chunks_value)
        response = RecordedResponse(
            status=_status(raw.get("status"), where),
            headers=_headers(raw.get("headers", []), where, "response.headers"),
            body=decode_body(raw.get("body"), where, "response.body"),
            chunks=chunks,
            ttfb_ms=_optional_number(raw.get("ttfb_ms"), where, "response.ttfb_ms"),
            total_ms=_optional_number(raw.get("total_ms"), where, "response.total_ms"),
        )
    method, path = request.get("method"), request.get("path")
    if not isinstance(method, str) or not method.isalpha():
        raise RecordingError(f"{where}: request.method must be an HTTP method, not {method!r}")
    if not isinstance(path, str) or not path.startswith("/"):
        raise RecordingError(f"{where}: request.path must be a string starting with '/', not {path!r}")
    query = request.get("query", "")
    if not isinstance(query, str):
        raise RecordingError(f"{where}: request.query must be a string")
    ident = line.get("id", 0)
    if type(ident) is not int:
        raise RecordingError(f"{where}: id must be an integer")
    operation = line.get("operation")
    return RecordedExchange(
        id=ident,
        request=RecordedRequest(method.upper(), path, query, _headers(request.get("headers", []), where, "request.headers"),
                                decode_body(request.get("body"), where, "request.body")),
        response=response,
        started=str(line.get("started") or ""),
        operation=operation if isinstance(operation, str) else None,
        management=line.get("management") is True,
        complete=line.get("complete", True) is not False,
        error=line.get("error") if isinstance(line.get("error"), str) else None,
        source=where,
    )


def decode_body(value: Any, where: str, name: str) -> bytes:
    if value is None:
        return b""
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            return value["text"].encode("utf-8", "surrogatepass")
        if isinstance(value.get("base64"), str):
            try:
                return base64.b64decode(value["base64"], validate=True)
            except (binascii.Error, ValueError):
                raise RecordingError(f"{where}: {name}.base64 is not valid base64") from None
    raise RecordingError(f"{where}: {name} must be null, {{\"text\": ...}} or {{\"base64\": ...}}")


def _object(value: Any, where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordingError(f"{where}: {name} must be a JSON object")
    return value


def _headers(value: Any, where: str, name: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not all(
            isinstance(pair, Sequence) and len(pair) == 2 and all(isinstance(p, str) for p in pair) for pair in value):
        raise RecordingError(f"{where}: {name} must be a list of [name, value] string pairs")
    for name_, text in value:
        if not HEADER_NAME.fullmatch(name_) or not HEADER_VALUE.fullmatch(text):
            raise RecordingError(f"{where}: {name} has a header that HTTP cannot carry: {name_[:40]!r}")
    return tuple((name_.lower(), text) for name_, text in value)


def _status(value: Any, where: str) -> int:
    if type(value) is not int or not 100 <= value <= 599:
        raise RecordingError(f"{where}: response.status must be an HTTP status (100-599), not {value!r}")
    return value


def _number(value: Any, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise RecordingError(f"{where}: {name} must be a non-negative number")
    return float(value)


def _optional_number(value: Any, where: str, name: str) -> float | None:
    return None if value is None else _number(value, where, name)
