"""RTCP (P5, RFC 3550 §6): reception statistics, SR/RR/SDES/BYE building, compound parsing.

`ReceptionStats` follows the algorithms of RFC 3550 appendix A.1 (sequence number
tracking), A.3 (expected and lost packets) and A.8 (interarrival jitter). It is fed
every received RTP packet, so `update` is kept to plain integer and float arithmetic.
Reports go out every few seconds; building and parsing them is not a hot path.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BYE",
    "RR",
    "SDES",
    "SR",
    "Bye",
    "ReceiverReport",
    "ReceptionStats",
    "ReportBlock",
    "RtcpPacket",
    "Sdes",
    "SdesChunk",
    "SenderReport",
    "Unknown",
    "build_bye",
    "build_rr",
    "build_sdes",
    "build_sr",
    "ntp_time",
    "parse",
]

# Packet types (RFC 3550 §12.1)
SR, RR, SDES, BYE, APP = 200, 201, 202, 203, 204
# SDES item types (RFC 3550 §6.5)
SDES_END, SDES_CNAME = 0, 1

RTP_SEQ_MOD = 1 << 16
MAX_DROPOUT = 3000
MAX_MISORDER = 100

# Seconds from the NTP epoch (1900) to the Unix epoch (1970).
NTP_UNIX_OFFSET = 2_208_988_800

_COMMON = struct.Struct("!BBH")  # V P RC/SC | PT | length in 32-bit words minus one
_WORD = struct.Struct("!I")
_SENDER_INFO = struct.Struct("!IIIIII")  # SSRC, NTP msw, NTP lsw, RTP ts, packets, octets
_BLOCK = struct.Struct("!IIIIII")  # SSRC, fraction|lost, highest seq, jitter, LSR, DLSR
_BLOCK_SIZE = 24
_MAX_COUNT = 31


def ntp_time(unix_seconds: float) -> tuple[int, int]:
    """NTP timestamp (RFC 3550 §4) of a Unix time: (seconds since 1900, 2**-32 fractions)."""
    whole = int(unix_seconds // 1)
    fraction = min(int((unix_seconds - whole) * 4294967296.0), 0xFFFFFFFF)
    return (whole + NTP_UNIX_OFFSET) & 0xFFFFFFFF, fraction


class ReceptionStats:
    """What we know of one incoming RTP source, for the report blocks we send about it.

    Feed `update` every RTP packet received from the source (all payload types of the
    stream, telephone-events too, or the loss count is wrong), and `sr_received` every
    sender report from it. `report_block` closes a reporting interval: its fraction lost
    covers the packets since the previous call (A.3).
    """

    __slots__ = (
        "_arrival",
        "_bad_seq",
        "_base_seq",
        "_cycles",
        "_expected_prior",
        "_jitter",
        "_lsr",
        "_lsr_time",
        "_max_seq",
        "_received",
        "_received_prior",
        "_started",
        "_ts",
        "fraction_lost",
    )

    def __init__(self) -> None:
        self._started = False
        self._base_seq = 0
        self._max_seq = 0
        self._bad_seq = RTP_SEQ_MOD + 1  # so that seq == bad_seq is false (A.1)
        self._cycles = 0  # count of sequence wraps, shifted: cycles * 2**16
        self._received = 0
        self._received_prior = 0
        self._expected_prior = 0
        self._arrival = 0.0  # arrival of the last packet used for jitter, in ts units
        self._ts = 0
        self._jitter = 0.0  # in timestamp units (A.8 keeps it as a float too)
        self._lsr = 0
        self._lsr_time: float | None = None
        #: The fraction lost (0..255, /256) of the last report block built.
        self.fraction_lost = 0

    def _init_seq(self, seq: int) -> None:
        self._base_seq = seq
        self._max_seq = seq
        self._bad_seq = RTP_SEQ_MOD + 1
        self._cycles = 0
        self._received = 0
        self._received_prior = 0
        self._expected_prior = 0

    def update(self, seq: int, ts: int, arrival_seconds: float, clock_rate: int = 8000) -> bool:
        """Count one received packet; False if it was not counted (A.1: an unexplained jump
        in sequence numbers, accepted only when the next packet confirms a restart)."""
        if not self._started:
            self._started = True
            self._init_seq(seq)
            self._arrival = arrival_seconds * clock_rate
            self._ts = ts
        udelta = (seq - self._max_seq) & 0xFFFF
        if udelta < MAX_DROPOUT:
            if seq < self._max_seq:  # in order, with permissible gap, wrapped
                self._cycles += RTP_SEQ_MOD
            self._max_seq = seq
        elif udelta <= RTP_SEQ_MOD - MAX_MISORDER:  # a very large jump
            if seq != self._bad_seq:
                self._bad_seq = (seq + 1) & 0xFFFF
                return False
            self._init_seq(seq)  # two sequential packets: the sender restarted
        # else: a duplicate or reordered packet; counted, as A.1 does
        self._received += 1

        # A.8 interarrival jitter: D(i-1, i) = (Rj - Ri) - (Sj - Si), J += (|D| - J) / 16.
        # Packets sharing a timestamp (telephone-event updates) say nothing about jitter.
        if ts != self._ts:
            arrival = arrival_seconds * clock_rate
            sent = (ts - self._ts) & 0xFFFFFFFF
            if sent >= 0x80000000:
                sent -= 0x100000000
            d = abs(arrival - self._arrival - sent)
            self._jitter += (d - self._jitter) / 16.0
            self._arrival = arrival
            self._ts = ts
        return True

    def sr_received(self, ntp_middle32: int, now: float) -> None:
        """Note a sender report from this source: its NTP middle 32 bits and when it came."""
        self._lsr = ntp_middle32 & 0xFFFFFFFF
        self._lsr_time = now

    @property
    def extended_highest_seq(self) -> int:
        """Highest sequence number received, with the wrap count in the high 16 bits."""
        return self._cycles + self._max_seq

    @property
    def received(self) -> int:
        return self._received

    @property
    def expected(self) -> int:
        return self.extended_highest_seq - self._base_seq + 1 if self._started else 0

    @property
    def cumulative_lost(self) -> int:
        """Expected minus received; negative when duplicates arrived (RFC 3550 §6.4.1)."""
        return self.expected - self._received

    @property
    def jitter(self) -> float:
        """Interarrival jitter estimate in timestamp units."""
        return self._jitter

    def report_block(self, ssrc_of_source: int, now: float) -> bytes:
        """Build the 24-octet report block about this source and start a new interval.

        `now` is on the clock `sr_received` was given; DLSR is the time since then.
        """
        expected = self.expected
        lost = max(-0x800000, min(expected - self._received, 0x7FFFFF))
        expected_interval = expected - self._expected_prior
        self._expected_prior = expected
        received_interval = self._received - self._received_prior
        self._received_prior = self._received
        lost_interval = expected_interval - received_interval
        if expected_interval == 0 or lost_interval <= 0:
            fraction = 0
        else:
            fraction = min((lost_interval << 8) // expected_interval, 255)
        self.fraction_lost = fraction
        if self._lsr_time is None:
            dlsr = 0
        else:
            dlsr = min(max(int((now - self._lsr_time) * 65536), 0), 0xFFFFFFFF)
        return _BLOCK.pack(
            ssrc_of_source & 0xFFFFFFFF,
            fraction << 24 | (lost & 0xFFFFFF),
            self.extended_highest_seq & 0xFFFFFFFF,
            min(int(self._jitter), 0xFFFFFFFF),
            self._lsr,
            dlsr,
        )


# -- building ---------------------------------------------------------------------------


def _check_blocks(blocks: Sequence[bytes]) -> bytes:
    if len(blocks) > _MAX_COUNT:
        raise ValueError(f"at most {_MAX_COUNT} report blocks per packet, got {len(blocks)}")
    if any(len(block) != _BLOCK_SIZE for block in blocks):
        raise ValueError("a report block is 24 octets")
    return b"".join(blocks)


def build_sr(
    ssrc: int,
    ntp_seconds: float,
    rtp_ts: int,
    packet_count: int,
    octet_count: int,
    blocks: Sequence[bytes] = (),
) -> bytes:
    """Build a sender report; `ntp_seconds` is the Unix wall-clock time that `rtp_ts` matches.

    Counts are modulo 2**32 (RFC 3550 §6.4.1: they wrap).
    """
    body = _check_blocks(blocks)
    msw, lsw = ntp_time(ntp_seconds)
    return (
        _COMMON.pack(0x80 | len(blocks), SR, 6 + 6 * len(blocks))
        + _SENDER_INFO.pack(
            ssrc & 0xFFFFFFFF,
            msw,
            lsw,
            rtp_ts & 0xFFFFFFFF,
            packet_count & 0xFFFFFFFF,
            octet_count & 0xFFFFFFFF,
        )
        + body
    )


def build_rr(ssrc: int, blocks: Sequence[bytes] = ()) -> bytes:
    """Build a receiver report (with no blocks: what a party that received nothing sends)."""
    body = _check_blocks(blocks)
    return _COMMON.pack(0x80 | len(blocks), RR, 1 + 6 * len(blocks)) + _WORD.pack(ssrc) + body


def _padded_items(items: bytes) -> bytes:
    """Terminate an SDES item list with one to four null octets, to a 32-bit boundary."""
    return items + b"\x00" * (4 - (4 + len(items)) % 4)


def build_sdes(ssrc: int, cname: str) -> bytes:
    """Build an SDES packet with one chunk carrying our CNAME (RFC 3550 §6.5.1).

    RFC 3550 §6.1: every compound packet starts with an SR or RR and carries this, so a
    report goes out as `build_rr(...) + build_sdes(...)`.
    """
    text = cname.encode()
    if len(text) > 255:
        raise ValueError("an SDES item is at most 255 octets")
    chunk = _WORD.pack(ssrc) + _padded_items(bytes((SDES_CNAME, len(text))) + text)
    return _COMMON.pack(0x81, SDES, len(chunk) // 4) + chunk


def build_bye(ssrc: int, reason: str | None = None) -> bytes:
    """Build a BYE for our source (RFC 3550 §6.6), sent when the call's media ends."""
    body = _WORD.pack(ssrc)
    if reason:
        text = reason.encode()[:255]
        body += bytes((len(text),)) + text
        body += b"\x00" * (-len(body) % 4)
    return _COMMON.pack(0x81, BYE, len(body) // 4) + body


# -- parsing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportBlock:
    ssrc: int
    fraction_lost: int  # of 256
    cumulative_lost: int  # signed
    highest_seq: int  # extended highest sequence number received
    jitter: int
    lsr: int  # middle 32 bits of the NTP time of the last SR received
    dlsr: int  # delay since that SR, in 1/65536 s


@dataclass(frozen=True, slots=True)
class SenderReport:
    ssrc: int
    ntp_msw: int
    ntp_lsw: int
    rtp_ts: int
    packet_count: int
    octet_count: int
    blocks: tuple[ReportBlock, ...]

    @property
    def ntp_middle32(self) -> int:
        """What a receiver echoes as LSR (RFC 3550 §6.4.1)."""
        return (self.ntp_msw & 0xFFFF) << 16 | self.ntp_lsw >> 16


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    ssrc: int
    blocks: tuple[ReportBlock, ...]


@dataclass(frozen=True, slots=True)
class SdesChunk:
    ssrc: int
    items: tuple[tuple[int, str], ...]  # (item type, text)

    @property
    def cname(self) -> str | None:
        return next((text for kind, text in self.items if kind == SDES_CNAME), None)


@dataclass(frozen=True, slots=True)
class Sdes:
    chunks: tuple[SdesChunk, ...]


@dataclass(frozen=True, slots=True)
class Bye:
    ssrcs: tuple[int, ...]
    reason: str | None


@dataclass(frozen=True, slots=True)
class Unknown:
    """APP, feedback (RFC 4585), XR (RFC 3611), ...: kept whole for whoever wants them."""

    packet_type: int
    count: int
    body: bytes


RtcpPacket = SenderReport | ReceiverReport | Sdes | Bye | Unknown


def _blocks(data: bytes, offset: int, count: int) -> tuple[ReportBlock, ...]:
    blocks = []
    for i in range(count):
        ssrc, lost_word, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(data, offset + 24 * i)
        lost = lost_word & 0xFFFFFF
        if lost & 0x800000:
            lost -= 0x1000000
        blocks.append(ReportBlock(ssrc, lost_word >> 24, lost, highest, jitter, lsr, dlsr))
    return tuple(blocks)


def _sdes(data: bytes, offset: int, end: int, count: int) -> Sdes:
    chunks = []
    for _ in range(count):
        if offset + 4 > end:
            raise ValueError("SDES chunk cut short")
        ssrc = _WORD.unpack_from(data, offset)[0]
        start = offset
        offset += 4
        items = []
        while True:
            if offset >= end:
                raise ValueError("SDES items not terminated")
            kind = data[offset]
            if kind == SDES_END:
                offset += 1
                break
            if offset + 2 > end or offset + 2 + data[offset + 1] > end:
                raise ValueError("SDES item cut short")
            size = data[offset + 1]
            items.append((kind, data[offset + 2 : offset + 2 + size].decode(errors="replace")))
            offset += 2 + size
        offset += -(offset - start) % 4  # null octets up to the chunk's 32-bit boundary
        if offset > end:
            raise ValueError("SDES chunk padding cut short")
        chunks.append(SdesChunk(ssrc, tuple(items)))
    return Sdes(tuple(chunks))


def _bye(data: bytes, offset: int, end: int, count: int) -> Bye:
    if offset + 4 * count > end:
        raise ValueError("BYE cut short")
    ssrcs = struct.unpack_from(f"!{count}I", data, offset)
    offset += 4 * count
    reason = None
    if offset < end and data[offset]:
        size = data[offset]
        if offset + 1 + size > end:
            raise ValueError("BYE reason cut short")
        reason = data[offset + 1 : offset + 1 + size].decode(errors="replace")
    return Bye(ssrcs, reason)


def parse(data: bytes | bytearray | memoryview) -> list[RtcpPacket]:
    """Parse a compound RTCP packet; ValueError if it is malformed (the caller drops it).

    Checks what RFC 3550 A.2 checks of each packet's framing (version 2, lengths that add
    up to the datagram, padding only in the last one) but accepts any first packet type,
    so reduced-size RTCP (RFC 5506) parses too.
    """
    data = bytes(data)
    size = len(data)
    if size < 4:
        raise ValueError("RTCP packet shorter than its header")
    packets: list[RtcpPacket] = []
    offset = 0
    while offset < size:
        if offset + 4 > size:
            raise ValueError("RTCP packet header cut short")
        first, packet_type, length = _COMMON.unpack_from(data, offset)
        if first >> 6 != 2:
            raise ValueError(f"RTCP version {first >> 6}")
        end = offset + 4 * (length + 1)
        if end > size:
            raise ValueError("RTCP length runs past the datagram")
        body_end = end
        if first & 0x20:
            padding = data[end - 1]
            if end != size or padding == 0 or padding > end - offset - 4:
                raise ValueError("bad RTCP padding")
            body_end -= padding
        count = first & 0x1F
        body = offset + 4
        if packet_type == SR:
            if body + 24 + _BLOCK_SIZE * count > body_end:
                raise ValueError("SR cut short")
            ssrc, msw, lsw, rtp_ts, packets_sent, octets = _SENDER_INFO.unpack_from(data, body)
            blocks = _blocks(data, body + 24, count)
            packets.append(SenderReport(ssrc, msw, lsw, rtp_ts, packets_sent, octets, blocks))
        elif packet_type == RR:
            if body + 4 + _BLOCK_SIZE * count > body_end:
                raise ValueError("RR cut short")
            ssrc = _WORD.unpack_from(data, body)[0]
            packets.append(ReceiverReport(ssrc, _blocks(data, body + 4, count)))
        elif packet_type == SDES:
            packets.append(_sdes(data, body, body_end, count))
        elif packet_type == BYE:
            packets.append(_bye(data, body, body_end, count))
        else:
            packets.append(Unknown(packet_type, count, data[body:body_end]))
        offset = end
    return packets
