"""Prompts from the web (S3, S5, P8): upload a recording, hear a text spoken before saving
it, and play what callers hear.

An upload is checked by decoding it (sox, as `config apply` converts files) before
anything changes: a file that is not audio, empty, silent or too long is refused with
the reason and the old prompt stays. The upload is kept under a name the server makes
from the prompt's name, never the browser's file name, in the company's own uploads
folder; the description then names it like any file prompt. A prompt given as text is
set with `PUT /companies/{domain}/prompts/{name}` (`{"text": ..., "language": ...}`).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from vaxel.media.player import PromptError
from vaxel.media.prompts import convert_upload
from vaxel.media.tts import synthesize
from vaxel.services import configuration
from vaxel.services.companies import CompanyInfo
from vaxel.services.company_config import NAME
from vaxel.web.api.sections import etag_of
from vaxel.web.auth import Caller, Context, Principal, admin_of, audit_change
from vaxel.web.context import WebContext
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/companies/{domain}/prompts", tags=["prompts"])

MAX_UPLOAD = 20 * 1024 * 1024  # bytes: some minutes of WAV, hours of MP3
CHUNK = 1024 * 1024


def _name(name: str) -> str:
    if not re.match(NAME, name):
        raise Problem(422, f"bad prompt name {name!r}: use a-z, 0-9, - and _ (max 40)")
    return name


@router.post("/{name}/upload")
async def upload(
    domain: str,
    name: str,
    file: Annotated[UploadFile, File(description="WAV, MP3, FLAC or OGG")],
    who: Caller,
    ctx: Context,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """Make the prompt `name` this recording (created if new); the old one stays if the
    file is refused."""
    company = await run_in_threadpool(admin_of, ctx, who, domain)
    _name(name)
    item = await upload_prompt(ctx, who, request, company, name, file)
    response.headers["ETag"] = etag_of(item)
    return item


async def receive(ctx: WebContext, company: CompanyInfo, file: StarletteUpload) -> Path:
    """The uploaded file, read in chunks into a temporary file of the company's uploads
    folder (413 beyond `MAX_UPLOAD`); the caller removes it."""
    folder = ctx.uploads(company.domain)
    await run_in_threadpool(folder.mkdir, parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", delete=False) as raw:
        received = Path(raw.name)
        size = 0
        while chunk := await file.read(CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD:
                received.unlink(missing_ok=True)
                raise Problem(413, f"the file is larger than {MAX_UPLOAD // 1024 // 1024} MB")
            raw.write(chunk)
    return received


async def upload_prompt(
    ctx: WebContext,
    who: Principal,
    request: Request,
    company: CompanyInfo,
    name: str,
    file: StarletteUpload,
) -> dict[str, Any]:
    """Receive, check by decoding, keep and name an upload as prompt `name` (S4, S7): the
    API's upload and the admin's prompts page both come here, so both refuse the same
    files with the same words. Raises Problem (413, 422) or ConfigError; returns the
    prompt as the description now has it."""
    received = await receive(ctx, company, file)
    try:
        return await run_in_threadpool(apply_upload, ctx, who, request, company, name, received)
    finally:
        received.unlink(missing_ok=True)


def apply_upload(
    ctx: WebContext,
    who: Principal,
    request: Request,
    company: CompanyInfo,
    name: str,
    received: Path,
) -> dict[str, Any]:
    folder = received.parent
    with tempfile.TemporaryDirectory(dir=folder, prefix=".check-") as check:
        try:
            info = convert_upload(received, Path(check) / "check.wav")
        except PromptError as exc:
            raise Problem(422, str(exc).replace(received.name, "the file")) from None
    kept = folder / f"{name}.{info.source_format.lower()}"
    received.replace(kept)
    before: dict[str, Any] = {}

    def change(data: dict[str, Any]) -> None:
        prompts = data.setdefault("prompts", {})
        old = prompts.get(name) or {}
        before.update(old)
        prompts[name] = {
            "file": kept.name,
            **({"language": old["language"]} if "language" in old else {}),
            **({"number": old["number"]} if "number" in old else {}),
        }

    _, after = configuration.change_config(
        ctx.store, company.domain, change, data=ctx.data, source_dir=folder,
        by_provider=who.role == "provider",
    )  # fmt: skip
    item = after["prompts"][name]
    recorded = {**item, "seconds": round(info.seconds, 1)}
    audit_change(ctx, who, request, "prompts.upload", name, company_id=company.id,
                 before=before or None, after=recorded)  # fmt: skip
    return dict(item)


@router.get(
    "/{name}/audio",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}}},
)
def audio(domain: str, name: str, who: Caller, ctx: Context) -> FileResponse:
    """What callers hear, as 8 kHz WAV."""
    company = admin_of(ctx, who, domain)
    path = configuration.prompt_folder(ctx.data, company.domain) / f"{_name(name)}.wav"
    if not path.is_file():
        raise Problem(404, f"no prompt {name!r}")
    return FileResponse(path, media_type="audio/wav", filename=f"{name}.wav")


class Speak(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=1000)]
    language: str = Field("sv", pattern="^(sv|en)$")


@router.post(
    "/preview",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}},
)
def preview(domain: str, body: Speak, who: Caller, ctx: Context) -> Response:
    """A text spoken as a prompt would be, to hear before saving it (nothing is kept)."""
    admin_of(ctx, who, domain)
    return Response(spoken(body.text, body.language), media_type="audio/wav")


def spoken(text: str, language: str) -> bytes:
    """`text` spoken by the prompts' text to speech, as WAV bytes (nothing is kept): the
    API's preview and the prompts page's player (S4, S7). 422 when it cannot be said."""
    with tempfile.TemporaryDirectory(prefix="vaxel-tts-") as folder:
        try:
            made = synthesize(text, language, Path(folder) / "preview.wav")  # type: ignore[arg-type]
        except PromptError as exc:
            raise Problem(422, str(exc)) from None
        return made.path.read_bytes()
