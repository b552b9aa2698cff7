"""Recording what a party says into a WAV file (P5; S6/U7 voicemail, S4 prompts by phone).

A recording stops at its maximum length, after a stretch of silence (an
abandoned call with its line open), or when the caller is done (the leg
stops it on `#` or hang-up). The file is 8 kHz mono 16-bit WAV, written as
the audio arrives.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from vaxel.media.player import RATE, Samples

SILENCE_RMS = 200.0  # about -44 dBFS: below this a 20 ms frame counts as silence


class Recorder:
    def __init__(
        self, path: str | Path, *, max_seconds: float = 120.0, silence_seconds: float = 0.0
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_samples = int(max_seconds * RATE)
        self.silence_limit = int(silence_seconds * RATE)  # 0: no silence limit
        self.samples = 0
        self.silent_run = 0
        self.heard = False  # something above the silence level arrived
        # Open for the recording's life, closed by close(): not a with-block.
        self._wav: wave.Wave_write | None = wave.open(str(self.path), "wb")  # noqa: SIM115
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(RATE)

    @property
    def seconds(self) -> float:
        return self.samples / RATE

    def feed(self, samples: Samples) -> str | None:
        """Write one block; returns why the recording must stop ("max-length", "silence")."""
        if self._wav is None:
            return None
        room = self.max_samples - self.samples
        block = samples[:room]
        self._wav.writeframes(block.astype("<i2").tobytes())
        self.samples += len(block)
        if len(block) and np.sqrt(np.mean(block.astype(np.float64) ** 2)) < SILENCE_RMS:
            self.silent_run += len(block)
        else:
            self.silent_run = 0
            self.heard = self.heard or bool(len(block))
        if self.samples >= self.max_samples:
            return "max-length"
        if self.silence_limit and self.silent_run >= self.silence_limit:
            return "silence"
        return None

    def close(self) -> None:
        if self._wav is not None:
            self._wav.close()
            self._wav = None
