"""Conference rooms from the company admin's pages (S7, A3).

The list shows each room's extension, the numbers that lead to it, whether it has a PIN
and a moderator PIN, how many it takes, and who is in it now (asked of the running
switch, as GET .../conferences/{name}/participants does; without an answer the list
says so). A room's form changes it through `parts.save_item`, so the errors are
`config apply`'s, next to their field. Its PINs are write-only, as in the API: the form
never shows one, a blank field keeps the stored PIN and the "remove" box takes it away.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from vaxel.services import configuration, meetings
from vaxel.services.companies import CompanyInfo
from vaxel.services.company_config import NAME
from vaxel.services.meetings import MeetingRequest
from vaxel.web.api.meetings import book, call_off
from vaxel.web.api.sections import etag_of
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages import parts
from vaxel.web.pages.admin import Company
from vaxel.web.pages.base import (
    Context,
    PageRoute,
    Seen,
    Viewer,
    company_page,
    field,
    link_for,
    redirect,
    render,
)
from vaxel.web.pages.i18n import text
from vaxel.web.pages.sections import done_text, posted
from vaxel.web.problems import Problem

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)

ROOM_FIELDS = ("name", "extension", "pin", "moderator_pin", "max_participants", "language")
PINS = ("pin", "moderator_pin")
#: How long the list waits for the switch to say who is in a room.
ASK_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Room:
    """One line of the list."""

    name: str
    extension: str
    numbers: list[str]
    pin: bool  # whether one is set (never the PIN)
    moderator_pin: bool
    max_participants: int
    tag: str
    present: list[str] | None = None  # who is in it now; None: the switch did not say


def _rooms(ctx: WebContext, info: CompanyInfo) -> list[Room]:
    data, _ = configuration.export_data(ctx.store, info.domain)
    stored = configuration.load_document(ctx.store, info.id)
    secret = stored.conferences if stored is not None else {}
    rooms = []
    for name, item in data.get("conferences", {}).items():
        held = secret.get(name)
        numbers = [n["number"] for n in data.get("numbers", []) if n.get("conference") == name]
        rooms.append(Room(name, str(item.get("extension") or ""), numbers,
                          held is not None and held.pin is not None,
                          held is not None and held.moderator_pin is not None,
                          int(item.get("max_participants", 10)), etag_of(item)))  # fmt: skip
    return rooms


async def _present(ctx: WebContext, info: CompanyInfo, name: str) -> list[str] | None:
    """Who is in the room now, as the switch says (names, or the number that called)."""
    if ctx.conference is None:
        return None
    try:
        outcome, answer = await asyncio.wait_for(
            ctx.conference(info.id, name, "participants", "", True), ASK_SECONDS
        )
    except Exception:  # no answer (a switch busy or restarting): the list says so
        return None
    if outcome != "ok" or not isinstance(answer, dict):
        return None
    return [str(p.get("name") or p.get("party")) for p in answer.get("participants", [])]


@router.get("/conferences")
async def rooms(
    request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    """The conference rooms (A3), and who is in each now."""
    return await _list(request, ctx, v, company, done=done)


async def _list(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    *,
    done: str = "",
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    info = await blocking(company_page, ctx, v, company)
    found = await blocking(_rooms, ctx, info)
    present = await asyncio.gather(*(_present(ctx, info, room.name) for room in found))
    shown = [replace(room, present=now) for room, now in zip(found, present, strict=True)]
    return render(request, "admin/conferences.html", v, status=status, company=info,
                  nav="conferences", rooms=shown, done=done_text(v, done),
                  general=general or [], switch=ctx.conference is not None,
                  remove=link_for(v, "/admin/conferences/remove", info))  # fmt: skip


def _values(name: str, item: dict[str, Any] | None) -> dict[str, str]:
    """A room's form values (never its PINs: those fields are always blank)."""
    item = item or {}
    return {"name": name, "extension": str(item.get("extension") or ""),
            "max_participants": str(item.get("max_participants", 10)),
            "language": str(item.get("language") or "")}  # fmt: skip


def _page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    name: str,
    *,
    new: bool = False,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    done: str = "",
    status: int = 200,
    meeting: dict[str, str] | None = None,
    meeting_errors: list[str] | None = None,
) -> Response:
    info = company_page(ctx, v, company)
    room = next((r for r in _rooms(ctx, info) if r.name == name), None)
    if not new and room is None:
        raise Problem(404, "")
    item = parts.items(ctx, info, "conferences").get(name)
    shown = {**_values(name, item), **(values or {})}
    for pin in PINS:  # never sent back, not even what was typed
        shown.pop(pin, None)
    path = "/admin/conferences/" + ("new" if new else name)
    booked = [] if new else meetings.list_meetings(ctx.store, info.id, name)
    return render(request, "admin/conference.html", v, status=status, company=info,
                  nav="conferences", new=new, name=name, room=room, values=shown,
                  tag=etag_of(item) if item else "", errors=errors or {},
                  general=general or [], done=done_text(v, done),
                  action=link_for(v, path, info), meetings=booked,
                  meeting=meeting or {}, meeting_errors=meeting_errors or [],
                  book=link_for(v, f"/admin/conferences/{name}/meetings", info),
                  cancel=link_for(v, f"/admin/conferences/{name}/meetings/cancel", info),
                  back=link_for(v, "/admin/conferences", info))  # fmt: skip


@router.get("/conferences/new")
def new_room(
    request: Request, ctx: Context, v: Seen, company: Company = None, name: str = ""
) -> Response:
    return _page(request, ctx, v, company, name[:40], new=True)


@router.get("/conferences/{name}")
def room_page(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    return _page(request, ctx, v, company, name, done=done)


@router.post("/conferences/remove")
async def remove_room(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    form = await posted(request, v)
    info = await blocking(company_page, ctx, v, company)
    outcome = await blocking(parts.save_item, request, ctx, v, info, "conferences",
                             field(form, "name"), lambda old: None, tag=field(form, "tag"),
                             fields=())  # fmt: skip
    if not outcome.ok:
        return await _list(request, ctx, v, company, general=outcome.general, status=422)
    return redirect(link_for(v, "/admin/conferences", info, done="removed"))


@router.post("/conferences/{name}")
async def save_room(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    form = await posted(request, v)
    response: Response = await blocking(_save, request, ctx, v, company, name, form)
    return response


def _number(value: str) -> Any:
    """A number typed into a field, or the text for the model to refuse with its words."""
    return int(value) if value.isdigit() else value


def build(form: FormData, old: dict[str, Any] | None) -> dict[str, Any]:
    """The room from its form: a blank PIN keeps the stored one (left out), a ticked
    "remove" box removes it (`null`), anything typed replaces it."""
    item = dict(old or {})
    for key in ("extension", "language"):
        item.pop(key, None)
        if field(form, key):
            item[key] = field(form, key)
    item["max_participants"] = _number(field(form, "max_participants") or "10")
    for pin in PINS:
        item.pop(pin, None)
        if form.get(f"{pin}.remove"):
            item[pin] = None
        elif field(form, pin):
            item[pin] = field(form, pin)
    return item


def _placed(name: str, errors: dict[str, list[str]], general: list[str]) -> None:
    """The room's own lines (`conferences.NAME: ...`) at the field they are about."""
    for line in list(general):
        if not line.startswith(f"conferences.{name}:"):
            continue
        at = "moderator_pin" if "pin" in line.split(":", 1)[1] else "extension"
        errors.setdefault(at, []).append(line)
        general.remove(line)


def _save(
    request: Request, ctx: WebContext, v: Viewer, company: str | None, name: str, form: FormData
) -> Response:
    info = company_page(ctx, v, company)
    new = name == "new"
    name = field(form, "name") if new else name
    values = {key: field(form, key) for key in ROOM_FIELDS if key not in PINS}
    values["name"] = name
    if new and not re.match(NAME, name):
        return _page(request, ctx, v, company, name, new=True, values=values, status=422,
                     general=[text(v.lang, "part.errors")],
                     errors={"name": [f"conferences.{name}: {text(v.lang, 'part.bad_name')}"]},
                     )  # fmt: skip
    outcome = parts.save_item(request, ctx, v, info, "conferences", name,
                              lambda old: build(form, old), tag=field(form, "tag"),
                              fields=ROOM_FIELDS, new=new)  # fmt: skip
    if not outcome.ok:
        errors, general = dict(outcome.errors), list(outcome.general)
        _placed(name, errors, general)
        return _page(request, ctx, v, company, name, new=new, values=values, errors=errors,
                     general=general, status=422)  # fmt: skip
    done = "created" if new else "saved"
    return redirect(link_for(v, f"/admin/conferences/{name}", info, done=done))


# -- meetings in the room (A3) ------------------------------------------------------------


@router.post("/conferences/{name}/meetings/cancel")
async def cancel_meeting(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    """Cancel a meeting: its invitees are told, as DELETE .../meetings/{id} does."""
    form = await posted(request, v)
    info = await blocking(company_page, ctx, v, company)
    meeting_id = field(form, "id")
    if not meeting_id.isdigit():
        raise Problem(404, "")
    await blocking(call_off, ctx, v.who, request, info.domain, name, int(meeting_id))
    return redirect(link_for(v, f"/admin/conferences/{name}", info, done="cancelled"))


@router.post("/conferences/{name}/meetings")
async def book_meeting(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    """Book a meeting from the room's page, as POST .../meetings does."""
    form = await posted(request, v)
    response: Response = await blocking(_book, request, ctx, v, company, name, form)
    return response


def _line(error: Any) -> str:
    """A refused field as the API says it: `phones.1: ... is not a phone number`."""
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {str(error['msg']).removeprefix('Value error, ')}"


MEETING_FIELDS = ("title", "start", "duration_minutes", "reminder_minutes", "frequency",
                  "count", "emails", "phones")  # fmt: skip


def _book(
    request: Request, ctx: WebContext, v: Viewer, company: str | None, name: str, form: FormData
) -> Response:
    info = company_page(ctx, v, company)
    typed = {key: field(form, key) for key in MEETING_FIELDS}
    body: dict[str, Any] = {
        "title": typed["title"], "start": typed["start"],
        "duration_minutes": typed["duration_minutes"] or "60",
        "reminder_minutes": typed["reminder_minutes"] or "0",
        "emails": parts.words(typed["emails"]),
        "phones": [n.strip() for n in typed["phones"].split(",") if n.strip()],  # "070-1 23"
    }  # fmt: skip
    if typed["frequency"]:
        body["recurrence"] = {"frequency": typed["frequency"]}
        if typed["count"]:
            body["recurrence"]["count"] = typed["count"]
    if field(form, "pin"):
        body["pin"] = field(form, "pin")
    try:
        booking = MeetingRequest.model_validate(body)
        book(ctx, v.who, request, info.domain, name, booking)
    except ValidationError as exc:
        lines = [_line(error) for error in exc.errors()]
        return _page(request, ctx, v, company, name, meeting=typed, meeting_errors=lines,
                     status=422)  # fmt: skip
    except Problem as exc:
        if exc.status != 422:
            raise
        return _page(request, ctx, v, company, name, meeting=typed,
                     meeting_errors=exc.errors or [exc.detail], status=422)  # fmt: skip
    return redirect(link_for(v, f"/admin/conferences/{name}", info, done="booked"))
