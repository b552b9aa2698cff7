"""The user web (U9, U4): my diversion, and my colleagues with theirs (each with a call
button: `pages/mine.py` places the call).

"Lunch until 13:00", "Meeting until 15:30" and "Away until Monday" are one press each;
any status (or one's own words) with an end date and time is the form below them, which
also says which calls it applies to (U9: all, only the fixed numbers, or only the mobile
number). The end time is the company's wall clock: 13:00 is today's, or tomorrow's once
it has passed, as with `*22*` on the phone. Setting and clearing go through the same function
as PUT /api/v1/me/diversion (`services.diversions`, filed in the audit log), so the
switch says it to the next caller.

The directory lists the company's users with each one's diversion and its end time
(`diversions.active_diversions`), searched as one types.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import FormData

from vaxel.services import diversions, users
from vaxel.services.diversions import PRESETS
from vaxel.services.errors import Invalid
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
from vaxel.web.pages.i18n import text
from vaxel.web.problems import Problem

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
    status: int = 200,
) -> Response:
    company_id, ext = _mine(v)
    now = ctx.now()
    active = diversions.active_diversions(ctx.store, company_id, now)
    colleagues = users.page_users(ctx.store, company_id, limit=DIRECTORY, q=q)
    template = "me_directory.html" if wants_fragment(request) else "me.html"
    return render(request, template, v, status=status, nav="me", mine=active.get(ext),
                  colleagues=colleagues, active=active, q=q, done=done, error=error,
                  shortcuts=SHORTCUTS, statuses=STATUSES, scopes=SCOPES, ext=ext,
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
    message = text(v.lang, f"me.{done}") if done in ("set_ok", "cleared") else ""
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
