"""The audit log (P8): every change made through the web or the API, for the company's
admins to read and export. The provider's own changes are read at `/api/v1/audit`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from vaxel.services import audit
from vaxel.web.auth import Caller, Context, admin_of, provider_only
from vaxel.web.csvs import csv_response

router = APIRouter(prefix="/api/v1", tags=["audit"])


class EntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    source: str
    action: str
    target: str
    before: Any
    after: Any


class EntryList(BaseModel):
    items: list[EntryOut]
    next_before: int | None = Field(None, description="pass as `before` for older entries")


def _page(rows: list[audit.Entry], limit: int) -> EntryList:
    items = [
        EntryOut(id=e.id, at=e.at, actor=e.actor, source=e.source, action=e.action,
                 target=e.target, before=e.before, after=e.after)
        for e in rows
    ]  # fmt: skip
    return EntryList(items=items, next_before=items[-1].id if len(items) == limit else None)


Limit = Annotated[int, Query(ge=1, le=500)]
Before = Annotated[int | None, Query(ge=1)]


@router.get("/companies/{domain}/audit")
def company_audit(
    domain: str, who: Caller, ctx: Context, limit: Limit = 100, before: Before = None
) -> EntryList:
    """The company's changes, newest first (admins only)."""
    company = admin_of(ctx, who, domain)
    return _page(audit.entries(ctx.store, company.id, limit=limit, before_id=before), limit)


@router.get(
    "/companies/{domain}/audit.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def company_audit_csv(domain: str, who: Caller, ctx: Context) -> Response:
    company = admin_of(ctx, who, domain)
    rows = audit.entries(ctx.store, company.id, limit=audit.MAX_PAGE)
    header = ("id", "at", "actor", "source", "action", "target", "before", "after")
    return csv_response(
        header,
        (
            (e.id, e.at.isoformat(), e.actor, e.source, e.action, e.target,
             _json(e.before), _json(e.after))
            for e in rows
        ),
        f"audit-{company.domain}.csv",
    )  # fmt: skip


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


@router.get("/audit")
def provider_audit(
    who: Caller, ctx: Context, limit: Limit = 100, before: Before = None
) -> EntryList:
    """The provider's own changes (companies), newest first (provider admins only)."""
    provider_only(who)
    return _page(audit.entries(ctx.store, None, limit=limit, before_id=before), limit)
