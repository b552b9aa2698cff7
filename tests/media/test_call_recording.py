"""A6: a bridged call recorded to one WAV while it runs: two real endpoints bridged by the
engine, phones sending RTP over loopback (the caller in A-law, the callee in µ-law), the
recording's clock moved by the test; the file read back with Python's `wave`, as a player
would read it."""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest

from tests.integration.peers import free_port
from tests.media.test_conference import HandClock
from tests.media.test_endpoint import HOST, PCMA, PCMU, Peer
from tests.rtp.test_mixer import level_at, sine
from vaxel.media.call_recording import FIXUP_TICKS, PRIME, CallRecording, repair
from vaxel.media.endpoint import Endpoint
from vaxel.media.engine import MediaEngine
from vaxel.media.player import FRAME, RATE
from vaxel.rtp.g711 import encode
from vaxel.rtp.packet import build

CALLER_HZ, CALLEE_HZ = 400.0, 1000.0
DELAY = PRIME - 1  # frames of the jitter buffer; close() writes what it still holds


def _noop(digit: str) -> None:
    pass


class Call:
    """Two phones bridged by the engine; each says its own tone, one frame per tick."""

    def __init__(self, engine: MediaEngine) -> None:
        self.engine = engine
        self.a, self.b = Peer(), Peer()
        self.ea: Endpoint = engine.allocate(_noop)
        self.eb: Endpoint = engine.allocate(_noop)
        self.ea.configure(self.a.answer(PCMA), sending=True)
        self.eb.configure(self.b.answer(PCMU), sending=True)
        engine.connect(self.ea, self.eb)
        self.said = [0, 0]

    async def talk(self, clock: HandClock, ticks: int, *, a: bool = True, b: bool = True) -> None:
        for _ in range(ticks):
            for index, (talking, peer, endpoint, codec, hz) in enumerate(
                (
                    (a, self.a, self.ea, PCMA, CALLER_HZ),
                    (b, self.b, self.eb, PCMU, CALLEE_HZ),
                )
            ):
                n = self.said[index]
                if talking:
                    payload = encode(codec.name, sine(hz, n))
                    peer.send(endpoint.port, build(codec.pt, n, n * 160, 7 + index, payload))
                    self.said[index] += 1
            deadline = time.monotonic() + 2.0
            while self.ea.received < self.said[0] or self.eb.received < self.said[1]:
                assert time.monotonic() < deadline, "RTP did not arrive"
                await asyncio.sleep(0.001)
            clock.tick()

    def close(self) -> None:
        self.a.close()
        self.b.close()


def run(test: Callable[[MediaEngine], Awaitable[None]]) -> None:
    async def main() -> None:
        low = free_port() & ~1
        engine = MediaEngine(HOST, (low, low + 40), clock=time.time)
        try:
            await test(engine)
        finally:
            engine.close()

    asyncio.run(main())


def read(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getsampwidth()) == (RATE, 2)
        return wav.getnchannels(), np.frombuffer(wav.readframes(wav.getnframes()), "<i2")


def tone(samples: np.ndarray, hz: float) -> bool:
    """A party's tone at its level, or nothing of it."""
    level = level_at(samples, hz)
    assert level < 40 or level == pytest.approx(4000, rel=0.05), level
    return level > 40


def test_stereo_puts_the_caller_left_and_the_callee_right(tmp_path: Path) -> None:
    path = tmp_path / "rec" / "call.wav"

    async def test(engine: MediaEngine) -> None:
        call = Call(engine)
        clock = HandClock()
        recording = CallRecording(path, clock, stereo=True)
        recording.attach(call.ea, call.eb)
        await call.talk(clock, 50)
        recording.close()
        assert call.ea.sinks == [] and call.eb.sinks == [] and clock.subscribers == set()
        assert len(await call.b.receive(50)) == 50  # the relay went on as before
        call.close()

    run(test)
    channels, data = read(path)
    assert channels == 2 and len(data) == 2 * (50 + DELAY) * FRAME  # a frame a tick, then
    left, right = data[0::2][DELAY * FRAME :], data[1::2][DELAY * FRAME :]
    assert tone(left, CALLER_HZ) and not tone(left, CALLEE_HZ)
    assert tone(right, CALLEE_HZ) and not tone(right, CALLER_HZ)
    # Every frame the caller said is in the file, in order, after that delay.
    said = np.concatenate([sine(CALLER_HZ, n) for n in range(50)])
    assert np.corrcoef(left, said)[0, 1] > 0.999


def test_mix_has_both_parties_in_one_channel(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"

    async def test(engine: MediaEngine) -> None:
        call = Call(engine)
        clock = HandClock()
        recording = CallRecording(path, clock, stereo=False)
        recording.attach(call.ea, call.eb)
        await call.talk(clock, 40)
        recording.close()
        call.close()

    run(test)
    channels, data = read(path)
    assert channels == 1 and len(data) == (40 + DELAY) * FRAME
    assert tone(data[PRIME * FRAME :], CALLER_HZ) and tone(data[PRIME * FRAME :], CALLEE_HZ)


def test_pause_leaves_silence_for_its_span_and_the_file_keeps_wall_time(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"

    async def test(engine: MediaEngine) -> None:
        call = Call(engine)
        clock = HandClock()
        recording = CallRecording(path, clock)
        recording.attach(call.ea, call.eb)
        await call.talk(clock, 25)
        recording.pause()
        await call.talk(clock, 25)
        recording.resume()
        await call.talk(clock, 25)
        recording.close()
        call.close()

    run(test)
    _, data = read(path)
    # What was said before the pause is all there (the jitter buffer written out first),
    # then 25 ticks of silence, then speech again.
    assert len(data) == 2 * (75 + 2 * DELAY) * FRAME
    before = data[0::2][: (25 + DELAY) * FRAME][DELAY * FRAME :]
    said = np.concatenate([sine(CALLER_HZ, n) for n in range(25)])
    assert np.corrcoef(before, said)[0, 1] > 0.999
    paused = data[2 * (25 + DELAY) * FRAME : 2 * (50 + DELAY) * FRAME]
    assert not paused.any()
    after = data[2 * (50 + 2 * DELAY) * FRAME :]
    assert tone(after[0::2], CALLER_HZ) and tone(after[1::2], CALLEE_HZ)


def test_a_silent_side_is_silence_and_the_other_stays_in_time(tmp_path: Path) -> None:
    """The callee holds (sends nothing): the caller's channel goes on, the callee's is 0."""
    path = tmp_path / "call.wav"

    async def test(engine: MediaEngine) -> None:
        call = Call(engine)
        clock = HandClock()
        recording = CallRecording(path, clock)
        recording.attach(call.ea, call.eb)
        await call.talk(clock, 30, b=False)
        recording.close()
        call.close()

    run(test)
    _, data = read(path)
    assert len(data) == 2 * (30 + DELAY) * FRAME
    assert not data[1::2].any() and tone(data[0::2][PRIME * FRAME :], CALLER_HZ)


def test_attach_to_other_endpoints_moves_the_listening(tmp_path: Path) -> None:
    """After a transfer the call's parties are other endpoints: the old ones are let go."""
    path = tmp_path / "call.wav"

    async def test(engine: MediaEngine) -> None:
        first, second = Call(engine), Call(engine)
        clock = HandClock()
        recording = CallRecording(path, clock)
        recording.attach(first.ea, first.eb)
        recording.detach()
        assert first.ea.sinks == [] and first.eb.sinks == []
        recording.attach(second.ea, second.eb)
        assert len(second.ea.sinks) == 1 and len(second.eb.sinks) == 1
        await second.talk(clock, 20)
        recording.close()
        first.close(), second.close()

    run(test)
    _, data = read(path)
    assert tone(data[0::2][PRIME * FRAME :], CALLER_HZ)


def test_a_recording_cut_off_by_a_crash_is_a_valid_wav(tmp_path: Path) -> None:
    """The header is kept true every second: a crash (the file never closed) leaves a WAV
    that reads, short of at most a second, and `repair` counts all of it."""
    path = tmp_path / "call.wav"

    async def test(engine: MediaEngine) -> None:
        call = Call(engine)
        clock = HandClock()
        recording = CallRecording(path, clock)
        recording.attach(call.ea, call.eb)
        await call.talk(clock, FIXUP_TICKS + 10)
        recording.stream._file.flush()  # type: ignore[union-attr]  # what the OS had
        _, data = read(path)  # while it is still being written
        assert len(data) == 2 * FIXUP_TICKS * FRAME
        assert repair(path) == pytest.approx((FIXUP_TICKS + 10) * 0.02)
        _, data = read(path)
        assert len(data) == 2 * (FIXUP_TICKS + 10) * FRAME
        recording.stream._file.close()  # type: ignore[union-attr]  # (no close(): a crash)
        call.close()

    run(test)


def test_a_recording_never_overwrites_a_file(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    path.write_bytes(b"kept")
    with pytest.raises(FileExistsError):
        CallRecording(path, HandClock())
    assert path.read_bytes() == b"kept"


def test_repair_refuses_what_is_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(b"not a wav at all, but long enough to have a header of forty-four")
    with pytest.raises(ValueError, match="not a recording"):
        repair(path)


class Heard:
    """An endpoint's sinks, fed by the test."""

    def __init__(self) -> None:
        self.sinks: list[Callable[[np.ndarray], None]] = []

    def say(self, samples: np.ndarray) -> None:
        for sink in list(self.sinks):
            sink(samples)


def test_the_mix_is_clipped_not_wrapped(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    clock, a, b = HandClock(), Heard(), Heard()
    recording = CallRecording(path, clock, stereo=False)
    recording.attach(a, b)
    loud = np.full(FRAME, 30000, np.int16)
    for _ in range(5):
        a.say(loud)
        b.say(loud)
        clock.tick()
        a.say(-loud)
        b.say(-loud)
        clock.tick()
    recording.close()
    _, data = read(path)
    assert set(np.unique(data)) == {-32768, 0, 32767}  # silence while the buffer fills
