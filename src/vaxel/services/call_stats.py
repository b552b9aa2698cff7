"""Call statistics per agent, per number and over time (S9, A10), from the call records.

One call is one call record (one record id), so a call is counted once however often it
was transferred: a blind transfer keeps the call's one record, which names at its end the
last person who answered it (`answered_by`) and what was dialled last (`callee`). A call
counts for that person. An attended transfer's consultation is a call of its own (the
transferor called a colleague) and is counted as such.

Per agent (a user of the company, by extension):
- outbound: calls they placed (the record's caller), answered when the callee answered;
- inbound: calls to them (the callee) or answered by them, from anyone but themselves;
  answered when they are the record's `answered_by`, missed otherwise (nobody answered,
  or voicemail, a colleague or a group member did);
- talk time: of the calls they answered or placed that were answered. For a call that
  waited in a queue it runs from the member's answer (the queue visit's) to the call's
  end, not from the queue's answer, which would count the wait.

Per number: the inbound calls from outside (the caller is no extension of the company) by
what they dialled; answered when a person (an extension) answered them. A call transferred
blindly is listed under its transfer target, as its record is.

Over time: the same calls, each once, in hours, days or ISO weeks of the company's zone;
outbound when an agent in scope placed it, inbound otherwise.

Filters: `user` (one extension), `group` (its members are the agents; inbound calls only
those that came through the group, by its queue visits), `number` (digits in the caller's
or the callee's number). Pure queries over a period: each call record that started in
[since, until) is read once (two columns per visit added), and the figures are counted in
Python, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from vaxel.services.companies import get_company
from vaxel.services.errors import Invalid
from vaxel.store import Store
from vaxel.store.models import CallRecord, QueueVisit, User

Interval = Literal["hour", "day", "week"]
INTERVALS: tuple[Interval, ...] = ("hour", "day", "week")
MAX_BUCKETS = 800  # an hourly series covers about a month at most


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the figures need of one call record."""

    id: int
    caller: str
    callee: str
    answered_by: str
    started_at: datetime
    answered: bool  # the record's disposition is "answered"
    talk_seconds: float  # from the person's answer to the end; 0 unanswered
    groups: frozenset[str] = frozenset()  # the answering groups the call visited


@dataclass(frozen=True, slots=True)
class Scope:
    """Which agents and calls a report covers (see the module's docstring)."""

    agents: dict[str, str]  # extension -> name, the agents reported on
    extensions: frozenset[str]  # every extension of the company (who is "inside")
    group: str | None = None
    number: str | None = None  # digits (and +) only


@dataclass(frozen=True, slots=True)
class AgentFigures:
    ext: str
    name: str
    inbound: int
    inbound_answered: int
    missed: int
    outbound: int
    outbound_answered: int
    talk_seconds: float


@dataclass(frozen=True, slots=True)
class NumberFigures:
    number: str
    calls: int
    answered: int
    missed: int
    talk_seconds: float


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime  # in the company's zone
    inbound: int
    inbound_answered: int
    missed: int
    outbound: int
    outbound_answered: int
    talk_seconds: float


@dataclass(frozen=True, slots=True)
class Totals:
    """The calls in scope, each once (one record id)."""

    calls: int
    inbound: int
    inbound_answered: int
    missed: int
    outbound: int
    outbound_answered: int
    talk_seconds: float


# -- reading ------------------------------------------------------------------------------


def digits_of(number: str) -> str:
    """The digits (and +) of a number filter; raises Invalid for none."""
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    if not digits:
        raise Invalid("number: give some digits")
    return digits


def scope(
    store: Store,
    company_domain: str,
    *,
    user: str | None = None,
    group: str | None = None,
    members: Sequence[str] | None = None,
    number: str | None = None,
) -> Scope:
    """The agents of a report: the company's users, only `user`, or only `members` (the
    group's, from its description). Raises NotFound, Invalid (an unknown user)."""
    company = get_company(store, company_domain)
    query = select(User.extension, User.display_name).where(User.company_id == company.id)
    with store.session(read_only=True) as session:
        names = {ext: name for ext, name in session.execute(query.order_by(User.extension))}
    agents = dict(names)
    if members is not None:
        agents = {ext: names[ext] for ext in members if ext in names}
    if user is not None:
        if user not in names:
            raise Invalid(f"user: no user {user!r}")
        agents = {user: names[user]} if user in agents else {}
    return Scope(
        agents=agents,
        extensions=frozenset(names),
        group=group,
        number=digits_of(number) if number is not None else None,
    )


def calls(store: Store, company_domain: str, since: datetime, until: datetime) -> list[CallFacts]:
    """The company's call records that started in [since, until), oldest first, with the
    answer times and groups of their queue visits."""
    company = get_company(store, company_domain)
    query = (
        select(
            CallRecord.id, CallRecord.call_id, CallRecord.caller, CallRecord.callee,
            CallRecord.answered_by, CallRecord.started_at, CallRecord.answered_at,
            CallRecord.ended_at, CallRecord.disposition,
        )
        .where(
            CallRecord.company_id == company.id,
            CallRecord.started_at >= since,
            CallRecord.started_at < until,
        )
        .order_by(CallRecord.started_at, CallRecord.id)
    )  # fmt: skip
    with store.session(read_only=True) as session:
        rows = list(session.execute(query))
        visits = _visits(session, company.id, sorted({row.call_id for row in rows}))
    out = []
    for row in rows:
        groups, member_answer = visits.get(row.call_id, (frozenset(), None))
        answered = row.disposition == "answered"
        talk = 0.0
        start = member_answer or row.answered_at
        if answered and start is not None:
            talk = max(0.0, (row.ended_at - start).total_seconds())
        out.append(
            CallFacts(
                id=row.id, caller=row.caller, callee=row.callee, answered_by=row.answered_by,
                started_at=row.started_at, answered=answered, talk_seconds=talk, groups=groups,
            )
        )  # fmt: skip
    return out


def _visits(
    session: Session, company_id: int, call_ids: list[str]
) -> dict[str, tuple[frozenset[str], datetime | None]]:
    """Per call: the groups it visited, and when a member answered it last (None: no
    member answered it in a queue)."""
    groups: dict[str, set[str]] = {}
    answers: dict[str, datetime] = {}
    for start in range(0, len(call_ids), 500):  # within any database's bound parameters
        query = select(QueueVisit.call_id, QueueVisit.group, QueueVisit.answered_at).where(
            QueueVisit.company_id == company_id,
            QueueVisit.call_id.in_(call_ids[start : start + 500]),
        )
        for call_id, group, answered_at in session.execute(query):
            groups.setdefault(call_id, set()).add(group)
            if answered_at is not None:
                answers[call_id] = max(answered_at, answers.get(call_id, answered_at))
    return {cid: (frozenset(found), answers.get(cid)) for cid, found in groups.items()}


# -- counting (pure) ----------------------------------------------------------------------


def _matches_number(call: CallFacts, digits: str | None) -> bool:
    return digits is None or digits in call.caller or digits in call.callee


def _in_group(call: CallFacts, scope: Scope) -> bool:
    return scope.group is None or scope.group in call.groups


def _inbound_to(call: CallFacts, ext: str, scope: Scope) -> bool:
    return (
        call.caller != ext
        and (call.callee == ext or call.answered_by == ext)
        and _in_group(call, scope)
    )


def agent_figures(facts: Iterable[CallFacts], scope: Scope) -> list[AgentFigures]:
    """Each agent's calls (see the module's docstring), by extension."""
    chosen = [call for call in facts if _matches_number(call, scope.number)]
    out = []
    for ext, name in sorted(scope.agents.items()):
        placed = [call for call in chosen if call.caller == ext]
        came = [call for call in chosen if _inbound_to(call, ext, scope)]
        took = [call for call in came if call.answered and call.answered_by == ext]
        reached = [call for call in placed if call.answered]
        out.append(
            AgentFigures(
                ext=ext, name=name, inbound=len(came), inbound_answered=len(took),
                missed=len(came) - len(took), outbound=len(placed),
                outbound_answered=len(reached),
                talk_seconds=sum(call.talk_seconds for call in took + reached),
            )
        )  # fmt: skip
    return out


def _person_answered(call: CallFacts, scope: Scope) -> bool:
    """Answered by a person of the report (a member, with a group chosen)."""
    return call.answered and call.answered_by in scope.agents


def number_figures(facts: Iterable[CallFacts], scope: Scope) -> list[NumberFigures]:
    """The inbound calls from outside, per number dialled, by number."""
    by_number: dict[str, list[CallFacts]] = {}
    for call in facts:
        if call.caller not in scope.extensions and _direction(call, scope) == "inbound":
            by_number.setdefault(call.callee, []).append(call)
    out = []
    for number in sorted(by_number):
        found = by_number[number]
        taken = [call for call in found if _person_answered(call, scope)]
        out.append(
            NumberFigures(
                number=number, calls=len(found), answered=len(taken),
                missed=len(found) - len(taken),
                talk_seconds=sum(call.talk_seconds for call in taken),
            )
        )  # fmt: skip
    return out


def _direction(call: CallFacts, scope: Scope) -> str | None:
    """The call's direction ("outbound" or "inbound"), or None: not a call of the report.
    With a group, inbound calls are the group's (by its visits); without, every inbound
    call when every user is reported on (calls nobody answered too), else the agents'."""
    if not _matches_number(call, scope.number):
        return None
    if call.caller in scope.agents:
        return "outbound"
    if scope.group is not None:
        return "inbound" if scope.group in call.groups else None
    if len(scope.agents) == len(scope.extensions):
        return "inbound"
    if call.callee in scope.agents or call.answered_by in scope.agents:
        return "inbound"
    return None


def _answered(call: CallFacts, direction: str, scope: Scope) -> bool:
    if direction == "outbound":
        return call.answered
    return _person_answered(call, scope)


def totals(facts: Iterable[CallFacts], scope: Scope) -> Totals:
    """The report's calls, each once."""
    counts = _count(facts, scope)
    return Totals(calls=counts[0] + counts[3], inbound=counts[0], inbound_answered=counts[1],
                  missed=counts[2], outbound=counts[3], outbound_answered=counts[4],
                  talk_seconds=counts[5])  # fmt: skip


def _count(facts: Iterable[CallFacts], scope: Scope) -> tuple[int, int, int, int, int, float]:
    inbound = taken = outbound = reached = 0
    talk = 0.0
    for call in facts:
        direction = _direction(call, scope)
        if direction is None:
            continue
        answered = _answered(call, direction, scope)
        if direction == "outbound":
            outbound += 1
            reached += answered
        else:
            inbound += 1
            taken += answered
        talk += call.talk_seconds if answered else 0.0
    return inbound, taken, inbound - taken, outbound, reached, talk


def bucket_starts(
    zone: ZoneInfo, since: datetime, until: datetime, interval: Interval
) -> list[datetime]:
    """The starts of the hours, days or ISO weeks (Monday) of [since, until), in the
    company's zone. Raises Invalid beyond MAX_BUCKETS."""
    if interval not in INTERVALS:
        raise Invalid(f"interval: use {', '.join(INTERVALS)}")
    starts: list[datetime] = []
    if interval == "hour":
        moment = since.astimezone(ZoneInfo("UTC")).replace(minute=0, second=0, microsecond=0)
        while moment < until:
            starts.append(moment.astimezone(zone))
            moment += timedelta(hours=1)
            if len(starts) > MAX_BUCKETS:
                raise Invalid(f"interval: at most {MAX_BUCKETS} hours; choose days or weeks")
        return starts
    day = since.astimezone(zone).date()
    if interval == "week":
        day -= timedelta(days=day.weekday())
    step = timedelta(days=7 if interval == "week" else 1)
    while _local_midnight(zone, day) < until:
        starts.append(_local_midnight(zone, day))
        day += step
    return starts


def _local_midnight(zone: ZoneInfo, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _bucket_of(moment: datetime, zone: ZoneInfo, interval: Interval) -> datetime:
    if interval == "hour":
        utc = moment.astimezone(ZoneInfo("UTC")).replace(minute=0, second=0, microsecond=0)
        return utc.astimezone(zone)
    day = moment.astimezone(zone).date()
    if interval == "week":
        day -= timedelta(days=day.weekday())
    return _local_midnight(zone, day)


def series(
    facts: Iterable[CallFacts],
    scope: Scope,
    zone: ZoneInfo,
    since: datetime,
    until: datetime,
    interval: Interval,
) -> list[Bucket]:
    """The report's calls in each hour, day or week of the period (empty ones too)."""
    starts = bucket_starts(zone, since, until, interval)
    found: dict[datetime, list[CallFacts]] = {start: [] for start in starts}
    for call in facts:
        key = _bucket_of(call.started_at, zone, interval)
        if key in found:
            found[key].append(call)
    out = []
    for start in starts:
        inbound, taken, missed, outbound, reached, talk = _count(found[start], scope)
        out.append(Bucket(start, inbound, taken, missed, outbound, reached, talk))
    return out
