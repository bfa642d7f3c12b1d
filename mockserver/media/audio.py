"""Audio files that real decoders read: WAV (the ``wave`` module), raw PCM, MP3 and FLAC frames
(Ogg Opus and ADTS AAC are in :mod:`mockserver.media.opus` and :mod:`mockserver.media.aac`).

Every file is ``seconds`` long. WAV and PCM carry a quiet tone; MP3 and FLAC carry silence written
as valid frames (MPEG-1 Layer III frames with zeroed side information; FLAC CONSTANT subframes).
"""

from __future__ import annotations

import array
import io
import math
import struct
import sys
import wave

from mockserver.media.aac import aac_seconds, is_adts
from mockserver.media.opus import opus_seconds

SAMPLE_RATE = 24_000  # what OpenAI's speech endpoint sends for wav and pcm
TONE_HZ = 400  # 60 samples per period at 24 kHz: one period repeated
MP3_RATE = 48_000
MP3_FRAME_SAMPLES = 1152
MP3_FRAME_BYTES = 96  # 144 * 32 kbit/s / 48 kHz, no padding
_MP3_HEADER = bytes((0xFF, 0xFB, 0x14, 0xC0))  # MPEG-1 Layer III, no CRC, 32 kbit/s, 48 kHz, mono


def samples(seconds: float, rate: int = SAMPLE_RATE) -> int:
    return max(1, round(seconds * rate))


def pcm(seconds: float) -> bytes:
    """Signed 16-bit little-endian mono samples at 24 kHz: a quiet 400 Hz tone."""
    period = array.array("h", (int(3000 * math.sin(2 * math.pi * i * TONE_HZ / SAMPLE_RATE))
                               for i in range(SAMPLE_RATE // TONE_HZ)))
    count = samples(seconds)
    reps = count // len(period) + 1
    data = (period * reps)[:count]
    if sys.byteorder == "big":
        data.byteswap()
    return data.tobytes()


def wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm(seconds))
    return buffer.getvalue()


def wav_seconds(data: bytes) -> float | None:
    """The duration of a WAV file from its header, or None when it is not one ``wave`` can read."""
    try:
        with wave.open(io.BytesIO(data), "rb") as source:
            return source.getnframes() / source.getframerate()
    except (wave.Error, EOFError, ValueError, struct.error):
        return None


def mp3(seconds: float) -> bytes:
    frames = max(1, math.ceil(seconds * MP3_RATE / MP3_FRAME_SAMPLES))
    return (_MP3_HEADER + bytes(MP3_FRAME_BYTES - 4)) * frames


def mp3_seconds(data: bytes) -> float | None:
    """Duration of a constant-bitrate MPEG audio file (ID3 tag skipped): frames x samples per frame."""
    offset = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        offset = 10 + ((data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F))
    frames = 0
    while offset + 4 <= len(data):
        head = data[offset:offset + 4]
        if head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
            break
        version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
        rate_index, bitrate_index, padding = (head[2] >> 2) & 3, head[2] >> 4, (head[2] >> 1) & 1
        if version != 3 or layer != 1 or rate_index == 3 or bitrate_index in (0, 15):
            break
        bitrate = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)[bitrate_index] * 1000
        rate = (44_100, 48_000, 32_000)[rate_index]
        offset += 144 * bitrate // rate + padding
        frames += 1
    return frames * MP3_FRAME_SAMPLES / MP3_RATE if frames else None


# -- FLAC ---------------------------------------------------------------------------------------

FLAC_BLOCK = 4096


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _utf8_number(n: int) -> bytes:
    return chr(n).encode("utf-8") if n < 0x110000 and not 0xD800 <= n <= 0xDFFF else _long_utf8(n)


def _long_utf8(n: int) -> bytes:  # FLAC's "UTF-8" coding of frame numbers beyond the Unicode range
    out = []
    for length, first in ((2, 0xC0), (3, 0xE0), (4, 0xF0), (5, 0xF8), (6, 0xFC)):
        if n < 1 << (5 * length + 1 + (0 if length > 1 else 1)):
            for _ in range(length - 1):
                out.append(0x80 | (n & 0x3F))
                n >>= 6
            return bytes([first | n, *reversed(out)])
    raise ValueError("frame number too large")


def flac(seconds: float) -> bytes:
    """Silence as FLAC: STREAMINFO, then frames of one CONSTANT subframe (16-bit mono, 24 kHz)."""
    total = samples(seconds)
    info = bytearray()
    info += struct.pack(">HH", FLAC_BLOCK, FLAC_BLOCK)  # min/max block size
    info += bytes(6)  # min/max frame size unknown
    packed = (SAMPLE_RATE << 44) | (0 << 41) | (15 << 36) | total  # rate, channels-1, bits-1, total samples
    info += packed.to_bytes(8, "big")
    info += bytes(16)  # MD5 unknown
    out = bytearray(b"fLaC")
    out += bytes((0x80,)) + len(info).to_bytes(3, "big") + info  # last metadata block: STREAMINFO
    frame_number, left = 0, total
    while left > 0:
        block = min(FLAC_BLOCK, left)
        header = bytearray(b"\xff\xf8")  # sync, fixed block size
        header.append((0b0111 << 4) | 0b0000)  # block size: 16-bit value - 1 at the end; rate from STREAMINFO
        header.append((0b0000 << 4) | (0b100 << 1))  # mono, 16 bits per sample
        header += _utf8_number(frame_number)
        header += struct.pack(">H", block - 1)
        header.append(_crc8(header))
        frame = header + bytes((0b00000000,)) + struct.pack(">h", 0)  # CONSTANT subframe, value 0
        frame += struct.pack(">H", _crc16(frame))
        out += frame
        frame_number += 1
        left -= block
    return bytes(out)


def flac_seconds(data: bytes) -> float | None:
    """Duration from a FLAC file's STREAMINFO block (total samples / sample rate)."""
    if data[:4] != b"fLaC" or len(data) < 8 + 34 or data[4] & 0x7F != 0:
        return None
    packed = int.from_bytes(data[8 + 10:8 + 18], "big")
    rate, total = packed >> 44, packed & ((1 << 36) - 1)
    return total / rate if rate else None


READABLE = "WAV, MP3, FLAC, Ogg Opus and ADTS AAC"


def audio_seconds(data: bytes) -> float | None:
    """The duration a real decoder would find, from the header of a WAV, MP3, FLAC, Ogg Opus or ADTS AAC file
    (Opus: the last granule position; AAC: its frames counted); None otherwise."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return wav_seconds(data)
    if data[:4] == b"fLaC":
        return flac_seconds(data)
    if data[:4] == b"OggS":
        return opus_seconds(data)
    if is_adts(data):
        return aac_seconds(data)
    return mp3_seconds(data)
