"""``multipart/form-data`` bodies parsed with python-multipart, within limits, every defect a 4xx.

The body is already in memory and under ``--max-body`` (so a file over the limit was 413 before
this runs). Here: a missing or malformed boundary, a part without a name, more parts than
:data:`MAX_PARTS`, a text field over :data:`MAX_FIELD_BYTES`, too many or too long part headers,
and a body that ends before its closing boundary are each a 400 ``invalid_multipart``.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser

from mockserver.errors import MockError

MAX_PARTS = 1000
MAX_FIELD_BYTES = 1024 * 1024  # a text field (a part without a filename)


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    filename: str | None  # None: a text field
    content_type: str | None  # the part's own Content-Type, if it sent one
    data: bytes

    @property
    def is_file(self) -> bool:
        return self.filename is not None


def bad(message: str) -> MockError:
    return MockError(400, f"Malformed multipart body: {message}.", code="invalid_multipart")


def _params(header: str) -> tuple[str, dict[str, str]]:
    message = Message()
    message["content-type"] = header
    params = {k.lower(): v for k, v in message.get_params(failobj=[])[1:]}
    return message.get_content_type(), params


def boundary_of(content_type: str) -> bytes:
    _, params = _params(content_type)
    boundary = params.get("boundary", "")
    if not boundary:
        raise bad("the Content-Type has no boundary parameter")
    if len(boundary) > 70:
        raise bad("the boundary is longer than 70 characters (RFC 2046)")
    return boundary.encode("latin-1", "replace")


def parse_parts(content_type: str, raw: bytes) -> list[Part]:
    """Every part of ``raw``, in order; a :class:`MockError` (400) for any defect."""
    boundary = boundary_of(content_type)
    parts: list[Part] = []
    state: dict[str, object] = {"ended": False}
    headers: dict[str, str] = {}
    field: list[bytes] = []
    chunks: list[bytes] = []
    size = [0]

    def on_part_begin() -> None:
        headers.clear()
        chunks.clear()
        size[0] = 0
        if len(parts) >= MAX_PARTS:
            raise bad(f"more than {MAX_PARTS} parts")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        name = b"".join(field).decode("latin-1").lower()
        field.clear()
        headers[name] = headers.get(name, "") + data[start:end].decode("utf-8", "replace")

    def on_header_end() -> None:
        field.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        size[0] += end - start
        if "filename" not in headers.get("content-disposition", "") and size[0] > MAX_FIELD_BYTES:
            raise bad(f"a text field is over {MAX_FIELD_BYTES} bytes")
        chunks.append(data[start:end])

    def on_part_end() -> None:
        disposition = headers.get("content-disposition")
        if not disposition:
            raise bad(f"part {len(parts) + 1} has no Content-Disposition header")
        kind, params = _params(disposition.replace("form-data", "form-data/x", 1))
        name = params.get("name")
        if kind != "form-data/x" or name is None:
            raise bad(f"part {len(parts) + 1} is not form-data with a name")
        parts.append(Part(name, params.get("filename"), headers.get("content-type"), b"".join(chunks)))

    def on_end() -> None:
        state["ended"] = True

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
        "on_header_field": on_header_field, "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_end": on_end,
    })
    try:
        parser.write(raw)
        parser.finalize()
    except MultipartParseError as exc:
        raise bad(str(exc).rstrip(".") or "cannot be parsed") from None
    if not state["ended"]:
        raise bad("the body ends before the closing boundary (truncated)")
    return parts
