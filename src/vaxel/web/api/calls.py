"""Call records (S9, P8): filtered by time, user, number and disposition; CSV export.

An admin sees the company's calls; a user sees the calls they made, received or
answered. Pages go back in time: pass the last `id` of a page as `before`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from vaxel.services import call_records
from vaxel.services.call_records import CallFilter, CallRecordInfo
from vaxel.web.auth import Caller, Context, Principal, company_of
from vaxel.web.csvs import csv_response

router = APIRouter(prefix="/api/v1/companies/{domain}", tags=["calls"])
MAX_CSV_ROWS = 100_000


class CallOut(BaseModel):
    id: int
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


class CallList(BaseModel):
    items: list[CallOut]
    next_before: int | None = Field(
        None, description="pass as `before` for the next (older) page; null on the last"
    )


def _out(r: CallRecordInfo) -> CallOut:
    return CallOut(
        id=r.id, call_id=r.call_id, caller=r.caller, caller_name=r.caller_name,
        callee=r.callee, answered_by=r.answered_by, started_at=r.started_at,
        answered_at=r.answered_at, ended_at=r.ended_at, duration_seconds=r.duration_seconds,
        disposition=r.disposition, hangup_side=r.hangup_side, cause_code=r.cause_code,
        cause_text=r.cause_text,
    )  # fmt: skip


def _filter(
    who: Principal,
    since: datetime | None,
    until: datetime | None,
    user: str | None,
    number: str | None,
    disposition: str | None,
) -> CallFilter:
    if who.role == "user":
        user = who.account.extension  # a user's own calls only
    return CallFilter(since, until, user, number, disposition)


Since = Annotated[datetime | None, Query(description="started at or after (ISO 8601)")]
Until = Annotated[datetime | None, Query(description="started before (ISO 8601)")]
User = Annotated[str | None, Query(pattern=r"^[0-9]{2,8}$", description="an extension")]
Number = Annotated[str | None, Query(max_length=32, description="digits of a number")]
Disposition = Annotated[
    str | None, Query(description="one of " + ", ".join(call_records.DISPOSITIONS))
]


@router.get("/calls")
def list_calls(
    domain: str,
    who: Caller,
    ctx: Context,
    since: Since = None,
    until: Until = None,
    user: User = None,
    number: Number = None,
    disposition: Disposition = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> CallList:
    company = company_of(ctx, who, domain)
    where = _filter(who, since, until, user, number, disposition)
    found = call_records.search(ctx.store, company.domain, where, limit=limit, before_id=before)
    items = [_out(r) for r in found]
    return CallList(items=items, next_before=items[-1].id if len(items) == limit else None)


@router.get(
    "/calls.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def calls_csv(
    domain: str,
    who: Caller,
    ctx: Context,
    since: Since = None,
    until: Until = None,
    user: User = None,
    number: Number = None,
    disposition: Disposition = None,
) -> Response:
    """The same calls as CSV (newest first, at most 100,000), for a spreadsheet."""
    company = company_of(ctx, who, domain)
    where = _filter(who, since, until, user, number, disposition)
    found = call_records.search(ctx.store, company.domain, where, limit=MAX_CSV_ROWS)
    fields = list(CallOut.model_fields)
    rows = ([_out(record).model_dump(mode="json")[name] for name in fields] for record in found)
    return csv_response(fields, rows, f"calls-{company.domain}.csv")
