"""Call recording from the API (A6): start, pause, resume or stop a running call's
recording (`POST /api/v1/calls/{call_id}/recording`), on the switch through the web link;
list the recordings and download one (`/api/v1/companies/{domain}/recordings`).

A company admin may do so for any call of the company, a user for a call they are on
(made or answered); any other call or recording is 404, as one that does not exist.
The provider's administrators do not hear companies' calls (403). The company's rules
decide whether a call may be recorded at all (403 when they say never). Every change,
and every download (a listen), is in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from vaxel.services import recordings
from vaxel.services.errors import NotFound
from vaxel.web.auth import Caller, Context, Principal, audit_change, company_of
from vaxel.web.context import blocking
from vaxel.web.problems import Problem, RowId

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


# -- recordings kept ---------------------------------------------------------------------


class RecordingOut(BaseModel):
    id: int
    call_id: str
    caller: str
    callee: str = Field(description="who answered, else what was dialled")
    started_at: datetime
    duration_seconds: float


class RecordingList(BaseModel):
    items: list[RecordingOut]
    next_before: int | None = Field(
        None, description="pass as `before` for the next (older) page; null on the last"
    )


def _fields(r: recordings.RecordingInfo) -> dict[str, object]:
    return {name: getattr(r, name) for name in RecordingOut.model_fields}


def _whose(who: Principal) -> str | None:
    """Whose recordings `who` may hear: the company's (None), or a user's own."""
    if who.role == "provider":
        raise Problem(403, "only the company's own administrators and users hear its calls")
    return who.account.extension if who.role == "user" else None


@router.get("/companies/{domain}/recordings")
def list_recordings(
    domain: str,
    who: Caller,
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=recordings.MAX_LIMIT)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> RecordingList:
    """The company's recorded calls, newest first (a user: their own calls)."""
    company = company_of(ctx, who, domain)
    extension = _whose(who)
    found = recordings.search(
        ctx.store, company.id, extension=extension, limit=limit, before_id=before
    )
    items = [RecordingOut(**_fields(r)) for r in found]
    return RecordingList(items=items, next_before=found[-1].id if len(found) == limit else None)


@router.get(
    "/companies/{domain}/recordings/{recording_id}",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}}},
)
def download_recording(
    domain: str, recording_id: RowId, who: Caller, ctx: Context, request: Request
) -> FileResponse:
    """The recording as WAV (8 kHz 16-bit; stereo: the caller left). Audited as a listen."""
    company = company_of(ctx, who, domain)
    extension = _whose(who)
    missing = Problem(404, "no such recording")
    try:
        found = recordings.get(ctx.store, company.id, recording_id, extension)
    except NotFound:
        raise missing from None
    folder = (ctx.data / "recordings" / company.domain).resolve()
    path = found.path.resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise missing
    audit_change(ctx, who, request, "recording.listen", str(recording_id),
                 company_id=company.id, after={"call_id": found.call_id})  # fmt: skip
    return FileResponse(path, media_type="audio/wav", filename=f"recording-{recording_id}.wav")
