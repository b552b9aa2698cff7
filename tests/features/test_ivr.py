"""features/ivr in memory (S3): the menu's keys, wrong keys, silence, repeat, hang-up, nested
menus and a key out through the trunk."""

from __future__ import annotations

import numpy as np

from tests.features.conftest import CARRIER, MAIN, in_the_menu
from tests.memory import MemoryPhone, MemorySwitch, contains
from vaxel.rtp.inband import generate


def times(heard: np.ndarray, prompt: np.ndarray) -> int:
    return heard.tobytes().count(prompt.tobytes())


def test_a_key_leads_to_its_destination(acme: MemorySwitch) -> None:
    cecilia = acme.phone("1003")
    caller = in_the_menu(acme)
    caller.press("2")
    assert cecilia.ringing() is not None


def test_a_key_pressed_during_the_menu_prompt_counts_at_once(acme: MemorySwitch) -> None:
    bjorn = acme.phone("1002")
    caller = acme.carrier()
    caller.dial(MAIN)
    caller.answered()
    acme.advance(0.4)  # the welcome is over, the menu plays
    caller.press("1")  # sales rings Björn first
    assert bjorn.ringing() is not None


def test_keys_in_the_audio_route_too(acme: MemorySwitch) -> None:
    """A phone that sends no RFC 4733 events: the tones in its audio are heard."""
    cecilia = acme.phone("1003")
    caller = in_the_menu(acme)
    silence = np.zeros(800, np.int16)
    caller.say(np.concatenate([generate("2", 120), silence]))
    acme.run()
    assert cecilia.ringing() is not None


def test_a_wrong_key_says_so_and_plays_the_menu_again(acme: MemorySwitch) -> None:
    caller = in_the_menu(acme)
    caller.press("8")
    acme.advance(1.0)
    heard = caller.heard()
    assert contains(heard, acme.prompt("invalid"))
    assert times(heard, acme.prompt("menu")) == 2


def test_silence_says_so_then_after_the_retries_goes_to_the_default(acme: MemorySwitch) -> None:
    caller = in_the_menu(acme)
    acme.advance(5.5)  # no key within the menu's 5 s
    assert contains(caller.heard(), acme.prompt("no-key"))
    acme.advance(0.7)
    assert times(caller.heard(), acme.prompt("menu")) == 2
    acme.advance(6.0)  # silent again: one retry only, then the default (the reception's box)
    assert contains(caller.heard(), acme.system("vm-greeting-shared"))


def test_repeat_plays_the_menu_again_and_hash_hangs_up(acme: MemorySwitch) -> None:
    caller = in_the_menu(acme)
    caller.press("0")
    acme.advance(0.5)
    assert times(caller.heard(), acme.prompt("menu")) == 2
    caller.press("#")
    assert caller.requests("BYE")
    assert not acme.calls


def test_a_submenu_and_back_to_its_parent(acme: MemorySwitch) -> None:
    bjorn = acme.phone("1002")
    caller = in_the_menu(acme)
    caller.press("4")
    acme.advance(0.5)
    assert contains(caller.heard(), acme.prompt("submenu"))
    caller.press("0")  # back to the main menu: the caller chose, so no loop
    acme.advance(0.5)
    assert times(caller.heard(), acme.prompt("menu")) == 2
    caller.press("4")
    acme.advance(0.1)
    caller.press("1")
    assert bjorn.ringing() is not None


def test_a_key_out_to_an_external_number_goes_through_the_trunk(acme: MemorySwitch) -> None:
    carrier = MemoryPhone(acme, "carrier", "", CARRIER[0], port=CARRIER[1])
    caller = in_the_menu(acme, acme.phone("1001"))  # Anna calls the main number from inside
    caller.press("7")
    invite = carrier.ringing()
    assert invite is not None
    assert str(invite.uri) == f"sip:+46701740605@{CARRIER[0]}"
    assert getattr(invite.from_.uri, "user", None) == MAIN  # the company's main number
    carrier.pick_up()
    acme.advance(0.1)
    caller.hang_up()
    (record,) = acme.records
    assert record.answered_by == "+46701740605"
