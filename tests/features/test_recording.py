"""A6 on the call-control API: `Call.record_call` follows the call's bridges (the caller
left), sets nothing aside during a transfer's ringing, and is closed before the call's
record is stored. Phones and the switch in memory; the recording's file is real."""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.features.conftest import DESCRIPTION, DIRECT, SUPPORT
from tests.features.test_transfer import refer, talking
from tests.memory import DOMAIN, MemoryPhone, MemorySwitch, contains, tone
from vaxel.media.call_recording import CallRecording
from vaxel.media.player import FRAME
from vaxel.services import recordings
from vaxel.services.company_config import ConfigError, parse_config


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


# -- the company's rules ----------------------------------------------------------------


def with_rules(rules: str) -> str:
    return DESCRIPTION + f"recording: {rules}\n"


def files(acme: MemorySwitch) -> list[Path]:
    return sorted((acme.data / "recordings" / DOMAIN).glob("*/*.wav"))


def test_a_user_recorded_always_is_recorded_and_the_caller_hears_it_said(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules('{users: {"1002": always}}'))
    anna, bjorn = talking(acme)
    (call,) = acme.calls.values()
    (path,) = files(acme)
    assert path.name == f"{call.id}.wav"  # the switch's own id, in the company's folder
    early = tone("anna during the announcement", 0.2)
    speak(acme, anna, early)  # Björn does not hear her until it has been said
    acme.advance(0.3)
    assert contains(anna.heard(), acme.system("call-recorded"))
    assert not contains(bjorn.heard(), acme.system("call-recorded"))
    assert not contains(bjorn.heard(), early)
    anna_says, bjorn_says = tone("anna", 0.2), tone("bjorn", 0.2)
    speak(acme, anna, anna_says)
    speak(acme, bjorn, bjorn_says)
    anna.hang_up()
    left, right = channels(path)
    assert holds(left, anna_says) and holds(right, bjorn_says)


def test_mix_puts_both_in_one_channel_and_no_announcement_when_turned_off(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules("{default: always, format: mix, announce: false}"))
    anna, bjorn = talking(acme)
    acme.advance(0.5)
    assert not contains(anna.heard(), acme.system("call-recorded"))
    speak(acme, anna, tone("anna", 0.2))
    speak(acme, bjorn, tone("bjorn", 0.2))
    bjorn.hang_up()
    (path,) = files(acme)
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1
        mono = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    assert holds(mono, tone("anna", 0.2)) and holds(mono, tone("bjorn", 0.2))


def test_nothing_is_recorded_by_default_nor_for_a_user_marked_never(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as()  # no recording section: never
    anna, _ = talking(acme)
    anna.hang_up()
    assert files(acme) == []
    acme = acme_as(description=with_rules('{default: always, users: {"1002": never}}'))
    anna, _bjorn = talking(acme)
    (call,) = acme.calls.values()
    assert files(acme) == [] and call.recorder is None
    assert acme.core.recordings.act(call, "start") is None  # not even when asked
    anna.hang_up()
    assert files(acme) == []


def test_a_number_rule_records_the_calls_to_that_number(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules(f'{{numbers: {{"{DIRECT}": always}}}}'))
    bjorn = acme.phone("1002")
    caller = acme.carrier()
    caller.dial(DIRECT)
    bjorn.pick_up()
    assert caller.answered() is not None
    assert len(files(acme)) == 1
    caller.hang_up()


def test_a_group_rule_records_the_calls_the_group_answers(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules("{groups: {support: always}}"))
    _bjorn, cecilia = acme.phone("1002"), acme.phone("1003")
    caller = acme.carrier()
    caller.dial(SUPPORT)
    acme.run()
    cecilia.pick_up()
    assert caller.answered() is not None and len(files(acme)) == 1
    caller.hang_up()
    anna, _bjorn = talking(acme)  # a call that is not the group's is not recorded
    assert len(files(acme)) == 1
    anna.hang_up()


def test_on_demand_starts_pauses_and_stops_when_asked(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules("{default: on-demand}"))
    anna, _bjorn = talking(acme)
    (call,) = acme.calls.values()
    speak(acme, anna, tone("before", 0.2))
    assert files(acme) == []
    recordings = acme.core.recordings
    assert recordings.act(call, "start") == "recording"
    speak(acme, anna, tone("kept", 0.2))
    assert recordings.act(call, "pause") == "paused"
    speak(acme, anna, tone("private", 0.2))
    assert recordings.act(call, "toggle") == "recording"
    speak(acme, anna, tone("kept again", 0.2))
    assert recordings.act(call, "stop") == "stopped"
    speak(acme, anna, tone("after", 0.2))
    (path,) = files(acme)
    left, _right = channels(path)
    assert holds(left, tone("kept", 0.2)) and holds(left, tone("kept again", 0.2))
    for private in ("before", "private", "after"):
        assert not holds(left, tone(private, 0.2))
    anna.hang_up()


def test_rules_name_what_the_company_has(acme_as: Callable[..., MemorySwitch]) -> None:
    rules = '{users: {"1099": always}, groups: {nosuch: never}, numbers: {"+46899999999": always}}'
    config = yaml.safe_load(with_rules(rules))
    with pytest.raises(ConfigError) as error:
        parse_config(config)
    assert error.value.errors == [
        'recording.users.1099: unknown user "1099"',
        'recording.groups.nosuch: unknown group "nosuch"',
        "recording.numbers.+46899999999: not one of the company's numbers",
    ]
    config["recording"] = {"default": "sometimes"}
    with pytest.raises(ConfigError, match=r"recording\.default"):
        parse_config(config)


def info(phone: MemoryPhone, *headers: str) -> int:
    """`phone` sends INFO in its call with these headers; the final status."""
    cseq = next(phone.cseq) + 100
    phone.send([*phone._in_dialog("INFO", cseq), *headers])
    phone.switch.run()
    final = phone.last_final("INFO")
    assert final is not None
    return final.status


def test_star_one_toggles_the_recording_from_a_users_phone(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules("{default: on-demand}"))
    anna, bjorn = talking(acme)
    (call,) = acme.calls.values()
    anna.press("*")
    acme.advance(3.0)  # too slow: not the code
    anna.press("1")
    assert call.recorder is None
    bjorn.press("*1")
    assert isinstance(call.recorder, CallRecording) and not call.recorder.paused
    bjorn.press("*1")
    assert call.recorder.paused
    anna.press("*1")
    assert not call.recorder.paused
    anna.hang_up()
    assert len(files(acme)) == 1


def test_an_outside_caller_cannot_start_a_recording(acme_as: Callable[..., MemorySwitch]) -> None:
    acme = acme_as(description=with_rules("{default: on-demand}"))
    bjorn = acme.phone("1002")
    caller = acme.carrier()
    caller.dial(DIRECT)
    bjorn.pick_up()
    assert caller.answered() is not None
    (call,) = acme.calls.values()
    caller.press("*1")
    assert info(caller, "Record: on") == 200
    assert call.recorder is None
    caller.hang_up()
    assert files(acme) == []


def test_a_phones_record_button_sends_info_record_on_and_off(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules("{default: on-demand}"))
    anna, bjorn = talking(acme)
    (call,) = acme.calls.values()
    assert info(bjorn, "Record: on") == 200
    assert isinstance(call.recorder, CallRecording) and not call.recorder.paused
    assert info(bjorn, "Record: off") == 200
    assert call.recorder.paused
    assert info(bjorn, "Record: on") == 200
    assert not call.recorder.paused
    assert not anna.requests("INFO")  # taken by the switch, not relayed
    assert info(bjorn, "Content-Type: application/dtmf-relay") == 200
    assert anna.requests("INFO")  # other INFO is relayed as before
    anna.hang_up()
    assert len(files(acme)) == 1


def test_a_finished_recording_is_listed_with_its_parties_and_length(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules('{users: {"1002": always}}'))
    anna, _ = talking(acme)
    (call,) = acme.calls.values()
    acme.advance(2.0)
    anna.hang_up()
    (path,) = files(acme)
    (row,) = recordings.search(acme.store, 1)
    assert (row.call_id, row.caller, row.callee, row.path) == (call.id, "1001", "1002", path)
    assert row.duration_seconds == pytest.approx(2.0, abs=0.1)
