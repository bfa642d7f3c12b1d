"""An exchange as the page shows it: a summary row for the list, and the whole of it when opened."""

from __future__ import annotations

from typing import Any

import orjson

from mockserver.faults.journal import FIELDS
from mockserver.inspector.curl import curl_line
from mockserver.inspector.masking import Masker
from mockserver.inspector.store import Record

SECRET_FIELDS = frozenset({"key", "api_key", "secret", "token", "password"})  # JSON fields whose value is masked


def _json(data: bytes) -> Any:
    try:
        return orjson.loads(data) if data else None
    except orjson.JSONDecodeError:
        return None


def is_stream(record: Record) -> bool:
    for name, value in record.response_headers:
        if name.lower() == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"text/event-stream"
    return False


def stream_events(record: Record) -> list[Any]:
    """The JSON data of the stream's events that were kept, in order."""
    events = []
    for _, body in record.chunks:
        for line in body.split(b"\n"):
            if line.startswith(b"data:"):
                data = _json(line[5:].strip())
                if data is not None:
                    events.append(data)
    return events


def usage_of(record: Record) -> dict[str, Any] | None:
    if is_stream(record):
        for event in reversed(stream_events(record)):
            if isinstance(event, dict) and isinstance(event.get("usage"), dict):
                return event["usage"]
        return None
    body = _json(record.response_body())
    usage = body.get("usage") if isinstance(body, dict) else None
    return usage if isinstance(usage, dict) else None


def summary(record: Record) -> dict[str, Any]:
    """The list row: the journal entry, the model asked for, tokens and cost."""
    row = dict(zip(FIELDS, record.entry, strict=True))
    request = _json(record.request_body)
    model = request.get("model") if isinstance(request, dict) else None
    usage = usage_of(record) or {}
    cost = usage.get("cost")
    row.update(id=record.id, model=model if isinstance(model, str) else None, stream=is_stream(record),
               tokens=usage.get("total_tokens"), cost=cost if isinstance(cost, int | float) else None)
    return row


def _masked_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("••••" if k in SECRET_FIELDS and isinstance(v, str) else _masked_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_json(v) for v in value]
    return value


def body_text(data: bytes, masker: Masker) -> str:
    """A body to show: JSON indented (secret fields masked), anything else as text; secrets masked."""
    parsed = _json(data)
    if parsed is not None:
        return masker.text(orjson.dumps(_masked_json(parsed), option=orjson.OPT_INDENT_2).decode())
    return masker.text(data.decode("utf-8", "replace"))


def chunk_rows(record: Record, masker: Masker) -> list[dict[str, Any]]:
    """The stream as it went out: each event with the time its body message was handed over."""
    rows = []
    for at, size, body in record.timed_chunks():
        if not body:
            if size:
                rows.append({"ms": round(at, 3), "bytes": size, "data": "", "kept": False})
            continue
        for event in body.split(b"\n\n"):
            if event.strip():
                rows.append({"ms": round(at, 3), "bytes": len(event) + 2, "kept": True,
                             "data": masker.text(event.decode("utf-8", "replace"))})
    return rows


def detail(record: Record, masker: Masker) -> dict[str, Any]:
    """Everything the page shows of one exchange, secrets masked."""
    row = summary(record)
    query = record.query_string.decode("latin-1")
    raw_body = record.request_body.decode("utf-8", "replace")
    stream = row["stream"]
    response_body = record.response_body()
    return {
        **row,
        "query": masker.text(query),
        "request": {
            "headers": masker.headers(record.request_headers.items()),
            "body": body_text(record.request_body, masker),
            "bytes": record.request_bytes,
            "truncated": record.request_bytes > len(record.request_body),
        },
        "response": {
            "headers": masker.headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in record.response_headers),
            "body": masker.text(response_body.decode("utf-8", "replace")) if stream else body_text(response_body, masker),
            "bytes": record.response_bytes,
            "truncated": record.response_bytes > len(response_body),
        },
        "chunks": chunk_rows(record, masker) if stream else [],
        "usage": usage_of(record),
        "curl": curl_line(row["method"], row["path"], query, record.request_headers, raw_body, masker,
                          truncated=record.request_bytes > len(record.request_body)),
    }
