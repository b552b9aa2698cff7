"""The callback list (A5, A1): the callbacks callers asked for, and where each stands.

Agents (every user of the company) read it, so the team sees who waits for a call back,
who took one, and which could not be reached after their last attempt; admins too, and
the provider for any company. The switch keeps the list as it serves the callbacks
(services/callbacks.py); nothing here changes a callback's place in its queue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vaxel.services import callbacks
from vaxel.services.errors import Invalid
from vaxel.web.auth import Caller, Context, company_of
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/companies/{domain}", tags=["callbacks"])


class CallbackOut(BaseModel):
    key: str = Field(description="the callback's name, as the switch made it")
    group: str = Field(description="the queue (answering group) it was asked of")
    number: str = Field(description="the number to call back")
    caller: str = Field(description="who asked: their caller ID")
    source: str = Field(description="queue, menu or scheduled")
    requested_at: datetime
    due_at: datetime | None = Field(description="a scheduled callback's time")
    status: str = Field(description="waiting, calling, done, failed or cancelled")
    attempts: int = Field(description="times the caller's number was dialled")
    agent: str = Field(description="the member who took it (last attempt)")
    updated_at: datetime


@router.get("/callbacks")
def list_callbacks(
    domain: str,
    who: Caller,
    ctx: Context,
    status: Annotated[str | None, Query(max_length=16)] = None,
    group: Annotated[str | None, Query(max_length=64)] = None,
) -> list[CallbackOut]:
    """The company's callbacks, oldest request first (the newest 500), by status or
    queue if given (every user of the company)."""
    company = company_of(ctx, who, domain)
    try:
        found = callbacks.list_callbacks(ctx.store, company.id, status=status, group=group)
    except Invalid as exc:
        raise Problem(422, str(exc)) from None
    return [
        CallbackOut(**{name: getattr(info, name) for name in CallbackOut.model_fields})
        for info in found
    ]
