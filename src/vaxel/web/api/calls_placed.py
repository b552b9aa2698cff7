"""Click-to-call from the API (P8, U4): `POST /api/v1/calls` rings my phones first, then
connects the number (features/click_to_call.py).

It needs a token with the `calls` scope (a session has it). The number goes through
the same dial plan and toll-fraud guard as a call dialled on a phone: what the guard
refuses is refused here, before any phone rings.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from vaxel.features.click_to_call import ClickToCallError
from vaxel.web.auth import Caller, Context, Principal, audit_change
from vaxel.web.context import WebContext, blocking
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["calls"])


class CallRequest(BaseModel):
    to: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        description="a colleague's extension or a number, as dialled on a phone"
    )


class PlacedCall(BaseModel):
    call_id: str
    to: str = Field(description="what is dialled once a phone answers")


# SIP statuses of a refusal, as HTTP: unknown 404, barred 403, incomplete 422 ...
_STATUS = {404: 404, 403: 403, 484: 422, 480: 409, 503: 503}


@router.post("/calls", status_code=202)
async def place_call(body: CallRequest, who: Caller, ctx: Context, request: Request) -> PlacedCall:
    """Ring my phones; when one answers, call `to` from it."""
    who.need("calls")
    call_id, dialled = await place(ctx, who, request, body.to)
    return PlacedCall(call_id=call_id, to=dialled)


NO_SWITCH = "calls are placed only by a running switch (vaxel serve)"


async def place(ctx: WebContext, who: Principal, request: Request, to: str) -> tuple[str, str]:
    """Click-to-call for `who` (U4, P8), placed by the switch: the API and the user web's
    call buttons both come here. Returns the call's id and what is dialled; a refusal is
    a Problem whose detail says why (its status as HTTP: unknown 404, barred 403)."""
    account = who.account
    if account.company_id is None or account.extension is None or account.domain is None:
        raise Problem(404, "a provider admin has no phone to call from")
    if ctx.place_call is None:
        raise Problem(503, NO_SWITCH)
    try:
        call_id, dialled = await ctx.place_call(
            account.company_id, account.domain, account.extension, to.strip()
        )
    except ClickToCallError as exc:
        raise Problem(_STATUS.get(exc.status, 422), str(exc)) from None
    await blocking(audit_change, ctx, who, request, "call.place", dialled,
                   company_id=account.company_id, after={"call_id": call_id})  # fmt: skip
    return call_id, dialled
