"""Test audio for calls with real phones: make WAVs with sox/espeak-ng, compare recordings.

Everything is 8 kHz mono 16-bit, the format baresip's aufile plays and its
sndfile module records.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vaxel.rtp.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

RATE = 8000
Samples = npt.NDArray[np.int16]


def _tool(name: str) -> str:
    binary = shutil.which(name)
    assert binary, f"{name} is not installed (make test installs it)"
    return binary


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=30)


def read_wav(path: Path) -> Samples:
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2), path
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.int16)


def write_wav(path: Path, samples: npt.ArrayLike) -> Path:
    data = np.asarray(samples, dtype="<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(data.tobytes())
    return path


def speech(path: Path, text: str, voice: str = "en-us") -> Samples:
    """`text` spoken by espeak-ng, resampled by sox to 8 kHz mono 16-bit."""
    raw = path.with_suffix(".espeak.wav")
    _run(_tool("espeak-ng"), "-v", voice, "-s", "150", "-w", str(raw), text)
    _run(_tool("sox"), str(raw), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
         str(path))  # fmt: skip
    return read_wav(path)


def synth(path: Path, seconds: float, *effect: str) -> Samples:
    """A sox `synth` signal, e.g. synth(p, 5, "sine", "300-3000") or ("pinknoise",)."""
    _run(_tool("sox"), "-R", "-n", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
         str(path), "synth", str(seconds), *effect, "vol", "0.4")  # fmt: skip
    return read_wav(path)


def g711_levels(samples: npt.ArrayLike, law: str = "PCMA") -> Samples:
    """Snap samples to the law's reconstruction levels (encode, then decode).

    A level sits mid-interval, so every G.711 encoder gives it the same code;
    raw samples on an interval boundary are a rounding choice (baresip's
    encoder and vaxel.rtp.g711 disagree on negative boundaries), which would
    make bit-exact comparisons of what a phone sent fail for reasons that
    have nothing to do with the path in between.
    """
    if law == "PCMA":
        return alaw_decode(alaw_encode(samples))
    return ulaw_decode(ulaw_encode(samples))


def alaw_codes(samples: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    return np.frombuffer(alaw_encode(samples), np.uint8)


def longest_exact_run(
    sent: npt.NDArray[np.uint8], received: npt.NDArray[np.uint8], probe: int = 160
) -> tuple[int, int, int]:
    """The longest stretch of `received` that is exactly a stretch of `sent`.

    Returns (length, start in received, start in sent), in samples. Probes are
    `probe` samples of received audio that are not near-constant (silence matches
    anywhere); each one found in `sent` is extended both ways while codes agree.
    """
    sent_bytes = sent.tobytes()
    best = (0, 0, 0)
    i = 0
    while i + probe <= len(received):
        chunk = received[i : i + probe]
        j = sent_bytes.find(chunk.tobytes()) if len(np.unique(chunk)) >= 16 else -1
        if j < 0:
            i += probe
            continue
        back = 0
        while i - back > 0 and j - back > 0 and received[i - back - 1] == sent[j - back - 1]:
            back += 1
        n = min(len(received) - i, len(sent) - j)
        differ = np.flatnonzero(received[i : i + n] != sent[j : j + n])
        forward = int(differ[0]) if len(differ) else n
        if back + forward > best[0]:
            best = (back + forward, i - back, j - back)
        i += max(forward, probe)
    return best


def align(sent: Samples, received: Samples) -> int:
    """The lag (in samples) at which `sent` best lines up with `received`: received[k] ~
    sent[k - lag]. Found by FFT cross-correlation."""
    a = received.astype(np.float64) - received.mean()
    b = sent.astype(np.float64) - sent.mean()
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    best = int(np.argmax(corr))
    return best if best < size - len(b) else best - size


def correlation(sent: Samples, received: Samples) -> tuple[float, int, int]:
    """Normalised cross-correlation of the two after alignment: (coefficient, lag, overlap)."""
    lag = align(sent, received)
    start = max(0, lag)
    stop = min(len(received), len(sent) + lag)
    a = received[start:stop].astype(np.float64)
    b = sent[start - lag : stop - lag].astype(np.float64)
    denominator = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return (float(np.dot(a, b)) / denominator if denominator else 0.0), lag, stop - start


def rms(samples: npt.ArrayLike) -> float:
    data = np.asarray(samples, dtype=np.float64)
    return float(np.sqrt(np.mean(data * data))) if len(data) else 0.0
