"""Who is logged in to each answering group (S8), and the year ahead of a schedule (S1).

A member logs in or out of a group from the phone (*45 / *46), and here: themselves, or
anyone by an admin. The schedule preview lists the coming days open or closed, with
their hours and the holiday or special day that decides them, so an admin sees what
midsommarafton does before it comes.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from vaxel.bus import GroupLogin
from vaxel.services import configuration, presence_settings
from vaxel.services.companies import CompanyInfo
from vaxel.services.company_config import CompanyConfig
from vaxel.web.auth import Caller, Context, Principal, admin_of, audit_change, company_of
from vaxel.web.context import WebContext
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/companies/{domain}")


class Member(BaseModel):
    ext: str
    name: str
    logged_in: bool


class Members(BaseModel):
    group: str
    members: list[Member]


def _config(ctx: WebContext, company: CompanyInfo) -> CompanyConfig:
    config = configuration.load_document(ctx.store, company.id)
    if config is None:
        raise Problem(404, "the company has no description yet")
    return config


@router.get("/groups/{group}/members", tags=["groups"])
def members(domain: str, group: str, who: Caller, ctx: Context) -> Members:
    """The group's members in order, and who of them is logged in now."""
    company = company_of(ctx, who, domain)
    config = _config(ctx, company)
    found = config.groups.get(group)
    if found is None:
        raise Problem(404, f"no group {group!r}")
    names = {user.ext: user.name for user in config.users}
    out = presence_settings.logged_out(ctx.store, company.id)
    return Members(
        group=group,
        members=[
            Member(ext=ext, name=names.get(ext, ""), logged_in=(group, ext) not in out)
            for ext in found.members
        ],
    )


class Login(BaseModel):
    logged_in: bool


@router.put("/groups/{group}/members/{ext}", tags=["groups"])
def log_in_or_out(
    domain: str, group: str, ext: str, body: Login, who: Caller, ctx: Context, request: Request
) -> Member:
    """Log a member in or out of the group (a user: only themselves)."""
    company = company_of(ctx, who, domain)
    return set_login(ctx, who, request, company, group, ext, body.logged_in)


def set_login(
    ctx: WebContext,
    who: Principal,
    request: Request,
    company: CompanyInfo,
    group: str,
    ext: str,
    on: bool,
) -> Member:
    """Log `ext` in or out of `group` (S8), as *45/*46 do from the phone: the API and the
    admin's group page both come here (a user: only themselves)."""
    if who.role == "user" and who.account.extension != ext:
        raise Problem(403, "you can log in or out only yourself; ask an admin")
    config = _config(ctx, company)
    found = config.groups.get(group)
    if found is None or ext not in found.members:
        raise Problem(404, f"{ext} is not a member of group {group!r}")
    presence_settings.set_logged_in(ctx.store, company.id, group, ext, on)
    ctx.publish(GroupLogin(company.id, group, ext, on, time.time()))
    audit_change(ctx, who, request, "group.login" if on else "group.logout",
                 f"{group}/{ext}", company_id=company.id)  # fmt: skip
    name = next((user.name for user in config.users if user.ext == ext), "")
    return Member(ext=ext, name=name, logged_in=on)


class Day(BaseModel):
    date: date
    open: bool
    hours: list[str]
    reason: str
    exception: bool


class Preview(BaseModel):
    schedule: str
    timezone: str
    days: list[Day]


@router.get("/schedules/{name}/preview", tags=["schedules"])
def preview(
    domain: str,
    name: str,
    who: Caller,
    ctx: Context,
    start: Annotated[date | None, Query(alias="from", description="first day (today)")] = None,
    days: Annotated[int, Query(ge=1, le=400)] = 366,
) -> Preview:
    """The coming days, open or closed, with their hours and why (holidays named)."""
    company = admin_of(ctx, who, domain)
    schedule = _config(ctx, company).schedules.get(name)
    if schedule is None:
        raise Problem(404, f"no schedule {name!r}")
    first = start or ctx.now().astimezone(schedule.zone).date()
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        hours, reason, exception = schedule.day(day)
        out.append(Day(date=day, open=bool(hours), hours=hours, reason=reason,
                       exception=exception))  # fmt: skip
    return Preview(schedule=name, timezone=schedule.timezone, days=out)
