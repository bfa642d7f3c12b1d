"""Ogg Opus files of silence that real decoders (``opusdec``, ffmpeg, browsers) play, and their duration.

No encoder is needed: an Opus packet of one 20 ms CELT-only fullband frame whose range-coded body is
``FF FE`` decodes as silence (the packet WebRTC and ffmpeg send for silence). The file is RFC 7845:
an ``OpusHead`` page, an ``OpusTags`` page, then pages of those packets. Granule positions count
48 kHz samples including the pre-skip; the last page's granule trims the final packet, so the
decoded duration is exact to the sample.
"""

from __future__ import annotations

import math
import struct

RATE = 48_000  # Opus granule positions always count 48 kHz samples
FRAME_SAMPLES = 960  # 20 ms at 48 kHz
PRE_SKIP = 312  # what libopus' encoder asks decoders to drop; kept conventional
SILENCE = b"\xf8\xff\xfe"  # TOC: config 31 (CELT FB 20 ms), mono, one frame; then a silent frame
PACKETS_PER_PAGE = 50  # one second of audio a page
SERIAL = 0x4D4F434B  # "MOCK"
VENDOR = b"mockserver"
_BOS, _EOS = 0x02, 0x04


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
        table.append(crc)
    return table


_TABLE = _crc_table()


def ogg_crc(data: bytes) -> int:
    """Ogg's page checksum: CRC-32, polynomial 0x04C11DB7, initial 0, not reflected, no final XOR."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[(crc >> 24) ^ byte]
    return crc


def _page(packets: list[bytes], granule: int, sequence: int, flags: int) -> bytes:
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes((len(packet) % 255,))
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, SERIAL, sequence, 0, len(lacing)) + lacing
    page = bytearray(header + b"".join(packets))
    page[22:26] = struct.pack("<I", ogg_crc(bytes(page)))
    return bytes(page)


def opus(seconds: float) -> bytes:
    """``seconds`` of silence (mono) as an Ogg Opus file."""
    total = max(1, round(seconds * RATE))
    head = struct.pack("<8sBBHIhB", b"OpusHead", 1, 1, PRE_SKIP, 24_000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", len(VENDOR)) + VENDOR + struct.pack("<I", 0)
    pages = [_page([head], 0, 0, _BOS), _page([tags], 0, 1, 0)]
    packets = math.ceil((total + PRE_SKIP) / FRAME_SAMPLES)
    done = 0
    while done < packets:
        count = min(PACKETS_PER_PAGE, packets - done)
        done += count
        last = done == packets
        granule = PRE_SKIP + total if last else done * FRAME_SAMPLES
        pages.append(_page([SILENCE] * count, granule, len(pages), _EOS if last else 0))
    return b"".join(pages)


def opus_seconds(data: bytes) -> float | None:
    """Duration of an Ogg Opus file: the last page's granule position less the pre-skip, at 48 kHz."""
    if data[:4] != b"OggS" or len(data) < 28:
        return None
    head_at = 27 + data[26]
    if data[head_at:head_at + 8] != b"OpusHead" or len(data) < head_at + 12:
        return None
    pre_skip = int.from_bytes(data[head_at + 10:head_at + 12], "little")
    last = data.rfind(b"OggS")
    if last < 0 or len(data) < last + 14:
        return None
    granule = int.from_bytes(data[last + 6:last + 14], "little", signed=True)
    if granule <= pre_skip:
        return None
    return (granule - pre_skip) / RATE
