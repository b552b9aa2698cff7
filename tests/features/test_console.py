"""The operator console's switch actions in memory (A16): Anna, the receptionist, sees the
callers waiting in the queue and the calls ringing her colleagues, takes the SECOND
queued caller on her own phone (not the first), asks Cecilia first and hands the caller
over; a ringing call is taken the same way; a caller gone meanwhile stops her phone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from tests.features.conftest import in_the_menu
from tests.features.test_consult import one_way
from tests.features.test_park import with_park
from tests.features.test_transfer import hear_each_other
from tests.memory import DOMAIN, MemoryPhone, MemorySwitch, contains
from vaxel.calls.api import Cause
from vaxel.features import console
from vaxel.features.click_to_call import CallPlacer
from vaxel.features.context import Company
from vaxel.features.dialplan import CompanyDialplan
from vaxel.store.models import QueueVisit


def company(acme: MemorySwitch) -> Company:
    found = acme.core.directory.company(1)
    assert found is not None
    return found


def shown(acme: MemorySwitch, operator: str = "1001") -> list[console.ConsoleCall]:
    return console.calls(company(acme), operator, acme.core.calls.now())


def answer(acme: MemorySwitch, call_id: str, operator: str = "1001") -> tuple[str, object]:
    outcome = console.answer(acme.core.calls, company(acme), operator, call_id)
    acme.run()
    return outcome


def visits(acme: MemorySwitch) -> list[Any]:
    table = QueueVisit.__table__
    with acme.store.session(read_only=True) as session:
        return list(session.execute(select(table).order_by(table.c.id)))


def two_queued(acme: MemorySwitch) -> tuple[MemoryPhone, MemoryPhone, MemoryPhone]:
    """Cecilia then Dan call the main number and wait in the queue; Björn (its member)
    is rung for the first."""
    bjorn = acme.phone("1002")
    first = in_the_menu(acme, acme.phone("1003"))
    first.press("3")
    acme.advance(1.0)
    second = in_the_menu(acme, acme.phone("1004"))
    second.press("3")
    acme.advance(1.0)
    return bjorn, first, second


def test_the_console_lists_the_queued_callers_and_answers_the_second(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    bjorn, first, second = two_queued(acme)
    listed = shown(acme)
    assert [(c.state, c.caller, c.where) for c in listed] == [
        ("queued", "1003", "queue"),
        ("queued", "1004", "queue"),
    ]
    assert all(c.answerable for c in listed) and listed[0].waited > listed[1].waited
    outcome = answer(acme, listed[1].call_id)
    assert outcome[0] == "ok"
    invite = anna.ringing()
    assert invite is not None and "1004" in (invite.headers.get("From") or "")  # who calls
    assert [c.state for c in shown(acme)] == ["queued", "queued"]  # (until she answers)
    anna.pick_up()
    acme.advance(0.2)
    assert hear_each_other(acme, anna, second)
    assert not one_way(acme, anna, first)
    listed = shown(acme)
    assert [(c.state, c.caller) for c in listed] == [("queued", "1003"), ("talking", "1004")]
    assert bjorn.ringing() is not None  # the first caller still rings the member
    second.hang_up()
    acme.advance(0.5)
    [visit] = visits(acme)  # the second caller's visit: answered by the operator
    assert (visit.caller, visit.outcome, visit.answered_by) == ("1004", "answered", "1001")


def test_the_console_takes_the_first_caller_while_the_member_rings(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    bjorn, first, _ = two_queued(acme)
    assert bjorn.ringing() is not None
    assert answer(acme, shown(acme)[0].call_id)[0] == "ok"
    anna.pick_up()
    acme.advance(0.2)
    assert hear_each_other(acme, anna, first)
    cancels = bjorn.requests("CANCEL")
    assert cancels and "completed elsewhere" in (cancels[-1].headers.get("Reason") or "")


def test_a_call_ringing_a_colleague_is_shown_and_answered(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = acme.phone("1001"), acme.phone("1002"), acme.phone("1003")
    cecilia.dial("1002")
    acme.advance(1.0)
    [ringing] = shown(acme)
    assert (ringing.state, ringing.caller, ringing.where) == ("ringing", "1003", "1002")
    assert ringing.answerable
    assert answer(acme, ringing.call_id)[0] == "ok"
    anna.pick_up()
    acme.advance(0.2)
    assert hear_each_other(acme, anna, cecilia)
    assert bjorn.requests("CANCEL")


def test_the_operators_phone_stops_when_the_caller_hangs_up_first(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    _, _, second = two_queued(acme)
    assert answer(acme, shown(acme)[1].call_id)[0] == "ok"
    assert anna.ringing() is not None
    second.hang_up()
    acme.advance(1.0)
    cancels = anna.requests("CANCEL")
    assert cancels and "completed elsewhere" in (cancels[-1].headers.get("Reason") or "")
    assert [c.caller for c in shown(acme)] == ["1003"]


def test_answer_refuses_what_it_cannot_take(acme: MemorySwitch) -> None:
    acme.phone("1002")
    assert console.answer(acme.core.calls, company(acme), "1001", "nope") == (
        "refused",
        (404, "no such call"),
    )
    cecilia = acme.phone("1003")
    cecilia.dial("1002")
    acme.advance(0.5)
    [ringing] = shown(acme)
    refused = console.answer(acme.core.calls, company(acme), "1001", ringing.call_id)
    assert refused[0] == "refused" and refused[1][0] == 409  # type: ignore[index]
    assert "registered" in str(refused[1])  # Anna has no phone


def test_an_announced_transfer_from_the_console(acme: MemorySwitch) -> None:
    """Anna takes Dan's queued call, asks Cecilia first (Dan hears music), then hands
    Dan over: Dan and Cecilia talk, Anna is free."""
    anna = acme.phone("1001")
    bjorn = acme.phone("1002")
    bjorn.dial("*46")  # logged out of the queue: nobody rings for its callers
    acme.advance(0.5)
    dan = in_the_menu(acme, acme.phone("1004"))
    dan.press("3")
    acme.advance(1.0)
    [queued] = shown(acme)
    answer(acme, queued.call_id)
    anna.pick_up()
    acme.advance(0.2)
    cecilia = acme.phone("1003")
    outcome = console.ask_first(company(acme), "1001", queued.call_id, "1003")
    acme.run()
    assert outcome[0] == "ok"
    assert cecilia.ringing() is not None
    [consulting] = shown(acme)
    assert (consulting.state, consulting.caller, consulting.where) == ("consulting", "1004", "1003")
    cecilia.pick_up()
    acme.advance(1.0)
    assert contains(dan.heard(), acme.system("music")[:4000])
    assert hear_each_other(acme, anna, cecilia)
    assert not one_way(acme, anna, dan)
    assert console.complete(company(acme), "1001", queued.call_id)[0] == "ok"
    acme.advance(0.2)
    assert anna.requests("BYE")
    assert hear_each_other(acme, dan, cecilia)
    assert shown(acme) == []  # not Anna's call any more, and nobody waits
    assert console.complete(company(acme), "1001", queued.call_id)[0] == "refused"


def test_back_to_the_caller_ends_the_consultation(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    _, first, _ = two_queued(acme)
    answer(acme, shown(acme)[0].call_id)
    anna.pick_up()
    acme.advance(0.2)
    call_id = next(c.call_id for c in shown(acme) if c.state == "talking")
    dan_phone_is_busy = console.ask_first(company(acme), "1001", call_id, "1004")
    assert dan_phone_is_busy[0] == "ok"  # (Dan waits in the queue: call waiting rings him)
    assert console.back(company(acme), "1001", call_id)[0] == "ok"
    acme.advance(0.2)
    assert hear_each_other(acme, anna, first)
    assert console.ask_first(company(acme), "1002", call_id, "1004")[0] == "refused"


def test_several_calls_at_once_park_one_answer_the_next_retrieve_it(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    """Anna takes the first queued caller and parks them (the park extension, as the
    console's Park does), the console shows them parked on 701; she answers the second,
    then, that call over, retrieves the first from 701 (a click-to-call to the orbit)."""
    acme = acme_as(description=with_park())
    anna = acme.phone("1001")
    _, first, second = two_queued(acme)
    answer(acme, shown(acme)[0].call_id)
    anna.pick_up()
    acme.advance(0.2)
    mine = next(c for c in shown(acme) if c.state == "talking")
    done = acme.core.calls.transfer_call(1, mine.call_id, "1001", "1001", False, "700")
    assert not isinstance(done, Cause), done
    acme.advance(3.0)  # "parked on 7 0 1" to Anna, then her leg ends
    assert contains(first.heard(), acme.system("music")[:4000])
    states = [(c.state, c.caller, c.where) for c in shown(acme)]
    assert states == [("queued", "1004", "queue"), ("parked", "1003", "701")]
    answer(acme, shown(acme)[0].call_id)
    anna.pick_up()
    acme.advance(0.2)
    assert hear_each_other(acme, anna, second)
    second.hang_up()
    acme.advance(0.5)
    CallPlacer(acme.core.calls, acme.core.directory, CompanyDialplan(acme.core.directory),
               acme.core.authenticator.lookup).call(1, DOMAIN, "1001", "701")  # fmt: skip
    acme.run()
    assert anna.ringing() is not None
    anna.pick_up()
    acme.advance(0.5)
    assert hear_each_other(acme, anna, first)
    assert shown(acme)[0].state == "talking" and shown(acme)[0].caller == "1003"
