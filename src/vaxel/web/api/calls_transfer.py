"""A live call's transfer from the API (P4, P8): `POST /api/v1/calls/{id}/transfer`.

For the operator console and the softphone, where a user or an operator sees a call
(its id is the one the live events and click-to-call give) and sends it on. The
switch transfers it as a REFER from the transferor's phone would (features/transfer.py):
the same dial plan and toll-fraud guard, the other party hears ringback, the
transferor's leg ends when the target answers and the call comes back to them when
the target is busy or does not answer.

Who may: a user of the call (the transferor is then themselves, and the other party
is transferred), or one of the company's admins, who names the transferor as `party`
(optional when only one party of the call is a user). Another company's call, a
finished one, and, for a user, a call they are not on are all 404 alike.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from vaxel.features.transfer import TransferError
from vaxel.web.api.calls_placed import NO_SWITCH
from vaxel.web.auth import Caller, Context, audit_change
from vaxel.web.context import blocking
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["calls"])

CallId = Annotated[
    str, PathParam(min_length=1, max_length=64, description="as the live events give it")
]


class TransferRequest(BaseModel):
    to: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        description="a colleague's extension or a number, as the transferor would dial it"
    )
    party: Annotated[str | None, Field(min_length=1, max_length=32)] = Field(
        None,
        description="the transferor: the extension of the user whose side leaves the call "
        "(the other party is transferred). An admin's choice; a user may only name "
        "themselves. Without it: the requester, or the call's only user",
    )


class Transferred(BaseModel):
    call_id: str
    party: str = Field(description="the transferor, whose leg ends when the target answers")
    transferred: str = Field(description="the party now ringing the target")
    to: str = Field(description="what is dialled")


# SIP statuses of a refusal, as HTTP: unknown 404, barred 403, not connected 409 ...
_STATUS = {404: 404, 403: 403, 409: 409, 422: 422, 484: 422, 480: 409, 400: 422, 503: 503}


@router.post("/calls/{call_id}/transfer", status_code=202)
async def transfer_call(
    call_id: CallId, body: TransferRequest, who: Caller, ctx: Context, request: Request
) -> Transferred:
    """Transfer the other party of my call (or, for an admin, of the company's call) to
    `to`. 202 once the target is being rung; how it goes shows in the live events."""
    who.need("calls")
    account = who.account
    missing = Problem(404, "no such call")
    if account.company_id is None:
        raise missing  # a provider admin sees no company's calls here
    admin = who.role == "admin"
    party = body.party.strip() if body.party is not None else None
    if party is not None and not admin and party != account.extension:
        raise Problem(403, "only the company's administrators may name another party")
    if ctx.transfer is None:
        raise Problem(503, NO_SWITCH)
    try:
        transferor, transferred, dialled = await ctx.transfer(
            account.company_id, call_id, account.extension, party, admin, body.to.strip()
        )
    except TransferError as exc:
        raise Problem(_STATUS.get(exc.status, 422), str(exc)) from None
    await blocking(audit_change, ctx, who, request, "call.transfer", dialled,
                   company_id=account.company_id,
                   after={"call_id": call_id, "party": transferor})  # fmt: skip
    return Transferred(call_id=call_id, party=transferor, transferred=transferred, to=dialled)
