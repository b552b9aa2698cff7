"""DTMF as RTP telephone-events (P5, RFC 4733 §2.3): parse, build, receive once, send.

A telephone-event payload is 4 octets: event code, E(nd) bit, R bit, 6-bit volume
(-dBm0), 16-bit duration in timestamp units. Every packet of one event carries the
event's start as its RTP timestamp, so the timestamp, not the sequence number, tells
events apart; the end packet is sent three times because it cannot be retransmitted.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Iterator

__all__ = [
    "EVENTS",
    "EventReceiver",
    "build_event",
    "digit",
    "event_code",
    "event_packets",
    "parse_event",
]

#: Event codes 0..15 (RFC 4733 §3.2): the index of the character is the code.
EVENTS = "0123456789*#ABCD"

# event | E R volume(6) | duration
_EVENT = struct.Struct("!BBH")
_END = 0x80
MAX_DURATION = 0xFFFF
_TS_MASK = 0xFFFFFFFF


def parse_event(payload: bytes | bytearray | memoryview) -> tuple[int, bool, int, int] | None:
    """Return (event, end, volume, duration) of the first event in a payload, None if short.

    Further 4-octet blocks (RFC 4733 §2.5.1.6 redundancy) repeat earlier events: ignored.
    """
    if len(payload) < 4:
        return None
    event, flags, duration = _EVENT.unpack_from(payload)
    return event, flags > 0x7F, flags & 0x3F, duration


def build_event(event: int, end: bool, volume: int, duration: int) -> bytes:
    """Build one telephone-event payload; volume is 0..63 (-dBm0), duration 0..65535."""
    if not 0 <= event <= 255 or not 0 <= volume <= 63 or not 0 <= duration <= MAX_DURATION:
        raise ValueError(f"telephone-event out of range: {event}, {volume}, {duration}")
    return _EVENT.pack(event, (_END | volume) if end else volume, duration)


def digit(event: int) -> str:
    """The DTMF character of event code 0..15; ValueError for other events (flash, tones)."""
    if not 0 <= event < 16:
        raise ValueError(f"not a DTMF event code: {event}")
    return EVENTS[event]


def event_code(digit: str) -> int:
    """The event code of a DTMF character ("0".."9", "*", "#", "A".."D", any case)."""
    code = EVENTS.find(digit.upper()) if len(digit) == 1 else -1
    if code < 0:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    return code


class EventReceiver:
    """Turn the telephone-event packets of one incoming stream into digits, each once.

    A digit is reported on the first packet seen with a new event timestamp, whether it is
    the start, an update, or (when the earlier ones were lost) an end packet. Further
    packets of that event, the three end packets, and late packets of the previous few
    events are ignored. A long event split into segments (RFC 4733 §2.5.1.5: a new
    timestamp 0xFFFF after the last, same event, no end seen) is not a new digit. Events
    other than DTMF 0..15 are not reported.
    """

    __slots__ = ("_duration", "_ended", "_event", "_recent", "_ts")

    def __init__(self, remember: int = 4) -> None:
        """`remember`: how many past event timestamps count as already reported."""
        self._recent: deque[int] = deque(maxlen=remember)
        self._ts: int | None = None
        self._event = -1
        self._ended = True
        self._duration = 0

    def feed(self, ts: int, payload: bytes | bytearray | memoryview) -> str | None:
        """Take one telephone-event packet (its RTP timestamp and payload); return a new digit."""
        parsed = parse_event(payload)
        if parsed is None:
            return None
        event, end, _volume, duration = parsed
        if ts == self._ts:
            if event == self._event:
                self._ended = self._ended or end
                self._duration = duration
            return None
        if ts in self._recent:
            return None
        continuation = (
            not self._ended
            and event == self._event
            and self._ts is not None
            and (ts - self._ts) & _TS_MASK == MAX_DURATION
        )
        self._recent.append(ts)
        self._ts = ts
        self._event = event
        self._ended = end
        self._duration = duration
        if continuation or event > 15:
            return None
        return EVENTS[event]


def event_packets(
    digit: str,
    duration_ms: int = 100,
    volume: int = 10,
    *,
    clock_rate: int = 8000,
    ptime_ms: int = 20,
) -> Iterator[tuple[bool, int, bytes]]:
    """Yield (marker, ts_offset, payload) for sending one DTMF digit, one per ptime tick.

    The first packet has the marker bit; updates follow every `ptime_ms` with the duration
    so far; the final duration is sent in three end packets (RFC 4733 §2.5.1.4), so a
    100 ms digit at 20 ms is 4 + 3 packets. The RTP timestamp of each packet is the event's
    start timestamp (what the audio packet at that moment would have carried) plus
    `ts_offset`, which stays 0 unless the event outlasts 0xFFFF timestamp units (8.2 s at
    8 kHz) and continues in a new segment (RFC 4733 §2.5.1.5). Sequence numbers go on
    from the audio stream's, one per packet.
    """
    code = event_code(digit)
    if not 0 <= volume <= 63:
        raise ValueError(f"telephone-event volume out of range: {volume}")
    step = clock_rate * ptime_ms // 1000
    total = max(step, round(duration_ms * clock_rate / 1000))
    marker = True
    segment = 0  # ts_offset of the current segment
    elapsed = 0
    while True:
        elapsed = min(elapsed + step, total)
        duration = elapsed - segment
        if duration > MAX_DURATION:  # close this segment at its limit; next tick starts anew
            yield marker, segment, _EVENT.pack(code, volume, MAX_DURATION)
            marker = False
            segment += MAX_DURATION
            continue
        if elapsed >= total:
            break
        yield marker, segment, _EVENT.pack(code, volume, duration)
        marker = False
    final = _EVENT.pack(code, _END | volume, duration)
    for _ in range(3):
        yield marker, segment, final
        marker = False
