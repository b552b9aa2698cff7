"""P4/P5: RTCP reception statistics and SR/RR/SDES/BYE packets (RFC 3550 §6, A.1, A.3, A.8)."""

from __future__ import annotations

import struct

import pytest

from vaxel.rtp.rtcp import (
    Bye,
    ReceiverReport,
    ReceptionStats,
    ReportBlock,
    Sdes,
    SdesChunk,
    SenderReport,
    Unknown,
    build_bye,
    build_rr,
    build_sdes,
    build_sr,
    ntp_time,
    parse,
)

SOURCE = 0x11223344
US = 0xAABBCCDD


def block_of(stats: ReceptionStats, now: float = 0.0) -> ReportBlock:
    (rr,) = parse(build_rr(US, [stats.report_block(SOURCE, now)]))
    return rr.blocks[0]


def paced(stats: ReceptionStats, seqs, start_ts: int = 0, start: float = 100.0) -> None:
    for seq in seqs:
        assert stats.update(seq & 0xFFFF, (start_ts + 160 * seq) & 0xFFFFFFFF, start + seq * 0.02)


def build_rr_block(ssrc, fraction, lost, highest, jitter, lsr, dlsr) -> bytes:
    return struct.pack(
        "!IIIIII", ssrc, fraction << 24 | lost & 0xFFFFFF, highest, jitter, lsr, dlsr
    )


# -- packets ----------------------------------------------------------------------------


def test_ntp_time() -> None:
    assert ntp_time(0) == (2_208_988_800, 0)
    assert ntp_time(1.5) == (2_208_988_801, 0x80000000)
    assert ntp_time(1_700_000_000.25) == (1_700_000_000 + 2_208_988_800, 0x40000000)


def test_rr_and_sdes_are_byte_exact() -> None:
    assert build_rr(0x01020304) == bytes.fromhex("80c90001 01020304")
    assert build_sdes(0x01020304, "abc") == bytes.fromhex("81ca0003 01020304 01036162 63000000")
    # an item list that ends on a boundary still needs a null octet: a whole null word
    assert build_sdes(1, "ab") == bytes.fromhex("81ca0003 00000001 01026162 00000000")
    assert build_bye(7) == bytes.fromhex("81cb0001 00000007")
    assert build_bye(7, "hangup") == bytes.fromhex("81cb0003 00000007 06 68616e677570 00")


def test_sr_layout() -> None:
    block = bytes(range(24))
    sr = build_sr(US, 1.5, 0xFFFFFFFF, 10, 1600, [block])
    assert sr[:4] == bytes.fromhex("81c8000c")
    assert len(sr) == 4 * (12 + 1)
    assert struct.unpack_from("!IIIIII", sr, 4) == (
        US,
        2_208_988_801,
        0x80000000,
        0xFFFFFFFF,
        10,
        1600,
    )
    assert sr[28:] == block


def test_compound_round_trip() -> None:
    stats = ReceptionStats()
    paced(stats, range(10))
    blocks = [stats.report_block(SOURCE, 0.0), build_rr_block(0x99, 3, -1, 70_000, 12, 5, 6)]
    data = (
        build_sr(US, 1_700_000_000.5, 123_456, 500, 80_000, blocks)
        + build_sdes(US, "vaxel@pbx.example.com")
        + build_bye(US, "call ended")
    )
    sr, sdes, bye = parse(data)
    msw, lsw = ntp_time(1_700_000_000.5)
    assert sr == SenderReport(
        US,
        msw,
        lsw,
        123_456,
        500,
        80_000,
        (
            ReportBlock(SOURCE, 0, 0, 9, 0, 0, 0),
            ReportBlock(0x99, 3, -1, 70_000, 12, 5, 6),
        ),
    )
    assert sr.ntp_middle32 == ((msw & 0xFFFF) << 16) | (lsw >> 16)
    assert sdes == Sdes((SdesChunk(US, ((1, "vaxel@pbx.example.com"),)),))
    assert sdes.chunks[0].cname == "vaxel@pbx.example.com"
    assert bye == Bye((US,), "call ended")


def test_empty_rr_and_cname_lengths_round_trip() -> None:
    for length in range(0, 9):
        cname = "x" * length
        rr, sdes = parse(build_rr(US) + build_sdes(US, cname))
        assert rr == ReceiverReport(US, ())
        assert sdes.chunks[0].cname == cname


def test_parse_sdes_with_several_chunks_and_items() -> None:
    chunk1 = struct.pack("!I", 1) + bytes([1, 1]) + b"a" + bytes([6, 2]) + b"ua" + b"\x00"
    chunk2 = struct.pack("!I", 2) + bytes([1, 3]) + b"bcd" + b"\x00\x00\x00"
    data = struct.pack("!BBH", 0x82, 202, (len(chunk1) + len(chunk2)) // 4) + chunk1 + chunk2
    (sdes,) = parse(data)
    assert sdes.chunks == (SdesChunk(1, ((1, "a"), (6, "ua"))), SdesChunk(2, ((1, "bcd"),)))
    assert SdesChunk(3, ((6, "x"),)).cname is None


def test_parse_keeps_unknown_packets_and_last_padding() -> None:
    feedback = struct.pack("!BBHII", 0x81, 205, 2, US, SOURCE)  # RTPFB generic NACK, no FCI
    padded = struct.pack("!BBHI", 0xA1, 203, 2, US) + b"\x00\x00\x00\x04"  # BYE + 4 padding
    rr, fb, bye = parse(build_rr(US) + feedback + padded)
    assert fb == Unknown(205, 1, struct.pack("!II", US, SOURCE))
    assert bye == Bye((US,), None)
    assert parse(bytearray(build_rr(US))) == [rr]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\xc9\x00",
        bytes.fromhex("40c90001 01020304"),  # version 1
        bytes.fromhex("80c90002 01020304"),  # length past the end
        bytes.fromhex("81c90001 01020304"),  # claims a block it lacks
        bytes.fromhex("81c80006") + b"\x00" * 24,  # SR claims a block it lacks
        bytes.fromhex("80c90001 01020304 80"),  # trailing octet
        bytes.fromhex("a0c90001 01020300") + build_sdes(1, "a"),  # padding not last
        bytes.fromhex("a0c90001 01020300"),  # padding count 0
        bytes.fromhex("a0c90001 01020309"),  # padding longer than the packet
        bytes.fromhex("81ca0002 00000001 01056162"),  # SDES item runs past the end
        bytes.fromhex("81ca0002 00000001 01026162"),  # SDES items not terminated
        bytes.fromhex("82cb0001 00000001"),  # BYE claims two sources
        bytes.fromhex("81cb0002 00000001 09616200"),  # BYE reason runs past the end
    ],
)
def test_parse_refuses_malformed(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse(data)


def test_build_refuses_bad_blocks() -> None:
    with pytest.raises(ValueError):
        build_rr(US, [b"\x00" * 23])
    with pytest.raises(ValueError):
        build_sr(US, 0.0, 0, 0, 0, [b"\x00" * 24] * 32)
    with pytest.raises(ValueError):
        build_sdes(US, "x" * 256)


# -- reception statistics ---------------------------------------------------------------


def test_perfectly_paced_stream_has_no_jitter_or_loss() -> None:
    stats = ReceptionStats()
    paced(stats, range(500), start_ts=0xFFFFF000)  # the timestamp wraps on the way
    assert stats.jitter == pytest.approx(0.0, abs=1e-6)  # float arrival times
    block = block_of(stats)
    assert (block.fraction_lost, block.cumulative_lost, block.jitter) == (0, 0, 0)
    assert block.highest_seq == 499
    assert (stats.expected, stats.received) == (500, 500)


def test_jitter_matches_a_hand_computation() -> None:
    stats = ReceptionStats()
    # 20 ms packets; the third is 5 ms late: arrivals in timestamp units 0, 160, 360, 480
    for seq, arrival in [(0, 0.0), (1, 0.020), (2, 0.045), (3, 0.060)]:
        stats.update(seq, 160 * seq, arrival)
    # transit 0, 0, 40, 0 -> |D| 0, 40, 40
    # J = 0 + (0 - 0)/16 = 0; J = 0 + (40 - 0)/16 = 2.5; J = 2.5 + (40 - 2.5)/16 = 4.84375
    assert stats.jitter == pytest.approx(4.84375)
    assert block_of(stats).jitter == 4


def test_jitter_ignores_packets_sharing_a_timestamp() -> None:
    stats = ReceptionStats()
    stats.update(0, 1000, 0.0)
    for seq in range(1, 6):  # telephone-event updates: one timestamp, 20 ms apart
        stats.update(seq, 1000, 0.02 * seq)
    assert stats.jitter == 0.0
    assert stats.received == 6


def test_jitter_with_a_wideband_clock() -> None:
    stats = ReceptionStats()
    stats.update(0, 0, 0.0, clock_rate=16000)
    stats.update(1, 320, 0.030, clock_rate=16000)  # 10 ms late: 160 units
    assert stats.jitter == pytest.approx(160 / 16)


def test_loss_of_two_in_a_hundred() -> None:
    stats = ReceptionStats()
    paced(stats, [seq for seq in range(100) if seq not in (17, 64)])
    assert (stats.expected, stats.received, stats.cumulative_lost) == (100, 98, 2)
    block = block_of(stats)
    assert block.fraction_lost == int(0.02 * 256)  # 5
    assert stats.fraction_lost == 5
    assert block.cumulative_lost == 2
    assert block.highest_seq == 99
    # the next interval has no loss: the fraction is per interval, the count cumulative
    paced(stats, range(100, 200))
    block = block_of(stats)
    assert (block.fraction_lost, block.cumulative_lost, block.highest_seq) == (0, 2, 199)


def test_sequence_wraparound() -> None:
    stats = ReceptionStats()
    paced(stats, [seq for seq in range(65_500, 65_600) if seq != 65_540])
    block = block_of(stats)
    assert block.highest_seq == (1 << 16) + 63  # one cycle, then seq 63
    assert (block.cumulative_lost, block.fraction_lost) == (1, 256 // 100)
    assert stats.expected == 100


def test_reordered_and_duplicate_packets() -> None:
    stats = ReceptionStats()
    paced(stats, [0, 1, 3, 2, 4, 4, 5])
    assert stats.extended_highest_seq == 5
    assert stats.cumulative_lost == -1  # a duplicate counts as received (RFC 3550 §6.4.1)
    block = block_of(stats)
    assert (block.cumulative_lost, block.fraction_lost) == (-1, 0)


def test_reorder_across_the_wrap_does_not_add_a_cycle() -> None:
    stats = ReceptionStats()
    paced(stats, [65_534, 65_535, 1, 0, 2])
    assert stats.extended_highest_seq == (1 << 16) + 2
    assert stats.cumulative_lost == 0


def test_sender_restart_needs_two_sequential_packets() -> None:
    stats = ReceptionStats()
    paced(stats, range(10))
    assert not stats.update(40_000, 0, 1.0)  # a jump: not counted yet
    assert stats.received == 10
    assert stats.update(40_001, 160, 1.02)  # confirmed: statistics start over
    assert (stats.received, stats.expected, stats.extended_highest_seq) == (1, 1, 40_001)
    assert not stats.update(20_000, 0, 1.04)  # a lone stray packet is not counted
    assert stats.update(40_002, 320, 1.06)
    assert stats.cumulative_lost == 0


def test_lsr_and_dlsr() -> None:
    stats = ReceptionStats()
    paced(stats, range(3))
    assert (block_of(stats).lsr, block_of(stats).dlsr) == (0, 0)
    (sr,) = parse(build_sr(SOURCE, 1_700_000_000.75, 0, 3, 480))
    stats.sr_received(sr.ntp_middle32, now=50.0)
    block = block_of(stats, now=51.5)
    assert block.lsr == sr.ntp_middle32
    assert block.dlsr == 65536 + 32768
    assert block.ssrc == SOURCE


def test_report_block_before_any_packet() -> None:
    block = block_of(ReceptionStats())
    assert (block.fraction_lost, block.cumulative_lost, block.highest_seq) == (0, 0, 0)
