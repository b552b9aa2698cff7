"""features/voicemail in memory (S6, U7): a message is left, stored with the caller's voice,
lit on the members' phones, and said goodbye to only once it is stored."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tests.features.conftest import in_the_menu, variant
from tests.memory import Later, MemorySwitch, contains, tone
from vaxel.media.player import load_prompt
from vaxel.services import voicemail


def leave(acme: MemorySwitch, words: np.ndarray) -> None:
    """Menu key 9: the reception's box; after the greeting and the beep, `words`, then #."""
    caller = in_the_menu(acme)
    caller.press("9")
    acme.advance(1.0)  # the shared greeting and the beep
    heard = caller.heard()
    assert contains(heard, acme.system("vm-greeting-shared"))
    assert contains(heard, acme.system("beep"))
    caller.say(words)
    acme.advance(0.1)
    caller.press("#")
    acme.advance(1.0)
    assert contains(caller.heard(), acme.system("goodbye"))
    assert caller.requests("BYE")  # goodbye, then the switch hangs up


def test_a_message_holds_the_callers_voice_and_lights_the_members_lamps(
    acme: MemorySwitch,
) -> None:
    anna = acme.phone("1001")
    assert anna.subscribe() == 200  # her lamp shows her box and the reception's
    assert anna.lamp() == (0, 0)
    words = tone("the caller's words", 2.0)
    leave(acme, words)
    (message,) = voicemail.list_messages(acme.store, 1, "reception")
    assert message.caller == "+46701740605" and 1.9 <= message.duration_seconds <= 2.2
    recorded = load_prompt(message.path)
    assert words[800:8800].tobytes() in recorded.tobytes()  # the caller's own voice
    assert anna.lamp() == (1, 0)


def test_hanging_up_at_the_beep_leaves_nothing(acme: MemorySwitch) -> None:
    caller = in_the_menu(acme)
    caller.press("9")
    acme.advance(1.0)
    caller.say(tone("a breath", 0.3))
    caller.hang_up()
    assert voicemail.list_messages(acme.store, 1, "reception") == []


def test_goodbye_only_once_the_message_is_stored(acme_as: Callable[..., MemorySwitch]) -> None:
    later = Later()
    acme = acme_as(background=later)
    caller = in_the_menu(acme)
    caller.press("9")
    acme.advance(1.0)
    caller.say(tone("words", 1.5))
    caller.press("#")
    acme.advance(1.0)
    assert not contains(caller.heard(), acme.system("goodbye"))  # not stored yet
    assert voicemail.list_messages(acme.store, 1, "reception") == []
    later.finish()
    acme.advance(1.0)
    assert voicemail.list_messages(acme.store, 1, "reception")
    assert contains(caller.heard(), acme.system("goodbye"))


@pytest.fixture
def full_box(acme_as: Callable[..., MemorySwitch]) -> MemorySwitch:
    return acme_as(
        description=variant(
            'reception: {members: ["1001"]}',
            'reception: {members: ["1001"], quota: {messages: 1}}',
        )
    )


def test_a_full_box_says_so_and_takes_nothing(full_box: MemorySwitch) -> None:
    leave(full_box, tone("first", 1.5))
    caller = in_the_menu(full_box)
    caller.press("9")
    full_box.advance(1.5)
    heard = caller.heard()
    assert contains(heard, full_box.system("vm-box-full"))
    assert not contains(heard, full_box.system("beep"))
    assert caller.requests("BYE")
    assert len(voicemail.list_messages(full_box.store, 1, "reception")) == 1


def test_nobody_answering_goes_to_the_users_own_box(acme: MemorySwitch) -> None:
    anna, cecilia = acme.phone("1001"), acme.phone("1003")
    anna.dial("1003")
    assert cecilia.ringing() is not None
    acme.advance(5.5)  # Cecilia's ring time
    assert anna.answered() is not None
    acme.advance(1.0)
    assert contains(anna.heard(), acme.system("vm-greeting-generic"))


def test_a_user_without_voicemail_is_just_unavailable(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    anna.dial("1004")  # Dan: no phone, and his box is off
    assert anna.last_final("INVITE").status == 480  # type: ignore[union-attr]
