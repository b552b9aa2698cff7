"""features/queue_callback in memory (A5, A1): a caller in the queue asks to be called back,
keeps their place, and at their turn a member is connected first, then the caller dialled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select

from tests.features.conftest import in_the_menu, variant
from tests.memory import MemoryPhone, MemorySwitch, contains
from tests.services.test_erlang import reference_slots
from vaxel.features.queue_callback import RETRY_PAUSE, restore
from vaxel.media.say import say_digits, say_slot
from vaxel.services import callbacks
from vaxel.services.callbacks import CallbackChange, list_callbacks
from vaxel.services.erlang import Forecast
from vaxel.store.models import QueueVisit

QUEUE = "queue: {announcement: announcement, announce_every: 10, max_wait: 40}"
CALLER = "+46701740605"  # the carrier's caller (tests/memory.py)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def with_callback(settings: str = "{}") -> str:
    return variant(QUEUE, QUEUE.replace("max_wait: 40", f"max_wait: 40, callback: {settings}"))


def said(acme: MemorySwitch, names: list[str]) -> np.ndarray:  # type: ignore[type-arg]
    return np.concatenate([acme.system(name) for name in names])


def busy(acme: MemorySwitch, bjorn: MemoryPhone) -> MemoryPhone:
    """Anna talks with Björn, so nobody of the queue is free."""
    anna = acme.phone("1001")
    anna.dial("1002")
    bjorn.pick_up()
    return anna


def book(acme: MemorySwitch, caller: MemoryPhone) -> None:
    """The caller presses 2, hears their own number, and confirms with 1."""
    caller.press("2")
    acme.advance(0.2)
    caller.press("1")
    acme.advance(1.0)


def visits(acme: MemorySwitch) -> list[Any]:
    table = QueueVisit.__table__
    with acme.store.session(read_only=True) as session:
        return list(session.execute(select(table).order_by(table.c.id)))


def test_the_offer_is_said_and_the_callers_own_number_read_back(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_callback())
    bjorn = acme.phone("1002")
    busy(acme, bjorn)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(2.0)
    assert contains(caller.heard(), said(acme, ["callback-offer", "num-2"]))
    caller.press("2")
    acme.advance(4.5)
    number_is = said(acme, ["callback-number-is", *say_digits(CALLER, "sv")])
    assert contains(caller.heard(), number_is)
    caller.press("1")
    acme.advance(2.0)
    assert contains(caller.heard(), acme.system("callback-booked"))
    assert caller.requests("BYE"), "the switch hangs up once the callback is booked"


def test_the_kept_place_is_served_first_agent_connected_before_the_caller_is_dialled(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_callback())
    bjorn = acme.phone("1002")
    anna = busy(acme, bjorn)
    first = in_the_menu(acme)  # from outside: +46701740605
    first.press("3")
    acme.advance(1.0)
    second = in_the_menu(acme, acme.phone("1003"))  # Cecilia, behind the first
    second.press("3")
    acme.advance(1.0)
    book(acme, first)
    acme.run()
    invites_before = len(first.invites)
    anna.hang_up()  # Björn is free: the kept place is first in line
    acme.until(lambda: len(bjorn.invites) >= 2)
    ringing = bjorn.ringing()
    assert ringing is not None and CALLER in ringing.headers.get("From")
    assert len(first.invites) == invites_before, "the caller is dialled only after the member"
    acme.advance(2.0)
    bjorn.pick_up()
    acme.until(lambda: len(first.invites) > invites_before)
    invite = first.ringing()
    assert invite is not None and invite.uri.user == CALLER  # out through the trunk
    first.pick_up()
    acme.advance(5.0)
    assert contains(first.heard(), acme.system("callback-greeting"))
    heard_by_bjorn = bjorn.heard()
    assert contains(heard_by_bjorn, said(acme, ["callback-for", *say_digits(CALLER, "sv")]))
    bridged = [c for c in acme.calls.values() if c.bridged is not None]
    assert len(bridged) == 1
    assert {leg.party for leg in bridged[0].bridged} == {"1002", CALLER}  # type: ignore[union-attr]
    first.hang_up()
    acme.run()
    (visit,) = [v for v in visits(acme) if v.caller == CALLER]
    assert (visit.outcome, visit.answered_by) == ("answered", "1002")
    (listed,) = list_callbacks(acme.store, 1)
    assert (listed.number, listed.status, listed.agent, listed.attempts) == (
        CALLER, "done", "1002", 1,
    )  # fmt: skip
    assert visit.wait_seconds > 5.0  # from when the caller first came
    acme.until(lambda: bjorn.ringing() is not None, seconds=10.0)  # then Cecilia's turn
    assert "1003" in bjorn.ringing().headers.get("From")  # type: ignore[union-attr]


def test_star_takes_the_caller_back_to_the_queue(acme_as: Callable[..., MemorySwitch]) -> None:
    acme = acme_as(description=with_callback())
    bjorn = acme.phone("1002")
    anna = busy(acme, bjorn)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(1.0)
    caller.press("2")
    acme.advance(0.2)
    caller.press("*")
    acme.advance(1.0)
    assert not caller.requests("BYE")
    anna.hang_up()
    acme.until(lambda: bjorn.ringing() is not None, seconds=5.0)
    bjorn.pick_up()
    acme.run()
    assert [c for c in acme.calls.values() if c.bridged is not None]


def test_a_number_keyed_in_is_called_back_and_a_barred_one_refused(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_callback())
    bjorn = acme.phone("1002")
    anna = busy(acme, bjorn)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(1.0)
    caller.press("2")
    acme.advance(0.2)
    caller.press("0900123456#")  # premium rate: the company may not call it
    acme.advance(3.0)
    assert contains(caller.heard(), acme.system("callback-invalid"))
    caller.press("0701234567#")
    acme.advance(4.5)
    assert contains(caller.heard(), said(acme, say_digits("0701234567", "sv")))
    caller.press("1")
    acme.advance(1.0)
    anna.hang_up()
    acme.until(lambda: bjorn.ringing() is not None, seconds=5.0)
    bjorn.pick_up()
    acme.until(lambda: caller.ringing() is not None, seconds=5.0)
    assert caller.ringing().uri.user in ("0701234567", "+46701234567")  # type: ignore[union-attr]


def test_an_unanswered_callback_is_tried_again_then_given_up(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_callback("{attempts: 2, retry_after: 30, ring_time: 5}"))
    bjorn = acme.phone("1002")
    anna = busy(acme, bjorn)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(1.0)
    book(acme, caller)
    caller.ring_back = True
    anna.hang_up()
    for attempt in (1, 2):
        acme.until(lambda: bjorn.ringing() is not None, seconds=40.0)
        bjorn.pick_up()
        acme.until(lambda: caller.ringing() is not None, seconds=5.0)
        acme.advance(6.0)  # the caller does not answer in 5 s
        assert contains(bjorn.heard(), acme.system("callback-no-answer")), attempt
        acme.advance(4.0)
        assert bjorn.requests("BYE"), attempt
    acme.advance(60.0)
    assert bjorn.ringing() is None, "two attempts in all"
    (visit,) = [v for v in visits(acme) if v.caller == CALLER]
    assert visit.outcome == "callback-failed"
    (listed,) = list_callbacks(acme.store, 1, status="failed")
    assert (listed.number, listed.attempts) == (CALLER, 2)


def test_never_more_callbacks_dialled_than_members_answered(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    """Three callers book callbacks with one member: each is dialled only once the member
    answered for it, one after the other, in the order they came."""
    acme = acme_as(description=with_callback())
    bjorn = acme.phone("1002")
    anna = busy(acme, bjorn)
    callers = [in_the_menu(acme, acme.phone(ext)) for ext in ("1003", "1004")]
    for caller in callers:
        caller.press("3")
        acme.advance(1.0)
    for caller in callers:
        book(acme, caller)
    counts = [len(c.invites) for c in callers]
    anna.hang_up()
    for i, caller in enumerate(callers):
        acme.until(lambda: bjorn.ringing() is not None, seconds=10.0)
        assert [len(c.invites) for c in callers] == counts, "nobody dialled before Björn"
        bjorn.pick_up()
        acme.until(lambda caller=caller: caller.ringing() is not None, seconds=5.0)
        others = [c for j, c in enumerate(callers) if j != i]
        assert all(c.ringing() is None for c in others)
        caller.pick_up()
        acme.advance(4.0)
        counts[i] = len(caller.invites)
        caller.hang_up()
        acme.run()


# -- A18: a time chosen from the forecast ---------------------------------------------------


def choose_a_time(acme: MemorySwitch, caller: MemoryPhone) -> None:
    """In the queue: 2 (a callback), 1 (my number), 2 (choose a time)."""
    caller.press("3")
    acme.advance(1.0)
    caller.press("2")
    acme.advance(0.2)
    caller.press("1")
    acme.advance(1.0)
    assert contains(caller.heard(), acme.system("callback-when"))
    caller.press("2")
    acme.advance(7.0)


def slot_names(slots: list[datetime], now: datetime) -> list[str]:
    names = ["callback-choose-time"]
    for key, slot in enumerate(slots, start=1):
        names += [*say_slot(slot, now, "sv"), "press", f"num-{key}"]
    return names


def test_the_times_offered_follow_the_erlang_c_forecast(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    """Scripted arrivals: a call handled in 50 s and two callers who hung up, then the
    caller who asks: four calls in the last hour, one agent. The times said are the ones
    exact Erlang C gives (92 % within 20 s); the second caller's skip the half hour the
    first took, which one more callback would push below the target; the first is called
    back at its time, not before."""
    acme = acme_as(description=with_callback("{slots: 3, schedule: office, service_level: 0.92}"))
    bjorn = acme.phone("1002")
    handled = in_the_menu(acme)
    handled.press("3")
    acme.until(lambda: bjorn.ringing() is not None)
    bjorn.pick_up()
    acme.advance(50.0)
    handled.hang_up()
    acme.run()
    for ext in ("1001", "1003"):  # two who give up at once
        gone = in_the_menu(acme, acme.phone(ext))
        gone.press("3")
        acme.advance(0.5)
        gone.hang_up()
        acme.run()
    assert bjorn.ringing() is None
    dan = acme.phone("1004")
    dan.dial("1002")  # Björn is busy: the next callers wait
    acme.until(lambda: bjorn.ringing() is not None, 10.0)
    bjorn.pick_up()

    first = in_the_menu(acme)
    now = datetime.fromtimestamp(acme.clock.now, STOCKHOLM)
    expected = reference_slots(
        Forecast(arrivals_per_hour=4, handling=50, agents=1, target=0.92), now, {}, 8, 17
    )
    choose_a_time(acme, first)
    assert len(expected) == 3
    assert contains(first.heard(), said(acme, slot_names(expected, now)))
    first.press("1")  # the first time
    acme.advance(4.0)
    assert contains(
        first.heard(), said(acme, ["callback-scheduled", *say_slot(expected[0], now, "sv")])
    )
    assert first.requests("BYE")

    second = in_the_menu(acme, acme.phone("1001"))
    now = datetime.fromtimestamp(acme.clock.now, STOCKHOLM)
    theirs = reference_slots(
        Forecast(arrivals_per_hour=5, handling=50, agents=1, target=0.92), now,
        {expected[0]: 1}, 8, 17,
    )  # fmt: skip
    assert theirs[0] != expected[0]
    choose_a_time(acme, second)
    assert contains(second.heard(), said(acme, slot_names(theirs, now)))
    second.press("#")  # no choice: asked again, then left alone
    second.hang_up()
    acme.run()

    dan.hang_up()  # Björn is free long before the time
    acme.run()
    invites = len(bjorn.invites)
    due = expected[0].timestamp()
    acme.advance(due - acme.clock.now - 1.0)
    assert len(bjorn.invites) == invites, "called before its time"
    acme.until(lambda: bjorn.ringing() is not None, seconds=5.0)
    bjorn.pick_up()
    acme.until(lambda: first.ringing() is not None, seconds=10.0)
    (listed,) = list_callbacks(acme.store, 1, status="calling")
    assert (listed.source, listed.due_at) == ("scheduled", expected[0])


# -- A1: a callback asked for from a menu ---------------------------------------------------


def with_menu_callback(request: str) -> str:
    described = with_callback()
    key = '"7": {external: "+46701740605"},'
    assert key in described
    return described.replace(key, key + f' "6": {{callback: {request}}},')


def test_a_menu_key_puts_the_callback_on_the_queues_list(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_menu_callback("{group: queue}"))
    bjorn = acme.phone("1002")
    anna = busy(acme, bjorn)
    caller = in_the_menu(acme)
    caller.press("6")
    acme.advance(4.5)
    assert contains(caller.heard(), said(acme, ["callback-number-is", *say_digits(CALLER, "sv")]))
    caller.press("1")
    acme.advance(2.0)
    assert contains(caller.heard(), acme.system("callback-booked"))
    assert caller.requests("BYE")
    (listed,) = list_callbacks(acme.store, 1, status="waiting")
    assert (listed.source, listed.group, listed.number) == ("menu", "queue", CALLER)
    invites = len(caller.invites)
    anna.hang_up()
    acme.until(lambda: bjorn.ringing() is not None, seconds=5.0)
    assert len(caller.invites) == invites
    bjorn.pick_up()
    acme.until(lambda: caller.ringing() is not None, seconds=10.0)


def test_a_menu_callback_is_sent_by_mail_and_sms(acme_as: Callable[..., MemorySwitch]) -> None:
    """With nowhere to queue it, the request is sent on (the texts: services tests) and
    the caller is thanked."""
    acme = acme_as(description=with_menu_callback("{email: [kundtjanst@acme.example]}"))
    sent: list[object] = []
    company = acme.core.directory.company(1)
    assert company is not None
    company.callback_requested = sent.append  # type: ignore[method-assign]
    caller = in_the_menu(acme)
    caller.press("6")
    acme.advance(0.2)
    caller.press("0701234567#")
    acme.advance(4.5)
    caller.press("1")
    acme.advance(3.0)
    assert contains(caller.heard(), acme.system("callback-sent"))
    (request,) = sent
    assert request.number == "0701234567" and request.caller == CALLER  # type: ignore[attr-defined]
    assert request.email == ("kundtjanst@acme.example",)  # type: ignore[attr-defined]
    assert list_callbacks(acme.store, 1) == []


# -- after a restart ------------------------------------------------------------------------


def test_callbacks_the_list_says_wait_take_their_places_again_after_a_restart(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    """A switch that starts finds on the list a kept place (asked for first), a callback
    that was being made when it stopped, and one booked for a time still to come: the
    first two are offered in the order they were asked for, the third at its time."""
    acme = acme_as(description=with_callback("{slots: 2}"))
    bjorn = acme.phone("1002")
    now = datetime.fromtimestamp(acme.clock.now, UTC)
    for key, status, source, asked, due in (
        ("later", "waiting", "scheduled", 60, now + timedelta(minutes=30)),
        ("second", "calling", "queue", 120, None),
        ("first", "waiting", "queue", 300, None),
        ("done", "done", "queue", 400, None),
    ):
        callbacks.write_change(acme.store, CallbackChange(
            company_id=1, key=key, group="queue", number=f"07012345{len(key):02d}",
            caller=CALLER, source=source, requested_at=now - timedelta(seconds=asked),
            status=status, attempts=1 if status == "calling" else 0, agent="", at=now,
            due_at=due,
        ))  # fmt: skip
    company = acme.core.directory.company(1)
    assert company is not None
    pending = callbacks.pending(acme.store)[1]
    assert restore(company, acme.core.calls, pending, now) == 3
    carrier = acme.carrier()
    for key in ("first", "second"):
        acme.until(lambda: bjorn.ringing() is not None, seconds=5.0)
        number = f"07012345{len(key):02d}"
        assert number in bjorn.ringing().headers.get("From")  # type: ignore[union-attr]
        bjorn.pick_up()
        acme.until(lambda: carrier.ringing() is not None, seconds=10.0)
        carrier.pick_up()
        acme.advance(4.0)
        carrier.hang_up()
        acme.run()
    listed = {c.key: (c.status, c.attempts) for c in list_callbacks(acme.store, 1)}
    assert listed["first"] == ("done", 1) and listed["second"] == ("done", 2)
    assert listed["later"] == ("waiting", 0)
    acme.advance(25 * 60)
    assert bjorn.ringing() is None
    acme.until(lambda: bjorn.ringing() is not None, seconds=5 * 60 + 5)


def test_a_member_who_lets_the_callback_ring_out_is_rung_again_only_after_a_pause(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_callback())
    bjorn = acme.phone("1002")
    anna = busy(acme, bjorn)
    caller = in_the_menu(acme)
    caller.press("3")
    acme.advance(1.0)
    book(acme, caller)
    anna.hang_up()
    acme.until(lambda: bjorn.ringing() is not None, seconds=5.0)
    invites = len(bjorn.invites)
    bjorn.refuse(486)
    acme.advance(RETRY_PAUSE - 0.2)
    assert len(bjorn.invites) == invites, "rung again at once"
    acme.until(lambda: bjorn.ringing() is not None, seconds=1.0)
    assert caller.ringing() is None, "the caller is not dialled before the member answers"
