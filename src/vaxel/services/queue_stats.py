"""Queue statistics (S9, A10): every call's visit to an answering group, and reports on them.

The switch reports one `NewQueueVisit` per call offered to a group (queued or not) when the
visit ends, and `write_visit` stores it on the database thread: one small row, no lookups.
A report reads a company's visits of a period back and counts them per group: offered,
answered, abandoned (with how long those callers waited), overflowed, the waits of answered
calls, the service level and the handling time. The handling time comes from the call's
record (CDR, joined by Call-ID): from the member's answer to the call's end. It is not the
CDR's own duration, which for a queued call counts from the queue's answer and so holds the
wait too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vaxel.services.companies import get_company
from vaxel.services.errors import Invalid, NotFound
from vaxel.store import Store
from vaxel.store.models import QUEUE_OUTCOMES, CallRecord, QueueVisit

MAX_DAYS = 366  # the longest period one report covers
DEFAULT_SERVICE_LEVEL = 20  # seconds: answered within this counts towards the service level


@dataclass(frozen=True, slots=True, kw_only=True)
class NewQueueVisit:
    """A call's visit to a group, as the switch saw it when the visit ended.

    `outcome` is one of `QUEUE_OUTCOMES`; `answered_at` and `answered_by` only for
    "answered". Times are timezone-aware.
    """

    company_id: int
    group: str
    call_id: str  # the SIP Call-ID the call's record has
    caller: str
    entered_at: datetime
    left_at: datetime  # answered, hung up, or sent on
    outcome: str
    answered_at: datetime | None = None
    answered_by: str = ""  # the member's extension

    @property
    def wait_seconds(self) -> float:
        end = self.answered_at if self.answered_at is not None else self.left_at
        return max(0.0, (end - self.entered_at).total_seconds())


def _row(visit: NewQueueVisit) -> dict[str, object]:
    if visit.outcome not in QUEUE_OUTCOMES:
        raise Invalid(f"unknown queue outcome {visit.outcome!r}")
    for value in (visit.entered_at, visit.left_at, visit.answered_at):
        if value is not None and value.utcoffset() is None:
            raise Invalid("queue visit times must be timezone-aware")
    return {
        "company_id": visit.company_id,
        "group": visit.group,
        "call_id": visit.call_id,
        "caller": visit.caller,
        "entered_at": visit.entered_at,
        "answered_at": visit.answered_at,
        "answered_by": visit.answered_by,
        "left_at": visit.left_at,
        "outcome": visit.outcome,
        "wait_seconds": visit.wait_seconds,
    }


def write_visit(store: Store, visit: NewQueueVisit) -> None:
    """Store one visit (one short transaction; any thread). Raises `Invalid` for a visit the
    switch should never build, `NotFound` when the company is gone."""
    row = _row(visit)
    try:
        with store.session() as session:
            session.execute(insert(QueueVisit), [row])
    except IntegrityError as error:
        if "foreign key" not in str(error.orig).lower():
            raise
        raise NotFound(f"unknown company id {visit.company_id}") from None


# -- the period a report covers -------------------------------------------------------------


def period(
    zone: ZoneInfo, start: str | None, end: str | None, now: datetime
) -> tuple[datetime, datetime]:
    """The instants [since, until) that `start` and `end` name in the company's zone: a date
    (2026-12-01) is that day's midnight, and as the end the whole day is in; a time without
    an offset is the company's wall clock. Neither given: today so far. Raises Invalid."""
    today = now.astimezone(zone).date()
    since = _instant(zone, start, "from", end_of_day=False) if start else _midnight(zone, today)
    until = _instant(zone, end, "to", end_of_day=True) if end else now
    if until <= since:
        raise Invalid("to must be after from")
    if until - since > timedelta(days=MAX_DAYS):
        raise Invalid(f"a report covers at most {MAX_DAYS} days")
    return since, until


def _midnight(zone: ZoneInfo, day: date) -> datetime:
    return datetime.combine(day, time(0), zone)


def _instant(zone: ZoneInfo, text: str, name: str, *, end_of_day: bool) -> datetime:
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return _midnight(zone, day + timedelta(days=1) if end_of_day else day)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"{name}: give a date (2026-12-01) or a time (2026-12-01T08:00, offset optional)"
        ) from None
    return value.replace(tzinfo=zone) if value.utcoffset() is None else value


# -- the figures ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitFacts:
    """What a report needs of one visit."""

    group: str
    outcome: str
    entered_at: datetime
    wait_seconds: float
    handling_seconds: float | None = None  # answered and its call record written


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """One group's figures for a period. Waits and times in seconds; None: no calls to
    take it from. `service_level`: the percentage of offered calls answered within the
    report's service level seconds."""

    group: str
    offered: int
    answered: int
    abandoned: int
    abandoned_wait_average: float | None
    abandoned_wait_max: float | None
    overflowed: int  # sent on: the longest wait passed, or nobody to ring or answering
    timed_out: int  # of those overflowed: the longest wait passed
    ended: int  # ended by the switch while waiting
    callback_failed: int  # a callback asked for found nobody after its last attempt (A5)
    wait_latest: float | None  # of the call answered last
    wait_average: float | None
    wait_p90: float | None
    service_level: float | None
    handling_average: float | None


def percentile(values: Iterable[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `share` (0 to 1) of
    the values at or below it; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _average(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def figures(visits: Iterable[VisitFacts], service_level: float) -> list[GroupFigures]:
    """Each group's figures from its visits, by group name."""
    by_group: dict[str, list[VisitFacts]] = defaultdict(list)
    for visit in visits:
        by_group[visit.group].append(visit)
    return [_group(name, by_group[name], service_level) for name in sorted(by_group)]


def _group(name: str, visits: list[VisitFacts], service_level: float) -> GroupFigures:
    answered = sorted((v for v in visits if v.outcome == "answered"), key=lambda v: v.entered_at)
    abandoned = [v.wait_seconds for v in visits if v.outcome == "abandoned"]
    timed_out = sum(1 for v in visits if v.outcome == "timeout")
    overflowed = timed_out + sum(1 for v in visits if v.outcome == "overflow")
    waits = [v.wait_seconds for v in answered]
    latest = max(answered, key=lambda v: v.entered_at.timestamp() + v.wait_seconds, default=None)
    within = sum(1 for wait in waits if wait <= service_level)
    handled = [v.handling_seconds for v in answered if v.handling_seconds is not None]
    return GroupFigures(
        group=name,
        offered=len(visits),
        answered=len(answered),
        abandoned=len(abandoned),
        abandoned_wait_average=_average(abandoned),
        abandoned_wait_max=max(abandoned, default=None),
        overflowed=overflowed,
        timed_out=timed_out,
        ended=sum(1 for v in visits if v.outcome == "ended"),
        callback_failed=sum(1 for v in visits if v.outcome == "callback-failed"),
        wait_latest=latest.wait_seconds if latest is not None else None,
        wait_average=_average(waits),
        wait_p90=percentile(waits, 0.9),
        service_level=100.0 * within / len(visits) if visits else None,
        handling_average=_average(handled),
    )


@dataclass(frozen=True, slots=True)
class QueueReport:
    since: datetime  # in the company's zone
    until: datetime
    service_level_seconds: float
    groups: list[GroupFigures]


def report(
    store: Store,
    company_domain: str,
    since: datetime,
    until: datetime,
    *,
    group: str | None = None,
    service_level: float = DEFAULT_SERVICE_LEVEL,
    zone: ZoneInfo,
) -> QueueReport:
    """The company's queue figures for visits that began in [since, until), per group (only
    `group` when given; groups without calls are not listed). Raises NotFound, Invalid."""
    if not 0 <= service_level <= 3600:
        raise Invalid("service_level: give 0 to 3600 seconds")
    company = get_company(store, company_domain)
    query = select(QueueVisit).where(
        QueueVisit.company_id == company.id,
        QueueVisit.entered_at >= since,
        QueueVisit.entered_at < until,
    )
    if group is not None:
        query = query.where(QueueVisit.group == group)
    facts = []
    with store.session(read_only=True) as session:
        rows = list(session.scalars(query))
        ends = _call_ends(session, company.id, [r.call_id for r in rows if r.answered_at])
        for r in rows:
            handling = None
            end = ends.get(r.call_id)
            if r.answered_at is not None and end is not None and end >= r.answered_at:
                handling = (end - r.answered_at).total_seconds()
            facts.append(VisitFacts(r.group, r.outcome, r.entered_at, r.wait_seconds, handling))
    return QueueReport(
        since=since.astimezone(zone),
        until=until.astimezone(zone),
        service_level_seconds=service_level,
        groups=figures(facts, service_level),
    )


def _call_ends(session: Session, company_id: int, call_ids: list[str]) -> dict[str, datetime]:
    """When each of these calls ended, from their records (a call without one yet is still
    going on, or its record was not written: no handling time)."""
    ends: dict[str, datetime] = {}
    for start in range(0, len(call_ids), 500):  # within any database's bound parameters
        chunk = call_ids[start : start + 500]
        query = select(CallRecord.call_id, CallRecord.ended_at).where(
            CallRecord.company_id == company_id, CallRecord.call_id.in_(chunk)
        )
        for call_id, ended_at in session.execute(query):
            ends[call_id] = max(ended_at, ends.get(call_id, ended_at))
    return ends
