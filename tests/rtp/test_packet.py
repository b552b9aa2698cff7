"""P4/P5: RTP header parsing and building, and the B2BUA stream rewriter (RFC 3550 §5.1)."""

from __future__ import annotations

import struct

import pytest

from vaxel.rtp.packet import HEADER, StreamRewriter, build, parse_header

PCMU, PCMA, TELEPHONE_EVENT = 0, 8, 101


def test_build_is_byte_exact() -> None:
    packet = build(PCMA, 0x1234, 0xDEADBEEF, 0x01020304, b"\xd5" * 4, marker=True)
    assert packet == bytes.fromhex("8088 1234 deadbeef 01020304 d5d5d5d5")
    assert build(PCMU, 1, 2, 3, b"")[:2] == b"\x80\x00"


def test_build_wraps_seq_and_ts() -> None:
    packet = build(PCMU, 0x10001, 0x100000002, 7, b"x")
    assert parse_header(packet) == (PCMU, False, 1, 2, 7, 12)


def test_parse_round_trip() -> None:
    packet = build(TELEPHONE_EVENT, 65535, 4294967295, 0xFFFFFFFF, b"abcd", marker=True)
    assert parse_header(packet) == (TELEPHONE_EVENT, True, 65535, 4294967295, 0xFFFFFFFF, 12)
    assert parse_header(bytearray(packet)) == parse_header(memoryview(packet))


def test_parse_skips_csrcs_and_extension() -> None:
    csrcs = struct.pack("!II", 11, 22)
    extension = struct.pack("!HH", 0xBEDE, 2) + b"\x00" * 8
    head = HEADER.pack(0x80 | 0x10 | 2, PCMU, 5, 6, 7)
    packet = head + csrcs + extension + b"payload"
    pt, marker, seq, ts, ssrc, offset = parse_header(packet)
    assert (pt, marker, seq, ts, ssrc) == (PCMU, False, 5, 6, 7)
    assert packet[offset:] == b"payload"


def test_parse_keeps_padding_in_payload() -> None:
    packet = HEADER.pack(0x80 | 0x20, PCMU, 1, 2, 3) + b"ab" + b"\x00\x02"
    assert parse_header(packet)[5] == 12


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\x00" + b"\x00" * 9,  # 11 octets
        HEADER.pack(0x40, 0, 1, 2, 3),  # version 1
        HEADER.pack(0x00, 0, 1, 2, 3),  # version 0 (e.g. STUN's first bits)
        HEADER.pack(0xC0, 0, 1, 2, 3),  # version 3
        HEADER.pack(0x83, 0, 1, 2, 3) + b"\x00" * 8,  # claims 3 CSRCs, has 2
        HEADER.pack(0x90, 0, 1, 2, 3) + b"\xbe\xde",  # extension header cut short
        HEADER.pack(0x90, 0, 1, 2, 3) + struct.pack("!HH", 0xBEDE, 3) + b"\x00" * 8,
    ],
)
def test_parse_refuses_what_is_not_rtp(data: bytes) -> None:
    assert parse_header(data) is None


def stream(ssrc: int, seq: int, ts: int, count: int, pt: int = PCMU) -> list[bytes]:
    return [
        build(pt, seq + i, ts + 160 * i, ssrc, bytes([i]) * 160, marker=i == 0)
        for i in range(count)
    ]


def test_rewriter_splices_two_sources_into_one_stream() -> None:
    rewriter = StreamRewriter(0xCAFE, seq=1000, ts=50_000)
    first = stream(0x1111, 40_000, 123_456, 5)
    second = stream(0x2222, 7, 999_999_000, 5)
    out = [parse_header(rewriter.rewrite(p, PCMA)) for p in first + second]
    assert {h[4] for h in out} == {0xCAFE}
    assert [h[0] for h in out] == [PCMA] * 10
    assert [h[2] for h in out] == list(range(1000, 1010))
    assert [h[3] for h in out] == [50_000 + 160 * i for i in range(10)]
    assert [h[1] for h in out] == [True, False, False, False, False] * 2


def test_rewriter_keeps_the_payload() -> None:
    rewriter = StreamRewriter(1, seq=0, ts=0)
    packet = build(PCMU, 9, 9, 9, b"hello")
    assert bytes(rewriter.rewrite(packet, PCMA))[12:] == b"hello"


def test_rewriter_rewrites_a_bytearray_in_place() -> None:
    rewriter = StreamRewriter(5, seq=0, ts=0)
    packet = bytearray(build(PCMU, 9, 9, 9, b"x"))
    assert rewriter.rewrite(packet, PCMA) is packet
    assert parse_header(packet)[:5] == (PCMA, True, 0, 0, 5)


def test_rewriter_wraps_seq_and_ts() -> None:
    rewriter = StreamRewriter(5, seq=65535, ts=0xFFFFFF60)
    out = [parse_header(rewriter.rewrite(p, PCMU)) for p in stream(1, 100, 0, 3)]
    assert [h[2] for h in out] == [65535, 0, 1]
    assert [h[3] for h in out] == [0xFFFFFF60, 0, 160]


def test_rewriter_preserves_gaps_and_reordering_within_a_source() -> None:
    rewriter = StreamRewriter(5, seq=500, ts=0)
    packets = stream(1, 65534, 0, 8)  # incoming seq wraps too
    order = [0, 1, 4, 3, 5, 7]  # 2 and 6 lost, 3 late
    out = [parse_header(rewriter.rewrite(packets[i], PCMU)) for i in order]
    assert [h[2] for h in out] == [500, 501, 504, 503, 505, 507]
    assert [h[3] for h in out] == [160 * i for i in order]
    # a source change after the late packet continues from the newest one (507)
    after = parse_header(rewriter.rewrite(build(PCMU, 1, 1, 2, b""), PCMU))
    assert after[1:4] == (True, 508, 160 * 7 + 160)


def test_rewriter_passes_timestamp_jumps_within_a_source() -> None:
    """Silence suppression: seq +1 but ts jumps; the receiver must see the same jump."""
    rewriter = StreamRewriter(5, seq=0, ts=1000)
    a = build(PCMU, 10, 8000, 1, b"")
    b = build(PCMU, 11, 8000 + 160 * 50, 1, b"", marker=True)
    assert parse_header(rewriter.rewrite(a, PCMU))[3] == 1000
    assert parse_header(rewriter.rewrite(b, PCMU))[1:4] == (True, 1, 1000 + 160 * 50)


def test_rewriter_treats_a_sequence_restart_as_a_new_source() -> None:
    rewriter = StreamRewriter(5, seq=0, ts=0)
    for packet in stream(1, 100, 0, 3):
        rewriter.rewrite(packet, PCMU)
    restarted = build(PCMU, 30_000, 777, 1, b"")  # same SSRC, numbering jumped
    assert parse_header(rewriter.rewrite(restarted, PCMU))[1:4] == (True, 3, 480)
    following = build(PCMU, 30_001, 937, 1, b"")
    assert parse_header(rewriter.rewrite(following, PCMU))[1:4] == (False, 4, 640)


def test_rewriter_uses_elapsed_time_across_a_source_change() -> None:
    rewriter = StreamRewriter(5, seq=0, ts=0)
    rewriter.rewrite(build(PCMU, 1, 1, 1, b""), PCMU, now=100.0)
    rewriter.rewrite(build(PCMU, 2, 161, 1, b""), PCMU, now=100.02)
    # the new answer arrives 3 s later (a re-INVITE to hold and back)
    out = parse_header(rewriter.rewrite(build(PCMU, 9, 9, 2, b""), PCMU, now=103.02))
    assert out[2:4] == (2, 160 + 24_000)
    # a new source at once still moves on by one packet
    out = parse_header(rewriter.rewrite(build(PCMU, 9, 9, 3, b""), PCMU, now=103.021))
    assert out[2:4] == (3, 160 + 24_000 + 160)


def test_rewriter_strips_csrcs_extension_and_padding() -> None:
    rewriter = StreamRewriter(5, seq=0, ts=0)
    head = HEADER.pack(0x80 | 0x20 | 0x10 | 1, PCMU, 1, 2, 3)
    packet = head + b"\x00\x00\x00\x09" + struct.pack("!HH", 0xBEDE, 1) + b"\x10abc"
    packet += b"voice" + b"\x00\x00\x03"
    out = rewriter.rewrite(packet, PCMA)
    assert bytes(out) == HEADER.pack(0x80, 0x80 | PCMA, 0, 0, 5) + b"voice"


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x00",
        HEADER.pack(0x40, 0, 1, 2, 3),
        HEADER.pack(0xA0, 0, 1, 2, 3) + b"\x09",  # padding longer than the payload
    ],
)
def test_rewriter_refuses_what_is_not_rtp(data: bytes) -> None:
    assert StreamRewriter(5).rewrite(data, PCMU) is None


def test_rewriter_random_start() -> None:
    a, b = StreamRewriter(), StreamRewriter()
    assert 0 <= a.ssrc < 2**32
    assert a.ssrc != b.ssrc  # 1 in 2**32 to fail


def test_rewriter_drops_stragglers_of_the_previous_source_but_follows_its_return() -> None:
    rewriter = StreamRewriter(5, seq=0, ts=0)
    old = stream(1, 100, 0, 6)
    new = stream(2, 7000, 90_000, 3)
    for packet in old[:4]:
        rewriter.rewrite(packet, PCMU)
    assert parse_header(rewriter.rewrite(new[0], PCMU))[1:4] == (True, 4, 640)
    assert rewriter.rewrite(old[2], PCMU) is None  # late, from before the switch
    assert rewriter.rewrite(old[3], PCMU) is None  # the last one, duplicated
    assert parse_header(rewriter.rewrite(new[1], PCMU))[1:4] == (False, 5, 800)
    # the first source comes back with new packets: followed, as a source change
    assert parse_header(rewriter.rewrite(old[5], PCMU))[1:4] == (True, 6, 960)
    assert parse_header(rewriter.rewrite(new[2], PCMU))[1:4] == (True, 7, 1120)
