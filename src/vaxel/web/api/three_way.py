"""Adding a third party to a call in progress (U12): `POST /api/v1/calls/{id}/add`.

A user on a connected call of two (its id is in the live events, or the answer of
click-to-call) rings a colleague or a number; when they answer, the call becomes a room
of three (features/three_way.py). The call lives in the switch, so the request is a
question to it (web/link.py); without a running switch the answer is 503. A call that
is not theirs is 404, as one that does not exist. It needs the `calls` scope, as
click-to-call does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from vaxel.web.auth import Caller, Context, audit_change
from vaxel.web.context import blocking
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["calls"])

NO_SWITCH = "calls live in a running switch (vaxel serve)"


class AddRequest(BaseModel):
    to: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        description="a colleague's extension or a number, as dialled on a phone"
    )


class Added(BaseModel):
    call_id: str
    to: str = Field(description="who is rung; the call becomes a room of three on their answer")


@router.post("/calls/{call_id}/add", status_code=202)
async def add(
    call_id: Annotated[str, Path(max_length=128)],
    body: AddRequest,
    who: Caller,
    ctx: Context,
    request: Request,
) -> Added:
    """Ring `to` from my call in progress; when they answer, the three of us talk."""
    who.need("calls")
    account = who.account
    if account.company_id is None or account.extension is None:
        raise Problem(404, "no such call of yours")
    if ctx.add_party is None:
        raise Problem(503, NO_SWITCH)
    outcome, answer = await ctx.add_party(account.company_id, account.extension, call_id, body.to)
    if outcome != "ok":
        assert isinstance(answer, tuple)
        raise Problem(int(answer[0]), str(answer[1]))
    assert isinstance(answer, dict)
    await blocking(audit_change, ctx, who, request, "call.add", body.to.strip(),
                   company_id=account.company_id, after={"call_id": call_id})  # fmt: skip
    return Added(**answer)
