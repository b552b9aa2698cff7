"""RTP fixed header (P5, RFC 3550 §5.1) and the B2BUA's outgoing stream rewriter.

Per-packet code here runs some 25,000 times a second, so it reads the header with one
`struct.unpack_from`, writes it with one `pack_into`, and returns plain tuples.
"""

from __future__ import annotations

import struct

from vaxel import randomness

__all__ = [
    "HEADER",
    "MAX_DROPOUT",
    "MAX_MISORDER",
    "Header",
    "StreamRewriter",
    "build",
    "parse_header",
]

# V(2) P(1) X(1) CC(4) | M(1) PT(7) | sequence number | timestamp | SSRC
HEADER = struct.Struct("!BBHII")
# Header extension (RFC 3550 §5.3.1): profile-defined 16 bits, then length in 32-bit words.
_EXTENSION = struct.Struct("!HH")

RTP_VERSION = 2
# RFC 3550 A.1: a sequence jump up to MAX_DROPOUT ahead is loss, up to MAX_MISORDER behind
# is reordering; anything else means the sender restarted its numbering.
MAX_DROPOUT = 3000
MAX_MISORDER = 100

# (pt, marker, seq, ts, ssrc, payload_offset)
Header = tuple[int, bool, int, int, int, int]

_SEQ_MASK = 0xFFFF
_TS_MASK = 0xFFFFFFFF


def parse_header(data: bytes | bytearray | memoryview) -> Header | None:
    """Return (pt, marker, seq, ts, ssrc, payload_offset), or None if it is not RTP version 2.

    `payload_offset` skips the CSRC list and any header extension. Padding (P bit, RFC 3550
    §5.1) stays at the end of the payload: G.711 and telephone-event senders do not pad, and
    a caller that must strip it reads the count from the last octet when `data[0] & 0x20`.
    RTCP multiplexed on the RTP port (RFC 5761) is the caller's to separate first (second
    octet 192..223).
    """
    size = len(data)
    if size < 12:
        return None
    b0, b1, seq, ts, ssrc = HEADER.unpack_from(data)
    if b0 >> 6 != RTP_VERSION:
        return None
    offset = 12
    if b0 & 0x1F:  # CSRC count or extension: the rare path
        offset += (b0 & 0x0F) << 2
        if b0 & 0x10:
            if size < offset + 4:
                return None
            offset += 4 + (_EXTENSION.unpack_from(data, offset)[1] << 2)
        if offset > size:
            return None
    return b1 & 0x7F, b1 > 0x7F, seq, ts, ssrc, offset


def build(
    pt: int, seq: int, ts: int, ssrc: int, payload: bytes | bytearray, marker: bool = False
) -> bytes:
    """Build an RTP packet with a plain 12-octet header (no CSRC, extension or padding)."""
    return (
        HEADER.pack(0x80, (pt | 0x80) if marker else pt, seq & _SEQ_MASK, ts & _TS_MASK, ssrc)
        + payload
    )


class StreamRewriter:
    """Keep the stream we send on one leg a single RTP source, whatever arrives from the other.

    A B2BUA relays media from a leg whose sender can change under it: a re-INVITE, another
    fork answering, a peer that restarts its SSRC or sequence numbers. The receiving leg
    negotiated one stream, and many endpoints (and their jitter buffers) mishandle a new
    SSRC or a jump in sequence or timestamp mid-call. So every packet leaves with our SSRC,
    and sequence numbers and timestamps that are the incoming ones plus an offset. The
    offsets are chosen again when a new incoming source appears (a new SSRC, or a sequence
    jump outside the RFC 3550 A.1 window): the next packet gets the last sequence number
    sent + 1 and the last timestamp sent + the elapsed samples, with the marker bit set so
    the receiver resynchronises its playout. Within one source, gaps, reordering and
    timestamp jumps (silence suppression) pass through unchanged, so the receiver still
    sees the loss and the timing the sender produced. Late packets of the source just left
    are dropped rather than switched back to; a source that returns with new packets (the
    peer again after our music on hold) is followed like any other.

    Telephone-events share the audio stream's SSRC and numbering (RFC 4733), so the same
    rewriter carries them; the caller passes the payload type the receiving leg negotiated
    for each.
    """

    __slots__ = (
        "_in_seq",
        "_last_now",
        "_last_seq",
        "_last_ts",
        "_previous_seq",
        "_previous_source",
        "_seq_offset",
        "_source",
        "_started",
        "_ts_offset",
        "clock_rate",
        "samples_per_packet",
        "ssrc",
    )

    def __init__(
        self,
        ssrc: int | None = None,
        *,
        seq: int | None = None,
        ts: int | None = None,
        samples_per_packet: int = 160,
        clock_rate: int = 8000,
    ) -> None:
        """`ssrc`, `seq`, `ts`: the first values sent; random when not given (RFC 3550 §5.1).

        `samples_per_packet` is the timestamp step put between the last packet of one source
        and the first of the next when no `now` is given (160: 20 ms at 8 kHz).
        """
        self.ssrc = randomness.randbits(32) if ssrc is None else ssrc & _TS_MASK
        self.samples_per_packet = samples_per_packet
        self.clock_rate = clock_rate
        self._source: int | None = None
        self._previous_source: int | None = None
        self._previous_seq = 0
        self._started = False
        # The first packet of the first source is mapped onto these.
        self._last_seq = (randomness.randbits(16) if seq is None else seq) & _SEQ_MASK
        self._last_ts = (randomness.randbits(32) if ts is None else ts) & _TS_MASK
        self._last_now: float | None = None
        self._in_seq = 0
        self._seq_offset = 0
        self._ts_offset = 0

    def rewrite(
        self, packet: bytes | bytearray, pt: int, now: float | None = None
    ) -> bytearray | None:
        """Return the packet as this leg sends it; None to drop it (not RTP version 2, or
        a late packet of the previous source).

        A bytearray with a plain 12-octet header is rewritten in place and returned (no
        allocation); bytes are copied once. CSRCs, header extensions and padding are dropped:
        they describe the other leg (extension IDs are negotiated per leg, RFC 8285).
        `now` (seconds, any monotonic clock) makes the timestamp step at a source change the
        wall time elapsed since the last packet sent, so a long hold stays long; without it
        the step is `samples_per_packet`.
        """
        if len(packet) < 12:
            return None
        b0, b1, seq, ts, ssrc = HEADER.unpack_from(packet)
        if b0 & 0xC0 != 0x80:
            return None
        if b0 & 0x3F:  # padding, extension or CSRCs: rebuild with a plain header
            header = parse_header(packet)
            if header is None:
                return None
            start, end = header[5], len(packet)
            if b0 & 0x20:
                end -= packet[-1]
                if end < start:
                    return None
            buffer = bytearray(12)
            buffer += memoryview(packet)[start:end]
        elif type(packet) is bytearray:
            buffer = packet
        else:
            buffer = bytearray(packet)

        marker = b1 & 0x80
        if ssrc != self._source:
            if ssrc == self._previous_source and (
                (seq - self._previous_seq) & _SEQ_MASK > _SEQ_MASK - MAX_MISORDER
                or seq == self._previous_seq
            ):
                return None  # a straggler of the source we just left: don't switch back
            self._anchor(ssrc, seq, ts, now)
            marker = 0x80
            newest = True
        else:
            delta = (seq - self._in_seq) & _SEQ_MASK
            if delta < MAX_DROPOUT:  # in order, maybe after a gap (or a duplicate: delta 0)
                self._in_seq = seq
                newest = True
            elif delta > _SEQ_MASK - MAX_MISORDER:  # late: keep its place, don't move on
                newest = False
            else:  # the sender restarted its numbering under the same SSRC
                self._anchor(ssrc, seq, ts, now)
                marker = 0x80
                newest = True
        out_seq = (seq + self._seq_offset) & _SEQ_MASK
        out_ts = (ts + self._ts_offset) & _TS_MASK
        if newest:
            self._last_seq = out_seq
            self._last_ts = out_ts
            self._last_now = now
        HEADER.pack_into(buffer, 0, 0x80, pt | marker, out_seq, out_ts, self.ssrc)
        return buffer

    @property
    def last_timestamp(self) -> int:
        """The RTP timestamp of the newest packet sent (for a sender report)."""
        return self._last_ts

    def _anchor(self, ssrc: int, seq: int, ts: int, now: float | None) -> None:
        """Map a new incoming source so that it continues where the last one stopped."""
        if self._started:
            step = self.samples_per_packet
            if now is not None and self._last_now is not None:
                elapsed = round((now - self._last_now) * self.clock_rate)
                if elapsed > step:
                    step = elapsed
            first_seq = self._last_seq + 1
            first_ts = self._last_ts + step
        else:
            self._started = True
            first_seq = self._last_seq
            first_ts = self._last_ts
        self._previous_source = self._source
        self._previous_seq = self._in_seq
        self._source = ssrc
        self._in_seq = seq
        self._seq_offset = (first_seq - seq) & _SEQ_MASK
        self._ts_offset = (first_ts - ts) & _TS_MASK
