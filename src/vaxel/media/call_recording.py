"""Recording a bridged call to one WAV file while it runs (A6 call recording; P5).

Both parties are heard through their media endpoints' sinks (each leg's
audio is decoded once per packet there, as for conference rooms and the
in-band DTMF detector; an endpoint nobody listens to decodes nothing). Each
side's frames wait in a short queue; every tick of the shared 20 ms media
clock writes one frame of each side: the caller left and the callee right
(stereo), or their sum (mix, clipped). A side that sent nothing in a tick
(on hold, a lost packet, a leg being transferred) is silence, so the file
keeps wall time and the two channels stay aligned. Paused, the recording
writes silence for the span and drops what the parties say.

The file is 8 kHz 16-bit PCM WAV, written as the call goes. Its header
holds the true sizes, rewritten every second and at the end (two 4-octet
`pwrite`s), so a switch that crashes leaves a valid WAV that lacks at most
the last second in its header's count, and `repair` makes the header count
everything the file holds. A header with a huge placeholder size was the
other choice: ffmpeg reads such a file, but Python's `wave`, browsers'
players and many editors then report a wrong length or refuse it.
"""

from __future__ import annotations

import os
import struct
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from vaxel.media.player import FRAME, RATE, Samples

#: Frames a side may run ahead of the clock (jitter, a burst after a stall); the oldest
#: beyond this are dropped so the channels never drift apart by more than this.
QUEUE = 25
#: Frames a side collects before the clock takes from it: a jitter buffer of 180 ms, so
#: a phone whose packets come late or in bursts (a busy machine, a stalled sender) is
#: not turned into silence and a lag. A recording is not a conversation: its delay
#: costs nothing, and both channels have the same.
PRIME = 10
FIXUP_TICKS = 50  # the header's sizes are rewritten once a second
HEADER_SIZE = 44
SILENCE = np.zeros(FRAME, np.int16)


class Pacer(Protocol):
    """The media clock (`media.clock.MediaClock`), or a test's clock moved by hand."""

    def subscribe(self, tick: Callable[[], None]) -> None: ...

    def unsubscribe(self, tick: Callable[[], None]) -> None: ...


class Listened(Protocol):
    """What a recording needs of a media endpoint: its sinks (`media.endpoint.Endpoint`)."""

    sinks: list[Callable[[Samples], None]]


def _header(channels: int, data_bytes: int) -> bytes:
    """A canonical 44-octet PCM WAV header (RIFF, fmt with 16-bit samples, data)."""
    block = channels * 2
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, RATE, RATE * block, block, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


class WavStream:
    """A 16-bit 8 kHz WAV file written as audio comes, its header kept true as it grows."""

    def __init__(self, path: Path, channels: int) -> None:
        self.path = path
        self.channels = channels
        self.data_bytes = 0
        # Exclusive creation: a recording never overwrites another file.
        self._file: BinaryIO | None = open(path, "xb")  # noqa: SIM115 (closed by close())
        self._file.write(_header(channels, 0))

    def write(self, interleaved: Samples) -> None:
        """Append samples (int16, interleaved when stereo), written as little-endian."""
        if self._file is None:
            return
        if interleaved.dtype.byteorder == ">":  # (never on the machines Vaxel runs on)
            interleaved = interleaved.astype("<i2")
        self._file.write(interleaved.data)  # no copy: the buffer goes as it is
        self.data_bytes += interleaved.nbytes

    def fix_header(self) -> None:
        """Make what was written so far readable: flush, then the two sizes in place."""
        file = self._file
        if file is None:
            return
        file.flush()
        os.pwrite(file.fileno(), struct.pack("<I", 36 + self.data_bytes), 4)
        os.pwrite(file.fileno(), struct.pack("<I", self.data_bytes), 40)

    def close(self) -> None:
        if self._file is None:
            return
        self.fix_header()
        self._file.close()
        self._file = None

    @property
    def seconds(self) -> float:
        return self.data_bytes / (2 * self.channels * RATE)


def repair(path: Path) -> float:
    """Make a recording left by a crash count all it holds (whole frames only): its
    header's sizes from the file's length. Returns the seconds it holds."""
    with open(path, "r+b") as file:
        head = file.read(HEADER_SIZE)
        if len(head) < HEADER_SIZE or head[:4] != b"RIFF" or head[36:40] != b"data":
            raise ValueError(f"{path.name} is not a recording")
        channels = struct.unpack_from("<H", head, 22)[0]
        block = 2 * max(1, channels)
        data_bytes = (file.seek(0, os.SEEK_END) - HEADER_SIZE) // block * block
        file.truncate(HEADER_SIZE + data_bytes)
        file.seek(0)
        file.write(_header(channels, data_bytes))
    return data_bytes / (block * RATE)


class _Side:
    """One party's frames, waiting for the clock."""

    __slots__ = ("frames", "primed", "sink", "source")

    def __init__(self) -> None:
        self.frames: deque[Samples] = deque(maxlen=QUEUE)
        self.primed = False
        self.source: Listened | None = None
        self.sink: Callable[[Samples], None] = self.heard

    def heard(self, samples: Samples) -> None:
        for start in range(0, len(samples), FRAME):
            frame = samples[start : start + FRAME]
            if len(frame) < FRAME:
                frame = np.concatenate([frame, SILENCE[: FRAME - len(frame)]])
            self.frames.append(frame)

    def attach(self, source: Listened | None) -> None:
        if source is self.source:
            return
        self.detach()
        self.source = source
        if source is not None:
            source.sinks.append(self.sink)

    def detach(self) -> None:
        source = self.source
        if source is not None and self.sink in source.sinks:
            source.sinks.remove(self.sink)
        self.source = None
        self.frames.clear()
        self.primed = False

    def take(self) -> Samples:
        """This tick's frame: the oldest waiting once primed, else silence."""
        frames = self.frames
        if not self.primed:
            if len(frames) < PRIME:
                return SILENCE
            self.primed = True
        if not frames:
            self.primed = False  # ran dry: collect a little again before taking
            return SILENCE
        return frames.popleft()


class CallRecording:
    """One call's recording: `attach` the two parties' endpoints (again after a transfer),
    `pause`/`resume`, `close` at the end. Ticks of the media clock write the file."""

    def __init__(
        self,
        path: Path,
        pacer: Pacer,
        *,
        stereo: bool = True,
        closed: Callable[[CallRecording], None] | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.on_closed = closed  # told once the file is complete
        self.pacer = pacer
        self.stereo = stereo
        self.stream = WavStream(path, 2 if stereo else 1)
        self.paused = False
        self.closed = False
        self._caller = _Side()
        self._callee = _Side()
        self._ticks = 0
        self._out = np.zeros(2 * FRAME if stereo else FRAME, np.int16)
        self._sum = np.zeros(FRAME, np.int32)  # the mix, before it is clipped
        pacer.subscribe(self.tick)

    @property
    def seconds(self) -> float:
        return self.stream.seconds

    def attach(self, caller: Listened | None, callee: Listened | None) -> None:
        """Listen to these two parties from now: the caller's audio left (or in the mix),
        the callee's right. None: that side is silent (not bridged to anyone)."""
        if self.closed:
            return
        self._caller.attach(caller)
        self._callee.attach(callee)

    def detach(self) -> None:
        """Nobody is bridged now (a transfer under way): silence until `attach`."""
        self._caller.detach()
        self._callee.detach()

    def pause(self) -> None:
        """Silence from now until `resume`: what the parties say is not kept (what they
        said before, still in the jitter buffer, is)."""
        if self.paused or self.closed:
            return
        self._drain()
        self.paused = True
        for side in (self._caller, self._callee):
            side.primed = False

    def resume(self) -> None:
        self.paused = False

    def tick(self) -> None:
        """20 ms: one frame of each side into the file."""
        if self.closed:
            return
        left = self._caller.take()
        right = self._callee.take()
        if self.paused:
            left = right = SILENCE
        out = self._out
        if self.stereo:
            out[0::2] = left
            out[1::2] = right
        else:
            total = self._sum
            np.add(left, right, out=total, dtype=np.int32)
            np.minimum(total, 32767, out=total)  # (half the time np.clip takes)
            np.maximum(total, -32768, out=total)
            out[:] = total
        self.stream.write(out)
        self._ticks += 1
        if self._ticks % FIXUP_TICKS == 0:
            self.stream.fix_header()

    def _drain(self) -> None:
        """Write what the jitter buffer still holds (the last words before a pause or the
        end), as if the ticks for it had come."""
        caller, callee = self._caller, self._callee
        while (caller.frames or callee.frames) and not self.paused:
            caller.primed = callee.primed = True
            self.tick()

    def close(self) -> None:
        """The call is over (or the recording stopped): the file is complete."""
        if self.closed:
            return
        self.pacer.unsubscribe(self.tick)
        self._drain()
        self.closed = True
        self.detach()
        self.stream.close()
        if self.on_closed is not None:
            self.on_closed(self)
