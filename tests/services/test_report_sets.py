"""S9, A10: saved report sets: relative periods, the schedule's periods, mailed once per
period (claimed before sending), kept per company, checked on the way in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from vaxel.services import Conflict, Invalid, NotFound, report_sets
from vaxel.services.companies import add_company
from vaxel.services.report_sets import SetRequest
from vaxel.store import Store

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 9, 13, 30, tzinfo=UTC)  # Wednesday 14:30 in Stockholm


def local(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(STOCKHOLM).isoformat()


@pytest.mark.parametrize(
    ("period", "since", "until"),
    [
        ("today", "2026-12-09T00:00:00+01:00", NOW.astimezone(STOCKHOLM).isoformat()),
        ("yesterday", "2026-12-08T00:00:00+01:00", "2026-12-09T00:00:00+01:00"),
        ("last-week", "2026-11-30T00:00:00+01:00", "2026-12-07T00:00:00+01:00"),
        ("this-week", "2026-12-07T00:00:00+01:00", NOW.astimezone(STOCKHOLM).isoformat()),
        ("last-month", "2026-11-01T00:00:00+01:00", "2026-12-01T00:00:00+01:00"),
        ("last-7-days", "2026-12-02T00:00:00+01:00", "2026-12-09T00:00:00+01:00"),
    ],
)
def test_relative_periods_in_the_companys_zone(period: str, since: str, until: str) -> None:
    start, end = report_sets.resolve(period, STOCKHOLM, NOW)  # type: ignore[arg-type]
    assert (local(start.isoformat()), local(end.isoformat())) == (since, until)


def test_last_month_across_the_year_and_summer_time() -> None:
    january = datetime(2027, 1, 2, 12, tzinfo=UTC)
    since, until = report_sets.resolve("last-month", STOCKHOLM, january)
    assert (since.isoformat(), until.isoformat()) == (
        "2026-12-01T00:00:00+01:00", "2027-01-01T00:00:00+01:00",
    )  # fmt: skip
    april = datetime(2027, 4, 1, 12, tzinfo=UTC)  # March has 31 days, and summer time
    since, until = report_sets.resolve("last-month", STOCKHOLM, april)
    assert until.astimezone(UTC) - since.astimezone(UTC) == timedelta(days=31, hours=-1)


def test_a_schedule_is_due_once_in_each_of_its_periods() -> None:
    monday = datetime(2026, 12, 7, tzinfo=STOCKHOLM)
    assert report_sets.due_period("", STOCKHOLM, NOW, None) is None
    assert report_sets.due_period("weekly", STOCKHOLM, NOW, None) == monday
    assert report_sets.due_period("weekly", STOCKHOLM, NOW, monday) is None
    assert report_sets.due_period("weekly", STOCKHOLM, NOW + timedelta(days=5), monday) == (
        monday + timedelta(days=7)
    )
    assert report_sets.due_period("daily", STOCKHOLM, NOW, monday) == datetime(
        2026, 12, 9, tzinfo=STOCKHOLM
    )
    assert report_sets.due_period("monthly", STOCKHOLM, NOW, None) == datetime(
        2026, 12, 1, tzinfo=STOCKHOLM
    )


def weekly(name: str = "Kundtjänst veckovis", **changes: object) -> SetRequest:
    fields: dict[str, object] = {
        "name": name, "reports": ["queues", "agents"], "period": "last-week",
        "group": "support", "schedule": "weekly", "emails": ["chef@acme.example"],
    }  # fmt: skip
    fields.update(changes)
    return SetRequest.model_validate(fields)


def test_sets_are_kept_per_company_and_mailed_once_per_period(store: Store) -> None:
    acme = add_company(store, "acme.example", "Acme AB").id
    other = add_company(store, "other.example", "Other AB").id
    made = report_sets.create(store, acme, weekly(), STOCKHOLM, NOW)
    assert made.definition.reports == ["queues", "agents"]
    assert made.mailed_for == datetime(2026, 12, 7, tzinfo=STOCKHOLM)  # first: next Monday
    with pytest.raises(Conflict):
        report_sets.create(store, acme, weekly(), STOCKHOLM, NOW)
    report_sets.create(store, other, weekly(), STOCKHOLM, NOW)  # the same name elsewhere
    with pytest.raises(NotFound):
        report_sets.get(store, other, made.id)
    with pytest.raises(NotFound):
        report_sets.delete(store, other, made.id)
    zones = {acme: STOCKHOLM}
    assert report_sets.claim_due(store, NOW, zones) == []
    next_monday = datetime(2026, 12, 14, 0, 5, tzinfo=STOCKHOLM)
    (due,) = report_sets.claim_due(store, next_monday, zones)  # other's: no zone given
    assert due.id == made.id
    assert report_sets.claim_due(store, next_monday, zones) == []  # claimed: never twice
    assert report_sets.scheduled_companies(store) == {acme: "acme.example", other: "other.example"}
    renamed = report_sets.replace(store, acme, made.id, weekly("Ledning"), STOCKHOLM, NOW)
    assert (renamed.name, renamed.mailed_for) == ("Ledning", due.mailed_for)  # schedule kept
    report_sets.delete(store, acme, made.id)
    assert report_sets.list_sets(store, acme) == []


def test_bad_sets_are_refused(store: Store) -> None:
    acme = add_company(store, "acme.example", "Acme AB").id
    with pytest.raises(Invalid):
        report_sets.create(store, acme, weekly(emails=[]), STOCKHOLM, NOW)
    for bad in ({"reports": []}, {"reports": ["cdr"]}, {"emails": ["not an address"]},
                {"name": "two\nlines"}, {"period": "fortnight"}, {"number": "abc"},
                {"user": "x1"}, {"schedule": "hourly"}, {"service_level": 5000}):  # fmt: skip
        with pytest.raises(ValidationError):
            weekly(**bad)
