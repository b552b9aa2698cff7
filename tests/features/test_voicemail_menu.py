"""features/voicemail_menu in memory (S6, U7): *98 says how many messages wait, plays them,
keeps or deletes them, records the greeting, turns the box on and off, asks for the PIN."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.features.conftest import variant
from tests.features.test_voicemail import leave
from tests.memory import MemoryPhone, MemorySwitch, contains, tone
from vaxel.media.say import say_new_messages
from vaxel.services import voicemail


def said(acme: MemorySwitch, names: list[str]) -> bytes:
    return b"".join(acme.system(name).tobytes() for name in names)


def listen(acme: MemorySwitch, phone: MemoryPhone) -> None:
    phone.dial("*98")
    phone.answered()
    acme.advance(0.1)


def test_messages_are_counted_played_and_deleted(acme: MemorySwitch) -> None:
    words = tone("please call back", 1.5)
    leave(acme, words)
    anna = acme.phone("1001")
    assert anna.subscribe() == 200 and anna.lamp() == (1, 0)
    listen(acme, anna)
    acme.advance(2.0)
    assert said(acme, say_new_messages(1, "sv")) in anna.heard().tobytes()
    anna.press("1")  # listen
    acme.advance(2.0)
    assert words[800:8800].tobytes() in anna.heard().tobytes()
    assert anna.lamp() == (0, 1)  # heard: every phone's lamp goes out
    anna.press("3")  # delete
    acme.advance(0.5)
    assert contains(anna.heard(), acme.system("vm-deleted"))
    assert voicemail.list_messages(acme.store, 1, "reception") == []
    assert anna.lamp() == (0, 0)


def test_a_greeting_recorded_by_phone_is_what_callers_hear(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    listen(acme, anna)
    acme.advance(1.5)
    anna.press("2")  # record the greeting
    acme.advance(1.0)  # "record after the tone" and the tone
    greeting = tone("Anna's own greeting", 1.5)
    anna.say(greeting)
    anna.press("#")
    acme.advance(1.0)
    assert contains(anna.heard(), acme.system("vm-greeting-saved"))
    anna.hang_up()
    anna.register(expires=0)  # Anna's phone is not registered any more: straight to her box
    bjorn = acme.phone("1002")
    bjorn.dial("1001")
    bjorn.answered()
    acme.advance(2.0)
    assert greeting[800:8800].tobytes() in bjorn.heard().tobytes()


def test_the_box_is_turned_off_and_callers_cannot_leave_messages(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    listen(acme, anna)
    acme.advance(1.5)
    anna.press("3")
    acme.advance(1.0)
    assert contains(anna.heard(), acme.system("vm-box-off"))
    anna.hang_up()
    anna.register(expires=0)
    bjorn = acme.phone("1002")
    bjorn.dial("1001")
    assert bjorn.last_final("INVITE").status == 480  # type: ignore[union-attr]


@pytest.fixture
def with_pin(acme_as: Callable[..., MemorySwitch]) -> MemorySwitch:
    return acme_as(
        description=variant(
            '{ext: "1001", name: Anna, admin: true,',
            '{ext: "1001", name: Anna, admin: true, voicemail: {pin: "2468"},',
        )
    )


def test_the_pin_is_asked_and_a_wrong_one_refused(with_pin: MemorySwitch) -> None:
    anna = with_pin.phone("1001")
    listen(with_pin, anna)
    with_pin.advance(0.5)
    assert contains(anna.heard(), with_pin.system("vm-enter-pin"))
    anna.press("1357#")
    with_pin.advance(1.0)
    assert contains(anna.heard(), with_pin.system("vm-wrong-pin"))
    anna.press("2468#")
    with_pin.advance(2.0)
    assert contains(anna.heard(), with_pin.system("vm-main-menu"))
