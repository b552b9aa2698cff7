"""Diversions (U9) from the web and the API: "Lunch until 13:00", with its end time.

`PUT /api/v1/me/diversion` takes `{"text": "Lunch", "until": ISO-8601}`: a text that
names a preset (lunch, meeting, away, sick, vacation, in English or Swedish) is that
preset, which the switch says in the company's language; any other text is said as it
is. `status` picks a preset outright; `scope` limits it to the calls to the fixed numbers
or to the mobile number (U9: "reachable on the mobile, not on the fixed number"). An
admin (the receptionist) sets one for a colleague under
`/companies/{domain}/users/{ext}/diversion`, and everyone in the company sees who is
diverted until when (the directory's colleagues).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from vaxel.services import diversions
from vaxel.services.company import diversion_changed
from vaxel.services.diversions import PRESETS, DiversionInfo
from vaxel.web.auth import Caller, Context, Principal, admin_of, audit_change, company_of
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["diversions"])


class DiversionIn(BaseModel):
    text: Annotated[str, Field(max_length=100)] = Field(
        "", description="a preset's name (Lunch, Meeting, Away ...) or one's own words"
    )
    status: str | None = Field(None, description="one of the presets, or custom")
    until: datetime | None = Field(None, description="when it ends (with a UTC offset)")
    ring: bool = Field(False, description="ring the user's phones anyway")
    scope: str = Field(
        "all", description="which calls it applies to: all, fixed (extension, direct number)"
        " or mobile (calls to the mobile number)"
    )  # fmt: skip


class DiversionOut(BaseModel):
    extension: str
    status: str
    text: str
    until: datetime | None
    ring: bool
    set_at: datetime
    scope: str
    said: dict[str, str] = Field(description="what a caller hears after the name, sv and en")


def diversion_out(info: DiversionInfo) -> DiversionOut:
    sv, en = PRESETS[info.status]
    return DiversionOut(
        extension=info.extension, status=info.status, text=info.text, until=info.until,
        ring=info.ring, set_at=info.set_at, scope=info.scope,
        said={"sv": sv or info.text, "en": en or info.text},
    )  # fmt: skip


def _status_and_text(body: DiversionIn) -> tuple[str, str]:
    if body.status is not None:
        return body.status, body.text
    return diversions.status_of(body.text)


def set_and_audit(
    ctx: Context, who: Principal, request: Request, company_id: int, ext: str, body: DiversionIn
) -> DiversionOut:
    """Set `ext`'s diversion and file it in the audit log (the API's and the pages')."""
    status, text = _status_and_text(body)
    before = diversions.get_diversion(ctx.store, company_id, ext, ctx.now())
    info = diversions.set_diversion(
        ctx.store, company_id, ext, status=status, text=text, until=body.until,
        ring=body.ring, scope=body.scope, now=ctx.now(),
    )  # fmt: skip
    out = diversion_out(info)
    ctx.publish(diversion_changed(company_id, ext, info))
    audit_change(ctx, who, request, "diversion.set", ext, company_id=company_id,
                 before=diversion_out(before).model_dump(mode="json") if before else None,
                 after=out.model_dump(mode="json"))  # fmt: skip
    return out


def clear_and_audit(
    ctx: Context, who: Principal, request: Request, company_id: int, ext: str
) -> None:
    before = diversions.get_diversion(ctx.store, company_id, ext, ctx.now())
    diversions.clear_diversion(ctx.store, company_id, ext)
    if before is not None:
        ctx.publish(diversion_changed(company_id, ext, None))
        audit_change(ctx, who, request, "diversion.clear", ext, company_id=company_id,
                     before=diversion_out(before).model_dump(mode="json"))  # fmt: skip


def _mine(who: Principal) -> tuple[int, str]:
    if who.account.company_id is None or who.account.extension is None:
        raise Problem(404, "a provider admin has no phone, so no diversion")
    return who.account.company_id, who.account.extension


@router.get("/me/diversion")
def my_diversion(who: Caller, ctx: Context) -> DiversionOut | None:
    """My diversion, or null when none is active."""
    company_id, ext = _mine(who)
    info = diversions.get_diversion(ctx.store, company_id, ext, ctx.now())
    return diversion_out(info) if info is not None else None


@router.put("/me/diversion")
def set_my_diversion(
    body: DiversionIn, who: Caller, ctx: Context, request: Request
) -> DiversionOut:
    """Divert my calls: callers hear the text and end time, and may leave a message."""
    company_id, ext = _mine(who)
    return set_and_audit(ctx, who, request, company_id, ext, body)


@router.delete("/me/diversion", status_code=204)
def clear_my_diversion(who: Caller, ctx: Context, request: Request) -> None:
    """End my diversion now (nothing happens when none is active)."""
    company_id, ext = _mine(who)
    clear_and_audit(ctx, who, request, company_id, ext)


class Preset(BaseModel):
    status: str
    sv: str
    en: str


@router.get("/diversion-presets")
def presets(who: Caller) -> list[Preset]:
    """The statuses the switch can say, with their words (custom says one's own text)."""
    return [Preset(status=status, sv=sv, en=en) for status, (sv, en) in PRESETS.items()]


class DiversionList(BaseModel):
    items: list[DiversionOut]


@router.get("/companies/{domain}/diversions")
def company_diversions(domain: str, who: Caller, ctx: Context) -> DiversionList:
    """Who in the company is diverted now, until when (every user sees their colleagues)."""
    company = company_of(ctx, who, domain)
    found = diversions.active_diversions(ctx.store, company.id, ctx.now())
    return DiversionList(items=[diversion_out(found[ext]) for ext in sorted(found)])


@router.put("/companies/{domain}/users/{ext}/diversion")
def set_user_diversion(
    domain: str, ext: str, body: DiversionIn, who: Caller, ctx: Context, request: Request
) -> DiversionOut:
    """Divert a colleague's calls (admins, such as the receptionist)."""
    company = admin_of(ctx, who, domain)
    return set_and_audit(ctx, who, request, company.id, ext, body)


@router.delete("/companies/{domain}/users/{ext}/diversion", status_code=204)
def clear_user_diversion(
    domain: str, ext: str, who: Caller, ctx: Context, request: Request
) -> None:
    company = admin_of(ctx, who, domain)
    clear_and_audit(ctx, who, request, company.id, ext)
