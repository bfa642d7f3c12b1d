"""Multipart bodies built byte by byte, well-formed or broken on purpose, for the hostile-input tests."""

from __future__ import annotations


def multipart_body(boundary: str, parts: list[tuple[str, str | None, str | None, bytes]], *, close: bool = True) -> bytes:
    """A multipart/form-data body of (name, filename, content type, data) parts; ``close=False`` leaves off the
    closing boundary (a truncated body)."""
    out = bytearray()
    for name, filename, content_type, data in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if content_type:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    if close:
        out += f"--{boundary}--\r\n".encode()
    return bytes(out)
