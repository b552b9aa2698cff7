"""Uploaded prompts: WAV, MP3, FLAC or OGG converted once to what the player plays (S4).

The player (media/player.py) only reads 8 kHz mono 16-bit signed WAV, so
every upload goes through `sox` here, at upload time, never per call. The
conversion also

- trims leading silence (below -48 dBFS), so a caller does not wait in
  silence before a greeting that was recorded with a slow start; trailing
  silence of an upload is kept by default (a short pause at the end does
  no harm), while text to speech trims both ends so that prompts said one
  after the other ("två" "hundra" "tjugoett") run together;
- normalises the peak to -3 dBFS (`gain -n -3`), so prompts uploaded by
  different people play at the same level.

The format is recognised from the file's first bytes, not its name, so an
upload saved under a temporary name converts the same. The result is
written to a temporary file next to the target and moved over it with
`os.replace`: a failed upload leaves the old prompt in place, and a call
never plays half a file.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from vaxel.media.player import RATE, PromptError

__all__ = [
    "ConversionOptions",
    "PromptError",
    "PromptInfo",
    "convert_upload",
    "have_sox",
    "replacing",
    "run_tool",
    "sniff_format",
    "sox_formats",
    "sox_to_prompt",
]

UPLOAD_FORMATS = ("wav", "mp3", "flac", "ogg")
SOX_TIMEOUT = 120.0  # seconds for one conversion; a 10 min MP3 takes a few
_SILENCE_LEVEL = "-48d"  # quieter than this is silence when trimming
_SOUND_SECONDS = "0.02"  # this much sound above the level ends the trimmed silence
OUTPUT_ARGS = ("-t", "wav", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer")


class ConversionOptions(BaseModel):
    """How uploads are converted (defaults suit a phone prompt)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    peak_dbfs: float = Field(default=-3.0, le=0.0, ge=-30.0)
    trim_leading_silence: bool = True
    trim_trailing_silence: bool = False
    max_seconds: float = Field(default=600.0, gt=0.0)


@dataclass(frozen=True)
class PromptInfo:
    """A prompt written by `convert_upload` or text to speech."""

    path: Path
    seconds: float
    source_format: str  # "wav", "mp3", "flac", "ogg" or "tts"


def have_sox() -> bool:
    """Whether the `sox` program is on PATH."""
    return shutil.which("sox") is not None


@functools.cache
def sox_formats() -> frozenset[str]:
    """The audio file formats this sox reads and writes (from `sox -h`)."""
    if not have_sox():
        return frozenset()
    try:
        out = subprocess.run(
            ["sox", "-h"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    for line in out.splitlines():
        if line.startswith("AUDIO FILE FORMATS:"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def run_tool(args: Sequence[str], *, timeout: float, what: str) -> str:
    """Run a program (no shell) and return its stdout; failures raise `PromptError`."""
    try:
        done = subprocess.run(
            list(args), capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise PromptError(f"{what}: {args[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise PromptError(f"{what}: {args[0]} took longer than {timeout:g} s") from exc
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        reason = detail[-1] if detail else f"exit status {done.returncode}"
        raise PromptError(f"{what}: {reason}")
    return done.stdout


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary path next to `target` that replaces it when the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o644)  # mkstemp makes 0600; prompts are read by the web UI too
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _skip_id3(head: bytes) -> bytes:
    """The bytes after an ID3v2 tag (MP3s, and some FLACs, start with one)."""
    if len(head) >= 10 and head.startswith(b"ID3"):
        size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        return head[10 + size :]
    return head


def sniff_format(path: Path) -> str | None:
    """ "wav", "mp3", "flac" or "ogg" from the file's first bytes; None if none of them."""
    with path.open("rb") as f:
        head = f.read(64 * 1024)
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    body = _skip_id3(head)
    if body.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"ID3") or (len(body) >= 2 and body[0] == 0xFF and body[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def _wav_seconds(path: Path) -> float:
    """Length of a converted file, checking it is what the player reads."""
    try:
        with wave.open(str(path), "rb") as wav:
            if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (RATE, 1, 2):
                raise PromptError("conversion did not give 8 kHz mono 16-bit WAV")
            return wav.getnframes() / RATE
    except (wave.Error, EOFError) as exc:
        raise PromptError(f"conversion gave an unreadable WAV: {exc}") from exc


def sox_to_prompt(
    source: Path,
    target: Path,
    *,
    source_type: str | None = None,
    options: ConversionOptions | None = None,
    what: str = "conversion",
) -> float:
    """Convert any file sox reads to a prompt at `target` atomically; returns its seconds."""
    options = options or ConversionOptions()
    effects = ["channels", "1"]
    if options.trim_leading_silence:
        effects += ["silence", "1", _SOUND_SECONDS, _SILENCE_LEVEL]
    # Stop reading just past the limit, so a two-hour file costs no more than ten minutes.
    effects += ["trim", "0", f"{options.max_seconds + 1:g}"]
    if options.trim_trailing_silence:
        effects += ["reverse", "silence", "1", _SOUND_SECONDS, _SILENCE_LEVEL, "reverse"]
    effects += ["rate", "-v", str(RATE), "gain", "-n", f"{options.peak_dbfs:g}"]
    typed = ["-t", source_type] if source_type else []
    with replacing(target) as tmp:
        run_tool(
            ["sox", "-V1", *typed, str(source), *OUTPUT_ARGS, str(tmp), *effects],
            timeout=SOX_TIMEOUT,
            what=what,
        )
        seconds = _wav_seconds(tmp)
        if seconds == 0:
            raise PromptError(f"{what}: the audio is silent")
        if seconds > options.max_seconds:
            raise PromptError(
                f"{what}: longer than the limit of {options.max_seconds / 60:g} minutes"
            )
    return seconds


def convert_upload(
    source: Path, target: Path, *, options: ConversionOptions | None = None
) -> PromptInfo:
    """Convert an uploaded WAV, MP3, FLAC or OGG file to the prompt at `target`.

    Raises `PromptError` for a file that is empty, not audio, in a format
    this sox cannot read, too long, or silent; `target` is then untouched.
    """
    source, target = Path(source), Path(target)
    options = options or ConversionOptions()
    what = f"upload {source.name}"
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise PromptError(f"{what}: file not found") from exc
    if size == 0:
        raise PromptError(f"{what}: the file is empty")
    kind = sniff_format(source)
    if kind is None:
        raise PromptError(f"{what}: not a WAV, MP3, FLAC or OGG audio file")
    if not have_sox():
        raise PromptError(f"{what}: sox is not installed")
    if kind not in sox_formats():
        raise PromptError(f"{what}: this sox cannot read {kind} (install libsox-fmt-all)")
    seconds = sox_to_prompt(source, target, source_type=kind, options=options, what=what)
    return PromptInfo(path=target, seconds=seconds, source_format=kind)
