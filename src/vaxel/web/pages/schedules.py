"""Opening hours from the company admin's pages (S7, S5).

A schedule's page has its week (the hours of each weekday, editable as "08:00-12:00,
13:00-17:00"), the year ahead as a calendar (each day's hours from
`Schedule.day`, holidays and eves marked with their names, special days with theirs),
the special days to add and remove, and the manual open/closed override with an end
time. Each form changes the schedule through `parts.save_item`: the errors are `config
apply`'s (`schedules.office.weekly.monday.0: bad time ...`), next to the field.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from vaxel.services.company_config import NAME
from vaxel.services.schedules import WEEKDAYS, Schedule
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

FIELDS = ("name", "timezone", "override", "special_days", "new_day",
          *(f"weekly.{day}" for day in WEEKDAYS))  # fmt: skip
MONTHS = 12


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    hours: list[str]
    reason: str
    exception: bool
    today: bool


@dataclass(frozen=True, slots=True)
class Month:
    title: date
    weeks: list[list[CalendarDay | None]]  # Monday first; None: another month's day
    exceptions: list[CalendarDay]


def year_ahead(schedule: Schedule, today: date) -> list[Month]:
    """This month and the next eleven, each day as `Schedule.day` tells it (S5)."""
    months = []
    first = today.replace(day=1)
    for _ in range(MONTHS):
        weeks = []
        exceptions = []
        for week in calendar.Calendar().monthdatescalendar(first.year, first.month):
            row: list[CalendarDay | None] = []
            for day in week:
                if day.month != first.month:
                    row.append(None)
                    continue
                hours, reason, exception = schedule.day(day)
                shown = CalendarDay(day, hours, reason, exception, day == today)
                row.append(shown)
                if exception:
                    exceptions.append(shown)
            weeks.append(row)
        months.append(Month(first, weeks, exceptions))
        first = (first + timedelta(days=32)).replace(day=1)
    return months


@router.get("/schedules")
def schedules(
    request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    """The company's schedules, each with whether it is open now and why (S5)."""
    info = company_page(ctx, v, company)
    found = parts.items(ctx, info, "schedules")
    now = {name: Schedule.model_validate(item).evaluate(ctx.now()) for name, item in found.items()}
    return render(request, "admin/schedules.html", v, company=info, nav="schedules",
                  schedules=found, now=now, done=done_text(v, done))  # fmt: skip


def _values(name: str, item: dict[str, Any]) -> dict[str, str]:
    weekly = item.get("weekly") or {}
    values = {f"weekly.{day}": ", ".join(weekly.get(day) or []) for day in WEEKDAYS}
    override = item.get("override") or {}
    until = str(override.get("until") or "")
    values.update({"name": name, "timezone": str(item.get("timezone", "Europe/Stockholm")),
                   "override.state": str(override.get("state", "")),
                   "override.date": until[:10], "override.time": until[11:16],
                   "day.date": "", "day.to": "", "day.hours": "", "day.name": ""})  # fmt: skip
    return values


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
) -> Response:
    info = company_page(ctx, v, company)
    found = parts.items(ctx, info, "schedules")
    if not new and name not in found:
        raise Problem(404, "")
    item = found.get(name, {})
    schedule = Schedule.model_validate(item)
    today = ctx.now().astimezone(schedule.zone).date()
    shown = {**_values(name, item), **(values or {})}
    base = f"/admin/schedules/{name}" if not new else "/admin/schedules/new"
    return render(request, "admin/schedule.html", v, status=status, company=info,
                  nav="schedules", new=new, name=name, values=shown, errors=errors or {},
                  general=general or [], done=done_text(v, done), weekdays=WEEKDAYS,
                  tag=etag_of(item) if item else "", special=item.get("special_days") or [],
                  months=[] if new else year_ahead(schedule, today),
                  verdict=None if new else schedule.evaluate(ctx.now()),
                  link_to=lambda part: link_for(v, f"{base}/{part}" if part else base, info),
                  today=today.isoformat())  # fmt: skip


@router.get("/schedules/new")
def new_schedule(
    request: Request, ctx: Context, v: Seen, company: Company = None, name: str = ""
) -> Response:
    return _page(request, ctx, v, company, name[:40], new=True)


@router.get("/schedules/{name}")
def schedule_page(
    name: str, request: Request, ctx: Context, v: Seen, company: Company = None, done: str = ""
) -> Response:
    return _page(request, ctx, v, company, name, done=done)


def _ranges(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _weekly(form: FormData) -> dict[str, list[str]]:
    return {day: _ranges(field(form, f"weekly.{day}")) for day in WEEKDAYS
            if _ranges(field(form, f"weekly.{day}"))}  # fmt: skip


def _override(v: Viewer, form: FormData, now: datetime) -> dict[str, Any] | None:
    state = field(form, "override.state")
    if state not in ("open", "closed"):
        return None
    day, clock = field(form, "override.date"), field(form, "override.time")
    if not day and not clock:
        return {"state": state}
    at = time.fromisoformat(clock) if clock else time(0)
    on = date.fromisoformat(day) if day else now.date()
    return {"state": state, "until": datetime.combine(on, at).isoformat(timespec="minutes")}


def _special(form: FormData) -> dict[str, Any]:
    day, to = field(form, "day.date"), field(form, "day.to")
    special: dict[str, Any] = {"date": day} if not to else {"from": day, "to": to}
    special["hours"] = _ranges(field(form, "day.hours"))
    if field(form, "day.name"):
        special["name"] = field(form, "day.name")
    return special


@router.post("/schedules/{name}/{part}")
async def change_schedule(
    name: str, part: str, request: Request, ctx: Context, v: Seen, company: Company = None
) -> Response:
    """One of the page's forms: weekly, override, special (add) or unspecial (remove)."""
    form = await posted(request, v)
    if part not in ("weekly", "override", "special", "unspecial"):
        raise Problem(404, "")
    return await blocking(_save, request, ctx, v, company, name, part, form)


def _save(
    request: Request,
    ctx: WebContext,
    v: Viewer,
    company: str | None,
    name: str,
    part: str,
    form: FormData,
) -> Response:
    info = company_page(ctx, v, company)
    new = name == "new"
    if new:
        name = field(form, "name")
    values = {key: field(form, key) for key in form if key != "csrf"}
    if new and not re.match(NAME, name):
        return _page(request, ctx, v, company, name, new=True, values=values, status=422,
                     errors={"name": [f"schedules.{name}: {text(v.lang, 'part.bad_name')}"]},
                     general=[text(v.lang, "part.errors")])  # fmt: skip
    zone = Schedule.model_validate(parts.items(ctx, info, "schedules").get(name, {})).zone
    now = ctx.now().astimezone(zone)
    try:
        override = _override(v, form, now) if part == "override" else None
    except ValueError:
        line = f"schedules.{name}.override.until: {text(v.lang, 'me.bad_time')}"
        return _page(request, ctx, v, company, name, values=values, status=422,
                     errors={"override": [line]},
                     general=[text(v.lang, "part.errors")])  # fmt: skip

    def build(old: dict[str, Any] | None) -> dict[str, Any]:
        item = dict(old or {})
        if part == "weekly":
            item["weekly"] = _weekly(form)
        elif part == "override":
            item.pop("override", None)
            if override is not None:
                item["override"] = override
        elif part == "special":
            item["special_days"] = [*(item.get("special_days") or []), _special(form)]
        else:
            index = field(form, "index")
            days = list(item.get("special_days") or [])
            if index.isdigit() and int(index) < len(days):
                days.pop(int(index))
            item["special_days"] = days
        return item

    outcome = parts.save_item(request, ctx, v, info, "schedules", name, build,
                              tag=field(form, "tag"), fields=FIELDS, new=new)  # fmt: skip
    if not outcome.ok:
        errors = dict(outcome.errors)
        if part == "special" and "special_days" in errors:
            errors["new_day"] = errors.pop("special_days")
        return _page(request, ctx, v, company, name, new=new, values=values, errors=errors,
                     general=outcome.general, status=422)  # fmt: skip
    done = "created" if new else "saved"
    return redirect(link_for(v, f"/admin/schedules/{name}", info, done=done))
