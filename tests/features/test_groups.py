"""features/groups in memory (S8, A7): sequential and parallel ringing, logged-out and busy
members, overflow, and a queue that keeps its callers in line."""

from __future__ import annotations

from tests.features.conftest import in_the_menu
from tests.memory import MemorySwitch, contains
from vaxel.media.say import say_queue_position


def test_sequential_rings_members_in_order_then_overflows(acme: MemorySwitch) -> None:
    bjorn, cecilia = acme.phone("1002"), acme.phone("1003")
    caller = in_the_menu(acme)
    caller.press("1")  # sales: Björn, then Cecilia, 5 s each
    assert bjorn.ringing() is not None and cecilia.ringing() is None
    acme.advance(5.1)
    assert bjorn.ringing() is None and cecilia.ringing() is not None
    acme.advance(5.1)
    assert cecilia.ringing() is None
    acme.advance(0.5)
    assert contains(caller.heard(), acme.system("vm-greeting-shared"))  # the overflow


def test_parallel_rings_everyone_and_the_first_answer_wins(acme: MemorySwitch) -> None:
    bjorn, cecilia = acme.phone("1002"), acme.phone("1003")
    caller = in_the_menu(acme)
    caller.press("5")  # support: both at once
    assert bjorn.ringing() is not None and cecilia.ringing() is not None
    cecilia.pick_up()
    assert bjorn.ringing() is None
    caller.hang_up()
    assert acme.records[0].answered_by == "1003"


def test_a_logged_out_member_is_not_rung(acme: MemorySwitch) -> None:
    bjorn, cecilia = acme.phone("1002"), acme.phone("1003")
    bjorn.dial("*46")  # Björn logs out of his groups
    acme.advance(1.0)
    caller = in_the_menu(acme)
    caller.press("1")
    assert bjorn.ringing() is None and cecilia.ringing() is not None


def test_a_busy_member_is_skipped(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = acme.phone("1001"), acme.phone("1002"), acme.phone("1003")
    anna.dial("1002")
    bjorn.pick_up()
    caller = in_the_menu(acme)
    caller.press("1")
    assert cecilia.ringing() is not None


def test_nobody_to_ring_overflows_at_once(acme: MemorySwitch) -> None:
    caller = in_the_menu(acme)  # nobody of sales has a phone registered
    caller.press("1")
    acme.advance(0.5)
    assert contains(caller.heard(), acme.system("vm-greeting-shared"))


def position(acme: MemorySwitch, place: int) -> bytes:
    names = say_queue_position(place, "sv")
    return b"".join(acme.system(name).tobytes() for name in names)


def test_a_queue_says_the_place_plays_music_and_serves_callers_in_order(
    acme: MemorySwitch,
) -> None:
    bjorn = acme.phone("1002")
    first, second = in_the_menu(acme), in_the_menu(acme, acme.phone("1001"))
    anna_in_queue = second
    first.press("3")
    second.press("3")
    acme.advance(2.0)
    assert position(acme, 1) in first.heard().tobytes()
    assert position(acme, 2) in anna_in_queue.heard().tobytes()
    assert contains(first.heard(), acme.system("music")[:4000])
    assert bjorn.ringing() is not None
    assert bjorn.ringing().call_id != ""  # type: ignore[union-attr]
    acme.advance(10.0)  # the announcement every 10 s (after the place, said again)
    assert contains(second.heard(), acme.prompt("announcement"))
    bjorn.pick_up()  # takes the first caller
    first.hang_up()
    acme.advance(3.5)  # the next caller's turn: Björn rings again for the second
    assert bjorn.ringing() is not None


def test_a_queue_overflows_after_its_longest_wait(acme: MemorySwitch) -> None:
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(39.0)
    assert not contains(caller.heard(), acme.system("vm-greeting-shared"))
    acme.advance(2.0)
    assert contains(caller.heard(), acme.system("vm-greeting-shared"))
