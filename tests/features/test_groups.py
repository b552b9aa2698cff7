"""features/groups in memory (S8, A5, A7, S9): sequential and parallel ringing, logged-out and
busy members, overflow, a queue that keeps its callers in line, the members' wrap-up after a
call, and the one visit each call to a group leaves for the statistics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.features.conftest import CARRIER, in_the_menu, variant
from tests.memory import MemoryPhone, MemorySwitch, contains, tone
from vaxel.features.groups import RETRY_PAUSE
from vaxel.media.say import say_estimated_wait, say_queue_position
from vaxel.services import voicemail
from vaxel.services.company_config import ConfigError, parse_config
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


# -- distribution strategies and tiers (A5) ---------------------------------------------

QUEUE_MEMBERS = 'queue: {members: ["1002"], ring_time: 5,'


def three_agents(strategy: str, extra: str = "") -> str:
    """Acme whose queue has Björn, Cecilia and Dan, offered by `strategy`."""
    members = '["1002", "1003", "1004"]'
    return variant(
        QUEUE_MEMBERS,
        f"queue: {{members: {members}, strategy: {strategy}, ring_time: 5, {extra}",
    )


def serve(acme: MemorySwitch, phones: dict[str, MemoryPhone], ring_out: int = 0) -> list[str]:
    """A caller to the queue; the first `ring_out` members offered let it ring out, the next
    answers, talks 2 s and the call ends. Returns the members offered, in order."""
    caller = in_the_menu(acme)
    caller.press("3")
    rung: list[str] = []
    while True:
        acme.until(lambda: any(p.ringing() is not None for p in phones.values()), seconds=20)
        [ext] = [ext for ext, phone in phones.items() if phone.ringing() is not None]
        rung.append(ext)
        if len(rung) > ring_out:
            phones[ext].pick_up()
            acme.advance(2.0)
            caller.hang_up()
            acme.advance(0.5)
            return rung
        acme.until(lambda ext=ext: phones[ext].ringing() is None, seconds=6)  # 5 s each


@pytest.fixture
def agents() -> Callable[[MemorySwitch], dict[str, MemoryPhone]]:
    return lambda acme: {ext: acme.phone(ext) for ext in ("1002", "1003", "1004")}


def test_round_robin_continues_after_the_member_last_offered_across_calls(
    acme_as: Callable[..., MemorySwitch], agents: Callable[[MemorySwitch], dict[str, MemoryPhone]]
) -> None:
    acme = acme_as(description=three_agents("round-robin"))
    phones = agents(acme)
    assert serve(acme, phones) == ["1002"]
    assert serve(acme, phones) == ["1003"]
    assert serve(acme, phones, ring_out=1) == ["1004", "1002"]  # Dan lets it ring out
    assert serve(acme, phones) == ["1003"]  # after Björn, offered last


def test_fixed_order_starts_each_call_from_the_first_member(
    acme_as: Callable[..., MemorySwitch], agents: Callable[[MemorySwitch], dict[str, MemoryPhone]]
) -> None:
    acme = acme_as(description=three_agents("fixed-order"))
    phones = agents(acme)
    assert serve(acme, phones) == ["1002"]
    assert serve(acme, phones, ring_out=2) == ["1002", "1003", "1004"]
    assert serve(acme, phones) == ["1002"]


def test_longest_idle_offers_the_member_whose_last_call_ended_longest_ago(
    acme_as: Callable[..., MemorySwitch], agents: Callable[[MemorySwitch], dict[str, MemoryPhone]]
) -> None:
    acme = acme_as(description=three_agents("longest-idle"))
    phones = agents(acme)
    # nobody took a call yet: member order; then those who never did
    assert [serve(acme, phones)[0] for _ in range(3)] == ["1002", "1003", "1004"]
    assert serve(acme, phones) == ["1002"]  # his call ended longest ago
    assert serve(acme, phones, ring_out=1) == ["1003", "1004"]  # Dan takes it
    assert serve(acme, phones) == ["1003"]  # idle since her call, before Björn's and Dan's


def test_fewest_calls_offers_the_member_who_answered_fewest_today(
    acme_as: Callable[..., MemorySwitch], agents: Callable[[MemorySwitch], dict[str, MemoryPhone]]
) -> None:
    acme = acme_as(description=three_agents("fewest-calls"))
    phones = agents(acme)
    assert serve(acme, phones) == ["1002"]  # all none: member order
    assert serve(acme, phones, ring_out=2) == ["1003", "1004", "1002"]  # Björn: 2 now
    assert serve(acme, phones) == ["1003"]  # Cecilia 1, Dan 0 ... Cecilia first by order
    assert serve(acme, phones) == ["1004"]  # Dan: none yet
    assert serve(acme, phones) == ["1003"]  # 1, 1, 2: the tie by member order


def test_ring_all_rings_every_free_member_at_once(
    acme_as: Callable[..., MemorySwitch], agents: Callable[[MemorySwitch], dict[str, MemoryPhone]]
) -> None:
    acme = acme_as(description=three_agents("ring-all"))
    phones = agents(acme)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.until(lambda: all(p.ringing() is not None for p in phones.values()), seconds=1)


def test_tier_two_is_offered_the_call_only_after_the_tier_delay(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    tiered = variant(
        QUEUE_MEMBERS,
        'queue: {members: ["1002", "1003"], tiers: {"1003": 2}, tier_delay: 10, ring_time: 5,',
    )
    acme = acme_as(description=tiered)
    bjorn, cecilia = acme.phone("1002"), acme.phone("1003")
    caller = in_the_menu(acme)
    caller.press("3")
    entered = acme.clock.now
    assert bjorn.ringing() is not None  # tier 1 at once; he lets it ring
    not_rung_for(acme, cecilia, 10.0 - (acme.clock.now - entered) - 0.05, 0)
    # at the round after the delay: Björn's 5 s rings, the queue's pause, then both
    acme.until(lambda: cecilia.ringing() is not None, seconds=5 + RETRY_PAUSE + 0.5)
    assert bjorn.ringing() is not None  # ring all: both tiers now
    cecilia.pick_up()
    acme.advance(0.5)
    caller.hang_up()
    acme.advance(0.5)
    assert visits(acme)[0].answered_by == "1003"


def test_tiers_are_members_and_need_a_queue() -> None:
    with pytest.raises(ConfigError) as bad:
        parse_config(load_yaml(variant(QUEUE_MEMBERS, QUEUE_MEMBERS + ' tiers: {"1003": 2},')))
    assert 'tiers: "1003" is not one of the members' in str(bad.value)
    no_queue = variant('strategy: sequential, ring_time: 5,',
                       'strategy: sequential, ring_time: 5, tiers: {"1003": 2},')  # fmt: skip
    with pytest.raises(ConfigError) as bad:
        parse_config(load_yaml(no_queue))
    assert "tiers need a queue" in str(bad.value)


# -- the queue's rules (A7) --------------------------------------------------------------

QUEUE_RULES = "queue: {announcement: announcement, announce_every: 10, max_wait: 40"


def with_rules(rules: str, overflow: str = "{voicemail: reception}") -> str:
    """Acme whose queue has these A7 `rules` (and this overflow)."""
    described = variant(QUEUE_RULES, f"{QUEUE_RULES}, {rules}")
    return described.replace(
        "ring_time: 5, overflow: {voicemail: reception},\n           queue:",
        f"ring_time: 5, overflow: {overflow},\n           queue:",
    )


def test_without_join_empty_a_caller_finds_nobody_logged_in_and_overflows_at_once(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules("join_empty: false"))
    acme.phone("1002").dial("*46")
    acme.advance(1.0)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(0.7)
    assert contains(caller.heard(), acme.system("vm-greeting-shared"))
    assert not contains(caller.heard(), acme.system("music")[:4000])  # never queued
    [visit] = visits(acme)
    assert visit.outcome == "overflow" and visit.wait_seconds < 0.5


def test_with_join_empty_off_a_caller_joins_while_a_member_is_logged_in(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules("join_empty: false"))
    bjorn = acme.phone("1002")
    caller = in_the_menu(acme)
    caller.press("3")
    assert bjorn.ringing() is not None


def test_leave_when_empty_sends_the_waiting_callers_on_when_the_last_member_logs_out(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules("leave_when_empty: true"))
    caller = in_the_menu(acme)  # Björn is logged in, but has no phone: the caller waits
    caller.press("3")
    acme.advance(2 * RETRY_PAUSE)
    assert not contains(caller.heard(), acme.system("vm-greeting-shared"))
    company = acme.core.directory.company(1)
    assert company is not None
    company.set_logged_in("1002", False)  # as *46 does: the last member leaves
    acme.until(
        lambda: contains(caller.heard(), acme.system("vm-greeting-shared")),
        seconds=RETRY_PAUSE + 1.0,
    )
    [visit] = visits(acme)
    assert visit.outcome == "overflow"


def test_without_leave_when_empty_callers_wait_on_when_everyone_logged_out(
    acme: MemorySwitch,
) -> None:
    caller = in_the_menu(acme)
    caller.press("3")
    company = acme.core.directory.company(1)
    assert company is not None
    company.set_logged_in("1002", False)
    acme.advance(3 * RETRY_PAUSE)
    assert not contains(caller.heard(), acme.system("vm-greeting-shared"))


def queue_two(acme: MemorySwitch) -> tuple[MemoryPhone, MemoryPhone]:
    """Two callers to the queue from inside (Anna, then Dan), the first one waiting."""
    first, second = in_the_menu(acme, acme.phone("1001")), in_the_menu(acme, acme.phone("1004"))
    first.press("3")
    acme.advance(0.5)
    second.press("3")
    return first, second


def test_a_full_queue_sends_the_next_caller_to_its_full_destination_a_group(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules("max_length: 1, full: {group: sales}"))
    cecilia = acme.phone("1003")  # of sales (Björn, the queue's, has no phone)
    first, second = queue_two(acme)
    acme.advance(0.5)
    assert cecilia.ringing() is not None  # the second caller, through sales
    acme.advance(2.0)
    assert not contains(second.heard(), acme.system("music")[:4000])
    assert contains(first.heard(), acme.system("music")[:4000])  # the first waits on
    [visit] = visits(acme)
    assert (visit.caller, visit.outcome) == ("1004", "overflow")


def test_a_full_queue_without_a_full_destination_goes_to_the_overflow(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules("max_length: 1"))
    _, second = queue_two(acme)
    acme.advance(0.7)
    assert contains(second.heard(), acme.system("vm-greeting-shared"))


def test_a_queue_overflows_to_an_external_number(acme_as: Callable[..., MemorySwitch]) -> None:
    acme = acme_as(description=with_rules("max_wait: 5", overflow='{external: "+46701740605"}')
                   .replace("max_wait: 40, ", ""))  # fmt: skip
    carrier = MemoryPhone(acme, "carrier", "", CARRIER[0], port=CARRIER[1])
    caller = in_the_menu(acme, acme.phone("1001"))
    caller.press("3")
    acme.advance(4.5)
    assert carrier.ringing() is None
    acme.until(lambda: carrier.ringing() is not None, seconds=1.0)
    invite = carrier.ringing()
    assert invite is not None and str(invite.uri) == f"sip:+46701740605@{CARRIER[0]}"


def test_a_queue_overflows_to_an_answering_service_a_menu(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules("max_wait: 6", overflow="{menu: sub}")
                   .replace("max_wait: 40, ", ""))  # fmt: skip
    bjorn = acme.phone("1002")
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(5.5)  # Björn's 5 s ring out
    assert not contains(caller.heard(), acme.prompt("submenu"))
    acme.advance(1.0)
    assert contains(caller.heard(), acme.prompt("submenu"))
    caller.press("1")  # the menu serves the caller: its key 1 rings Björn
    acme.until(lambda: bjorn.ringing() is not None, seconds=1.0)


def test_a_member_who_logs_in_while_a_caller_waits_is_offered_the_call(
    acme: MemorySwitch,
) -> None:
    bjorn = acme.phone("1002")
    bjorn.dial("*46")
    acme.advance(1.0)
    invites = len(bjorn.invites)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(2 * RETRY_PAUSE)
    assert len(bjorn.invites) == invites  # logged out: the caller waits
    bjorn.dial("*45")
    acme.advance(1.0)
    acme.until(lambda: bjorn.ringing() is not None, seconds=RETRY_PAUSE + 0.5)


VOICEMAIL_KEY = 'voicemail_key: "1", voicemail_to: {voicemail: reception}'


def test_the_voicemail_key_leaves_a_message_in_the_shared_box_instead_of_waiting(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_rules(VOICEMAIL_KEY, overflow="{menu: sub}"))
    bjorn = acme.phone("1002")
    caller = in_the_menu(acme)
    caller.press("3")
    assert bjorn.ringing() is not None
    caller.press("2")  # not the key: nothing happens
    acme.advance(0.5)
    assert bjorn.ringing() is not None
    caller.press("1")
    acme.advance(0.1)
    assert bjorn.ringing() is None  # the member's phone stops ringing
    acme.until(lambda: contains(caller.heard(), acme.system("vm-greeting-shared")), seconds=2)
    acme.advance(1.5)  # the beep
    caller.say(tone("the caller's words", 2.0))
    acme.advance(2.5)
    caller.hang_up()
    acme.advance(1.0)
    acme.run()
    (message,) = voicemail.list_messages(acme.store, 1, "reception")
    assert message.caller == "+46701740605" and message.duration_seconds > 1.5
    [visit] = visits(acme)
    assert visit.outcome == "overflow"


def test_a_key_pressed_while_talking_to_the_member_is_not_the_voicemail_key(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(
        description=with_rules('voicemail_key: "1", voicemail_to: {voicemail: reception}')
    )
    bjorn = acme.phone("1002")
    caller = in_the_menu(acme)
    caller.press("3")
    bjorn.pick_up()
    acme.advance(0.5)
    caller.press("1")
    acme.advance(2.0)
    assert not contains(caller.heard(), acme.system("vm-greeting-shared"))
    assert not bjorn.requests("BYE")


def test_queue_keys_are_checked() -> None:
    def errors(rules: str) -> str:
        with pytest.raises(ConfigError) as bad:
            parse_config(load_yaml(with_rules(rules)))
        return str(bad.value)

    assert "voicemail_key needs voicemail_to" in errors('voicemail_key: "1"')
    assert "unknown key 'x'" in errors('voicemail_key: "x", voicemail_to: {voicemail: reception}')
    assert 'unknown voicemail box "nope"' in errors(
        'voicemail_key: "1", voicemail_to: {voicemail: nope}'
    )
    assert "give max_length" in errors("full: {group: sales}")
    assert 'unknown group "nope"' in errors("max_length: 2, full: {group: nope}")


# -- an agent who becomes free is offered the first caller at once (A5) --------------------

AT_ONCE = 0.2  # seconds: the target from an agent becoming free to their phone ringing


def test_the_first_caller_rings_the_agent_as_their_wrap_up_ends(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_wrap_up(7))
    bjorn = acme.phone("1002")
    talk_from_the_queue(acme, bjorn)
    ends = acme.clock.now + 7.0
    queued(acme, bjorn)
    acme.advance(ends - acme.clock.now - 0.05)
    assert bjorn.ringing() is None
    acme.until(lambda: bjorn.ringing() is not None, seconds=AT_ONCE)


def test_the_first_caller_rings_the_agent_as_their_own_call_ends(acme: MemorySwitch) -> None:
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(RETRY_PAUSE / 2)  # between two of the queue's tries
    assert bjorn.ringing() is None
    anna.hang_up()
    acme.until(lambda: bjorn.ringing() is not None, seconds=AT_ONCE)


def test_ending_wrap_up_and_logging_in_offer_the_first_caller_at_once(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    """The agent's own *48 or *45 call ends and the first caller rings them at once (not at
    the queue's next try, up to RETRY_PAUSE later)."""
    acme = acme_as(description=with_wrap_up(60))
    bjorn = acme.phone("1002")
    talk_from_the_queue(acme, bjorn)
    queued(acme, bjorn)
    for code in ("*48", "*46", "*45"):
        acme.advance(RETRY_PAUSE / 2)  # between two of the queue's tries
        invites, byes = len(bjorn.invites), len(bjorn.requests("BYE"))
        bjorn.dial(code)
        bjorn.answered()
        acme.until(lambda byes=byes: len(bjorn.requests("BYE")) > byes, seconds=5.0)
        if code == "*46":
            acme.advance(RETRY_PAUSE + 0.5)
            assert len(bjorn.invites) == invites  # logged out: not offered
            continue
        acme.until(lambda invites=invites: len(bjorn.invites) > invites, seconds=AT_ONCE)
        bjorn.refuse(486)  # (busy: the caller waits on)
        acme.run()


def test_an_agent_who_answers_during_an_announcement_is_connected_at_once(
    acme: MemorySwitch,
) -> None:
    """A5: the caller is not kept to the end of what is being said to them."""
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()  # busy: the caller waits and hears the announcement every 10 s
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(10.1)  # the announcement (its place, then "Vänta") has begun
    anna.hang_up()  # Björn is free: rung at once
    acme.until(lambda: bjorn.ringing() is not None, seconds=0.5)
    bjorn.pick_up()
    call = next(c for c in acme.calls.values() if c.caller.party == caller.user)
    assert call.bridged is not None  # talking now, the announcement cut
    bjorn.say(tone("björn", 0.4))
    acme.advance(0.6)
    assert contains(caller.heard(), tone("björn", 0.4)[:1600])


def test_an_agent_who_takes_a_long_waiting_caller_is_not_cut_off_for_silence(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    """P5: a leg's silence is counted from its own answer: the queue answered the caller a
    minute and more before Björn's phone did, and his phone has sent nothing yet."""
    acme = acme_as(description=variant("max_wait: 40", "max_wait: 300"))
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()  # busy: the caller waits
    caller = in_the_menu(acme)
    caller.press("3")
    for _ in range(16):  # 80 s of waiting, the caller's phone sending now and then
        caller.say(tone("caller", 0.2))
        acme.advance(5.0)
    anna.hang_up()
    acme.until(lambda: bjorn.ringing() is not None, seconds=1.0)
    byes = len(bjorn.requests("BYE"))  # (Anna's call's)
    bjorn.pick_up()
    for _ in range(3):
        caller.say(tone("caller", 0.2))
        acme.advance(5.0)
    call = next(c for c in acme.calls.values() if c.caller.party == caller.user)
    assert call.bridged is not None and len(bjorn.requests("BYE")) == byes
