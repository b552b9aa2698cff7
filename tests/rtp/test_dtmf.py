"""P4/P5: DTMF as RTP telephone-events (RFC 4733)."""

from __future__ import annotations

import pytest

from vaxel.rtp.dtmf import (
    EVENTS,
    EventReceiver,
    build_event,
    digit,
    event_code,
    event_packets,
    parse_event,
)


def test_payload_is_byte_exact() -> None:
    # RFC 4733 §2.3: event 5, not end, volume 10, duration 800
    assert build_event(5, False, 10, 800) == bytes.fromhex("050a0320")
    assert build_event(11, True, 63, 65535) == bytes.fromhex("0bbfffff")
    assert parse_event(bytes.fromhex("0bbfffff")) == (11, True, 63, 65535)


def test_parse_ignores_reserved_bit_and_redundant_blocks() -> None:
    assert parse_event(bytes.fromhex("01ca00a0")) == (1, True, 10, 160)  # R bit set
    assert parse_event(bytes.fromhex("0100 00a0 0500 0140")) == (1, False, 0, 160)
    assert parse_event(b"\x01\x00\x00") is None
    assert parse_event(memoryview(bytes.fromhex("0300 00a0"))) == (3, False, 0, 160)


@pytest.mark.parametrize(("event", "volume", "duration"), [(256, 0, 0), (0, 64, 0), (0, 0, -1)])
def test_build_refuses_out_of_range(event: int, volume: int, duration: int) -> None:
    with pytest.raises(ValueError):
        build_event(event, False, volume, duration)


def test_digits_and_codes() -> None:
    assert [event_code(c) for c in EVENTS] == list(range(16))
    assert "".join(digit(i) for i in range(16)) == "0123456789*#ABCD"
    assert event_code("*") == 10 and event_code("#") == 11 and event_code("d") == 15
    for bad in ("", "E", "12", " "):
        with pytest.raises(ValueError):
            event_code(bad)
    with pytest.raises(ValueError):
        digit(16)  # flash


def send(receiver: EventReceiver, ts: int, packets: list[bytes]) -> list[str]:
    return [d for p in packets if (d := receiver.feed(ts, p)) is not None]


def packets_of(key: str, duration_ms: int = 100) -> list[bytes]:
    return [payload for _marker, _offset, payload in event_packets(key, duration_ms)]


def test_receiver_reports_each_digit_once() -> None:
    receiver = EventReceiver()
    got = send(receiver, 1000, packets_of("1"))
    got += send(receiver, 3000, packets_of("1"))  # the same key again is a new event
    got += send(receiver, 5000, packets_of("#"))
    assert got == ["1", "1", "#"]


def test_receiver_reports_on_end_when_the_start_was_lost() -> None:
    receiver = EventReceiver()
    ends = [build_event(7, True, 10, 800)] * 3
    assert send(receiver, 1000, ends) == ["7"]


def test_receiver_ignores_late_end_packets_of_an_earlier_event() -> None:
    receiver = EventReceiver()
    assert send(receiver, 1000, packets_of("4")[:5]) == ["4"]
    assert send(receiver, 2000, packets_of("5")[:1]) == ["5"]
    # the reordered third end packet of "4" arrives after "5" started
    assert receiver.feed(1000, build_event(4, True, 10, 800)) is None
    assert send(receiver, 2000, packets_of("5")[1:]) == []


def test_receiver_ignores_other_events_and_garbage() -> None:
    receiver = EventReceiver()
    assert receiver.feed(1000, build_event(16, False, 10, 160)) is None  # flash
    assert receiver.feed(2000, b"\x05") is None
    assert receiver.feed(2000, build_event(5, False, 10, 160)) == "5"


def test_receiver_treats_long_event_segments_as_one_digit() -> None:
    receiver = EventReceiver()
    ts = 0xFFFF0000  # the timestamp wraps between segments
    got = []
    for _marker, offset, payload in event_packets("9", duration_ms=20_000):
        if (d := receiver.feed((ts + offset) & 0xFFFFFFFF, payload)) is not None:
            got.append(d)
    assert got == ["9"]


def test_sender_100ms_digit() -> None:
    sent = list(event_packets("5"))
    assert [m for m, _o, _p in sent] == [True] + [False] * 6
    assert {o for _m, o, _p in sent} == {0}
    assert [parse_event(p) for _m, _o, p in sent] == [
        (5, False, 10, 160),
        (5, False, 10, 320),
        (5, False, 10, 480),
        (5, False, 10, 640),
        (5, True, 10, 800),
        (5, True, 10, 800),
        (5, True, 10, 800),
    ]


def test_sender_short_and_odd_durations() -> None:
    short = [parse_event(p) for _m, _o, p in event_packets("A", duration_ms=10, volume=0)]
    assert short == [(12, True, 0, 160)] * 3
    odd = [parse_event(p)[1:] for _m, _o, p in event_packets("0", duration_ms=50)]
    assert odd == [(False, 10, 160), (False, 10, 320)] + [(True, 10, 400)] * 3
    wide = [parse_event(p)[3] for _m, _o, p in event_packets("0", 40, clock_rate=16000)]
    assert wide == [320, 640, 640, 640]


def test_sender_splits_long_events_into_segments() -> None:
    sent = list(event_packets("#", duration_ms=20_000))  # 160,000 units: 3 segments
    offsets = sorted({o for _m, o, _p in sent})
    assert offsets == [0, 0xFFFF, 2 * 0xFFFF]
    for offset in offsets[:-1]:
        last = [parse_event(p) for _m, o, p in sent if o == offset][-1]
        assert last == (11, False, 10, 0xFFFF)
    assert [parse_event(p) for _m, _o, p in sent[-3:]] == [(11, True, 10, 160_000 - 2 * 0xFFFF)] * 3
    assert sum(m for m, _o, _p in sent) == 1


def test_sender_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        list(event_packets("x"))
    with pytest.raises(ValueError):
        list(event_packets("1", volume=64))
