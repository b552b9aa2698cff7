"""Prompts from the company admin's pages (S7, S4): what callers hear, and changing it.

Each prompt plays in the page (<audio> fed by the API's /prompts/{name}/audio, which the
session cookie opens). A recording is uploaded here (multipart) and checked by decoding
before anything changes, by the same function as the API's upload
(`web.api.prompts.upload_prompt`). A text is heard before it is saved: the "Hear it"
button reloads the page with a player fed by `/admin/prompts/preview.wav`, spoken by
the same text to speech as the API's preview. A prompt with a number can be recorded by
phone: an admin dials *99 and keys that number.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import FormData, UploadFile

from vaxel.services.company_config import NAME, ConfigError
from vaxel.web.api.prompts import spoken, upload_prompt
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages import parts
from vaxel.web.pages.admin import Company
from vaxel.web.pages.base import (
    Context,
    PageRoute,
    Seen,
    Viewer,
    check_csrf,
    company_page,
    field,
    link_for,
    redirect,
    render,
)
from vaxel.web.pages.i18n import text
from vaxel.web.problems import Problem

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)

FIELDS = ("name", "text", "language", "number", "file")
LANGUAGES = ("sv", "en")


def _page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    done: str = "",
    preview: str = "",
    status: int = 200,
) -> Response:
    info = company_page(ctx, v, company)
    found = parts.items(ctx, info, "prompts")
    shown = {"name": "", "text": "", "language": "sv", "number": "", "upload_name": ""}
    done_text = text(v.lang, f"part.{done}") if done in ("saved", "created", "removed") else ""
    return render(request, "admin/prompts.html", v, status=status, company=info, nav="prompts",
                  prompts=found, tags=parts.tags(found), values={**shown, **(values or {})},
                  errors=errors or {}, general=general or [], done=done_text, preview=preview,
                  prompt_languages=LANGUAGES,
                  audio=f"/api/v1/companies/{info.domain}/prompts/",
                  page=link_for(v, "/admin/prompts", info),
                  upload=link_for(v, "/admin/prompts/upload", info),
                  save=link_for(v, "/admin/prompts/text", info),
                  remove=link_for(v, "/admin/prompts/remove", info))  # fmt: skip


@router.get("/prompts")
def prompts(
    request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    """The prompts, each with a player; forms to upload, speak and hear first (S4)."""
    return _page(request, ctx, v, company, done=done)


@router.post("/prompts/hear")
async def hear(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    """The text form with a player that speaks its text (nothing is saved)."""
    form = await request.form()
    check_csrf(request, v, form)
    values = {key: field(form, key) for key in ("name", "text", "language", "number")}
    language = values["language"] if values["language"] in LANGUAGES else "sv"
    info = await blocking(company_page, ctx, v, company)
    if not values["text"]:
        line = f"prompts.{values['name']}.text: {text(v.lang, 'prompts.no_text')}"
        return await blocking(_page, request, ctx, v, company, values=values, status=422,
                              errors={"text": [line]},
                              general=[text(v.lang, "part.errors")])  # fmt: skip
    preview = link_for(v, "/admin/prompts/preview.wav", info, text=values["text"][:1000],
                       language=language)  # fmt: skip
    return await blocking(_page, request, ctx, v, company, values=values, preview=preview)


@router.get("/prompts/preview.wav")
def preview(
    ctx: Context,
    v: Seen,
    company: Company = None,
    text: Annotated[str, Query(min_length=1, max_length=1000)] = "",
    language: Annotated[str, Query(pattern="^(sv|en)$")] = "sv",
) -> Response:
    """The text spoken as a prompt would be (nothing is kept): the page's player."""
    company_page(ctx, v, company)
    return Response(spoken(text, language), media_type="audio/wav",
                    headers={"Cache-Control": "no-store"})  # fmt: skip


@router.post("/prompts/text")
async def save_text(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    return await blocking(_save_text, request, ctx, v, company, form)


def _save_text(
    request: Request, ctx: WebContext, v: Viewer, company: str | None, form: FormData
) -> Response:
    """A prompt spoken from text: new, or replacing what the name had (a file too)."""
    info = company_page(ctx, v, company)
    values = {key: field(form, key) for key in ("name", "text", "language", "number")}
    name = values["name"]
    if not re.match(NAME, name):
        return _page(request, ctx, v, company, values=values, status=422,
                     errors={"name": [f"prompts.{name}: {text(v.lang, 'part.bad_name')}"]},
                     general=[text(v.lang, "part.errors")])  # fmt: skip
    exists = name in parts.items(ctx, info, "prompts")

    def build(old: dict[str, Any] | None) -> dict[str, Any]:
        item: dict[str, Any] = {"text": values["text"], "language": values["language"]}
        number = values["number"]
        if number:
            item["number"] = int(number) if number.isdigit() else number
        return item

    outcome = parts.save_item(request, ctx, v, info, "prompts", name, build, tag="",
                              fields=FIELDS, new=not exists)  # fmt: skip
    if not outcome.ok:
        return _page(request, ctx, v, company, values=values, errors=outcome.errors,
                     general=outcome.general, status=422)  # fmt: skip
    return redirect(link_for(v, "/admin/prompts", info, done="saved" if exists else "created"))


@router.post("/prompts/upload")
async def upload(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    """A recording for a prompt (new or replaced), checked by decoding as the API does."""
    form = await request.form()
    check_csrf(request, v, form)
    info = await blocking(company_page, ctx, v, company)
    name = field(form, "upload_name")
    file = form.get("file")
    values = {"upload_name": name}
    line = ""
    if not re.match(NAME, name):
        line = f"prompts.{name}: {text(v.lang, 'part.bad_name')}"
        return await blocking(_page, request, ctx, v, company, values=values, status=422,
                              errors={"upload_name": [line]},
                              general=[text(v.lang, "part.errors")])  # fmt: skip
    if not isinstance(file, UploadFile) or not file.filename:
        line = f"prompts.{name}.file: {text(v.lang, 'prompts.no_file')}"
    else:
        try:
            await upload_prompt(ctx, v.who, request, info, name, file)
        except Problem as exc:
            line = f"prompts.{name}.file: {exc.detail}"
        except ConfigError as exc:
            line = "; ".join(exc.errors)
    if line:
        return await blocking(_page, request, ctx, v, company, values=values, status=422,
                              errors={"file": [line]},
                              general=[text(v.lang, "part.errors")])  # fmt: skip
    return redirect(link_for(v, "/admin/prompts", info, done="saved"))


@router.post("/prompts/remove")
async def remove(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    return await blocking(_remove, request, ctx, v, company, form)


def _remove(
    request: Request, ctx: WebContext, v: Viewer, company: str | None, form: FormData
) -> Response:
    info = company_page(ctx, v, company)
    outcome = parts.save_item(request, ctx, v, info, "prompts", field(form, "name"),
                              lambda old: None, tag=field(form, "tag"), fields=())  # fmt: skip
    if not outcome.ok:
        return _page(request, ctx, v, company, general=outcome.general, status=422)
    return redirect(link_for(v, "/admin/prompts", info, done="removed"))
