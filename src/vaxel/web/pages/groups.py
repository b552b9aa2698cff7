"""Answering groups and shared voicemail boxes from the company admin's pages (S7: S8, S6).

A group's page has its members in the order they ring, the strategy and the ring time,
what a busy member gets, the queue (music, announcement and how often, the caller's
place, the longest wait) and where callers go when nobody answers (the overflow), and
who of them is logged in now, with a button to log each in or out
(`web.api.groups.set_login`, as PUT .../members/{ext} and *45/*46 do), and who paused
(A5), with a button to end the pause (`web.api.agents.set_pause`, as *47 does). A shared box's
page has its members, where its messages are mailed and its greeting. Both change the
description through `parts.save_item`: errors as `config apply` prints them, by field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from vaxel.services import configuration, pauses, presence_settings
from vaxel.services.company_config import NAME, PAUSE_PRESETS, pause_words
from vaxel.web.api.agents import set_pause
from vaxel.web.api.groups import set_login
from vaxel.web.api.sections import etag_of
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
from vaxel.web.pages.routing import KINDS
from vaxel.web.problems import Problem

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)

STRATEGIES = ("ring-all", "fixed-order", "round-robin", "longest-idle", "fewest-calls")
GROUP_FIELDS = ("name", "members", "strategy", "ring_time", "busy_members", "queue.music",
                "queue.announcement", "queue.announce_every", "queue.announce_position",
                "queue.max_wait", "queue", "overflow")  # fmt: skip
#: section -> (page path, the form's fields, the template)
PARTS = {
    "groups": ("/admin/groups", GROUP_FIELDS, "admin/group.html"),
    "voicemail": ("/admin/voicemail", ("name", "members", "email", "greeting"), "admin/box.html"),
}


def _done(v: Viewer, done: str) -> str:
    known = ("saved", "created", "removed", "login", "unpause", "pause")
    return text(v.lang, f"part.{done}") if done in known else ""


@router.get("/groups")
def groups(
    request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    """The answering groups (S8)."""
    return _list(request, ctx, v, company, "groups", done)


@router.get("/voicemail")
def boxes(
    request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    """The shared voicemail boxes (S6)."""
    return _list(request, ctx, v, company, "voicemail", done)


def _list(
    request: Request, ctx: WebContext, v: Viewer, company: str | None, section: str, done: str
) -> Response:
    info = company_page(ctx, v, company)
    found = parts.items(ctx, info, section)
    return render(request, "admin/parts.html", v, company=info, nav=section, section=section,
                  found=found, tags=parts.tags(found), done=_done(v, done), general=[],
                  path=PARTS[section][0],
                  remove=link_for(v, f"{PARTS[section][0]}/remove", info))  # fmt: skip


def _values(section: str, name: str, item: dict[str, Any]) -> dict[str, str]:
    values = {"name": name, "members": ", ".join(item.get("members", []))}
    if section == "groups":
        values["strategy"] = str(item.get("strategy", "ring-all"))
        values["ring_time"] = str(item.get("ring_time", 15))
        values["busy_members"] = str(item.get("busy_members", "skip"))
        queue = item.get("queue")
        values["queue"] = "on" if queue is not None else ""
        queue = queue or {}
        values["queue.music"] = str(queue.get("music") or "")
        values["queue.announcement"] = str(queue.get("announcement") or "")
        values["queue.announce_every"] = _seconds(queue.get("announce_every", 30))
        values["queue.announce_position"] = "on" if queue.get("announce_position", True) else ""
        values["queue.max_wait"] = _seconds(queue.get("max_wait", 120))
        values["overflow.kind"], values["overflow.target"] = parts.destination_fields(
            item.get("overflow")
        )
    else:
        values["email"] = ", ".join(item.get("email", []))
        values["greeting"] = str(item.get("greeting") or "")
    return values


def _page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    section: str,
    name: str,
    *,
    new: bool = False,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    info = company_page(ctx, v, company)
    data, _ = configuration.export_data(ctx.store, info.domain)
    found = data.get(section, {})
    if not new and name not in found:
        raise Problem(404, "")
    item = found.get(name, {})
    names = {user["ext"]: user["name"] for user in data.get("users", [])}
    out = presence_settings.logged_out(ctx.store, info.id) if section == "groups" else set()
    members = [(ext, names.get(ext, ""), (name, ext) not in out) for ext in item.get("members", [])]
    # A5: who of them paused, with the reason's words ("" for none), and a button to end it.
    stopped = pauses.pauses(ctx.store, info.id) if section == "groups" else {}
    paused = {ext: pause_words(found.reason, v.lang) for ext, found in stopped.items()}
    # ... and a pause to start, with one of the company's reasons (A5, as *47N does).
    reasons = [(reason, pause_words(reason, v.lang)) for reason in data.get("pause_reasons")
               or list(PAUSE_PRESETS)]  # fmt: skip
    base = PARTS[section][0]
    return render(request, PARTS[section][2], v, status=status, company=info, nav=section,
                  new=new, name=name, values={**_values(section, name, item), **(values or {})},
                  tag=etag_of(item) if item else "", errors=errors or {}, general=general or [],
                  done=_done(v, done), strategies=STRATEGIES, members=members, paused=paused,
                  unpause=link_for(v, f"{base}/{name}/unpause", info), reasons=reasons,
                  pause=link_for(v, f"{base}/{name}/pause", info),
                  prompts=sorted(data.get("prompts", {})), kinds=KINDS,
                  action=link_for(v, f"{base}/new" if new else f"{base}/{name}", info),
                  login=link_for(v, f"{base}/{name}/login", info),
                  back=link_for(v, base, info))  # fmt: skip


@router.get("/groups/new")
def new_group(
    request: Request, ctx: Context, v: Seen, company: Company = None, name: str = ""
) -> Response:
    return _page(request, ctx, v, company, "groups", name[:40], new=True)


@router.get("/voicemail/new")
def new_box(
    request: Request, ctx: Context, v: Seen, company: Company = None, name: str = ""
) -> Response:
    return _page(request, ctx, v, company, "voicemail", name[:40], new=True)


@router.get("/groups/{name}")
def group_page(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    return _page(request, ctx, v, company, "groups", name, done=done)


@router.get("/voicemail/{name}")
def box_page(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    return _page(request, ctx, v, company, "voicemail", name, done=done)


@router.post("/groups/{name}/login")
async def group_login(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    """Log a member in or out now (S8)."""
    form = await request.form()
    check_csrf(request, v, form)
    info = await blocking(company_page, ctx, v, company)
    on = field(form, "logged_in") == "1"
    await blocking(set_login, ctx, v.who, request, info, name, field(form, "ext"), on)
    return redirect(link_for(v, f"/admin/groups/{name}", info, done="login"))


@router.post("/groups/{name}/pause")
async def group_pause(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    """Pause a member now with one of the company's reasons (A5), as PUT
    .../agents/{ext}/pause and *47N do."""
    form = await request.form()
    check_csrf(request, v, form)
    info = await blocking(company_page, ctx, v, company)
    reason = field(form, "reason") or None
    await blocking(set_pause, ctx, v.who, request, info.id, field(form, "ext"), reason)
    return redirect(link_for(v, f"/admin/groups/{name}", info, done="pause"))


@router.post("/groups/{name}/unpause")
async def group_unpause(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    """End a member's pause now (A5), as DELETE .../agents/{ext}/pause and *47 do."""
    form = await request.form()
    check_csrf(request, v, form)
    info = await blocking(company_page, ctx, v, company)
    await blocking(set_pause, ctx, v.who, request, info.id, field(form, "ext"), None)
    return redirect(link_for(v, f"/admin/groups/{name}", info, done="unpause"))


@router.post("/groups/remove")
async def remove_group(
    request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    return await _posted(request, ctx, v, company, _remove, "groups")


@router.post("/voicemail/remove")
async def remove_box(request: Request, ctx: Context, v: Seen, company: Company = None) -> Response:
    return await _posted(request, ctx, v, company, _remove, "voicemail")


async def _posted(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    work: Callable[..., Response],
    *args: str,
) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    response: Response = await blocking(work, request, ctx, v, company, *args, form)
    return response


def _remove(
    request: Request, ctx: WebContext, v: Viewer, company: str | None, section: str, form: FormData
) -> Response:
    info = company_page(ctx, v, company)
    outcome = parts.save_item(request, ctx, v, info, section, field(form, "name"),
                              lambda old: None, tag=field(form, "tag"), fields=())  # fmt: skip
    if not outcome.ok:
        found = parts.items(ctx, info, section)
        return render(request, "admin/parts.html", v, status=422, company=info, nav=section,
                      section=section, found=found, tags=parts.tags(found), done="",
                      general=outcome.general, path=PARTS[section][0],
                      remove=link_for(v, f"{PARTS[section][0]}/remove", info))  # fmt: skip
    return redirect(link_for(v, PARTS[section][0], info, done="removed"))


@router.post("/groups/{name}")
async def save_group(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    return await _posted(request, ctx, v, company, _save, "groups", name)


@router.post("/voicemail/{name}")
async def save_box(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    return await _posted(request, ctx, v, company, _save, "voicemail", name)


def _number(value: str) -> Any:
    """A number typed into a field, as the description has it; anything else is left for
    the model to refuse with its path."""
    if value.isdigit():
        return int(value)
    try:
        return float(value)
    except ValueError:
        return value


def _seconds(value: Any) -> str:
    """30.0 as "30", 7.5 as "7.5"."""
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def _save(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    section: str,
    name: str,
    form: FormData,
) -> Response:
    info = company_page(ctx, v, company)
    new = name == "new"
    name = field(form, "name") if new else name
    values = {key: field(form, key) for key in form if key != "csrf"}
    if section == "groups":  # an unticked box is not sent
        for box in ("queue", "queue.announce_position"):
            values[box] = "on" if form.get(box) else ""
    if new and not re.match(NAME, name):
        return _page(request, ctx, v, company, section, name, new=True, values=values,
                     status=422, general=[text(v.lang, "part.errors")],
                     errors={"name": [f"{section}.{name}: {text(v.lang, 'part.bad_name')}"]},
                     )  # fmt: skip

    def build(old: dict[str, Any] | None) -> dict[str, Any]:
        item = dict(old or {})
        item["members"] = parts.words(field(form, "members"))
        if section == "groups":
            item["strategy"] = field(form, "strategy")
            item["ring_time"] = _number(field(form, "ring_time"))
            item["busy_members"] = field(form, "busy_members") or "skip"
            # The queue's settings this form does not show (wrap-up, A7 rules ...) are kept.
            kept = dict(item.pop("queue", None) or {})
            if form.get("queue"):
                queue: dict[str, Any] = {
                    **kept,
                    "announce_every": _number(field(form, "queue.announce_every") or "30"),
                    "announce_position": bool(form.get("queue.announce_position")),
                    "max_wait": _number(field(form, "queue.max_wait") or "120"),
                }
                for key in ("music", "announcement"):
                    queue.pop(key, None)
                    if field(form, f"queue.{key}"):
                        queue[key] = field(form, f"queue.{key}")
                item["queue"] = queue
            item.pop("overflow", None)
            overflow = parts.destination(field(form, "overflow.kind"),
                                         field(form, "overflow.target"))  # fmt: skip
            if overflow is not None:
                item["overflow"] = overflow
        else:
            item["email"] = parts.words(field(form, "email"))
            item.pop("greeting", None)
            if field(form, "greeting"):
                item["greeting"] = field(form, "greeting")
        return item

    outcome = parts.save_item(request, ctx, v, info, section, name, build,
                              tag=field(form, "tag"), fields=PARTS[section][1],
                              new=new)  # fmt: skip
    if not outcome.ok:
        return _page(request, ctx, v, company, section, name, new=new, values=values,
                     errors=outcome.errors, general=outcome.general, status=422)  # fmt: skip
    done = "created" if new else "saved"
    return redirect(link_for(v, f"{PARTS[section][0]}/{name}", info, done=done))
