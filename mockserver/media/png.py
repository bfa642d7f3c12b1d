"""PNG images (8-bit RGB, filter 0, one IDAT) with zlib and struct: any size, deterministic colours."""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, seed: int = 0) -> bytes:
    """A ``width`` x ``height`` PNG: horizontal bands of colour drawn from ``seed`` (rows compress to almost nothing)."""
    if width < 1 or height < 1:
        raise ValueError("a PNG needs at least one pixel")
    base = (seed * 2654435761) & 0xFFFFFF
    rows = []
    for y in range(height):
        shade = (base + y * 0x010203) & 0xFFFFFF
        rows.append(b"\x00" + bytes(((shade >> 16) & 0xFF, (shade >> 8) & 0xFF, shade & 0xFF)) * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit, truecolour, deflate, filter 0, no interlace
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + _chunk(b"IEND", b"")


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR, or None when ``data`` is not a PNG."""
    if len(data) < 24 or not data.startswith(SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height
