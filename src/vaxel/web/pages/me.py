"""The user web (U9, U4): my diversion, and my colleagues with theirs (each with a call
button: `pages/mine.py` places the call).

"Lunch until 13:00", "Meeting until 15:30" and "Away until Monday" are one press each;
any status (or one's own words) with an end date and time is the form below them, which
also says which calls it applies to (U9: all, only the fixed numbers, or only the mobile
number). The end time is the company's wall clock: 13:00 is today's, or tomorrow's once
it has passed, as with `*22*` on the phone. Setting and clearing go through the same function
as PUT /api/v1/me/diversion (`services.diversions`, filed in the audit log), so the
switch says it to the next caller.

My queues (A5), when I am a member of an answering group: each with a button to log in
or out (as *45N and *46N), and a pause with one of the company's reasons, or the button
that ends it (as *47N and *47), through the same functions as the API's.

My own shortcuts (U9) sit next to those presses: each saved one ("Lunch 1 h",
"Meeting until 15:30") is one press, removed with another, and the form under them keeps
a new one (`web.api.shortcuts`, the API's functions).

The directory lists the company's users with each one's diversion and its end time
(`diversions.active_diversions`), searched as one types; the colleagues I starred (U4)
come first, each with a star to press again.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import FormData

from vaxel.services import diversions, favourites, shortcuts, users
from vaxel.services.diversions import PRESETS
from vaxel.services.errors import Invalid
from vaxel.services.shortcuts import MAX_SHORTCUTS, Shortcut
from vaxel.web.api import agents as agent_api
from vaxel.web.api import favourites as favourite_api
from vaxel.web.api import groups as group_api
from vaxel.web.api import shortcuts as shortcut_api
from vaxel.web.api.diversions import DiversionIn, clear_and_audit, set_and_audit
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages.base import (
    Context,
    PageRoute,
    Seen,
    Viewer,
    check_csrf,
    field,
    redirect,
    render,
    wants_fragment,
)
from vaxel.web.pages.console import may_use as may_use_console
from vaxel.web.pages.i18n import status_words, text
from vaxel.web.pages.phone import my_groups, pause_choices
from vaxel.web.problems import Problem, RowId

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DIRECTORY = 200  # colleagues shown at once; the search finds the rest
SHORTCUTS = ("lunch_13", "meeting_1530", "away_monday")
STATUSES = tuple(PRESETS)
SCOPES = diversions.SCOPES


def _mine(v: Viewer) -> tuple[int, str]:
    if v.who.account.company_id is None or v.who.account.extension is None:
        raise Problem(404, text(v.lang, "me.no_phone"))
    return v.who.account.company_id, v.who.account.extension


def render_page(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    *,
    q: str = "",
    done: str = "",
    error: str = "",
    values: dict[str, str] | None = None,
    shortcut: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    company_id, ext = _mine(v)
    now = ctx.now()
    active = diversions.active_diversions(ctx.store, company_id, now)
    starred = favourites.favourite_users(ctx.store, company_id, ext, q)
    stars = {user.extension for user in starred}
    others = users.page_users(ctx.store, company_id, limit=DIRECTORY, q=q)
    colleagues = starred + [user for user in others if user.extension not in stars]
    saved = [(s, label(v.lang, s)) for s in shortcuts.list_shortcuts(ctx.store, company_id, ext)]
    template = "me_directory.html" if wants_fragment(request) else "me.html"
    queues = my_groups(ctx, company_id, ext)  # A5: my queues, each with a login toggle
    pause = pause_choices(ctx, company_id, ext, v.lang) if queues else {}
    operator = may_use_console(ctx, v)  # A16: a link to the operator console
    return render(request, template, v, status=status, nav="me", mine=active.get(ext),
                  queues=queues, pause=pause, operator=operator,
                  colleagues=colleagues, stars=stars, active=active, q=q, done=done, error=error,
                  shortcuts=SHORTCUTS, statuses=STATUSES, scopes=SCOPES, ext=ext, saved=saved,
                  max_saved=MAX_SHORTCUTS, shortcut_open=shortcut is not None,
                  shortcut=shortcut or {"status": "lunch", "text": "", "minutes": "", "at": "",
                                        "scope": "all"},
                  values=values or {"status": "lunch", "text": "", "date": "", "time": "",
                                    "scope": "all"},
                  today=v.now(ctx).date().isoformat())  # fmt: skip


@router.get("/me")
def me(
    request: Request,
    ctx: Context,
    v: Seen,
    q: Annotated[str, Query(max_length=100)] = "",
    done: str = "",
    to: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    known = ("set_ok", "cleared", "shortcut_saved", "shortcut_removed", "logged_in",
             "logged_out", "paused", "unpaused")  # fmt: skip
    message = text(v.lang, f"me.{done}") if done in known else ""
    if done == "calling":
        message = text(v.lang, "mine.calling", to=to)
    return render_page(request, ctx, v, q=q, done=message)


def _until(v: Viewer, now: datetime, day: str, clock: str) -> datetime | None:
    """The end the form names, in the company's zone; None for no end."""
    if not day and not clock:
        return None
    try:
        at = time.fromisoformat(clock) if clock else time(0)
        if not day:
            return diversions.next_time(at.hour, at.minute, now)
        return datetime.combine(date.fromisoformat(day), at, v.tz)
    except ValueError:
        raise Invalid(text(v.lang, "me.bad_time")) from None


def _wanted(v: Viewer, now: datetime, form: FormData) -> DiversionIn:
    shortcut = field(form, "shortcut")
    if shortcut == "lunch_13":
        return DiversionIn(status="lunch", until=diversions.next_time(13, 0, now))
    if shortcut == "meeting_1530":
        return DiversionIn(status="meeting", until=diversions.next_time(15, 30, now))
    if shortcut == "away_monday":
        return DiversionIn(status="away", until=diversions.next_weekday(0, 8, 0, now))
    status = field(form, "status")
    if status not in STATUSES:
        raise Invalid(f"unknown status {status!r}")
    own = field(form, "text") if status == "custom" else ""
    until = _until(v, now, field(form, "date"), field(form, "time"))
    scope = field(form, "scope") or "all"
    own = diversions.check_diversion(status, own, until, now, scope)  # Invalid: what to change
    return DiversionIn(status=status, text=own, until=until, scope=scope)


@router.post("/me/diversion")
async def set_diversion(request: Request, ctx: Context, v: Seen) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    return await blocking(_set, request, ctx, v, form)


def _set(request: Request, ctx: WebContext, v: Viewer, form: FormData) -> Response:
    company_id, ext = _mine(v)
    try:
        set_and_audit(ctx, v.who, request, company_id, ext, _wanted(v, v.now(ctx), form))
    except Invalid as exc:
        names = ("status", "text", "date", "time", "scope")
        values = {name: field(form, name) for name in names}
        return render_page(request, ctx, v, error=text(v.lang, "me.errors", detail=exc.message),
                     values=values, status=422)  # fmt: skip
    return redirect("/me?done=set_ok")


@router.post("/me/diversion/clear")
async def clear_diversion(request: Request, ctx: Context, v: Seen) -> Response:
    form = await request.form()
    check_csrf(request, v, form)
    company_id, ext = _mine(v)
    await blocking(clear_and_audit, ctx, v.who, request, company_id, ext)
    return redirect("/me?done=cleared")


# -- my queues (A5) ------------------------------------------------------------------------


@router.post("/me/groups/{group}")
async def log_in_or_out(group: str, request: Request, ctx: Context, v: Seen) -> Response:
    """Log in to (`on` 1) or out of (0) one of my answering groups, as *45N / *46N."""
    form = await request.form()
    check_csrf(request, v, form)
    on = field(form, "on") == "1"
    await blocking(_log_in, request, ctx, v, group, on)
    return redirect(f"/me?done={'logged_in' if on else 'logged_out'}#queues")


def _log_in(request: Request, ctx: WebContext, v: Viewer, group: str, on: bool) -> None:
    _, ext = _mine(v)
    if v.company is None:  # (a provider admin: _mine said so already)
        raise Problem(404, text(v.lang, "me.no_phone"))
    group_api.set_login(ctx, v.who, request, v.company, group, ext, on)


@router.post("/me/pause")
async def pause(request: Request, ctx: Context, v: Seen) -> Response:
    """Pause me with one of the company's reasons (`reason`), as *47N; `off` unpauses."""
    form = await request.form()
    check_csrf(request, v, form)
    return await blocking(_pause, request, ctx, v, form)


def _pause(request: Request, ctx: WebContext, v: Viewer, form: FormData) -> Response:
    company_id, ext = _mine(v)
    if field(form, "off"):
        agent_api.set_pause(ctx, v.who, request, company_id, ext, None)
        return redirect("/me?done=unpaused#queues")
    try:
        agent_api.set_pause(ctx, v.who, request, company_id, ext, field(form, "reason"))
    except Invalid as exc:
        return render_page(request, ctx, v, error=text(v.lang, "me.pause_errors",
                           detail=exc.message), status=422)  # fmt: skip
    return redirect("/me?done=paused#queues")


# -- my shortcuts -------------------------------------------------------------------------


def label(lang: str, shortcut: Shortcut) -> str:
    """A saved shortcut as its button says it: "Lunch 1 h", "Meeting until 15:30"."""
    words = status_words(lang, shortcut.status, shortcut.text)
    if shortcut.minutes is not None:
        hours, minutes = divmod(shortcut.minutes, 60)
        length = f"{hours} h" if not minutes else f"{shortcut.minutes} min"
        words = f"{words} {length}"
    elif shortcut.at is not None:
        words = f"{words} {text(lang, 'until')} {shortcut.at}"
    if shortcut.scope != "all":
        words = f"{words} ({text(lang, 'scope.' + shortcut.scope).lower()})"
    return words


@router.post("/me/shortcuts")
async def add_shortcut(request: Request, ctx: Context, v: Seen) -> Response:
    """Keep a new shortcut (status or own text, a duration or a time of day, scope)."""
    form = await request.form()
    check_csrf(request, v, form)
    return await blocking(_add_shortcut, request, ctx, v, form)


def _add_shortcut(request: Request, ctx: WebContext, v: Viewer, form: FormData) -> Response:
    names = ("status", "text", "minutes", "at", "scope")
    given = {name: field(form, name) for name in names}
    try:
        status = given["status"]
        if status not in STATUSES:
            raise Invalid(f"unknown status {status!r}")
        minutes = given["minutes"]
        if minutes and not minutes.isdigit():
            raise Invalid(text(v.lang, "me.bad_minutes"))
        body = shortcut_api.ShortcutIn(
            status=status, text=given["text"], minutes=int(minutes) if minutes else None,
            at=given["at"] or None, scope=given["scope"] or "all",
        )  # fmt: skip
        shortcut_api.add(ctx, v.who, request, body)
    except Invalid as exc:
        return render_page(request, ctx, v, error=text(v.lang, "me.shortcut_errors",
                           detail=exc.message), shortcut=given, status=422)  # fmt: skip
    return redirect("/me?done=shortcut_saved")


@router.post("/me/shortcuts/{shortcut_id}/{what}")
async def use_shortcut(
    shortcut_id: RowId, what: str, request: Request, ctx: Context, v: Seen
) -> Response:
    """Apply a saved shortcut (my diversion from now), or remove it."""
    form = await request.form()
    check_csrf(request, v, form)
    if what == "apply":
        await blocking(shortcut_api.apply, ctx, v.who, request, shortcut_id)
        return redirect("/me?done=set_ok")
    if what == "remove":
        await blocking(shortcut_api.remove, ctx, v.who, request, shortcut_id)
        return redirect("/me?done=shortcut_removed")
    raise Problem(404, "")


@router.post("/me/favourites/{colleague}/{what}")
async def star(colleague: str, what: str, request: Request, ctx: Context, v: Seen) -> Response:
    """Star or unstar a colleague (U4); back to the directory as it was searched."""
    form = await request.form()
    check_csrf(request, v, form)
    if what not in ("star", "unstar"):
        raise Problem(404, "")
    await blocking(favourite_api.star, ctx, v.who, request, colleague, what == "star")
    q = field(form, "q")
    return redirect("/me" + ("?" + urlencode({"q": q}) if q else "") + "#dir")
