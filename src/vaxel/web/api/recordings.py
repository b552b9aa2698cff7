"""Call recording from the API (A6): start, pause, resume or stop a running call's
recording (`POST /api/v1/calls/{call_id}/recording`), on the switch through the web link.

A company admin may do so for any call of the company, a user for a call they are on;
any other call is 404, as one that does not exist. The company's rules decide whether
the call may be recorded at all (403 when they say never). Every change is audited.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from vaxel.web.auth import Caller, Context, audit_change
from vaxel.web.context import blocking
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["recordings"])

CallId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the call's id")]


class RecordingAction(BaseModel):
    action: Literal["start", "pause", "resume", "stop"] = Field(
        description="start (or resume) recording, pause it (silence is kept for the span), "
        "or stop it (the file is complete)"
    )


class RecordingState(BaseModel):
    call_id: str
    recording: Literal["recording", "paused", "stopped"]


NO_SWITCH = "calls are recorded only by a running switch (vaxel serve)"


@router.post("/calls/{call_id}/recording")
async def control_recording(
    call_id: CallId, body: RecordingAction, who: Caller, ctx: Context, request: Request
) -> RecordingState:
    """Start, pause, resume or stop the recording of a call that is running now."""
    who.need("calls")
    account = who.account
    if account.company_id is None or who.role not in ("admin", "user"):
        raise Problem(404, "no such call")
    if ctx.call_recording is None:
        raise Problem(503, NO_SWITCH)
    extension = account.extension if who.role == "user" else None
    status, said = await ctx.call_recording(account.company_id, extension, call_id, body.action)
    if status != 200:
        raise Problem(status, said)
    await blocking(audit_change, ctx, who, request, f"recording.{body.action}", call_id,
                   company_id=account.company_id, after={"recording": said})  # fmt: skip
    return RecordingState(call_id=call_id, recording=said)  # type: ignore[arg-type]
