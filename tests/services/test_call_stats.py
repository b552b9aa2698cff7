"""S9, A10: calls per agent, per number and over time, from a scripted set of call records
and queue visits; a transferred call counts once; the figures agree to the call on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vaxel.services import Invalid, call_stats, queue_stats
from vaxel.services.call_records import NewCallRecord, write_record
from vaxel.services.companies import add_company, get_company
from vaxel.services.queue_stats import NewQueueVisit, write_visit
from vaxel.services.users import add_user
from vaxel.store import Store

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday 10:00 in Stockholm
STOCKHOLM = ZoneInfo("Europe/Stockholm")
MAIN = "+46812345600"


def _record(store: Store, domain: str, n: int, caller: str, callee: str, *, at: timedelta,
            answered_after: float | None, talk: float, by: str = "",
            disposition: str = "answered") -> str:  # fmt: skip
    started = T0 + at
    answered = started + timedelta(seconds=answered_after) if answered_after is not None else None
    ended = (answered or started) + timedelta(seconds=talk if answered else 20)
    write_record(store, NewCallRecord(
        company_id=get_company(store, domain).id, call_id=f"{domain}-{n}", caller=caller,
        callee=callee, started_at=started, answered_at=answered, ended_at=ended,
        disposition=disposition if answered is None else "answered", hangup_side="caller",
        cause_code=200 if answered else 480, answered_by=by,
    ))  # fmt: skip
    return f"{domain}-{n}"


def _visit(store: Store, domain: str, call_id: str, *, at: timedelta, outcome: str,
           wait: float, by: str = "", group: str = "support") -> None:  # fmt: skip
    entered = T0 + at
    answered = entered + timedelta(seconds=wait) if outcome == "answered" else None
    write_visit(store, NewQueueVisit(
        company_id=get_company(store, domain).id, group=group, call_id=call_id,
        caller="+46701111111", entered_at=entered, left_at=entered + timedelta(seconds=wait),
        outcome=outcome, answered_at=answered, answered_by=by,
    ))  # fmt: skip


def script(store: Store, domain: str = "acme.example", group: str = "support") -> None:
    """The scripted calls (times from Monday 10:00 in Stockholm):

    1. +46701111111 calls the main number, waits 8 s in support, Bo (1002) talks 60 s.
    2. +46701111112 calls the main number and hangs up in the queue after 30 s.
    3. +46701111113 calls Cia (1003) directly; she does not answer.
    4. +46701111114 calls the main number, Bo answers from the queue and transfers the
       call blindly to Cia, who talks with them until 120 s after Bo's answer: one record.
    5. Anna (1001) calls +46702222222 on Tuesday, 30 s.
    6. Bo calls +46703333333: busy.
    7. Anna calls Bo, 20 s.
    """
    hour = timedelta(hours=1)
    one = _record(store, domain, 1, "+46701111111", MAIN, at=timedelta(0), answered_after=2,
                  talk=68, by="1002")  # fmt: skip
    _visit(store, domain, one, at=timedelta(seconds=2), outcome="answered", wait=8, by="1002",
           group=group)  # fmt: skip
    two = _record(store, domain, 2, "+46701111112", MAIN, at=10 * timedelta(minutes=1),
                  answered_after=2, talk=30, by="support")  # fmt: skip
    _visit(store, domain, two, at=10 * timedelta(minutes=1, seconds=0.2), outcome="abandoned",
           wait=30, group=group)  # fmt: skip
    _record(store, domain, 3, "+46701111113", "1003", at=20 * timedelta(minutes=1),
            answered_after=None, talk=0, disposition="no-answer")  # fmt: skip
    # The queue answers call 4 at 1 s, Bo at 6 s; the call ends 120 s after that.
    four = _record(store, domain, 4, "+46701111114", "1003", at=hour, answered_after=1,
                   talk=125, by="1003")  # fmt: skip
    _visit(store, domain, four, at=hour + timedelta(seconds=1), outcome="answered", wait=5,
           by="1002", group=group)  # fmt: skip
    _record(store, domain, 5, "1001", "+46702222222", at=timedelta(days=1), answered_after=5,
            talk=30)  # fmt: skip
    _record(store, domain, 6, "1002", "+46703333333", at=2 * hour, answered_after=None,
            talk=0, disposition="busy")  # fmt: skip
    _record(store, domain, 7, "1001", "1002", at=3 * hour, answered_after=3, talk=20, by="1002")


@pytest.fixture
def acme(store: Store) -> Store:
    add_company(store, "acme.example", "Acme AB")
    add_company(store, "other.example", "Other AB")
    for ext, name in (("1001", "Anna"), ("1002", "Bo"), ("1003", "Cia")):
        add_user(store, "acme.example", ext, name, "secret-password-1")
    add_user(store, "other.example", "1002", "Olle", "secret-password-1")
    script(store)
    _record(store, "other.example", 9, "+46709999999", "1002", at=timedelta(0),
            answered_after=1, talk=500, by="1002")  # fmt: skip
    return store


def facts(store: Store, days: int = 2) -> list[call_stats.CallFacts]:
    return call_stats.calls(store, "acme.example", T0 - timedelta(hours=10),
                            T0 + timedelta(days=days))  # fmt: skip


def test_each_agents_calls_with_a_transferred_call_counted_once(acme: Store) -> None:
    scope = call_stats.scope(acme, "acme.example")
    anna, bo, cia = call_stats.agent_figures(facts(acme), scope)
    assert anna == call_stats.AgentFigures(
        ext="1001", name="Anna", inbound=0, inbound_answered=0, missed=0, outbound=2,
        outbound_answered=2, talk_seconds=50.0,
    )  # fmt: skip
    assert (bo.inbound, bo.inbound_answered, bo.missed) == (2, 2, 0)  # calls 1 and 7
    assert (bo.outbound, bo.outbound_answered, bo.talk_seconds) == (1, 0, 80.0)
    # Call 4 is Cia's (she had it at its end), its talk from Bo's answer in the queue.
    assert (cia.inbound, cia.inbound_answered, cia.missed, cia.talk_seconds) == (2, 1, 1, 120.0)
    total = call_stats.totals(facts(acme), scope)
    assert total == call_stats.Totals(
        calls=7, inbound=4, inbound_answered=2, missed=2, outbound=3, outbound_answered=2,
        talk_seconds=230.0,
    )  # fmt: skip
    answered = sum(a.inbound_answered + a.outbound_answered for a in (anna, bo, cia))
    # Calls 1, 4, 5 and 7 were answered; 7 is Anna's outbound and Bo's inbound: two sides.
    assert answered == 5


def test_a_group_reports_its_members_and_the_calls_that_came_through_it(acme: Store) -> None:
    scope = call_stats.scope(acme, "acme.example", group="support", members=["1002", "1003"])
    bo, cia = call_stats.agent_figures(facts(acme), scope)
    assert (bo.inbound, bo.inbound_answered, bo.outbound) == (1, 1, 1)  # not Anna's call 7
    assert (cia.inbound, cia.missed) == (1, 0)  # not call 3, dialled to her
    total = call_stats.totals(facts(acme), scope)
    assert (total.inbound, total.inbound_answered, total.missed) == (3, 2, 1)
    assert (total.outbound, total.talk_seconds) == (1, 180.0)
    queues = queue_stats.report(acme, "acme.example", T0 - timedelta(hours=1),
                                T0 + timedelta(days=1), zone=STOCKHOLM)  # fmt: skip
    (support,) = queues.groups
    assert (support.offered, support.answered, support.abandoned) == (3, 2, 1)


def test_a_user_or_a_number_narrows_the_report(acme: Store) -> None:
    scope = call_stats.scope(acme, "acme.example", user="1002")
    (bo,) = call_stats.agent_figures(facts(acme), scope)
    assert (bo.inbound, bo.outbound) == (2, 1)
    assert call_stats.totals(facts(acme), scope).calls == 3
    by_number = call_stats.scope(acme, "acme.example", number="0370-2222 22")
    assert call_stats.totals(facts(acme), by_number).calls == 0  # digits as given: none
    by_number = call_stats.scope(acme, "acme.example", number="46702222222")
    assert call_stats.totals(facts(acme), by_number).outbound == 1
    with pytest.raises(Invalid):
        call_stats.scope(acme, "acme.example", user="1999")
    with pytest.raises(Invalid):
        call_stats.scope(acme, "acme.example", number="abc")


def test_inbound_calls_from_outside_per_number(acme: Store) -> None:
    numbers = call_stats.number_figures(facts(acme), call_stats.scope(acme, "acme.example"))
    assert numbers == [
        call_stats.NumberFigures("+46812345600", calls=2, answered=1, missed=1, talk_seconds=60),
        call_stats.NumberFigures("1003", calls=2, answered=1, missed=1, talk_seconds=120),
    ]


def test_the_calls_by_hour_day_and_week_in_the_companys_zone(acme: Store) -> None:
    since = datetime(2026, 12, 7, tzinfo=STOCKHOLM)
    until = datetime(2026, 12, 9, tzinfo=STOCKHOLM)
    scope = call_stats.scope(acme, "acme.example")
    monday, tuesday = call_stats.series(facts(acme), scope, STOCKHOLM, since, until, "day")
    assert monday.start.isoformat() == "2026-12-07T00:00:00+01:00"
    assert (monday.inbound, monday.inbound_answered, monday.missed) == (4, 2, 2)
    assert (monday.outbound, monday.outbound_answered, monday.talk_seconds) == (2, 1, 200.0)
    assert (tuesday.inbound, tuesday.outbound, tuesday.talk_seconds) == (0, 1, 30.0)
    hours = call_stats.series(facts(acme), scope, STOCKHOLM, since, until, "hour")
    assert len(hours) == 48
    busy = {b.start.hour: b.inbound + b.outbound for b in hours[:24] if b.inbound + b.outbound}
    assert busy == {10: 3, 11: 1, 12: 1, 13: 1}
    (week,) = call_stats.series(facts(acme), scope, STOCKHOLM, since, until, "week")
    assert (week.start.isoformat(), week.inbound + week.outbound) == ("2026-12-07T00:00:00+01:00",
                                                                     7)  # fmt: skip
    with pytest.raises(Invalid):
        call_stats.series([], scope, STOCKHOLM, since, since + timedelta(days=60), "hour")


def test_another_companys_calls_never_count(acme: Store) -> None:
    other = call_stats.calls(acme, "other.example", T0 - timedelta(hours=1), T0 + timedelta(1))
    assert [call.talk_seconds for call in other] == [500.0]
    assert all(call.talk_seconds != 500.0 for call in facts(acme))
