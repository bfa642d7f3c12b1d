"""HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): export a recording, and read one for replay.

HAR has one body per response and one set of timings per entry, so it cannot say how a stream was
chunked or when each piece came: the export keeps them in the custom field ``_chunks`` (HAR 1.2 allows
fields starting with ``_``), which browsers' devtools ignore and :func:`read_har` reads back. A HAR from
a browser has no ``_chunks``: its streams replay as one piece. Our other custom fields: ``_id``,
``_operation``, ``_management``, ``_complete``, ``_error``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from mockserver.recording.format import (
    HEADER_NAME,
    HEADER_VALUE,
    Chunk,
    RecordedExchange,
    RecordedRequest,
    RecordedResponse,
    RecordingError,
    decode_body,
    encode_body,
)

CREATOR = {"name": "mockserver record", "version": "1"}


def to_har(exchanges: Iterable[RecordedExchange], origin: str = "http://recorded") -> dict[str, Any]:
    """A HAR 1.2 log of ``exchanges``; request URLs are ``origin`` + path + query."""
    return {"log": {"version": "1.2", "creator": CREATOR, "pages": [],
                    "entries": [_entry(exchange, origin) for exchange in exchanges]}}


def write_har(exchanges: Iterable[RecordedExchange], path: str | Path, origin: str = "http://recorded") -> int:
    har = to_har(exchanges, origin)
    Path(path).write_bytes(orjson.dumps(har, option=orjson.OPT_INDENT_2))
    return len(har["log"]["entries"])


def _entry(exchange: RecordedExchange, origin: str) -> dict[str, Any]:
    request, response = exchange.request, exchange.response
    url = origin + request.path + (f"?{request.query}" if request.query else "")
    har_request: dict[str, Any] = {
        "method": request.method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": [{"name": n, "value": v} for n, v in request.headers],
        "queryString": [{"name": n, "value": v} for n, v in _pairs(request.query)],
        "headersSize": -1, "bodySize": len(request.body),
    }
    if request.body:
        body = encode_body(request.body) or {}
        har_request["postData"] = {"mimeType": request.header("content-type") or "", "text": body.get("text", ""),
                                   **({"_base64": body["base64"]} if "base64" in body else {})}
    entry: dict[str, Any] = {
        "startedDateTime": exchange.started or "1970-01-01T00:00:00.000Z",
        "time": (response.total_ms or 0) if response else 0,
        "request": har_request,
        "cache": {},
        "_id": exchange.id, "_operation": exchange.operation, "_management": exchange.management,
        "_complete": exchange.complete, "_error": exchange.error,
    }
    if response is None:
        entry["response"] = {"status": 0, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
                             "content": {"size": 0, "mimeType": ""}, "redirectURL": "", "headersSize": -1,
                             "bodySize": -1}
        entry["timings"] = {"send": 0, "wait": -1, "receive": -1}
        return entry
    content: dict[str, Any] = {"size": len(response.body), "mimeType": response.header("content-type") or ""}
    body = encode_body(response.body)
    if body is not None:
        content.update({"text": body["text"]} if "text" in body else {"text": body["base64"], "encoding": "base64"})
    wait = response.ttfb_ms if response.ttfb_ms is not None else (response.total_ms or 0)
    entry["response"] = {
        "status": response.status, "statusText": _reason(response.status), "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": [{"name": n, "value": v} for n, v in response.headers], "content": content,
        "redirectURL": response.header("location") or "", "headersSize": -1, "bodySize": len(response.body),
    }
    entry["timings"] = {"send": 0, "wait": wait, "receive": max(0.0, (response.total_ms or wait) - wait)}
    if response.chunks is not None:
        entry["_chunks"] = [{"t_ms": c.t_ms, **(encode_body(c.data) or {"text": ""})} for c in response.chunks]
    return entry


def read_har(path: Path) -> Iterator[RecordedExchange]:
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise RecordingError(f"{path}: not a HAR file: not JSON ({str(exc).splitlines()[0]})") from None
    entries = document.get("log", {}).get("entries") if isinstance(document, dict) and isinstance(
        document.get("log"), dict) else None
    if not isinstance(entries, list):
        raise RecordingError(f"{path}: not a HAR file: no log.entries list")
    for index, entry in enumerate(entries):
        yield _exchange(entry, f"{path}#entries[{index}]", index + 1)


def _exchange(entry: Any, where: str, number: int) -> RecordedExchange:
    try:
        request, response = entry["request"], entry["response"]
        url = urlsplit(request["url"])
        if not url.path.startswith("/"):
            raise ValueError(f"request.url {request['url']!r} has no path")
        post = request.get("postData") or {}
        body = base64.b64decode(post["_base64"]) if "_base64" in post else str(post.get("text", "")).encode()
        recorded_request = RecordedRequest(str(request["method"]).upper(), url.path, url.query,
                                           _headers(request.get("headers", [])), body)
        status = response["status"]
        recorded_response = None
        if isinstance(status, int) and 100 <= status <= 599:
            content = response.get("content") or {}
            text = content.get("text", "")
            data = base64.b64decode(text) if content.get("encoding") == "base64" else str(text).encode()
            chunks = None
            if isinstance(entry.get("_chunks"), list):
                chunks = tuple(Chunk(float(c["t_ms"]), decode_body(c, where, "_chunks[]")) for c in entry["_chunks"])
                data = b"".join(c.data for c in chunks)
            elif "text/event-stream" in str(content.get("mimeType", "")):
                chunks = (Chunk(float((entry.get("timings") or {}).get("wait", 0) or 0), data),)
            timings = entry.get("timings") or {}
            wait = timings.get("wait") if isinstance(timings.get("wait"), (int, float)) and timings["wait"] >= 0 else None
            total = entry.get("time") if isinstance(entry.get("time"), (int, float)) else None
            recorded_response = RecordedResponse(status, _headers(response.get("headers", [])), data, chunks, wait, total)
        elif status != 0:
            raise ValueError(f"response.status {status!r} is not an HTTP status")
    except RecordingError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problem = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise RecordingError(f"{where}: not a HAR entry: {problem}") from None
    return RecordedExchange(
        id=entry.get("_id") if type(entry.get("_id")) is int else number,
        request=recorded_request, response=recorded_response, started=str(entry.get("startedDateTime", "")),
        operation=entry.get("_operation") if isinstance(entry.get("_operation"), str) else None,
        management=entry.get("_management") is True, complete=entry.get("_complete", True) is not False,
        error=entry.get("_error") if isinstance(entry.get("_error"), str) else None, source=where)


def _headers(items: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(items, list):
        raise ValueError("headers must be a list")
    pairs = []
    for item in items:
        name, value = item["name"], item["value"]
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValueError("a header's name and value must be strings")
        if name.startswith(":"):  # HTTP/2 pseudo-headers in browsers' exports
            continue
        if not HEADER_NAME.fullmatch(name) or not HEADER_VALUE.fullmatch(value):
            raise ValueError(f"a header that HTTP cannot carry: {name[:40]!r}")
        pairs.append((name.lower(), value))
    return tuple(pairs)


def _pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
