"""Call records (CDRs; P7, O1): one row per finished call, written by the switch.

The switch builds a `NewCallRecord` when a call ends and hands it to
`write_record` on a worker thread: a plain synchronous function, one short
transaction, no lookups. Admin tools read them back with `list_records`,
a company at a time, newest first.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from vaxel.services.companies import get_company
from vaxel.services.errors import Invalid, NotFound
from vaxel.store import Store
from vaxel.store.models import DISPOSITIONS, HANGUP_SIDES, CallRecord

DEFAULT_LIMIT = 100
MAX_LIMIT = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCallRecord:
    """What the switch knows about a call when it ends.

    Times are timezone-aware (`datetime.now(UTC)`). `duration_seconds` left
    as None is computed: `ended_at - answered_at`, or 0 when nobody answered.
    """

    company_id: int
    call_id: str  # SIP Call-ID of the caller's leg
    caller: str  # "1001" or a SIP URI
    callee: str  # what was dialled
    started_at: datetime
    ended_at: datetime
    disposition: str  # one of DISPOSITIONS
    hangup_side: str  # one of HANGUP_SIDES
    cause_code: int  # SIP status: 200 normal, 486, 480, 487, 404 ...
    cause_text: str = ""  # e.g. "Busy Here"
    caller_name: str = ""
    answered_by: str = ""  # the extension or device that answered
    answered_at: datetime | None = None
    duration_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class CallRecordInfo:
    id: int
    company_id: int
    company_domain: str
    call_id: str
    caller: str
    caller_name: str
    callee: str
    answered_by: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    duration_seconds: float
    disposition: str
    hangup_side: str
    cause_code: int
    cause_text: str


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(f"{what} must be timezone-aware")
    return value


def _duration(record: NewCallRecord) -> float:
    if record.duration_seconds is not None:
        duration = float(record.duration_seconds)
        if not math.isfinite(duration) or duration < 0:
            raise Invalid(f"invalid call duration {record.duration_seconds!r}")
        return duration
    if record.answered_at is None:
        return 0.0
    return max(0.0, (record.ended_at - record.answered_at).total_seconds())


def _row(record: NewCallRecord) -> dict[str, object]:
    """A record's column values, checked (see `write_record`)."""
    if record.disposition not in DISPOSITIONS:
        raise Invalid(f'invalid disposition "{record.disposition}"')
    if record.hangup_side not in HANGUP_SIDES:
        raise Invalid(f'invalid hangup side "{record.hangup_side}"')
    if record.answered_at is not None:
        _aware(record.answered_at, "answered_at")
    return {
        "company_id": record.company_id,
        "call_id": record.call_id,
        "caller": record.caller,
        "caller_name": record.caller_name,
        "callee": record.callee,
        "answered_by": record.answered_by,
        "started_at": _aware(record.started_at, "started_at"),
        "answered_at": record.answered_at,
        "ended_at": _aware(record.ended_at, "ended_at"),
        "duration_seconds": _duration(record),
        "disposition": record.disposition,
        "hangup_side": record.hangup_side,
        "cause_code": record.cause_code,
        "cause_text": record.cause_text,
    }


def write_record(store: Store, record: NewCallRecord) -> None:
    """Store one finished call (one short transaction; safe on any thread).

    Raises `Invalid` for a record the switch should never build (an unknown
    disposition or hangup side, a naive timestamp, a negative duration), and
    `NotFound` when the company is gone (deleted while the call went on).
    """
    write_records(store, [record])


def write_records(store: Store, records: list[NewCallRecord]) -> None:
    """Store finished calls in one transaction: the switch batches them (at hundreds of
    calls a second, a transaction per call costs more than the call's SIP)."""
    rows = [_row(record) for record in records]
    if not rows:
        return
    try:
        with store.session() as session:
            session.execute(insert(CallRecord), rows)
    except IntegrityError as error:
        if "foreign key" not in str(error.orig).lower():
            raise
        if len(records) == 1:
            raise NotFound(f"unknown company id {records[0].company_id}") from None
        for record in records:  # one company vanished: keep everyone else's records
            with contextlib.suppress(NotFound):
                write_records(store, [record])


def list_records(
    store: Store, company_domain: str, limit: int = DEFAULT_LIMIT
) -> list[CallRecordInfo]:
    """The company's newest `limit` calls, newest first; raises NotFound, Invalid."""
    return search(store, company_domain, CallFilter(), limit=limit)


@dataclass(frozen=True, slots=True)
class CallFilter:
    """Which calls to list (S9, P8): every given condition holds."""

    since: datetime | None = None  # started at or after
    until: datetime | None = None  # started before
    user: str | None = None  # an extension that called, was called or answered
    number: str | None = None  # digits in the caller's or the callee's number
    disposition: str | None = None  # one of DISPOSITIONS


def search(
    store: Store,
    company_domain: str,
    where: CallFilter,
    *,
    limit: int = DEFAULT_LIMIT,
    before_id: int | None = None,
) -> list[CallRecordInfo]:
    """The company's calls that match `where`, newest first (by start, then by id);
    `before_id` pages back from the previous page's last call."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"invalid limit {limit!r}: use 1 to {MAX_LIMIT}")
    if where.disposition is not None and where.disposition not in DISPOSITIONS:
        raise Invalid(f"unknown disposition {where.disposition!r}: use {', '.join(DISPOSITIONS)}")
    for name, value in (("since", where.since), ("until", where.until)):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name} needs a UTC offset, e.g. 2026-12-01T08:00:00+01:00")
    company = get_company(store, company_domain)
    query = select(CallRecord).where(CallRecord.company_id == company.id)
    if where.since is not None:
        query = query.where(CallRecord.started_at >= where.since)
    if where.until is not None:
        query = query.where(CallRecord.started_at < where.until)
    if where.user is not None:
        query = query.where(
            (CallRecord.caller == where.user)
            | (CallRecord.callee == where.user)
            | (CallRecord.answered_by == where.user)
        )
    if where.number is not None:
        digits = "".join(ch for ch in where.number if ch.isdigit() or ch == "+")
        if not digits:
            raise Invalid("number: give some digits")
        pattern = f"%{digits}%"
        query = query.where(CallRecord.caller.like(pattern) | CallRecord.callee.like(pattern))
    if where.disposition is not None:
        query = query.where(CallRecord.disposition == where.disposition)
    if before_id is not None:
        last = (
            select(CallRecord.started_at)
            .where(CallRecord.id == before_id, CallRecord.company_id == company.id)
            .scalar_subquery()
        )
        query = query.where(
            (CallRecord.started_at < last)
            | ((CallRecord.started_at == last) & (CallRecord.id < before_id))
        )
    query = query.order_by(CallRecord.started_at.desc(), CallRecord.id.desc()).limit(limit)
    with store.session(read_only=True) as session:
        return [
            CallRecordInfo(
                id=r.id,
                company_id=r.company_id,
                company_domain=company.domain,
                call_id=r.call_id,
                caller=r.caller,
                caller_name=r.caller_name,
                callee=r.callee,
                answered_by=r.answered_by,
                started_at=r.started_at,
                answered_at=r.answered_at,
                ended_at=r.ended_at,
                duration_seconds=r.duration_seconds,
                disposition=r.disposition,
                hangup_side=r.hangup_side,
                cause_code=r.cause_code,
                cause_text=r.cause_text,
            )
            for r in session.scalars(query)
        ]
