"""P5 mixing for A3 conferences: who hears what in a room, checked by ear (FFT per output)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pytest

from vaxel.rtp.g711 import alaw_decode, alaw_encode, decode, ulaw_decode, ulaw_encode
from vaxel.rtp.mixer import FRAME, JOIN_TONE, LEAVE_TONE, Mixer

RATE = 8000
TICKS = 20  # 400 ms of audio per check: 2.5 Hz per FFT bin


def sine(frequency: float, tick: int, level: float = 4000.0) -> np.ndarray:
    """Frame `tick` of a continuous sine tone, as int16."""
    n = np.arange(tick * FRAME, (tick + 1) * FRAME)
    return np.round(level * np.sin(2 * np.pi * frequency * n / RATE)).astype(np.int16)


def payload_of(mixer: Mixer[Any], payloads: memoryview, key: Hashable) -> bytes:
    row = mixer.keys.index(key)
    return bytes(payloads[row * FRAME : (row + 1) * FRAME])


def run(
    mixer: Mixer[Any], tones: dict[str, float], ticks: int = TICKS
) -> dict[Hashable, np.ndarray]:
    """Each key in `tones` says its sine through its own law for `ticks` frames; what every
    participant heard, decoded from its own law."""
    heard: dict[Hashable, list[np.ndarray]] = {key: [] for key in mixer.keys}
    for t in range(ticks):
        for key, frequency in tones.items():
            codec = mixer.codec(key)
            said = (
                alaw_encode(sine(frequency, t))
                if codec == "PCMA"
                else ulaw_encode(sine(frequency, t))
            )
            mixer.push(key, decode(codec, said))  # as the endpoint decodes what arrives
        payloads = mixer.tick()
        for member in mixer.keys:
            payload = payload_of(mixer, payloads, member)
            heard[member].append(decode(mixer.codec(member), payload))
    return {key: np.concatenate(frames) for key, frames in heard.items()}


def level_at(samples: np.ndarray, frequency: float) -> float:
    """The amplitude of one frequency in the audio (a Hann-windowed FFT, normalised)."""
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window)) / (window.sum() / 2)
    bin_ = round(frequency * len(samples) / RATE)
    return float(spectrum[bin_ - 1 : bin_ + 2].max())


FOUR = {"a": 350.0, "b": 650.0, "c": 1000.0, "d": 1450.0}


def test_each_of_four_hears_the_other_three_and_not_itself() -> None:
    mixer = Mixer[str](tones=False)
    for key in FOUR:
        mixer.add(key, "PCMA")
    heard = run(mixer, FOUR)
    for key, own in FOUR.items():
        others = [f for k, f in FOUR.items() if k != key]
        for frequency in others:
            assert level_at(heard[key], frequency) == pytest.approx(4000, rel=0.05), (
                key,
                frequency,
            )
        assert level_at(heard[key], own) < 40, key  # G.711's noise floor, not the tone


def test_pcma_and_pcmu_participants_share_a_room() -> None:
    mixer = Mixer[str](tones=False)
    mixer.add("alaw", "PCMA")
    mixer.add("ulaw", "PCMU")
    mixer.add("alaw2", "pcma")  # SDP encoding names are case-insensitive
    heard = run(mixer, {"alaw": 500.0, "ulaw": 1200.0})
    assert level_at(heard["alaw"], 1200.0) == pytest.approx(4000, rel=0.05)
    assert level_at(heard["ulaw"], 500.0) == pytest.approx(4000, rel=0.05)
    for frequency in (500.0, 1200.0):
        assert level_at(heard["alaw2"], frequency) == pytest.approx(4000, rel=0.05)

    # Exactly: with two talking, the A-law phone gets the µ-law phone's frame in A-law.
    said = ulaw_encode(sine(1200.0, 0))
    mixer.push("ulaw", ulaw_decode(said))
    payloads = mixer.tick()
    assert payload_of(mixer, payloads, "alaw") == alaw_encode(ulaw_decode(said))


def test_two_loud_talkers_saturate_and_do_not_wrap_around() -> None:
    mixer = Mixer[str](tones=False)
    for key, codec in (("x", "PCMA"), ("y", "PCMU"), ("listener", "PCMA"), ("u", "PCMU")):
        mixer.add(key, codec)
    loud = np.full(FRAME, 30000, np.int16)
    mixer.push("x", loud)
    mixer.push("y", loud)
    payloads = mixer.tick()
    # 60000 wraps to -5536 in int16; clipped it is the loudest positive code.
    assert alaw_decode(payload_of(mixer, payloads, "listener")).min() == 32256
    assert ulaw_decode(payload_of(mixer, payloads, "u")).min() == 32124
    mixer.push("x", -loud)
    mixer.push("y", -loud)
    payloads = mixer.tick()
    assert alaw_decode(payload_of(mixer, payloads, "listener")).max() == -32256


def test_mute_silences_one_tone_for_the_others_and_the_muted_still_hears() -> None:
    mixer = Mixer[str](tones=False)
    for key in FOUR:
        mixer.add(key, "PCMU")
    mixer.mute("b")
    assert mixer.muted("b")
    heard = run(mixer, FOUR)
    for key in ("a", "c", "d"):
        assert level_at(heard[key], FOUR["b"]) < 40, key
    assert level_at(heard["a"], FOUR["c"]) == pytest.approx(4000, rel=0.05)
    for frequency in (FOUR["a"], FOUR["c"], FOUR["d"]):
        assert level_at(heard["b"], frequency) == pytest.approx(4000, rel=0.05)

    mixer.mute("b", False)
    heard = run(mixer, FOUR)
    assert level_at(heard["a"], FOUR["b"]) == pytest.approx(4000, rel=0.05)


def test_a_join_and_a_leave_sound_their_tones_to_everyone_then_silence() -> None:
    mixer = Mixer[str]()
    mixer.add("a", "PCMA")
    for _ in range(len(JOIN_TONE)):  # the first participant's own join tone
        mixer.tick()
    assert np.abs(alaw_decode(payload_of(mixer, mixer.tick(), "a"))).max() <= 8  # silence

    mixer.add("b", "PCMU")
    heard_a, heard_b = [], []
    for _ in range(len(JOIN_TONE)):
        payloads = mixer.tick()
        heard_a.append(alaw_decode(payload_of(mixer, payloads, "a")))
        heard_b.append(ulaw_decode(payload_of(mixer, payloads, "b")))
    for heard in (np.concatenate(heard_a), np.concatenate(heard_b)):
        np.testing.assert_allclose(heard, JOIN_TONE.reshape(-1), atol=400)
        first, second = heard[: len(heard) // 2], heard[len(heard) // 2 :]
        assert level_at(first, 600.0) > 3000 and level_at(second, 900.0) > 3000
    assert np.abs(alaw_decode(payload_of(mixer, mixer.tick(), "a"))).max() <= 8  # over

    mixer.add("c", "PCMA")
    mixer.remove("b")  # tones overlap: both are heard, summed
    payloads = mixer.tick()
    expected = JOIN_TONE[0] + LEAVE_TONE[0]
    np.testing.assert_allclose(alaw_decode(payload_of(mixer, payloads, "a")), expected, atol=400)
    for _ in range(len(LEAVE_TONE)):
        mixer.tick()
    assert np.abs(alaw_decode(payload_of(mixer, mixer.tick(), "c"))).max() <= 8


def test_the_last_to_leave_sounds_no_tone_and_unknown_keys_are_ignored() -> None:
    mixer = Mixer[str]()
    mixer.add("a", "PCMA")
    mixer.remove("a")
    mixer.remove("a")
    mixer.push("nobody", np.zeros(FRAME, np.int16))
    assert len(mixer) == 0 and mixer.tick().nbytes == 0


def test_a_missing_frame_is_silence_and_the_newest_frame_wins() -> None:
    mixer = Mixer[str](tones=False)
    mixer.add("talker", "PCMA")
    mixer.add("listener", "PCMA")
    mixer.push("talker", sine(400.0, 0))
    mixer.push("talker", sine(400.0, 1))  # a second before the tick replaces the first
    heard = alaw_decode(payload_of(mixer, mixer.tick(), "listener"))
    np.testing.assert_array_equal(heard, alaw_decode(alaw_encode(sine(400.0, 1))))
    heard = alaw_decode(payload_of(mixer, mixer.tick(), "listener"))  # nothing came
    assert np.abs(heard).max() <= 8


def test_frames_not_of_20_ms_are_cut_or_padded() -> None:
    mixer = Mixer[str](tones=False)
    mixer.add("talker", "PCMU")
    mixer.add("listener", "PCMU")
    mixer.push("talker", np.full(240, 1000, np.int16))  # 30 ms: the first 20 ms is mixed
    assert (ulaw_decode(payload_of(mixer, mixer.tick(), "listener")) > 900).all()
    mixer.push("talker", np.full(80, 1000, np.int16))  # 10 ms: then silence
    heard = ulaw_decode(payload_of(mixer, mixer.tick(), "listener"))
    assert (heard[:80] > 900).all() and not heard[80:].any()


def test_a_large_room_mixes_like_the_sum_of_the_others() -> None:
    """50 participants, people leaving from the middle: each hears exactly the clipped sum
    of everyone else, in its law (the reference computed one participant at a time)."""
    rng = np.random.default_rng(7)
    mixer = Mixer[int](tones=False)
    for key in range(50):
        mixer.add(key, "PCMA" if key % 3 else "PCMU")
    for key in (0, 17, 33):
        mixer.remove(key)
    mixer.mute(5)
    said = {member: rng.integers(-3000, 3000, FRAME).astype(np.int16) for member in mixer.keys}
    for member, frame in said.items():
        mixer.push(member, frame)
    payloads = mixer.tick()
    everyone = sum(frame.astype(np.int32) for member, frame in said.items() if member != 5)
    for member in mixer.keys:
        own = 0 if member == 5 else said[member].astype(np.int32)
        expected = np.clip(everyone - own, -32768, 32767)
        encode = alaw_encode if mixer.codec(member) == "PCMA" else ulaw_encode
        assert payload_of(mixer, payloads, member) == encode(expected), member


def test_codecs_other_than_g711_and_a_second_join_are_refused() -> None:
    mixer = Mixer[str]()
    with pytest.raises(ValueError, match="PCMA and PCMU"):
        mixer.add("a", "G722")
    mixer.add("a", "PCMA")
    with pytest.raises(ValueError, match="already"):
        mixer.add("a", "PCMU")
