"""features/groups in memory (S8, A5, A7, S9): sequential and parallel ringing, logged-out and
busy members, overflow, a queue that keeps its callers in line, the members' wrap-up after a
call, and the one visit each call to a group leaves for the statistics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from tests.features.conftest import in_the_menu, variant
from tests.memory import MemoryPhone, MemorySwitch, contains
from vaxel.features.groups import RETRY_PAUSE
from vaxel.media.say import say_estimated_wait, say_queue_position
from vaxel.services.configuration import apply_config, load_yaml
from vaxel.store.models import QueueVisit


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


def said(acme: MemorySwitch, names: list[str]) -> bytes:
    return b"".join(acme.system(name).tobytes() for name in names)


def test_the_estimated_wait_comes_from_the_groups_own_handling_times(
    acme: MemorySwitch,
) -> None:
    """A5: no estimate before the group handled a call; then place x the average handling
    time / the members logged in, to the minute, after the place."""
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    first = in_the_menu(acme)
    first.press("3")
    acme.advance(2.0)
    assert position(acme, 1) in first.heard().tobytes()
    for minutes in (0, 1, 2):
        assert said(acme, say_estimated_wait(minutes, "sv")) not in first.heard().tobytes()
    bjorn.pick_up()
    acme.advance(50.0)  # a 50-second talk: the group's handling time
    first.hang_up()
    anna.dial("1002")  # Björn is busy now: the next callers wait in line
    bjorn.pick_up()
    second, third = in_the_menu(acme, acme.phone("1003")), in_the_menu(acme, acme.phone("1004"))
    second.press("3")
    third.press("3")
    acme.advance(2.0)
    # 1 x 50 s: about a minute; 2 x 50 s: about two (one member logged in).
    assert position(acme, 1) + said(acme, say_estimated_wait(1, "sv")) in second.heard().tobytes()
    assert position(acme, 2) + said(acme, say_estimated_wait(2, "sv")) in third.heard().tobytes()


def test_the_estimated_wait_has_words_for_under_a_minute_and_one_minute() -> None:
    assert say_estimated_wait(0, "sv") == ["wait-under-a-minute"]
    assert say_estimated_wait(1, "en") == ["wait-one-minute"]
    assert say_estimated_wait(4, "sv") == ["estimated-wait", "num-4", "minutes"]


def test_a_queue_overflows_after_its_longest_wait(acme: MemorySwitch) -> None:
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(39.0)
    assert not contains(caller.heard(), acme.system("vm-greeting-shared"))
    acme.advance(2.0)
    assert contains(caller.heard(), acme.system("vm-greeting-shared"))


# -- the visits the statistics count (S9, A10) ------------------------------------------


def visits(acme: MemorySwitch) -> list[Any]:
    """The stored visits, oldest first (rows with the columns as attributes)."""
    table = QueueVisit.__table__
    with acme.store.session(read_only=True) as session:
        return list(session.execute(select(table).order_by(table.c.id)))


def test_a_call_answered_from_the_queue_is_one_visit_with_its_wait(acme: MemorySwitch) -> None:
    bjorn = acme.phone("1002")
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(6.0)  # Björn lets it ring his 5 s; the queue tries again 3 s later
    assert visits(acme) == []  # still waiting: nothing to count yet
    acme.until(lambda: bjorn.ringing() is not None)
    acme.advance(1.0)
    bjorn.pick_up()
    acme.advance(5.0)
    caller.hang_up()
    acme.advance(0.5)
    [visit] = visits(acme)
    assert (visit.group, visit.outcome, visit.answered_by) == ("queue", "answered", "1002")
    assert visit.caller == "+46701740605"
    assert visit.call_id == acme.records[0].call_id  # the call's record: its handling time
    assert visit.answered_at is not None
    assert 9.0 < visit.wait_seconds < 10.5
    assert visit.wait_seconds == (visit.answered_at - visit.entered_at).total_seconds()
    assert visit.left_at == visit.answered_at


def test_a_caller_who_hangs_up_in_the_queue_abandoned_it(acme: MemorySwitch) -> None:
    acme.phone("1002").dial("*46")
    acme.advance(1.0)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(12.0)
    caller.hang_up()
    acme.advance(0.5)
    [visit] = visits(acme)
    assert (visit.outcome, visit.answered_at, visit.answered_by) == ("abandoned", None, "")
    assert 11.5 < visit.wait_seconds < 12.5


def test_a_queue_caller_sent_on_after_the_longest_wait_timed_out(acme: MemorySwitch) -> None:
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(41.0)  # max_wait 40: to the reception's voicemail
    assert contains(caller.heard(), acme.system("vm-greeting-shared"))
    [visit] = visits(acme)
    assert visit.outcome == "timeout"
    assert 39.5 < visit.wait_seconds < 40.5
    caller.hang_up()  # leaving the voicemail is not a second visit
    acme.advance(0.5)
    assert len(visits(acme)) == 1


def test_a_group_without_a_queue_overflows_and_counts_each_visit(acme: MemorySwitch) -> None:
    cecilia = acme.phone("1003")
    caller = in_the_menu(acme)
    caller.press("1")  # sales: only Cecilia has a phone; 5 s, then the overflow
    acme.advance(5.5)
    assert contains(caller.heard(), acme.system("vm-greeting-shared"))
    second = in_the_menu(acme, acme.phone("1001"))
    second.press("5")  # support: Cecilia answers at once
    assert cecilia.ringing() is not None
    cecilia.pick_up()
    acme.advance(0.5)
    first, answered = visits(acme)
    assert (first.group, first.outcome) == ("sales", "overflow")
    assert 4.5 < first.wait_seconds < 5.5
    assert (answered.group, answered.outcome, answered.answered_by) == (
        "support", "answered", "1003",
    )  # fmt: skip
    assert answered.caller == "1001"


# -- wrap-up after a group's call (A5) ---------------------------------------------------

QUEUE = "queue: {announcement: announcement, announce_every: 10, max_wait: 40}"


def with_wrap_up(queue: float, bjorn: float | None = None) -> str:
    """Acme whose queue has `queue` seconds of wrap-up, and Björn his own when given."""
    described = variant(QUEUE, QUEUE.replace("max_wait: 40", f"max_wait: 40, wrap_up: {queue}"))
    if bjorn is not None:
        own = '{ext: "1002", name: Björn, wrap_up: ' + f"{bjorn}" + "}"
        described = described.replace('{ext: "1002", name: Björn}', own)
    return described


def talk_from_the_queue(acme: MemorySwitch, bjorn: MemoryPhone) -> None:
    """A caller reaches Björn through the queue, talks 5 s and hangs up."""
    caller = in_the_menu(acme)
    caller.press("3")
    acme.until(lambda: bjorn.ringing() is not None)
    bjorn.pick_up()
    acme.advance(5.0)
    caller.hang_up()
    acme.run()


def queued(acme: MemorySwitch, bjorn: MemoryPhone) -> int:
    """Anna calls the queue; the calls Björn's phone was offered before her."""
    invites = len(bjorn.invites)
    anna = in_the_menu(acme, acme.phone("1001"))
    anna.press("3")
    return invites


def not_rung_for(acme: MemorySwitch, phone: MemoryPhone, seconds: float, invites: int) -> None:
    """`phone` gets no call beyond its first `invites` for `seconds` (looked at every 20 ms)."""
    assert len(phone.invites) == invites, "rung at once"
    end = acme.clock.now + seconds
    while acme.clock.now < end:
        acme.advance(0.02)
        assert len(phone.invites) == invites, f"rung {end - acme.clock.now:.2f} s early"


def test_an_agent_in_wrap_up_is_offered_no_queue_call_until_it_ends(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_wrap_up(10))
    bjorn = acme.phone("1002")
    talk_from_the_queue(acme, bjorn)
    ended = acme.clock.now
    invites = queued(acme, bjorn)  # Anna waits in the queue: Björn is wrapping up
    not_rung_for(acme, bjorn, 10.0 - (acme.clock.now - ended) - 0.05, invites)
    acme.until(lambda: bjorn.ringing() is not None, seconds=RETRY_PAUSE + 0.2)


def test_the_agents_own_wrap_up_wins_over_the_queues(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_wrap_up(30, bjorn=6))
    bjorn = acme.phone("1002")
    talk_from_the_queue(acme, bjorn)
    not_rung_for(acme, bjorn, 5.0, queued(acme, bjorn))
    acme.until(lambda: bjorn.ringing() is not None, seconds=1.0 + RETRY_PAUSE + 0.2)


def test_the_wrap_up_code_ends_it_early(acme_as: Callable[..., MemorySwitch]) -> None:
    acme = acme_as(description=with_wrap_up(30))
    bjorn = acme.phone("1002")
    talk_from_the_queue(acme, bjorn)
    not_rung_for(acme, bjorn, 4.0, queued(acme, bjorn))
    bjorn.dial("*48")  # done with the notes: ready for the next caller
    bjorn.answered()
    acme.advance(1.0)
    assert contains(bjorn.heard(), acme.system("thank-you"))
    assert bjorn.requests("BYE")
    acme.until(lambda: bjorn.ringing() is not None, seconds=RETRY_PAUSE + 0.2)


def test_a_wrap_up_outlives_a_reload_of_the_description(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_wrap_up(30))
    bjorn = acme.phone("1002")
    talk_from_the_queue(acme, bjorn)
    before = acme.core.directory.company(1)
    changed = with_wrap_up(30).replace("announce_every: 10", "announce_every: 11")
    apply_config(acme.store, load_yaml(changed))  # an admin's change meanwhile
    acme.core.directory.invalidate()
    assert acme.core.directory.company(1) is not before  # reloaded
    not_rung_for(acme, bjorn, 4.0, queued(acme, bjorn))


def test_a_direct_call_rings_an_agent_in_wrap_up(acme_as: Callable[..., MemorySwitch]) -> None:
    acme = acme_as(description=with_wrap_up(30))
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    talk_from_the_queue(acme, bjorn)
    anna.dial("1002")
    assert bjorn.ringing() is not None


def test_no_wrap_up_by_default(acme: MemorySwitch) -> None:
    bjorn = acme.phone("1002")
    talk_from_the_queue(acme, bjorn)
    queued(acme, bjorn)
    assert bjorn.ringing() is not None  # at once


def test_a_member_who_logs_in_is_offered_the_callers_already_waiting(acme: MemorySwitch) -> None:
    """The callers' queue sees the company as it is now, not as it was when they came."""
    bjorn = acme.phone("1002")
    bjorn.dial("*46")
    acme.advance(1.0)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(2 * RETRY_PAUSE)
    assert bjorn.ringing() is None
    bjorn.dial("*45")
    acme.advance(1.0)
    acme.until(lambda: bjorn.ringing() is not None, seconds=RETRY_PAUSE + 1.0)
