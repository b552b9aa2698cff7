"""Prompt playback: WAV files as 20 ms frames for the media clock (P5; S2, S4 prompts).

Prompts are 8 kHz mono 16-bit WAV (uploads and text to speech are
converted to that once, when they are made). A loaded prompt is kept in
memory, keyed by path and modification time, so a prompt played to a
hundred waiting callers is read and decoded once.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 8000
FRAME = 160  # samples in 20 ms

Samples = npt.NDArray[np.int16]


class PromptError(ValueError):
    """A prompt file that is missing or not 8 kHz mono 16-bit WAV."""


_cache: dict[Path, tuple[float, Samples]] = {}


def load_prompt(path: str | Path) -> Samples:
    """The samples of an 8 kHz mono 16-bit WAV file (cached until the file changes)."""
    path = Path(path)
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise PromptError(f"prompt {path} not found") from exc
    cached = _cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        with wave.open(str(path), "rb") as wav:
            if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (RATE, 1, 2):
                raise PromptError(f"prompt {path} is not 8 kHz mono 16-bit WAV")
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    except (wave.Error, EOFError) as exc:
        raise PromptError(f"prompt {path} is not a WAV file: {exc}") from exc
    samples = samples.astype(np.int16)
    samples.setflags(write=False)
    _cache[path] = (mtime, samples)
    return samples


class Player:
    """Plays prompts one after the other (optionally looping) in 20 ms frames."""

    def __init__(self, prompts: Sequence[Samples], *, loop: bool = False) -> None:
        if not prompts:
            raise ValueError("nothing to play")
        self.audio = np.concatenate(prompts) if len(prompts) > 1 else prompts[0]
        self.loop = loop
        self.position = 0

    def next_frame(self) -> Samples | None:
        """The next 160 samples (the last frame padded with silence), None when done."""
        audio, position = self.audio, self.position
        if position >= len(audio):
            if not self.loop or len(audio) == 0:
                return None
            position = 0
        frame = audio[position : position + FRAME]
        self.position = position + FRAME
        if len(frame) < FRAME:
            if self.loop:
                self.position = FRAME - len(frame)
                frame = np.concatenate([frame, audio[: FRAME - len(frame)]])
            else:
                frame = np.concatenate([frame, np.zeros(FRAME - len(frame), np.int16)])
        return frame
