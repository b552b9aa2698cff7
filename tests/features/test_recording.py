"""A6 on the call-control API: `Call.record_call` follows the call's bridges (the caller
left), sets nothing aside during a transfer's ringing, and is closed before the call's
record is stored. Phones and the switch in memory; the recording's file is real."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from tests.features.test_transfer import refer, talking
from tests.memory import MemoryPhone, MemorySwitch, tone
from vaxel.media.call_recording import CallRecording
from vaxel.media.player import FRAME


def speak(acme: MemorySwitch, phone: MemoryPhone, samples: np.ndarray) -> None:
    """The phone says `samples` as a phone does: one 20 ms frame at a time."""
    for start in range(0, len(samples), FRAME):
        phone.say(samples[start : start + FRAME])
        acme.advance(0.02)


def channels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 2
        data = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    return data[0::2], data[1::2]


def holds(channel: np.ndarray, said: np.ndarray) -> bool:
    """`said` is in the channel, sample for sample, somewhere."""
    window = np.lib.stride_tricks.sliding_window_view(channel, len(said))
    return bool((window == said).all(axis=1).any())


def test_the_caller_is_left_the_callee_right_and_the_end_closes_the_file(
    acme: MemorySwitch, tmp_path: Path
) -> None:
    anna, bjorn = talking(acme)  # Anna called Björn
    (call,) = acme.calls.values()
    path = tmp_path / "call.wav"
    call.record_call(CallRecording(path, acme.media.pacer))
    anna_says, bjorn_says = tone("anna", 0.2), tone("bjorn", 0.2)
    speak(acme, bjorn, bjorn_says)
    speak(acme, anna, anna_says)
    bjorn.hang_up()
    assert not acme.calls and acme.records  # the file was complete before the record
    left, right = channels(path)
    assert holds(left, anna_says) and not holds(left, bjorn_says)
    assert holds(right, bjorn_says) and not holds(right, anna_says)
    assert acme.media.pacer.subscribers == []


def test_after_a_transfer_the_recording_follows_the_new_parties(
    acme: MemorySwitch, tmp_path: Path
) -> None:
    anna, bjorn = talking(acme)
    (call,) = acme.calls.values()
    path = tmp_path / "call.wav"
    call.record_call(CallRecording(path, acme.media.pacer))
    cecilia = acme.phone("1003")
    assert refer(bjorn, "<sip:1003@acme.test>") == 202
    aside = tone("bjorn aside", 0.2)
    speak(acme, bjorn, aside)  # Björn, waiting aside, is not recorded
    cecilia.pick_up()
    cecilia_says, anna_says = tone("cecilia", 0.2), tone("anna", 0.2)
    speak(acme, cecilia, cecilia_says)
    speak(acme, anna, anna_says)
    anna.hang_up()
    left, right = channels(path)
    assert holds(left, anna_says) and holds(right, cecilia_says)  # Anna is the caller now
    assert not holds(right, aside) and not holds(left, aside)


def test_stopping_the_recording_completes_the_file_and_the_call_goes_on(
    acme: MemorySwitch, tmp_path: Path
) -> None:
    anna, bjorn = talking(acme)
    (call,) = acme.calls.values()
    path = tmp_path / "call.wav"
    call.record_call(CallRecording(path, acme.media.pacer))
    speak(acme, anna, tone("anna", 0.2))
    call.stop_recording_call()
    size = path.stat().st_size
    speak(acme, anna, tone("anna again", 0.2))
    assert path.stat().st_size == size and acme.calls
    left, _ = channels(path)
    assert holds(left, tone("anna", 0.2))
    bjorn.hang_up()
