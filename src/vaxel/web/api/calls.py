"""Call records (S9, P8): filtered by time, user, number and disposition; CSV export.

An admin sees the company's calls; a user sees the calls they made, received or
answered. Pages go back in time: pass the last `id` of a page as `before`.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, get_type_hints

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, create_model

from vaxel.services import call_records
from vaxel.services.call_records import CallFilter, CallRecordInfo
from vaxel.web.auth import Caller, Context, Principal, company_of
from vaxel.web.csvs import csv_response

router = APIRouter(prefix="/api/v1/companies/{domain}", tags=["calls"])
MAX_CSV_ROWS = 100_000


# A call as the API shows it: the fields of `CallRecordInfo`, in its order, but the
# company's (the path names the company). Made from the dataclass, so the two cannot drift.
_COMPANY_FIELDS = ("company_id", "company_domain")
_CALL_FIELDS = [f.name for f in fields(CallRecordInfo) if f.name not in _COMPANY_FIELDS]
if TYPE_CHECKING:
    CallOut = BaseModel
else:
    _hints = get_type_hints(CallRecordInfo)
    CallOut = create_model("CallOut", **{name: (_hints[name], ...) for name in _CALL_FIELDS})


class CallList(BaseModel):
    items: list[CallOut]
    next_before: int | None = Field(
        None, description="pass as `before` for the next (older) page; null on the last"
    )


def _out(r: CallRecordInfo) -> CallOut:
    return CallOut(**{name: getattr(r, name) for name in _CALL_FIELDS})


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
    return CallList(items=items, next_before=found[-1].id if len(found) == limit else None)


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
    rows = ([_out(record).model_dump(mode="json")[name] for name in _CALL_FIELDS]
            for record in found)  # fmt: skip
    return csv_response(_CALL_FIELDS, rows, f"calls-{company.domain}.csv")
