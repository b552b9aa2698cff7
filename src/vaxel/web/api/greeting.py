"""My voicemail greeting from the web and the API (U7): upload one, play it, remove it.

The greeting is kept where the one recorded by phone (`*98`, then 2) is kept
(`greeting-{ext}.wav` in the company's prompt folder, `Company.greeting_path`), so
either way it is what the next caller reaching the box hears, and either replaces the
other. An upload is checked by decoding it (sox, as prompt uploads are) into a file
beside the greeting, which replaces the greeting only once it is whole: a file that is
not audio, empty, silent or too long is refused with the reason and the old greeting
stays. Removing it brings back the system greeting (or the description's).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from vaxel.media.player import PromptError
from vaxel.media.prompts import convert_upload
from vaxel.services import configuration
from vaxel.services.company_config import FeatureCodes
from vaxel.services.configuration import prompt_folder
from vaxel.web.api.prompts import receive
from vaxel.web.auth import Caller, Context, Principal, audit_change, company_of
from vaxel.web.context import WebContext
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/me", tags=["me"])

# The voicemail menu's key to record a greeting (features/voicemail_menu.py).
GREETING_KEY = "2"


def record_by_phone(ctx: WebContext, who: Principal) -> tuple[str, str]:
    """How `who` records a greeting by phone: their company's voicemail code, then a key."""
    company_id = who.account.company_id
    config = None if company_id is None else configuration.load_document(ctx.store, company_id)
    codes = config.feature_codes if config is not None else FeatureCodes()
    return codes.voicemail, GREETING_KEY


class Greeting(BaseModel):
    own: bool  # False: callers hear the system greeting (or the description's)
    seconds: float | None


def greeting_file(ctx: WebContext, who: Principal) -> Path:
    """Where `who`'s greeting is kept (the switch's `Company.greeting_path`)."""
    domain, ext = who.account.domain, who.account.extension
    if who.account.company_id is None or domain is None or ext is None:
        raise Problem(404, "a provider admin has no phone, so no voicemail greeting")
    return prompt_folder(ctx.data, domain) / f"greeting-{ext}.wav"


def _keep(ctx: WebContext, who: Principal, request: Request, received: Path) -> Greeting:
    target = greeting_file(ctx, who)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".greeting-") as work:
        try:
            info = convert_upload(received, Path(work) / "greeting.wav")
        except PromptError as exc:
            raise Problem(422, str(exc).replace(received.name, "the file")) from None
        info.path.replace(target)  # whole, in one step: a call never plays half of it
    audit_change(ctx, who, request, "greeting.upload", who.account.extension or "",
                 company_id=who.account.company_id,
                 after={"seconds": round(info.seconds, 1)})  # fmt: skip
    return Greeting(own=True, seconds=round(info.seconds, 1))


async def upload_greeting(
    ctx: WebContext, who: Principal, request: Request, file: StarletteUpload
) -> Greeting:
    """Receive, check by decoding and keep an upload as `who`'s greeting (the API's and the
    page's); Problem 413 or 422, and the old greeting stays."""
    greeting_file(ctx, who)  # a provider admin: 404 before anything is received
    company = await run_in_threadpool(company_of, ctx, who, who.account.domain or "")
    received = await receive(ctx, company, file)
    try:
        return await run_in_threadpool(_keep, ctx, who, request, received)
    finally:
        received.unlink(missing_ok=True)


def remove_greeting(ctx: WebContext, who: Principal, request: Request) -> bool:
    """Back to the system greeting; True if there was an own greeting."""
    target = greeting_file(ctx, who)
    if not target.exists():
        return False
    target.unlink(missing_ok=True)
    audit_change(ctx, who, request, "greeting.remove", who.account.extension or "",
                 company_id=who.account.company_id)  # fmt: skip
    return True


@router.post("/greeting")
async def upload(
    file: Annotated[UploadFile, File(description="WAV, MP3, FLAC or OGG")],
    who: Caller,
    ctx: Context,
    request: Request,
) -> Greeting:
    """Make this recording my voicemail greeting; a refused file keeps the old one."""
    return await upload_greeting(ctx, who, request, file)


@router.get("/greeting/audio", response_class=FileResponse)
def audio(who: Caller, ctx: Context) -> FileResponse:
    """My own greeting as callers hear it (WAV); 404 while callers hear the system one."""
    target = greeting_file(ctx, who)
    if not target.exists():
        code, key = record_by_phone(ctx, who)
        raise Problem(404, f"no greeting of your own: record one by phone ({code}, then {key})"
                      " or upload one")  # fmt: skip
    return FileResponse(target, media_type="audio/wav")


@router.delete("/greeting", status_code=204)
def remove(who: Caller, ctx: Context, request: Request) -> None:
    """Remove my own greeting: callers hear the system greeting again."""
    remove_greeting(ctx, who, request)
