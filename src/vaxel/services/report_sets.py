"""Saved statistics report sets (S9, A10): a company's named sets of reports for an
audience ("Kundtjänst veckovis", "Ledning månadsvis"), each with its filters, its period
and, when mailed, its schedule and addresses.

A set's period is relative ("last-week"), so it means the same each time it is run or
mailed. A mailed set goes out once per schedule period (day, ISO week, month of the
company's zone), just after it begins: `due_period` is the pure core, and `claim_due`
writes the period to the row (`mailed_for`) before anything is sent, so a restarted
switch never mails a period twice (as meeting reminders do, services/meetings.py). A set
made or rescheduled now is first mailed at the next period's start, not at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vaxel.services.errors import Conflict, Invalid, NotFound
from vaxel.services.notify import mail_addresses
from vaxel.store import Store
from vaxel.store.models import Company, ReportSet

ReportKind = Literal["queues", "agents", "numbers", "series"]
Period = Literal[
    "today", "yesterday", "this-week", "last-week", "this-month", "last-month",
    "last-7-days", "last-30-days",
]  # fmt: skip
Schedule = Literal["", "daily", "weekly", "monthly"]  # models.REPORT_SCHEDULES
MAX_SETS = 100  # per company
MAX_ADDRESSES = 20

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Definition(BaseModel):
    """Which reports a set holds and how they are filtered."""

    model_config = ConfigDict(extra="forbid")

    reports: Annotated[list[ReportKind], Field(min_length=1, max_length=4)]
    period: Period = "yesterday"
    interval: Literal["hour", "day", "week"] = "day"  # of the series report
    user: Annotated[str | None, Field(pattern=r"^[0-9]{2,8}$")] = None
    group: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    number: Annotated[str | None, Field(min_length=1, max_length=32)] = None
    service_level: Annotated[int, Field(ge=0, le=3600)] = 20

    @field_validator("reports")
    @classmethod
    def _once_each(cls, values: list[ReportKind]) -> list[ReportKind]:
        return list(dict.fromkeys(values))

    @field_validator("number")
    @classmethod
    def _digits(cls, value: str | None) -> str | None:
        if value is not None and not any(ch.isdigit() for ch in value):
            raise ValueError("give some digits")
        return value


class SetRequest(Definition):
    """A set as an admin writes it."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    schedule: Schedule = ""
    emails: Annotated[list[str], Field(max_length=MAX_ADDRESSES)] = []

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value or _CONTROL.search(value):
            raise ValueError("a name is one line of text")
        return value

    @field_validator("emails")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        return mail_addresses(values)

    def definition(self) -> Definition:
        return Definition(**{name: getattr(self, name) for name in Definition.model_fields})


@dataclass(frozen=True, slots=True)
class SavedSet:
    id: int
    company_id: int
    name: str
    definition: Definition
    schedule: str
    emails: list[str]
    mailed_for: datetime | None


def _saved(row: ReportSet) -> SavedSet:
    try:
        definition = Definition.model_validate_json(row.definition)
    except ValidationError:  # written by this module: never; keep the set readable
        definition = Definition(reports=["queues"])
    return SavedSet(
        row.id, row.company_id, row.name, definition, row.schedule, json.loads(row.emails),
        row.mailed_for,
    )  # fmt: skip


# -- periods (pure) -----------------------------------------------------------------------


def _midnight(zone: ZoneInfo, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _previous_month(day: date) -> date:
    return _month_start(_month_start(day) - timedelta(days=1))


def resolve(period: Period, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """The instants [since, until) a relative period names at `now`, in the company's zone:
    whole days, ISO weeks (Monday first) and months; "today", "this-week" and "this-month"
    end at `now`."""
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    if period == "today":
        return _midnight(zone, today), now
    if period == "yesterday":
        return _midnight(zone, today - timedelta(days=1)), _midnight(zone, today)
    if period == "this-week":
        return _midnight(zone, monday), now
    if period == "last-week":
        return _midnight(zone, monday - timedelta(days=7)), _midnight(zone, monday)
    if period == "this-month":
        return _midnight(zone, _month_start(today)), now
    if period == "last-month":
        return _midnight(zone, _previous_month(today)), _midnight(zone, _month_start(today))
    days = 7 if period == "last-7-days" else 30
    return _midnight(zone, today - timedelta(days=days)), _midnight(zone, today)


def period_start(schedule: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The start of the schedule period (day, ISO week, month) `now` is in; None unmailed."""
    today = now.astimezone(zone).date()
    if schedule == "daily":
        return _midnight(zone, today)
    if schedule == "weekly":
        return _midnight(zone, today - timedelta(days=today.weekday()))
    if schedule == "monthly":
        return _midnight(zone, _month_start(today))
    return None


def due_period(
    schedule: str, zone: ZoneInfo, now: datetime, mailed_for: datetime | None
) -> datetime | None:
    """The schedule period to mail at `now` (its start), or None: nothing is due (no
    schedule, or this period was mailed already)."""
    start = period_start(schedule, zone, now)
    if start is None or (mailed_for is not None and mailed_for >= start):
        return None
    return start


# -- the sets -----------------------------------------------------------------------------


def _values(request: SetRequest, zone: ZoneInfo, now: datetime) -> dict[str, object]:
    if request.schedule and not request.emails:
        raise Invalid("a mailed set needs at least one address in emails")
    return {
        "name": request.name,
        "definition": request.definition().model_dump_json(),
        "schedule": request.schedule,
        "emails": json.dumps(request.emails),
        "mailed_for": period_start(request.schedule, zone, now),  # first mail: next period
    }


def create(
    store: Store, company_id: int, request: SetRequest, zone: ZoneInfo, now: datetime
) -> SavedSet:
    """Save a new set; raises Conflict (the name is taken, or too many sets), Invalid."""
    values = _values(request, zone, now)
    try:
        with store.session() as session:
            count = session.query(ReportSet).filter(ReportSet.company_id == company_id).count()
            if count >= MAX_SETS:
                raise Conflict(f"a company keeps at most {MAX_SETS} report sets")
            row = ReportSet(company_id=company_id, **values)
            session.add(row)
            session.flush()
            return _saved(row)
    except IntegrityError:
        raise Conflict(f"there is a report set named {request.name!r} already") from None


def list_sets(store: Store, company_id: int) -> list[SavedSet]:
    query = select(ReportSet).where(ReportSet.company_id == company_id).order_by(ReportSet.name)
    with store.session(read_only=True) as session:
        return [_saved(row) for row in session.scalars(query)]


def _row(session: Session, company_id: int, set_id: int) -> ReportSet:
    row = session.get(ReportSet, set_id)
    if row is None or row.company_id != company_id:  # another company's: as if none
        raise NotFound(f"no report set {set_id}")
    return row


def get(store: Store, company_id: int, set_id: int) -> SavedSet:
    with store.session(read_only=True) as session:
        return _saved(_row(session, company_id, set_id))


def replace(
    store: Store, company_id: int, set_id: int, request: SetRequest, zone: ZoneInfo,
    now: datetime,
) -> SavedSet:  # fmt: skip
    """Replace a set whole; its mail period is kept unless the schedule changed."""
    values = _values(request, zone, now)
    try:
        with store.session() as session:
            row = _row(session, company_id, set_id)
            if row.schedule == request.schedule:
                values.pop("mailed_for")
            for name, value in values.items():
                setattr(row, name, value)
            session.flush()
            return _saved(row)
    except IntegrityError:
        raise Conflict(f"there is a report set named {request.name!r} already") from None


def delete(store: Store, company_id: int, set_id: int) -> None:
    with store.session() as session:
        session.delete(_row(session, company_id, set_id))


def scheduled_companies(store: Store) -> dict[int, str]:
    """The companies (id -> domain) with a mailed set: the ones `claim_due` looks at."""
    query = (
        select(Company.id, Company.domain)
        .join(ReportSet, ReportSet.company_id == Company.id)
        .where(ReportSet.schedule != "")
        .distinct()
    )
    with store.session(read_only=True) as session:
        return {company_id: domain for company_id, domain in session.execute(query)}


def claim_due(store: Store, now: datetime, zones: dict[int, ZoneInfo]) -> list[SavedSet]:
    """The mailed sets due at `now`, each marked as mailed for its period (committed)
    before anything is sent: at most once per period, even across a restart. `zones`: each
    company's time zone (a company missing there is skipped)."""
    query = select(ReportSet).where(ReportSet.schedule != "")
    due: list[SavedSet] = []
    with store.session() as session:
        for row in session.scalars(query):
            zone = zones.get(row.company_id)
            if zone is None:
                continue
            start = due_period(row.schedule, zone, now, row.mailed_for)
            if start is not None:
                row.mailed_for = start
                due.append(_saved(row))
    return due
