"""AAC files of silence in ADTS frames that real decoders (``faad``, ffmpeg, browsers) play, and their duration.

Each frame is a 7-byte ADTS header (MPEG-4 AAC-LC, mono, 48 kHz, no CRC) and one raw data block:
a single channel element whose only long window codes no scale-factor bands (``max_sfb`` 0: every
spectral coefficient is zero, so the 1024 samples decode as silence), then the END element. A frame
carries 1024 samples; the duration read back is frames x 1024 / rate.
"""

from __future__ import annotations

import math

RATE = 48_000
FRAME_SAMPLES = 1024
_RATES = (96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000, 7_350)


def _bits(fields: list[tuple[int, int]]) -> bytes:
    """Fields of (value, width), most significant bit first, zero-padded to whole bytes."""
    value, width = 0, 0
    for field, size in fields:
        value, width = (value << size) | field, width + size
    pad = -width % 8
    return (value << pad).to_bytes((width + pad) // 8, "big")


# raw_data_block(): SCE (id 0, tag 0), global_gain, ics_info (reserved, ONLY_LONG_SEQUENCE, sine window,
# max_sfb 0, no predictor), no pulse / TNS / gain control data, no spectral data, then ID_END (7).
SILENT_BLOCK = _bits([(0, 3), (0, 4), (100, 8), (0, 1), (0, 2), (0, 1), (0, 6), (0, 1), (0, 1), (0, 1), (0, 1),
                      (7, 3)])


def _adts_header(frame_length: int) -> bytes:
    return _bits([(0xFFF, 12), (0, 1), (0, 2), (1, 1),  # sync, MPEG-4, layer 0, no CRC
                  (1, 2), (_RATES.index(RATE), 4), (0, 1), (1, 3), (0, 1), (0, 1),  # AAC-LC, rate, mono
                  (0, 1), (0, 1), (frame_length, 13), (0x7FF, 11), (0, 2)])  # length, VBR fullness, one block


FRAME = _adts_header(7 + len(SILENT_BLOCK)) + SILENT_BLOCK


def aac(seconds: float) -> bytes:
    """``seconds`` of silence (rounded up to whole 1024-sample frames) as an ADTS AAC stream."""
    return FRAME * max(1, math.ceil(seconds * RATE / FRAME_SAMPLES))


def adts_sync(data: bytes) -> bool:
    """An ADTS frame sync and layer 0 at the start (MPEG audio has layers 1-3)."""
    return len(data) >= 2 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0


def is_adts(data: bytes) -> bool:
    return len(data) >= 7 and adts_sync(data)  # a whole header


def aac_seconds(data: bytes) -> float | None:
    """Duration of an ADTS AAC stream: its frames walked by their lengths, x 1024 samples / their rate."""
    offset = frames = 0
    rate = None
    while offset + 7 <= len(data) and is_adts(data[offset:offset + 7]):
        index = (data[offset + 2] >> 2) & 0xF
        length = (data[offset + 3] & 0x3) << 11 | data[offset + 4] << 3 | data[offset + 5] >> 5
        if index >= len(_RATES) or length < 7:
            break
        rate = rate or _RATES[index]
        frames += (data[offset + 6] & 0x3) + 1
        offset += length
    return frames * FRAME_SAMPLES / rate if frames and rate else None
