"""Request bodies by media type: JSON, multipart/form-data, urlencoded forms, text, and binary.

:func:`parse_body` picks the documented media type that matches the request's Content-Type
(exact, ``type/*`` or ``*/*``), parses the body the way that type is written, and checks it
against the media type's schema, collecting every violation. What handlers get:

| Content-Type | ``call.body`` |
|---|---|
| JSON (``application/json``, ``+json``) | the parsed value |
| ``multipart/form-data`` | a dict: text fields read as their schema's type, files as :class:`Upload` |
| ``application/x-www-form-urlencoded`` | a dict, fields read as their schema's type |
| ``text/*`` | the text (UTF-8) |
| anything else (``application/octet-stream``, ``audio/*``, ``image/*``) | the raw bytes |

A file part's own Content-Type (or, when it sends none or ``application/octet-stream``, the type its
first bytes show) must match the media type's ``encoding.<field>.contentType`` when the spec gives
one: otherwise 415. Files are validated as strings (``format: binary``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mockserver.errors import MockError
from mockserver.media.sniff import sniff
from mockserver.multipart import Part, parse_parts
from mockserver.spec.model import MediaType, Operation, is_json
from mockserver.validation import Problem, coerce, invalid, json_object, read_json_body

Resolve = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Upload:
    """A file sent in a multipart body."""

    filename: str
    content_type: str  # as sent, else as sniffed, else application/octet-stream
    data: bytes

    def __len__(self) -> int:
        return len(self.data)


def base_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def matches(media_range: str, media_type: str) -> bool:
    """``media_type`` (no parameters) is covered by ``media_range`` (``type/subtype``, ``type/*``, ``*/*``)."""
    pattern = base_type(media_range)
    if pattern in ("*/*", media_type):
        return True
    return pattern.endswith("/*") and media_type.startswith(pattern[:-1])


def documented_media(operation: Operation, content_type: str | None) -> MediaType | None:
    body = operation.body
    if body is None:
        return None
    wanted = base_type(content_type)
    if wanted in body.content:
        return body.content[wanted]
    for name, media in body.content.items():
        if base_type(name) == wanted or (wanted and matches(name, wanted)):
            return media
    return None


def parse_body(operation: Operation, content_type: str | None, raw: bytes, resolve: Resolve) -> Any:
    """The body of ``operation`` read by its media type and validated; a :class:`MockError` for any problem."""
    body_spec = operation.body
    if body_spec is None:
        return None
    if content_type == "application/json" and raw[:1] == b"{" and body_spec.json is not None:
        return json_object(body_spec.json, raw)  # the usual request: a JSON object where the spec takes one
    kind = base_type(content_type)
    if not body_spec.content or not raw.strip() or is_json(kind) and body_spec.json_media() is not None:
        return read_json_body(operation, content_type, raw)
    if not content_type and body_spec.json_media() is None:
        if any(matches(name, "application/octet-stream") for name in body_spec.content):
            return raw  # bytes without a type, where the spec takes bytes
        raise MockError(415, f"The request has no Content-Type: send {', '.join(body_spec.content)}.",
                        param="Content-Type")
    if not content_type:
        return read_json_body(operation, content_type, raw)  # 415, naming the JSON type
    media = documented_media(operation, content_type)
    if media is None:
        documented = ", ".join(body_spec.content)
        raise MockError(415, f"Unsupported Content-Type {content_type!r}: send {documented}.", param="Content-Type")
    if kind == "multipart/form-data":
        value, check = read_multipart(media, content_type, raw, resolve)
    elif kind == "application/x-www-form-urlencoded":
        value = read_form(media, raw, resolve)
        check = value
    elif kind.startswith("text/"):
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MockError(400, "The body is not valid UTF-8 text.", code="invalid_text") from None
        check = value
    else:
        return raw  # binary: the bytes as sent
    validate(media, check)
    return value


def validate(media: MediaType, value: Any) -> None:
    if media.validator is not None and not media.validator.is_valid(value):
        raise invalid([Problem(v.path, v.message) for v in media.validator.violations(value)])


# -- forms ---------------------------------------------------------------------------------------


def _properties(media: MediaType, resolve: Resolve) -> dict[str, Any]:
    schema = resolve(media.schema) if media.schema is not None else {}
    props: dict[str, Any] = {}
    for part in [schema, *(schema.get("allOf") or [] if isinstance(schema, dict) else [])]:
        part = resolve(part)
        if isinstance(part, dict):
            props.update(part.get("properties") or {})
    return props


def _kind(schema: Any, resolve: Resolve) -> tuple[str | None, Any]:
    """The JSON type a form value is read as, and the schema of its items for arrays."""
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return None, None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None:
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key) or []:
                found, items = _kind(option, resolve)
                if found not in (None, "null"):
                    return found, items
    return kind, schema.get("items")


def _nullable(schema: Any, resolve: Resolve) -> bool:
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "null" or isinstance(kind, list) and "null" in kind or None in (schema.get("enum") or [1]):
        return True
    return any(_nullable(option, resolve) for key in ("anyOf", "oneOf") for option in schema.get(key) or [])


def _read_field(texts: list[str], schema: Any, resolve: Resolve) -> Any:
    if len(texts) == 1 and texts[0] == "null" and _nullable(schema, resolve):
        return None  # how form encoders (Schemathesis among them) write a JSON null
    kind, items = _kind(schema, resolve)
    if kind == "array":
        item_kind, _ = _kind(items, resolve) if items is not None else (None, None)
        return [_read_one(t, item_kind) for t in texts]
    return _read_one(texts[-1], kind)


def _read_one(text: str, kind: str | None) -> Any:
    if kind == "object":
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
    return coerce(text, kind)


def _field_name(name: str, props: dict[str, Any]) -> str:
    return name[:-2] if name.endswith("[]") and name not in props and name[:-2] in props else name


def read_form(media: MediaType, raw: bytes, resolve: Resolve) -> dict[str, Any]:
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True, max_num_fields=1000)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MockError(400, f"Malformed form body: {exc}.", code="invalid_form") from None
    props = _properties(media, resolve)
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(_field_name(name, props), []).append(value)
    return {name: _read_field(values, props.get(name, {}), resolve) for name, values in grouped.items()}


def read_multipart(media: MediaType, content_type: str, raw: bytes, resolve: Resolve) -> tuple[dict[str, Any], Any]:
    """The form's values (files as :class:`Upload`) and the view validated against the schema."""
    props = _properties(media, resolve)
    texts: dict[str, list[str]] = {}
    json_fields: dict[str, Any] = {}
    files: dict[str, list[Upload]] = {}
    for part in parse_parts(content_type, raw):
        name = _field_name(part.name, props)
        if part.is_file or _is_binary(props.get(name), resolve):
            upload = _upload(part)
            _check_file_type(media, name, upload, part.content_type)
            files.setdefault(name, []).append(upload)
        else:
            try:
                text = part.data.decode("utf-8")
            except UnicodeDecodeError:
                raise MockError(400, f"Malformed multipart body: field {name!r} is not UTF-8 text.",
                                code="invalid_multipart") from None
            if is_json(base_type(part.content_type or _encoded_type(media, name))) and part.content_type != "*/*":
                json_fields[name] = _json_field(name, text)
            else:
                texts.setdefault(name, []).append(text)
    value: dict[str, Any] = {name: _read_field(values, props.get(name, {}), resolve) for name, values in texts.items()}
    value.update(json_fields)
    view = dict(value)
    for name, uploads in files.items():
        kind, _ = _kind(props.get(name, {}), resolve)
        many = kind == "array" or len(uploads) > 1
        value[name] = uploads if many else uploads[0]
        view[name] = [u.filename for u in uploads] if many else uploads[0].filename
    return value, view


def _encoded_type(media: MediaType, name: str) -> str:
    encoding = media.encoding.get(name) if isinstance(media.encoding, dict) else None
    return encoding.get("contentType", "") if isinstance(encoding, dict) and isinstance(encoding.get("contentType"), str) \
        else ""


def _json_field(name: str, text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise MockError(400, f"Multipart field {name!r} is sent as JSON but is not valid JSON: {exc}.",
                        code="invalid_json", param=name) from None


def _is_binary(schema: Any, resolve: Resolve) -> bool:
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return False
    if schema.get("format") == "binary" or "contentMediaType" in schema:
        return True
    if any(_is_binary(option, resolve) for key in ("anyOf", "oneOf") for option in schema.get(key) or []):
        return True
    kind, items = _kind(schema, resolve)
    return kind == "array" and items is not None and _is_binary(items, resolve)


def _upload(part: Part) -> Upload:
    declared = base_type(part.content_type)
    if not declared or declared == "application/octet-stream":
        declared = sniff(part.data) or declared or "application/octet-stream"
    return Upload(part.filename or part.name, declared, part.data)


def _check_file_type(media: MediaType, name: str, upload: Upload, sent: str | None) -> None:
    """The part's type, as sent or else as sniffed, must be one ``encoding.<name>.contentType`` takes."""
    encoding = media.encoding.get(name) if isinstance(media.encoding, dict) else None
    allowed = encoding.get("contentType") if isinstance(encoding, dict) else None
    if not isinstance(allowed, str) or not allowed.strip():
        return
    ranges = [r.strip() for r in allowed.split(",") if r.strip()]
    if any(matches(r, kind) for r in ranges for kind in {upload.content_type, base_type(sent) or upload.content_type}):
        return
    raise MockError(415, f"File {name!r} ({upload.filename}) is {upload.content_type}; "
                         f"this field takes {', '.join(ranges)}.", param=name, code="unsupported_file_type")
