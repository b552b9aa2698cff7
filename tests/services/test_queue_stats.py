"""S9, A10: queue visits stored, and the figures of a queue report, from fixed rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vaxel.services import Invalid, NotFound
from vaxel.services.call_records import NewCallRecord, write_record
from vaxel.services.companies import CompanyInfo, add_company
from vaxel.services.queue_stats import (
    NewQueueVisit,
    VisitFacts,
    figures,
    percentile,
    period,
    report,
    write_visit,
)
from vaxel.store import Store

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday, 10:00 in Stockholm
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def acme(store: Store) -> CompanyInfo:
    return add_company(store, "acme.example", "Acme AB")


def visit(company: CompanyInfo, outcome: str, wait: float, **changes: object) -> NewQueueVisit:
    entered = changes.pop("entered_at", T0)
    assert isinstance(entered, datetime)
    answered = entered + timedelta(seconds=wait) if outcome == "answered" else None
    fields: dict[str, object] = {
        "company_id": company.id, "group": "support", "call_id": f"call-{wait}-{outcome}",
        "caller": "+46701740605", "entered_at": entered,
        "left_at": entered + timedelta(seconds=wait), "outcome": outcome,
        "answered_at": answered, "answered_by": "1002" if answered else "",
    }  # fmt: skip
    fields.update(changes)
    return NewQueueVisit(**fields)  # type: ignore[arg-type]


def facts(outcome: str, wait: float, group: str = "support", at: float = 0.0) -> VisitFacts:
    return VisitFacts(group, outcome, T0 + timedelta(seconds=at), wait)


def test_percentile_is_the_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([float(n) for n in range(10, 0, -1)], 0.9) == 9.0  # 9 of 10 at or below
    assert percentile([float(n) for n in range(1, 21)], 0.9) == 18.0
    assert percentile([1.0, 2.0, 3.0, 100.0], 0.9) == 100.0


def test_figures_of_a_fixed_set_of_visits() -> None:
    rows = [
        facts("answered", 5.0, at=0), facts("answered", 15.0, at=60),
        facts("answered", 25.0, at=120), facts("answered", 40.0, at=180),
        facts("abandoned", 30.0, at=10), facts("abandoned", 90.0, at=20),
        facts("timeout", 120.0, at=30), facts("overflow", 0.0, at=40),
        facts("answered", 1.0, group="sales"),
    ]  # fmt: skip
    sales, support = figures(rows, service_level=20)
    assert (sales.group, sales.offered, sales.answered, sales.service_level) == (
        "sales", 1, 1, 100.0,
    )  # fmt: skip
    assert support.group == "support"
    assert (support.offered, support.answered, support.abandoned) == (8, 4, 2)
    assert (support.overflowed, support.timed_out, support.ended) == (2, 1, 0)
    assert (support.abandoned_wait_average, support.abandoned_wait_max) == (60.0, 90.0)
    assert support.wait_average == 21.25
    assert support.wait_p90 == 40.0
    assert support.wait_latest == 40.0  # the call answered last (entered at 180 s)
    assert support.service_level == 25.0  # 2 of 8 offered answered within 20 s
    assert support.handling_average is None  # no call records


def test_figures_without_answers_say_none_rather_than_zero() -> None:
    [only] = figures([facts("abandoned", 12.0)], service_level=20)
    assert (only.wait_average, only.wait_p90, only.wait_latest) == (None, None, None)
    assert only.service_level == 0.0
    assert figures([], service_level=20) == []


def test_a_period_is_read_in_the_company_zone() -> None:
    now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    since, until = period(STOCKHOLM, "2026-12-01", "2026-12-07", now)
    assert since == datetime(2026, 12, 1, tzinfo=STOCKHOLM)
    assert until == datetime(2026, 12, 8, tzinfo=STOCKHOLM)  # the last day is in
    since, until = period(STOCKHOLM, "2026-12-07T08:00", "2026-12-07T10:00+00:00", now)
    assert since == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert until == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    since, until = period(STOCKHOLM, None, None, now)  # today so far
    assert (since, until) == (datetime(2026, 12, 7, tzinfo=STOCKHOLM), now)


@pytest.mark.parametrize(
    ("start", "end", "says"),
    [
        ("yesterday", None, "from: give a date"),
        ("2026-12-07", "2026-13-01", "to: give a date"),
        ("2026-12-07", "2026-12-06", "to must be after from"),
        ("2025-01-01", "2026-12-07", "at most 366 days"),
    ],
)
def test_a_bad_period_is_refused(start: str, end: str | None, says: str) -> None:
    with pytest.raises(Invalid, match=says):
        period(STOCKHOLM, start, end, datetime(2026, 12, 7, 15, 0, tzinfo=UTC))


def test_visits_stored_give_a_report_with_handling_times_from_the_call_records(
    store: Store, acme: CompanyInfo
) -> None:
    other = add_company(store, "other.example", "Other AB")
    answered = visit(acme, "answered", 12.0, call_id="abc@phone")
    for one in (answered, visit(acme, "abandoned", 30.0), visit(acme, "timeout", 60.0)):
        write_visit(store, one)
    write_visit(store, visit(acme, "answered", 3.0, group="sales"))
    write_visit(store, visit(other, "abandoned", 5.0))  # another company's: never counted
    write_visit(store, visit(acme, "abandoned", 5.0, entered_at=T0 - timedelta(days=1)))
    assert answered.answered_at is not None
    write_record(store, NewCallRecord(
        company_id=acme.id, call_id="abc@phone", caller="+46701740605", callee="+4681234",
        started_at=T0 - timedelta(seconds=4), answered_at=T0,  # the queue's own answer
        ended_at=answered.answered_at + timedelta(seconds=100), disposition="answered",
        hangup_side="caller", cause_code=200,
    ))  # fmt: skip
    since, until = T0 - timedelta(hours=1), T0 + timedelta(hours=1)
    found = report(store, "acme.example", since, until, zone=STOCKHOLM)
    assert found.since.tzinfo == STOCKHOLM
    sales, support = found.groups
    assert (support.offered, support.answered, support.abandoned, support.overflowed) == (
        3, 1, 1, 1,
    )  # fmt: skip
    assert support.wait_average == 12.0
    assert support.handling_average == 100.0  # from the member's answer, not the queue's
    assert sales.handling_average is None  # its call has no record (yet)
    only = report(store, "acme.example", since, until, group="sales", zone=STOCKHOLM)
    assert [g.group for g in only.groups] == ["sales"]
    with pytest.raises(Invalid, match="service_level"):
        report(store, "acme.example", since, until, service_level=-1, zone=STOCKHOLM)
    with pytest.raises(NotFound):
        report(store, "nobody.example", since, until, zone=STOCKHOLM)


def test_a_visit_the_switch_should_never_build_is_refused(store: Store, acme: CompanyInfo) -> None:
    with pytest.raises(Invalid, match="outcome"):
        write_visit(store, visit(acme, "lost", 3.0))
    with pytest.raises(Invalid, match="timezone-aware"):
        write_visit(store, visit(acme, "abandoned", 3.0, entered_at=datetime(2026, 12, 7)))
    with pytest.raises(NotFound):
        write_visit(store, visit(acme, "abandoned", 3.0, company_id=acme.id + 1000))
