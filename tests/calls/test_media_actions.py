"""Media actions on the call-control API (P5): play, collect digits, record.

Real parts: the media engine with its sockets and 20 ms clock, WAV files on
disk, a Python RTP peer on loopback. The leg is a minimal concrete `Leg`
(its signalling is not what these tests are about).
"""

from __future__ import annotations

import asyncio
import socket
import time
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np

from tests.integration.peers import free_port
from vaxel.calls.api import (
    NORMAL,
    Call,
    CallEvent,
    Cause,
    DigitsCollected,
    Dtmf,
    Leg,
    PlayFinished,
    RecordFinished,
    Timer,
)
from vaxel.media.engine import MediaEngine
from vaxel.rtp.dtmf import EVENTS, build_event
from vaxel.rtp.g711 import alaw_decode, alaw_encode
from vaxel.rtp.inband import generate
from vaxel.rtp.packet import build, parse_header
from vaxel.sip.sdp import Answer, Codec, build_offer

HOST = "127.0.0.1"
PCMA = Codec("PCMA", 8, 8000)


class Board:
    """Timers on the running loop; the rest of a switchboard is not needed here."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()

    def after(self, delay: float, action: Callable[[], None]) -> Timer:
        timer = Timer(self.loop.time() + delay, action)
        self.loop.call_later(delay, lambda: None if timer.cancelled else action())
        return timer

    def now(self) -> float:
        return time.time()

    def finished(self, call: Call) -> None:
        pass


class Events:
    def __init__(self) -> None:
        self.seen: list[CallEvent] = []

    def on_event(self, call: Call, event: CallEvent) -> None:
        self.seen.append(event)

    async def wait(self, kind: type, timeout: float = 5.0) -> CallEvent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.seen:
                if isinstance(event, kind):
                    self.seen.remove(event)
                    return event
            await asyncio.sleep(0.01)
        raise AssertionError(f"no {kind.__name__} in {self.seen}")


class LocalLeg(Leg):
    def __init__(self, call: Call, party: str) -> None:
        self.direction = "inbound"  # set on the instance: Leg may be a compiled class
        super().__init__(call, party)

    def ring(self, *, early_media: bool = False) -> None: ...
    def answer(self) -> None: ...
    def reject(self, cause: Cause) -> None: ...
    def hangup(self, cause: Cause = NORMAL) -> None: ...


class Phone:
    """The party: an RTP socket that the endpoint sends to and that sends to the endpoint."""

    def __init__(self, dtmf: bool = True) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.seq = 0
        self.dtmf = dtmf

    def answer(self) -> Answer:
        sdp = build_offer(address=HOST, port=self.port, session_id=1)
        return Answer(sdp, PCMA, 101 if self.dtmf else None, (HOST, self.port), None, "sendrecv")

    def send(self, endpoint_port: int, pt: int, payload: bytes, ts: int) -> None:
        self.seq += 1
        self.sock.sendto(build(pt, self.seq, ts, 77, payload), (HOST, endpoint_port))

    async def key(self, endpoint_port: int, digit: str, ts: int) -> None:
        code = EVENTS.index(digit)
        for duration, end in ((160, False), (320, False), (480, True), (480, True), (480, True)):
            self.send(endpoint_port, 101, build_event(code, end, 10, duration), ts)
            await asyncio.sleep(0.005)

    def drain(self) -> list[bytes]:
        got = []
        while True:
            try:
                got.append(self.sock.recv(2048))
            except BlockingIOError:
                return got


def in_loop(
    test: Callable[..., Awaitable[None]], *, telephone_events: bool = True
) -> Callable[[Path], None]:
    def run(tmp_path: Path) -> None:
        async def main() -> None:
            low = free_port() & ~1
            engine = MediaEngine(HOST, (low, low + 20), clock=time.time)
            events = Events()
            call = Call("c", 1, Board(), events)  # type: ignore[arg-type]
            leg = LocalLeg(call, "1001")
            phone = Phone(dtmf=telephone_events)
            endpoint = engine.allocate(leg.dtmf)
            endpoint.configure(phone.answer(), sending=True)
            leg.media = endpoint
            try:
                await test(leg, endpoint, phone, events, tmp_path)
            finally:
                engine.close()
                phone.sock.close()

        asyncio.run(main())

    run.__name__, run.__doc__ = test.__name__, test.__doc__
    return run


def tone(path: Path, seconds: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(8000 * seconds)) / 8000
    samples = (8000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(8000)
        wav.writeframes(samples.tobytes())
    return samples


@in_loop
async def test_a_prompt_is_played_paced_and_exact(leg, endpoint, phone, events, tmp_path) -> None:  # type: ignore[no-untyped-def]
    samples = tone(tmp_path / "hello.wav", 0.5)
    leg.play([tmp_path / "hello.wav"])
    finished = await events.wait(PlayFinished)
    assert isinstance(finished, PlayFinished) and not finished.interrupted
    packets = phone.drain()
    assert len(packets) == 25  # 0.5 s in 20 ms frames
    assert b"".join(p[12:] for p in packets) == alaw_encode(samples)
    headers = [parse_header(p) for p in packets]
    assert {h[4] for h in headers if h} == {endpoint.rewriter.ssrc}
    first = headers[0][3]  # type: ignore[index]
    assert [h[3] - first for h in headers if h] == [160 * i for i in range(25)]
    assert endpoint.engine.pacer.ticks >= 25  # one frame per tick of the shared clock


@in_loop
async def test_a_key_interrupts_the_prompt(leg, endpoint, phone, events, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tone(tmp_path / "menu.wav", 3.0)
    leg.play([tmp_path / "menu.wav"], loop=True)
    await asyncio.sleep(0.2)
    await phone.key(endpoint.port, "5", 1000)
    finished = await events.wait(PlayFinished)
    assert finished.interrupted  # type: ignore[attr-defined]
    key = await events.wait(Dtmf)
    assert key.digit == "5"  # type: ignore[attr-defined]
    phone.drain()
    await asyncio.sleep(0.2)
    assert phone.drain() == []  # nothing more is played


@in_loop
async def test_collect_digits(leg, endpoint, phone, events, tmp_path) -> None:  # type: ignore[no-untyped-def]
    leg.collect(max_digits=3, timeout=2, inter_digit=1)
    for i, digit in enumerate("123"):
        await phone.key(endpoint.port, digit, 1000 * (i + 1))
    collected = await events.wait(DigitsCollected)
    assert (collected.digits, collected.reason) == ("123", "complete")  # type: ignore[attr-defined]
    leg.collect(max_digits=4, timeout=2, inter_digit=1)
    for i, digit in enumerate("42#"):
        await phone.key(endpoint.port, digit, 9000 + 1000 * i)
    collected = await events.wait(DigitsCollected)
    assert (collected.digits, collected.reason) == ("42", "terminator")  # type: ignore[attr-defined]
    leg.collect(max_digits=4, timeout=0.3)
    collected = await events.wait(DigitsCollected)
    assert (collected.digits, collected.reason) == ("", "timeout")  # type: ignore[attr-defined]
    leg.collect(max_digits=4, timeout=2, inter_digit=0.3)
    await phone.key(endpoint.port, "7", 20000)
    collected = await events.wait(DigitsCollected)
    assert (collected.digits, collected.reason) == ("7", "timeout")  # type: ignore[attr-defined]


@in_loop
async def test_record_until_the_stop_key(leg, endpoint, phone, events, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "message.wav"
    leg.record(path, max_seconds=10, silence_seconds=3)
    t = np.arange(8000) / 8000
    voice = (6000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    payload = alaw_encode(voice)
    for i in range(50):  # one second, as a phone sends it
        phone.send(endpoint.port, 8, payload[160 * i : 160 * (i + 1)], 160 * i)
        await asyncio.sleep(0.002)
    await asyncio.sleep(0.05)
    await phone.key(endpoint.port, "#", 8000)
    done = await events.wait(RecordFinished)
    assert done.reason == "#" and abs(done.seconds - 1.0) < 0.01  # type: ignore[attr-defined]
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        written = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    assert np.array_equal(written, alaw_decode(payload))


@in_loop
async def test_record_stops_at_its_limits(leg, endpoint, phone, events, tmp_path) -> None:  # type: ignore[no-untyped-def]
    leg.record(tmp_path / "long.wav", max_seconds=0.2, silence_seconds=0)
    loud = alaw_encode((6000 * np.sin(np.arange(160) / 3)).astype(np.int16))
    for i in range(20):
        phone.send(endpoint.port, 8, loud, 160 * i)
    done = await events.wait(RecordFinished)
    assert done.reason == "max-length" and done.seconds == 0.2  # type: ignore[attr-defined]
    leg.record(tmp_path / "quiet.wav", max_seconds=10, silence_seconds=0.2)
    silence = alaw_encode(np.zeros(160, np.int16))
    for i in range(20):
        phone.send(endpoint.port, 8, silence, 160 * i)
    done = await events.wait(RecordFinished)
    assert done.reason == "silence"  # type: ignore[attr-defined]


@in_loop
async def test_hanging_up_closes_the_recording(leg, endpoint, phone, events, tmp_path) -> None:  # type: ignore[no-untyped-def]
    leg.record(tmp_path / "cut.wav")
    leg.media_ended()
    done = await events.wait(RecordFinished)
    assert done.reason == "hangup"  # type: ignore[attr-defined]
    assert (tmp_path / "cut.wav").exists()


async def _inband(leg, endpoint, phone, events, tmp_path) -> None:  # type: ignore[no-untyped-def]
    leg.collect(max_digits=4, timeout=3, inter_digit=2)
    audio = np.concatenate(
        [np.concatenate([generate(d, 80), np.zeros(480, np.int16)]) for d in "2580"]
    )
    payload = alaw_encode(audio)
    for i in range(len(payload) // 160):
        phone.send(endpoint.port, 8, payload[160 * i : 160 * (i + 1)], 160 * i)
        await asyncio.sleep(0.001)
    collected = await events.wait(DigitsCollected)
    assert (collected.digits, collected.reason) == ("2580", "complete")  # type: ignore[attr-defined]


# A phone without RFC 4733 telephone-events: its keys are tones in the audio.
test_collect_in_band_tones = in_loop(_inband, telephone_events=False)
# A phone that offers telephone-events but plays a WAV of tones: the tones still count.
test_collect_tones_from_a_phone_that_offers_events = in_loop(_inband, telephone_events=True)
