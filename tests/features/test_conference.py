"""A3: conference rooms by phone, in memory: the PIN, the room (each hears the other
three and not themselves, A-law and µ-law phones together), the moderator's keys, a full
or locked room, and the room's number from outside."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tests.features.conftest import DESCRIPTION
from tests.memory import MemoryPhone, MemorySwitch, contains
from tests.rtp.test_mixer import level_at, sine

ROOM_NUMBER = "+46812345650"
ROOMS = (
    DESCRIPTION.replace(
        '  - {number: "+46812345602", flow: support}\n',
        '  - {number: "+46812345602", flow: support}\n'
        f'  - {{number: "{ROOM_NUMBER}", conference: open}}\n',
    )
    + """
conferences:
  weekly: {extension: "800", pin: "4711", moderator_pin: "9999", max_participants: 4}
  open: {language: en}
"""
)
TONES = {"1001": 350.0, "1002": 650.0, "1003": 1000.0, "1004": 1450.0}
LAWS = {"1001": "8 101", "1002": "0 101", "1003": "8 101", "1004": "0 101"}
HEARD = 1000.0  # a tone at this amplitude or more is heard (each is sent at 4000)
SILENT = 150.0


@pytest.fixture
def rooms(acme_as: Callable[..., MemorySwitch]) -> MemorySwitch:
    return acme_as(description=ROOMS)


def join(switch: MemorySwitch, ext: str, pin: str = "4711", dialled: str = "800") -> MemoryPhone:
    """A user dials the room, gives the PIN, and is in the room once "joining" played."""
    phone = switch.phone(ext)
    phone.dial(dialled, body=phone.sdp(codecs=LAWS[ext]))
    assert phone.answered() is not None
    switch.advance(0.35)
    assert contains(phone.heard(), switch.system("conf-enter-pin"))
    phone.press(pin + "#")
    switch.advance(0.4)  # "joining", 0.3 s
    assert contains(phone.heard(), switch.system("conf-joining"))
    return phone


def talk(switch: MemorySwitch, phones: dict[str, MemoryPhone], ticks: int = 25) -> dict[str, int]:
    """Every phone sends its own tone for `ticks` frames; returns how much each heard
    before (to read what came after)."""
    before = {ext: len(phone.endpoint.heard) for ext, phone in phones.items()}
    for tick in range(ticks):
        for ext, phone in phones.items():
            phone.say(sine(TONES[ext], tick))
        switch.advance(0.02)
    return before


def levels(phone: MemoryPhone, since: int) -> dict[str, float]:
    audio = np.concatenate(phone.endpoint.heard[since + 5 :])  # after the first frames
    return {ext: level_at(audio.astype(np.float64), tone) for ext, tone in TONES.items()}


def test_four_in_a_room_each_hear_the_other_three_and_not_themselves(
    rooms: MemorySwitch,
) -> None:
    phones = {ext: join(rooms, ext) for ext in TONES}
    rooms.advance(0.6)  # the join tones die away
    before = talk(rooms, phones)
    for ext, phone in phones.items():
        heard = levels(phone, before[ext])
        for other, level in heard.items():
            if other == ext:
                assert level < SILENT, (ext, heard)
            else:
                assert level > HEARD, (ext, other, heard)
    record = rooms.calls[next(iter(rooms.calls))]
    assert record.answered_by == "conference weekly"


def test_a_wrong_pin_three_times_ends_the_call_and_joins_nobody(rooms: MemorySwitch) -> None:
    phone = rooms.phone("1001")
    phone.dial("800")
    phone.answered()
    for _ in range(3):
        rooms.advance(0.1)
        phone.press("1234#")
        rooms.advance(0.1)
    rooms.until(lambda: phone.requests("BYE"), 5)
    assert contains(phone.heard(), rooms.system("vm-wrong-pin"))
    assert not rooms.core.directory.rooms[1]


def test_the_moderator_mutes_the_others_locks_the_room_and_ends_it(rooms: MemorySwitch) -> None:
    phones = {ext: join(rooms, ext) for ext in ("1001", "1002", "1003")}
    moderator = join(rooms, "1004", pin="9999")
    everyone = {**phones, "1004": moderator}
    rooms.advance(0.6)
    moderator.press("1")  # everyone else muted
    rooms.advance(0.4)
    assert contains(moderator.heard(), rooms.system("conf-others-muted"))
    before = talk(rooms, everyone)
    heard = levels(moderator, before["1004"])
    assert max(heard[ext] for ext in phones) < SILENT, heard
    assert levels(phones["1001"], before["1001"])["1004"] > HEARD  # the moderator is heard
    moderator.press("1")  # and unmuted
    rooms.advance(0.4)
    before = talk(rooms, everyone)
    assert min(levels(moderator, before["1004"])[ext] for ext in phones) > HEARD

    moderator.press("2")  # locked: nobody more joins
    rooms.advance(0.4)
    assert contains(moderator.heard(), rooms.system("conf-now-locked"))
    late = rooms.phone("1002")  # (another phone of a user already in: a new caller)
    late.dial("800")
    late.answered()
    rooms.advance(0.1)
    late.press("4711#")
    rooms.until(lambda: late.requests("BYE"), 5)
    assert contains(late.heard(), rooms.system("conf-locked"))

    moderator.press("3")  # the end, for all
    for phone in everyone.values():
        rooms.until(lambda phone=phone: phone.requests("BYE"), 5)  # type: ignore[misc]
        assert contains(phone.heard(), rooms.system("conf-ended"))
    assert not rooms.core.directory.rooms[1]


def test_a_participant_cannot_use_the_moderators_keys_but_mutes_themselves(
    rooms: MemorySwitch,
) -> None:
    phones = {ext: join(rooms, ext) for ext in ("1001", "1002")}
    rooms.advance(0.6)
    phones["1001"].press("3")  # not a moderator: nothing ends
    phones["1001"].press("0")  # mutes themselves
    rooms.advance(0.4)
    assert contains(phones["1001"].heard(), rooms.system("conf-you-muted"))
    before = talk(rooms, phones)
    assert levels(phones["1002"], before["1002"])["1001"] < SILENT
    assert levels(phones["1001"], before["1001"])["1002"] > HEARD  # still hears the room
    assert not phones["1002"].requests("BYE")


def test_a_full_room_is_said_so(rooms: MemorySwitch) -> None:
    for ext in TONES:
        join(rooms, ext)
    extra = rooms.phone("1001")
    extra.dial("800")
    extra.answered()
    rooms.advance(0.1)
    extra.press("4711#")
    rooms.until(lambda: extra.requests("BYE"), 5)
    assert contains(extra.heard(), rooms.system("conf-full"))


def test_the_rooms_number_from_outside_joins_without_a_pin_in_its_language(
    rooms: MemorySwitch,
) -> None:
    caller = rooms.carrier()
    caller.dial(ROOM_NUMBER)
    assert caller.answered() is not None
    rooms.advance(0.4)
    assert contains(caller.heard(), rooms.system("conf-joining", "en"))
    colleague = rooms.phone("1002")
    colleague.dial(ROOM_NUMBER)
    colleague.answered()
    rooms.advance(1.0)
    room = rooms.core.directory.rooms[1]["open"]
    assert len(room.participants) == 2
    caller.hang_up()
    rooms.advance(0.1)
    assert len(room.participants) == 1
    colleague.hang_up()
    rooms.advance(0.1)
    assert not rooms.core.directory.rooms[1]
