"""The N-party audio mixer of a conference room (P5 mixing; A3 conferences, U12 multiparty).

Sans-I/O: frames in, payloads out, no clock of its own. Between two ticks each
participant's newest 20 ms frame (160 linear samples, decoded from its PCMA or PCMU)
is kept, a newer one replacing it; at the tick every participant hears the sum of
everyone else, encoded in its own law, so PCMA and PCMU phones share one room.
A participant with no frame this tick (loss, a late packet, silence suppression)
adds silence: a late frame is not waited for, it counts in the next tick.

The work of a tick is a handful of numpy calls over a participants x 160 array,
whatever the room's size: sum every row in int32, subtract each row from the sum
(nobody hears themselves), add the join or leave tone if one is sounding, clip to
int16 (two loud talkers saturate instead of wrapping round to noise), then encode
every row through one lookup table holding both laws. The arrays are allocated when
the room grows, not per tick; a participant who leaves gives its row to the last one.

A muted participant's frames are dropped on arrival, so it adds nothing, and it
still hears the room.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from vaxel.rtp.g711 import alaw_encode, ulaw_encode

__all__ = ["FRAME", "JOIN_TONE", "LEAVE_TONE", "Mixer", "tone"]

FRAME = 160  # samples in 20 ms at 8 kHz
RATE = 8000
_LAWS = ("PCMA", "PCMU")
_INITIAL_ROWS = 4

# Every int16 sample, from -32768 up, encoded in A-law then in µ-law: a clipped sum s
# of a µ-law participant is found at s + 32768 + 65536.
_ALL = np.arange(-32768, 32768, dtype=np.int16)
_ENCODE = np.frombuffer(alaw_encode(_ALL) + ulaw_encode(_ALL), np.uint8).copy()
_ENCODE.flags.writeable = False
_LAW_OFFSET = {"PCMA": 32768, "PCMU": 32768 + 65536}

Tone = npt.NDArray[np.int32]
K = TypeVar("K", bound=Hashable)


def tone(*parts: tuple[float, float], level: float = 6000.0) -> Tone:
    """Frames of sine tones one after the other: (frequency in Hz, seconds) each, with a
    5 ms fade in and out per part so they start and stop without a click."""
    pieces = []
    ramp = int(0.005 * RATE)
    for frequency, seconds in parts:
        n = int(seconds * RATE)
        wave = level * np.sin(2 * np.pi * frequency * np.arange(n) / RATE)
        envelope = np.ones(n)
        envelope[:ramp] = np.linspace(0.0, 1.0, ramp)
        envelope[n - ramp :] = np.linspace(1.0, 0.0, ramp)
        pieces.append(wave * envelope)
    samples = np.concatenate(pieces)
    samples = np.pad(samples, (0, -len(samples) % FRAME))
    frames = np.round(samples).astype(np.int32).reshape(-1, FRAME)
    frames.flags.writeable = False
    return frames


#: Someone joined: a rising pair of short beeps (120 ms each, -15 dBFS).
JOIN_TONE = tone((600.0, 0.12), (900.0, 0.12))
#: Someone left: the same pair falling.
LEAVE_TONE = tone((900.0, 0.12), (600.0, 0.12))


class Mixer(Generic[K]):
    """One room's mix. Participants are named by any hashable key (the room uses its
    endpoints); `tick()` returns every participant's payload for this 20 ms."""

    def __init__(self, *, tones: bool = True) -> None:
        self.tones = tones  # sound JOIN_TONE and LEAVE_TONE when people come and go
        self.keys: list[K] = []  # row i is keys[i]
        self._rows: dict[K, int] = {}
        self._codecs: list[str] = []
        self._muted: list[bool] = []
        self._sounding: list[tuple[Tone, int]] = []  # tones playing, and their next frame
        self._frames: npt.NDArray[np.int32] = np.zeros((0, FRAME), np.int32)
        self._offsets: npt.NDArray[np.intp] = np.zeros((0, 1), np.intp)
        self._allocate(_INITIAL_ROWS)

    def _allocate(self, rows: int) -> None:
        """(Re)allocate the arrays for up to `rows` participants, keeping what is there."""
        n = len(self.keys)
        frames = np.zeros((rows, FRAME), np.int32)
        offsets = np.zeros((rows, 1), np.intp)
        if n:
            frames[:n] = self._frames[:n]
            offsets[:n] = self._offsets[:n]
        self._frames = frames  # each participant's newest frame, zero when none came
        self._offsets = offsets  # where its law starts in _ENCODE
        self._mixed = np.zeros((rows, FRAME), np.int32)
        self._index = np.zeros((rows, FRAME), np.intp)
        self._encoded = np.zeros((rows, FRAME), np.uint8)
        self._total = np.zeros(FRAME, np.int32)
        self._views()

    def _views(self) -> None:
        """The arrays cut to the participants there are: made once per change, not per tick."""
        n = len(self.keys)
        self._frames_n = self._frames[:n]
        self._offsets_n = self._offsets[:n]
        self._mixed_n = self._mixed[:n]
        self._index_n = self._index[:n]
        self._encoded_n = self._encoded[:n]
        self.payloads = self._encoded_n.reshape(-1).data  # row i at i*160 .. i*160+160

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def add(self, key: K, codec: str) -> None:
        """A new participant, heard and hearing from the next tick; sounds the join tone."""
        codec = codec.upper()
        if codec not in _LAW_OFFSET:
            raise ValueError(f"a room mixes PCMA and PCMU, not {codec!r}")
        if key in self._rows:
            raise ValueError("already in the room")
        row = len(self.keys)
        if row == len(self._frames):
            self._allocate(2 * row)
        self.keys.append(key)
        self._codecs.append(codec)
        self._muted.append(False)
        self._rows[key] = row
        self._frames[row] = 0
        self._offsets[row, 0] = _LAW_OFFSET[codec]
        self._views()
        if self.tones:
            self._sounding.append((JOIN_TONE, 0))

    def remove(self, key: K) -> None:
        """The participant leaves (unknown keys are ignored); sounds the leave tone."""
        row = self._rows.pop(key, None)
        if row is None:
            return
        last = len(self.keys) - 1
        if row != last:  # the last participant takes the free row
            moved = self.keys[last]
            self.keys[row] = moved
            self._codecs[row] = self._codecs[last]
            self._muted[row] = self._muted[last]
            self._frames[row] = self._frames[last]
            self._offsets[row] = self._offsets[last]
            self._rows[moved] = row
        self.keys.pop()
        self._codecs.pop()
        self._muted.pop()
        self._views()
        if self.tones and self.keys:
            self._sounding.append((LEAVE_TONE, 0))

    def mute(self, key: K, muted: bool = True) -> None:
        """Muted: the participant's frames are dropped (it adds nothing) but it hears."""
        row = self._rows[key]
        self._muted[row] = muted
        if muted:
            self._frames[row] = 0

    def muted(self, key: K) -> bool:
        return self._muted[self._rows[key]]

    def codec(self, key: K) -> str:
        return self._codecs[self._rows[key]]

    def push(self, key: K, samples: npt.NDArray[np.int16]) -> None:
        """One frame the participant said (linear samples, decoded from its law): kept
        until the tick, replacing one not yet mixed. Longer frames are cut to 20 ms,
        shorter ones padded with silence; frames of someone not in the room are ignored."""
        row = self._rows.get(key)
        if row is None or self._muted[row]:
            return
        if len(samples) == FRAME:
            self._frames[row] = samples
        else:
            n = min(len(samples), FRAME)
            frame = self._frames[row]
            frame[:n] = samples[:n]
            frame[n:] = 0

    def tick(self) -> memoryview:
        """Mix this 20 ms: every participant's payload, row i (`keys[i]`) at octets
        i*160 .. i*160+160 of the result, which is valid until the next tick or change.

        Frames taken are cleared, so whoever sends nothing by the next tick adds silence.
        """
        frames, mixed = self._frames_n, self._mixed_n
        total = self._total
        np.sum(frames, axis=0, out=total)
        if self._sounding:
            self._add_tones(total)
        np.subtract(total, frames, out=mixed)  # everyone but oneself
        np.clip(mixed, -32768, 32767, out=mixed)
        np.add(mixed, self._offsets_n, out=self._index_n)
        np.take(_ENCODE, self._index_n, out=self._encoded_n)
        frames.fill(0)
        return self.payloads

    def _add_tones(self, total: npt.NDArray[np.int32]) -> None:
        """The current frame of each tone sounding, into the sum everyone hears."""
        still: list[tuple[Tone, int]] = []
        for frames, position in self._sounding:
            total += frames[position]
            if position + 1 < len(frames):
                still.append((frames, position + 1))
        self._sounding = still
