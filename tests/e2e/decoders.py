"""Real decoders for the files the mock sends: Debian's command-line decoders (installed with apt-get on first
use) and a chunk-by-chunk PNG decoder with CRC checks; shared by the Python and JavaScript SDK tests."""

from __future__ import annotations

import subprocess
import wave
import zlib
from pathlib import Path

from tests.debian import installed

# format: (program, Debian package, arguments with {src} and {out}, the decoded WAV's allowed shortfall in seconds)
AUDIO_DECODERS = {
    "mp3": ("mpg123", "mpg123", ["-q", "-w", "{out}", "{src}"], 0.05),
    "opus": ("opusdec", "opus-tools", ["--quiet", "--rate", "48000", "{src}", "{out}"], 0.0005),  # exact (ms header)
    "aac": ("faad", "faad", ["-q", "-o", "{out}", "{src}"], 1024 / 48_000 + 0.0005),  # faad drops one priming frame
    "flac": ("flac", "flac", ["-d", "-s", "-f", "-o", "{out}", "{src}"], 0.01),
}


def decoder(program: str, package: str) -> str:
    """The path of a Debian decoder, installed with apt-get on first use."""
    return installed((program,), package)


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, raw scanlines) of an 8-bit RGB PNG, decoded chunk by chunk with CRC checks."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, size = 8, b"", None
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        kind, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        assert zlib.crc32(kind + body) == int.from_bytes(data[offset + 8 + length:offset + 12 + length], "big")
        if kind == b"IHDR":
            size = (int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big"))
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    assert size is not None
    raw = zlib.decompress(idat)
    assert len(raw) == size[1] * (1 + 3 * size[0])
    return size[0], size[1], raw


def decoded_seconds(fmt: str, src: Path, out: Path) -> float:
    """The duration of ``src`` once decoded to WAV by the real decoder of ``fmt`` (``wave`` itself for wav)."""
    if fmt != "wav":
        program, package, arguments, _ = AUDIO_DECODERS[fmt]
        done = subprocess.run([decoder(program, package), *(a.format(src=src, out=out) for a in arguments)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        src = out
    with wave.open(str(src)) as sound:
        return sound.getnframes() / sound.getframerate()
