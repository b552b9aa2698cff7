"""features/main_number in memory (S1, S2, S5): open, the welcome then the menu; closed, the
closed message then its destination."""

from __future__ import annotations

from collections.abc import Callable

from tests.features.conftest import MAIN, NIGHT, SUPPORT
from tests.memory import MemorySwitch, contains


def test_open_the_caller_hears_the_welcome_then_the_menu(acme: MemorySwitch) -> None:
    caller = acme.carrier()
    caller.dial(MAIN)
    assert caller.answered() is not None  # the switch answers a main number itself
    acme.advance(1.0)
    heard = caller.heard()
    assert contains(heard, acme.prompt("welcome"))
    assert contains(heard, acme.prompt("menu"))
    assert heard.tobytes().index(acme.prompt("welcome").tobytes()) < heard.tobytes().index(
        acme.prompt("menu").tobytes()
    )
    assert not contains(heard, acme.prompt("closed"))


def test_the_welcome_is_not_cut_short_by_a_key(acme: MemorySwitch) -> None:
    caller = acme.carrier()
    caller.dial(MAIN)
    caller.answered()
    acme.advance(0.1)
    caller.press("2")  # during the welcome: no menu yet
    acme.advance(1.0)
    assert contains(caller.heard(), acme.prompt("welcome"))


def test_closed_the_caller_hears_so_and_leaves_a_message(
    acme_at: Callable[[float], MemorySwitch],
) -> None:
    switch = acme_at(NIGHT)
    caller = switch.carrier()
    caller.dial(MAIN)
    caller.answered()
    switch.advance(1.0)
    heard = caller.heard()
    assert contains(heard, switch.prompt("closed"))
    assert not contains(heard, switch.prompt("menu"))
    assert contains(heard, switch.system("vm-greeting-shared"))  # the reception's box


def test_a_flow_without_a_menu_goes_straight_on(acme: MemorySwitch) -> None:
    bjorn, cecilia = acme.phone("1002"), acme.phone("1003")
    caller = acme.carrier()
    caller.dial(SUPPORT)
    assert bjorn.ringing() is not None and cecilia.ringing() is not None  # no welcome first
    acme.advance(1.0)
    assert contains(caller.heard(), acme.system("ringback")[:4000])
    cecilia.pick_up()
    assert acme.records == []
    caller.hang_up()
    (record,) = acme.records
    assert record.answered_by == "1003" and record.callee == SUPPORT


def test_a_call_the_switch_answers_is_recorded_as_answered_by_the_flow(
    acme: MemorySwitch,
) -> None:
    caller = acme.carrier()
    caller.dial(MAIN)
    caller.answered()
    acme.advance(2.0)
    caller.hang_up()
    (record,) = acme.records
    assert record.disposition == "answered" and record.answered_by == "flow main"
    assert 1.9 <= record.duration_seconds <= 2.1  # from the switch's answer, not 0:00
