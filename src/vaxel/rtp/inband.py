"""In-band DTMF (P5; ITU-T Q.23 tones, Q.24 receiver): detect key presses in 8 kHz audio.

Sans-I/O like the rest of `rtp/`: `DtmfDetector.feed()` takes int16 samples (any block
length; a call delivers 160 every 20 ms) and returns the keys whose press it has just
confirmed, each press once, at its start. `generate()` makes the tone pair of a key.

Analysis
--------
The audio is cut into frames of 160 samples (20 ms) starting every 20 samples (2.5 ms).
Each frame holds two Hann-windowed sub-windows of 120 samples (15 ms), A = samples 0..119
and B = samples 40..159. For each of the 8 frequencies the detector takes the Goertzel
value (the DFT at that one frequency) of A, of B and of B - A, and that of A at twice the
frequency. The Goertzel recurrence runs sample by sample; its result is the frame's
projection onto a precomputed windowed complex exponential, so all these filters for all
frames of a block are one numpy matrix product (160 x 64, real and imaginary parts).

Why these sizes:

- 120 samples give 66.7 Hz bins. With the Hann window the other frequencies of a group
  (73 Hz or more away; 62 Hz from a tone 1.5 % off towards them) stay 4.9 dB or more
  below the tone, and the other group's tone (236 Hz or more away) leaks in below -40 dB, so
  twist, power ratios and phase are not disturbed even with 8 dB of twist.
- Q.24 asks to accept a tone 1.5 % off frequency and reject one 3.5 % off: 10 against
  24 Hz at 697 Hz, less than a bin, which a power threshold cannot tell apart at unknown
  levels. So the detector measures frequency: from A to B (40 samples later) a tone's phase
  turns by 2 pi * offset * 40 / 8000 relative to the nominal frequency, unambiguous up to
  +-100 Hz; an offset up to `MAX_DEVIATION` (2.5 %, halfway) is accepted. Measured on
  all keys: 2.4 % off always accepted for one tone, 2.2 % for both, 2.6 % never.
- Frames every 2.5 ms make the minimum tone duration a fine threshold (see Durations).
- A frame is one 20 ms packet: a 160-sample `feed` analyses 8 frames.

Acceptance: a frame holds key (low, high) when all of these hold
-----------------------------------------------------------------
- level: each tone at least `MIN_LEVEL_DBFS` (-42 dBFS; 0 dBFS is a full-scale sine,
  +3.14 dBm0 in A-law), so tones of Q.24's -25..-30 dBm0 pass with 8 dB of twist;
- twist: the high group tone up to 8 dB weaker than the low group one (what lines do to
  higher frequencies; "normal" twist as common detectors name it) and up to 4 dB stronger
  ("reverse" twist). For tones 1.5 % off frequency the window's scalloping shifts measured
  powers by up to 0.8 dB, so the limits compared are 9 and 5 dB;
- frequency: both tones within 2.5 % (phase from A to B, above);
- against talk-off (speech, music) the usual checks:
  * energy: the two tones hold at least `MIN_TONE_SHARE` (75 %) of the frame's energy;
    two notes of a chord of three, noise and voices do not (espeak-ng speech, English and
    Swedish, reaches 62 % in the rare frames that pass every other check);
  * relative peak: the other three frequencies of each group add up to at most 60 % of
    the tone's power (a tone 1.5 % off leaks up to 38 % into them, 2.5 % off up to 49 %);
  * second harmonic: at most -12 dB from its fundamental (voices are rich in harmonics).
    The low tone's is not checked when the high tone is within 100 Hz of its double
    (697+1336, 697+1477, 770+1477, 770+1633, 852+1633): that tone leaks into the filter;
- steadiness: each tone's power in A and in B within 2 dB, so frames the tone covers only
  in part do not count (which is what makes the durations below sharp).

All tests are ratios of powers, linear once in logarithms: the detector computes 59 powers
per frame (the features below), takes their logarithms, and one matrix product evaluates
the 15 tests of all 16 keys; a key passes when it fails none.

Durations (Q.24: accept 40 ms, reject 20..23 ms; recognise a 40 ms pause, bridge 10 ms)
---------------------------------------------------------------------------------------
A press is reported when `ON_FRAMES` (10) frames in a row hold the same key; a key is
released after `OFF_FRAMES` (16) frames in a row without it. Measured over alignments,
phases, keys and levels (-6..-38 dBFS, clean or with white noise 20 dB below): tones of
37 ms and more are always reported, tones of 31 ms and less never; a pause of 31 ms or more
always separates two presses of one key, a break of 26 ms or less never does (so a lost
20 ms packet inside a tone is bridged). A different key right after another, without a
pause, is reported too.

Cost of `feed` per 160-sample block (numpy 2.4 with OpenBLAS, Python 3.11, the shared
2-vCPU x86-64 development VM, best of 40 x 500 calls): 13.5 us on silence, noise and
speech, whose frames stop after the energy check; 24 us while a key is held. Busy
neighbours on the VM made single runs up to 1.5 times slower.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "DIGITS",
    "HIGH_GROUP",
    "LOW_GROUP",
    "DtmfDetector",
    "generate",
]

RATE = 8000
#: Row (low group) and column (high group) frequencies, Hz (Q.23).
LOW_GROUP = (697.0, 770.0, 852.0, 941.0)
HIGH_GROUP = (1209.0, 1336.0, 1477.0, 1633.0)
#: Keys by row and column: DIGITS[4 * row + column].
DIGITS = "123A456B789C*0#D"

FRAME = 160  # samples per analysis frame (20 ms)
WINDOW = 120  # samples per sub-window: A is 0..119, B is 40..159
LAG = FRAME - WINDOW  # B starts 40 samples after A
HOP = 20  # samples from one frame to the next (2.5 ms)
ON_FRAMES = 10  # frames in a row holding a key to report its press
OFF_FRAMES = 16  # frames in a row without it to release the key

MAX_DEVIATION = 0.025  # relative frequency offset accepted
MIN_LEVEL_DBFS = -42.0  # each tone
MAX_HIGH_WEAKER_DB = 9.0  # 8 dB accepted, + 1 dB for scalloping
MAX_HIGH_STRONGER_DB = 5.0  # 4 dB accepted, + 1 dB for scalloping
MIN_TONE_SHARE = 0.75  # of the frame's energy
MAX_GROUP_REST = 0.6  # other three frequencies of a group, relative to the tone
MAX_HARMONIC_DB = -12.0  # second harmonic relative to its fundamental
MAX_UNSTEADY_DB = 2.0  # a tone's power in A against B

_FULL_SCALE_POWER = 32767.0**2 / 2  # mean square of a full-scale sine
_FREQS = np.array(LOW_GROUP + HIGH_GROUP)
_MAX_FEED = 1600  # longer inputs are analysed in pieces of this many samples
_MAX_FRAMES = (_MAX_FEED - 1) // HOP + 1

# The features of a frame: powers in mean-square units (a sine of amplitude a: a^2 / 2).
_PA = range(0, 8)  # |A|^2 per frequency
_PB = range(8, 16)  # |B|^2
_P = range(16, 24)  # |A|^2 + |B|^2: the tone's power, counted twice
_MOVED = range(24, 32)  # |B - A|^2: how much the tone turned (or changed) from A to B
_HARMONIC = range(32, 40)  # |A at twice the frequency|^2
_GROUP = (40, 41)  # P summed over the low group, over the high group
_PAIR = range(42, 58)  # P_low + P_high of each key, in DIGITS order
_ENERGY = 58  # the frame's energy, counted twice (Hann-weighted over A and B)
_FEATURES = 59


def _hann(n: int) -> npt.NDArray[np.float64]:
    return 0.5 - 0.5 * np.cos(2 * np.pi * (np.arange(n) + 0.5) / n)


def _filters() -> tuple[npt.NDArray[np.float32], ...]:
    """Frame -> filter outputs (FRAME, 64); their squares -> powers (64, 58); squared
    frame -> energy (FRAME,).

    32 complex filters, real parts in columns 0..31 and imaginary parts in 32..63: A at the
    8 frequencies, B at the 8, B - A at the 8, and A at their doubles.
    """
    window = _hann(WINDOW)
    a = np.zeros(FRAME)
    a[:WINDOW] = window
    b = np.zeros(FRAME)
    b[LAG:] = window
    n = np.arange(FRAME)[:, None]
    freqs = np.concatenate([_FREQS, _FREQS, _FREQS, 2 * _FREQS])
    weights = np.hstack([np.repeat(w[:, None], 8, 1) for w in (a, b, b - a, a)])
    phase = 2 * np.pi * n * freqs / RATE
    scale = np.sqrt(2.0) / window.sum()  # |X|^2 = a^2 / 2 for a sine of amplitude a
    goertzel = np.hstack([weights * np.cos(phase), -weights * np.sin(phase)]) * scale

    powers = np.zeros((64, _ENERGY))
    for q, feature in enumerate([*_PA, *_PB, *_MOVED, *_HARMONIC]):
        powers[[q, 32 + q], feature] = 1  # re^2 + im^2
    for k in range(8):
        powers[:, _P[k]] = powers[:, _PA[k]] + powers[:, _PB[k]]
        powers[:, _GROUP[k // 4]] += powers[:, _P[k]]
    for key in range(16):
        powers[:, _PAIR[key]] = powers[:, _P[key // 4]] + powers[:, _P[4 + key % 4]]
    energy = 2 * (a + b) / (a.sum() + b.sum())
    return tuple(np.ascontiguousarray(m, np.float32) for m in (goertzel, powers, energy))


def _tests() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The acceptance tests, key by key, as columns of a matrix T and limits L: a key
    passes a frame when log(features) @ T <= L in each of its columns."""
    columns = []
    limits = []

    def test(terms: dict[int, float], limit: float) -> None:
        """sum of weight * log(feature) <= log(limit)"""
        column = np.zeros(_FEATURES)
        for feature, weight in terms.items():
            column[feature] += weight
        columns.append(column)
        limits.append(np.log(limit))

    def db(value: float) -> float:
        return float(10 ** (value / 10))

    min_power = 2 * _FULL_SCALE_POWER * db(MIN_LEVEL_DBFS)
    moved = 1 - np.cos(2 * np.pi * MAX_DEVIATION * _FREQS * LAG / RATE)
    for key in range(16):
        low, high = key // 4, 4 + key % 4
        for k in (low, high):
            test({_P[k]: -1}, 1 / min_power)  # level
            test({_GROUP[k // 4]: 1, _P[k]: -1}, 1 + MAX_GROUP_REST)  # relative peak
            test({_PA[k]: 1, _PB[k]: -1}, db(MAX_UNSTEADY_DB))  # steady
            test({_PB[k]: 1, _PA[k]: -1}, db(MAX_UNSTEADY_DB))
            # On frequency: A and B turned by phi have |B - A|^2 = |A|^2 + |B|^2 -
            # 2 |A| |B| cos(phi), so |B - A|^2 <= 2 (1 - cos(limit)) |A| |B| bounds phi, and
            # with it the offset (a little tighter when |A| != |B|: 0.2 % at 2 dB apart).
            test({_MOVED[k]: 1, _PA[k]: -0.5, _PB[k]: -0.5}, 2 * moved[k])
            if k == high or abs(2 * _FREQS[low] - _FREQS[high]) > 100:
                test({_HARMONIC[k]: 1, _PA[k]: -1}, db(MAX_HARMONIC_DB))
            else:  # the high tone leaks into this harmonic filter: always passes
                test({}, 1.0)
        test({_P[low]: 1, _P[high]: -1}, db(MAX_HIGH_WEAKER_DB))  # twist
        test({_P[high]: 1, _P[low]: -1}, db(MAX_HIGH_STRONGER_DB))
        test({_ENERGY: 1, _PAIR[key]: -1}, 1 / MIN_TONE_SHARE)  # the tones' share
    return np.ascontiguousarray(np.array(columns).T, np.float32), np.array(limits, np.float32)


_GOERTZEL, _POWERS, _ENERGY_WEIGHTS = _filters()
_TESTS, _LIMITS = _tests()
_PER_KEY = _TESTS.shape[1] // 16  # tests per key
# Failed tests -> failures per key; keys passing -> 1 + key (0: none; at most one key
# passes, as the relative peak test makes each tone its group's strongest).
_COUNT_FAILURES = np.kron(np.eye(16), np.ones((_PER_KEY, 1))).astype(np.float32)
_CODES = np.arange(1, 17, dtype=np.uint8)
_TINY = 1e-3  # floor under powers before the logarithm (a full-scale sine: 5e8)


class DtmfDetector:
    """Detect DTMF key presses in one stream of 8 kHz int16 audio.

    >>> detector = DtmfDetector()
    >>> detector.feed(generate("5", duration_ms=60))
    ['5']
    """

    def __init__(self) -> None:
        self._buf = np.zeros(FRAME + _MAX_FEED, np.float32)
        self._fill = 0  # samples in _buf; the next frame starts at _buf[0]
        self._features = np.empty((_MAX_FRAMES, _FEATURES), np.float32)
        self._down = 0  # 1 + the key held (reported); 0: none
        self._gap = 0  # frames in a row without the held key
        self._candidate = 0  # 1 + the key of the current run of frames; 0: none
        self._run = 0  # frames in a row holding _candidate

    def feed(self, samples: npt.ArrayLike) -> list[str]:
        """Analyse the next int16 samples; return the key presses confirmed in them."""
        samples = np.asarray(samples)
        if len(samples) > _MAX_FEED:
            pieces = range(0, len(samples), _MAX_FEED)
            return [key for i in pieces for key in self.feed(samples[i : i + _MAX_FEED])]
        end = self._fill + len(samples)
        self._buf[self._fill : end] = samples
        self._fill = end
        if end < FRAME:
            return []
        count = (end - FRAME) // HOP + 1
        frames = np.ndarray((count, FRAME), np.float32, self._buf, 0, (HOP * 4, 4))
        found = self._keys(frames)  # before the samples move: frames is a view of _buf
        used = count * HOP
        self._fill = end - used
        self._buf[: self._fill] = self._buf[used:end]
        if found is None:
            if not self._down and not self._run:
                return []
            found = [0] * count
        return self._track(found)

    def _keys(self, frames: npt.NDArray[np.float32]) -> list[int] | None:
        """1 + the key each frame holds (0: none); None when no frame comes near one."""
        y = frames @ _GOERTZEL
        y *= y
        features = self._features[: len(frames)]
        np.matmul(y, _POWERS, out=features[:, :_ENERGY])
        np.matmul(frames * frames, _ENERGY_WEIGHTS, out=features[:, _ENERGY])
        # Silence, noise and speech stop here: no two tones hold their share of the energy.
        best = features[:, _PAIR.start : _PAIR.stop].max(1)
        if not (best > MIN_TONE_SHARE * features[:, _ENERGY]).any():
            return None
        np.maximum(features, _TINY, out=features)
        np.log(features, out=features)
        failures = (features @ _TESTS > _LIMITS).astype(np.float32) @ _COUNT_FAILURES
        keys: list[int] = ((failures == 0) @ _CODES).tolist()
        return keys

    def _track(self, found: list[int]) -> list[str]:
        """Follow the keys frame by frame: a press after ON_FRAMES frames holding it, a
        release after OFF_FRAMES frames without it."""
        out: list[str] = []
        down, gap, candidate, run = self._down, self._gap, self._candidate, self._run
        for key in found:
            if key and key == down:
                gap, candidate, run = 0, 0, 0
                continue
            if down:
                gap += 1
                if gap >= OFF_FRAMES:
                    down = 0
            if not key:
                candidate, run = 0, 0
                continue
            if key == candidate:
                run += 1
            else:
                candidate, run = key, 1
            if run >= ON_FRAMES:
                out.append(DIGITS[key - 1])
                down, gap, candidate, run = key, 0, 0, 0
        self._down, self._gap, self._candidate, self._run = down, gap, candidate, run
        return out


def generate(
    digit: str,
    duration_ms: float = 100,
    level_dbfs: float = -10.0,
    rate: int = RATE,
    *,
    twist_db: float = 0.0,
) -> npt.NDArray[np.int16]:
    """The tone pair of a key (0-9, *, #, A-D) as int16 samples.

    `level_dbfs` is the level of each tone (0 dBFS: a full-scale sine, +3.14 dBm0 in A-law),
    the high group tone `twist_db` above it (negative: weaker). Both start at phase 0, so
    the signal starts without a click; above -6 dBFS per tone the sum clips.
    """
    index = DIGITS.index(digit.upper())
    low, high = LOW_GROUP[index // 4], HIGH_GROUP[index % 4]
    t = np.arange(round(duration_ms * rate / 1000)) / rate
    amplitude = 32767.0 * 10 ** (level_dbfs / 20)
    signal = amplitude * (
        np.sin(2 * np.pi * low * t) + 10 ** (twist_db / 20) * np.sin(2 * np.pi * high * t)
    )
    return np.clip(np.round(signal), -32768, 32767).astype(np.int16)
