"""The Ogg Opus and ADTS AAC writers, checked structure by structure (the e2e test decodes them with opusdec
and faad): Ogg page checksums, flags and granule positions; ADTS headers and the silent raw data block."""

from __future__ import annotations

import struct

import pytest

from mockserver.media.aac import FRAME, FRAME_SAMPLES, RATE, SILENT_BLOCK, aac, aac_seconds, is_adts
from mockserver.media.audio import audio_seconds, mp3
from mockserver.media.opus import FRAME_SAMPLES as OPUS_FRAME
from mockserver.media.opus import PRE_SKIP, SILENCE, ogg_crc, opus, opus_seconds
from mockserver.media.sniff import sniff


def pages(data: bytes) -> list[dict]:
    out, offset = [], 0
    while offset < len(data):
        assert data[offset:offset + 4] == b"OggS"
        _, version, flags, granule, serial, sequence, crc, count = struct.unpack_from("<4sBBqIIIB", data, offset)
        lacing = data[offset + 27:offset + 27 + count]
        size = 27 + count + sum(lacing)
        page = bytearray(data[offset:offset + size])
        page[22:26] = bytes(4)
        assert ogg_crc(bytes(page)) == crc, f"page {sequence}: bad checksum"
        body, packets, start = data[offset + 27 + count:offset + size], [], 0
        for value in lacing:  # packets of under 255 bytes: one lacing value each
            assert value < 255
            packets.append(body[start:start + value])
            start += value
        out.append({"flags": flags, "granule": granule, "serial": serial, "sequence": sequence, "packets": packets,
                    "version": version})
        offset += size
    return out


def test_the_ogg_checksum_is_crc32_unreflected_from_zero():
    assert ogg_crc(b"123456789") == 0x89A1897F  # the catalogued check value of CRC-32 with these parameters


@pytest.mark.parametrize("seconds", [0.5, 1.0, 3.7, 12.34])
def test_ogg_opus_pages_head_tags_and_granules(seconds):
    found = pages(opus(seconds))
    head, tags, audio = found[0], found[1], found[2:]
    assert head["flags"] == 0x02 and head["packets"][0][:8] == b"OpusHead" and head["granule"] == 0
    version, channels, pre_skip = struct.unpack_from("<BBH", head["packets"][0], 8)
    assert (version, channels, pre_skip) == (1, 1, PRE_SKIP)
    assert tags["packets"][0][:8] == b"OpusTags" and tags["flags"] == 0
    assert [p["sequence"] for p in found] == list(range(len(found))) and len({p["serial"] for p in found}) == 1
    assert [p["flags"] for p in audio] == [0] * (len(audio) - 1) + [0x04]  # end of stream on the last page only
    packets = 0
    for page in audio:
        assert all(packet == SILENCE for packet in page["packets"])
        packets += len(page["packets"])
        if page is not audio[-1]:
            assert page["granule"] == packets * OPUS_FRAME
    total = round(seconds * 48_000)
    assert audio[-1]["granule"] == PRE_SKIP + total  # the last packet trimmed: exact to the sample
    assert (packets - 1) * OPUS_FRAME < PRE_SKIP + total <= packets * OPUS_FRAME
    assert opus_seconds(opus(seconds)) == audio_seconds(opus(seconds)) == total / 48_000


def test_the_silent_opus_packet_is_one_celt_fullband_20ms_mono_frame():
    toc = SILENCE[0]
    assert toc >> 3 == 31 and toc & 0x04 == 0 and toc & 0x03 == 0  # config 31: CELT FB 20 ms; mono; one frame


def _read_bits(data: bytes, widths: list[int]) -> list[int]:
    value, total, out = int.from_bytes(data, "big"), len(data) * 8, []
    for width in widths:
        total -= width
        out.append((value >> total) & ((1 << width) - 1))
    assert value & ((1 << total) - 1) == 0  # the padding is zero
    return out


def test_the_adts_header_says_aac_lc_mono_48khz_with_the_frame_length():
    sync, mpeg2, layer, no_crc, profile, rate, _, channels, _, _, _, _, length, fullness, blocks = _read_bits(
        FRAME[:7], [12, 1, 2, 1, 2, 4, 1, 3, 1, 1, 1, 1, 13, 11, 2])
    assert (sync, mpeg2, layer, no_crc) == (0xFFF, 0, 0, 1)
    assert profile + 1 == 2 and rate == 3 and RATE == 48_000 and channels == 1  # AAC-LC; index 3 is 48 kHz
    assert length == len(FRAME) and fullness == 0x7FF and blocks == 0


def test_the_raw_data_block_is_a_single_channel_element_with_no_bands_then_end():
    element, tag, _, reserved, sequence, _, max_sfb, predictor, pulse, tns, gain, end = _read_bits(
        SILENT_BLOCK, [3, 4, 8, 1, 2, 1, 6, 1, 1, 1, 1, 3])
    assert (element, tag, reserved, sequence, max_sfb) == (0, 0, 0, 0, 0)  # SCE; ONLY_LONG; no coded bands: silence
    assert (predictor, pulse, tns, gain, end) == (0, 0, 0, 0, 7)  # ID_END


@pytest.mark.parametrize("seconds", [0.5, 2.0, 7.77])
def test_aac_frames_are_counted_back(seconds):
    data = aac(seconds)
    frames = len(data) // len(FRAME)
    assert data == FRAME * frames and frames * FRAME_SAMPLES >= seconds * RATE > (frames - 1) * FRAME_SAMPLES
    assert aac_seconds(data) == audio_seconds(data) == frames * FRAME_SAMPLES / RATE


def test_sniffing_tells_adts_from_mpeg_audio_and_ogg():
    assert is_adts(aac(1)) and not is_adts(mp3(1))
    assert sniff(aac(1)) == "audio/aac" and sniff(mp3(1)) == "audio/mpeg" and sniff(opus(1)) == "audio/ogg"
    assert aac_seconds(mp3(1)) is None and opus_seconds(b"OggS" + bytes(40)) is None
