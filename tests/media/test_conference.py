"""A3 and P5: a conference room of real media endpoints, phones sending real RTP over
loopback, the room's clock moved by the test (one tick = 20 ms), what each phone hears
checked by FFT."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import numpy as np
import pytest

from tests.media.test_endpoint import PCMA, PCMU, Peer, in_loop
from tests.rtp.test_mixer import level_at, sine
from vaxel.media.conference import Conference
from vaxel.media.endpoint import Endpoint
from vaxel.media.engine import MediaEngine
from vaxel.rtp.g711 import decode, encode
from vaxel.rtp.mixer import JOIN_TONE, LEAVE_TONE
from vaxel.rtp.packet import build, parse_header
from vaxel.sip.sdp import Codec

TICKS = 20  # 400 ms per check
PT = {"PCMA": 8, "PCMU": 0}


class HandClock:
    """The media clock's interface, moved by the test."""

    def __init__(self) -> None:
        self.subscribers: set[Callable[[], None]] = set()

    def subscribe(self, tick: Callable[[], None]) -> None:
        self.subscribers.add(tick)

    def unsubscribe(self, tick: Callable[[], None]) -> None:
        self.subscribers.discard(tick)

    def tick(self) -> None:
        for tick in list(self.subscribers):
            tick()


def _noop(digit: str) -> None:
    pass


class Phone:
    """A phone in the room: its RTP socket, the switch's endpoint facing it, its codec."""

    def __init__(self, engine: MediaEngine, codec: Codec, frequency: float) -> None:
        self.peer = Peer()
        self.codec = codec
        self.frequency = frequency
        self.endpoint: Endpoint = engine.allocate(_noop)
        self.endpoint.configure(self.peer.answer(codec), sending=True)
        self.sent = 0
        self.heard: list[np.ndarray] = []
        self.headers: list[tuple[int, int]] = []  # (payload type, sequence number)

    def say(self, tick: int) -> None:
        payload = encode(self.codec.name, sine(self.frequency, tick))
        self.peer.send(self.endpoint.port, build(self.codec.pt, tick, tick * 160, 77, payload))
        self.sent += 1

    async def listen(self) -> None:
        (packet,) = await self.peer.receive(1)
        header = parse_header(packet)
        assert header is not None
        self.headers.append((header[0], header[2]))
        self.heard.append(decode(self.codec.name, packet[12:]))

    def audio(self) -> np.ndarray:
        return np.concatenate(self.heard[-TICKS:])


async def arrived(phones: list[Phone], timeout: float = 2.0) -> None:
    """Wait until the switch has read every packet the phones sent."""
    deadline = time.monotonic() + timeout
    while any(p.endpoint.received < p.sent for p in phones):
        assert time.monotonic() < deadline, "RTP did not arrive"
        await asyncio.sleep(0.001)


async def talk(clock: HandClock, phones: list[Phone], talking: list[Phone]) -> None:
    """TICKS frames: the talkers say their tone, the clock ticks, every phone hears."""
    for _ in range(TICKS):
        for phone in talking:
            phone.say(phone.sent)
        await arrived(phones)
        clock.tick()
        for phone in phones:
            await phone.listen()


def hears(phone: Phone, other: Phone) -> bool:
    level = level_at(phone.audio(), other.frequency)
    assert level < 40 or level == pytest.approx(4000, rel=0.05), level
    return level > 40


@in_loop
async def test_each_phone_hears_the_others_in_its_own_law_not_itself(engine: MediaEngine) -> None:
    clock = HandClock()
    room = Conference(clock, tones=False)
    phones = [Phone(engine, PCMA, 400.0), Phone(engine, PCMU, 750.0), Phone(engine, PCMA, 1300.0)]
    for phone in phones:
        room.add(phone.endpoint, phone.codec.name)
    assert clock.subscribers == {room.tick} and len(room) == 3
    await talk(clock, phones, phones)
    for phone in phones:
        for other in phones:
            assert hears(phone, other) == (other is not phone)
        assert {pt for pt, _ in phone.headers} == {PT[phone.codec.name]}
        seqs = [seq for _, seq in phone.headers]
        assert seqs == [(seqs[0] + i) & 0xFFFF for i in range(len(seqs))]
    for phone in phones:
        phone.peer.close()


@in_loop
async def test_a_muted_phone_is_not_heard_and_still_hears(engine: MediaEngine) -> None:
    clock = HandClock()
    room = Conference(clock, tones=False)
    a, b, c = Phone(engine, PCMU, 400.0), Phone(engine, PCMU, 750.0), Phone(engine, PCMA, 1300.0)
    for phone in (a, b, c):
        room.add(phone.endpoint, phone.codec.name)
    room.mute(b.endpoint)
    assert room.muted(b.endpoint)
    await talk(clock, [a, b, c], [a, b, c])
    assert not hears(a, b) and not hears(c, b)
    assert hears(b, a) and hears(b, c) and hears(a, c)
    room.mute(b.endpoint, False)
    await talk(clock, [a, b, c], [a, b, c])
    assert hears(a, b) and hears(c, b)
    for phone in (a, b, c):
        phone.peer.close()


@in_loop
async def test_join_and_leave_are_heard_and_a_phone_that_left_gets_nothing(
    engine: MediaEngine,
) -> None:
    clock = HandClock()
    room = Conference(clock)
    a, b = Phone(engine, PCMA, 400.0), Phone(engine, PCMU, 750.0)
    room.add(a.endpoint, "PCMA")
    for _ in range(len(JOIN_TONE)):  # a's own join tone
        clock.tick()
        await a.listen()
    room.add(b.endpoint, "PCMU")
    for _ in range(len(JOIN_TONE)):
        clock.tick()
        await a.listen()
        await b.listen()
    joined = np.concatenate(a.heard[-len(JOIN_TONE) :])
    np.testing.assert_allclose(joined, JOIN_TONE.reshape(-1), atol=400)

    room.remove(b.endpoint)
    assert b.endpoint not in room and b.endpoint.sinks == []
    for _ in range(len(LEAVE_TONE)):
        clock.tick()
        await a.listen()
    left = np.concatenate(a.heard[-len(LEAVE_TONE) :])
    np.testing.assert_allclose(left, LEAVE_TONE.reshape(-1), atol=400)
    assert level_at(left[: len(left) // 2], 900.0) > 3000  # falling: 900 Hz first
    assert await b.peer.receive(1, timeout=0.1) == []

    room.remove(a.endpoint)
    assert clock.subscribers == set() and len(room) == 0
    for phone in (a, b):
        phone.peer.close()


@in_loop
async def test_a_codec_the_room_cannot_mix_is_refused_and_changes_nothing(
    engine: MediaEngine,
) -> None:
    clock = HandClock()
    room = Conference(clock)
    phone = Phone(engine, PCMA, 400.0)
    with pytest.raises(ValueError, match="PCMA and PCMU"):
        room.add(phone.endpoint, "G722")
    assert phone.endpoint.sinks == [] and clock.subscribers == set() and len(room) == 0
    phone.peer.close()


@in_loop
async def test_a_room_on_the_engines_clock_sends_every_20_ms(engine: MediaEngine) -> None:
    """The real 20 ms clock: a room of two sends each phone 25 frames in about 0.5 s."""
    room = Conference(engine.pacer, tones=False)
    a, b = Phone(engine, PCMA, 400.0), Phone(engine, PCMU, 750.0)
    room.add(a.endpoint, "PCMA")
    room.add(b.endpoint, "PCMU")
    started = time.monotonic()
    got = await b.peer.receive(25, timeout=5.0)
    assert len(got) == 25
    assert time.monotonic() - started >= 24 * 0.02 * 0.9  # paced, not a burst
    room.close()
    assert room.tick not in engine.pacer.subscribers and a.endpoint.sinks == []
    for phone in (a, b):
        phone.peer.close()
