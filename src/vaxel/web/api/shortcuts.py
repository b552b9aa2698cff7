"""A user's diversion shortcuts from the web and the API (U9): "Lunch 1 h", "Meeting until
15:30", kept (at most ten) and set with one press.

`POST /api/v1/me/shortcuts/{id}/apply` sets the diversion the shortcut describes, ending
`minutes` from now or at the next `at` on the company's clock, through the same function
as PUT /api/v1/me/diversion (audited, published, said by the switch to the next caller).
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from vaxel.services import configuration, diversions, shortcuts
from vaxel.services.shortcuts import Shortcut
from vaxel.web.api.diversions import DiversionIn, DiversionOut, set_and_audit
from vaxel.web.auth import Caller, Context, Principal, audit_change
from vaxel.web.context import WebContext
from vaxel.web.problems import Problem, RowId

router = APIRouter(prefix="/api/v1/me", tags=["me"])


class ShortcutIn(BaseModel):
    text: Annotated[str, Field(max_length=100)] = Field(
        "", description="a preset's name (Lunch, Meeting ...) or one's own words"
    )
    status: str | None = Field(None, description="one of the presets, or custom")
    minutes: int | None = Field(None, description="it ends this long after it is used")
    at: str | None = Field(None, description="or at the next HH:MM (the company's clock)")
    scope: str = Field("all", description="which calls it applies to: all, fixed or mobile")


class ShortcutOut(BaseModel):
    id: int
    status: str
    text: str
    minutes: int | None
    at: str | None
    scope: str


class ShortcutList(BaseModel):
    items: list[ShortcutOut]


def _out(shortcut: Shortcut) -> ShortcutOut:
    return ShortcutOut(
        id=shortcut.id, status=shortcut.status, text=shortcut.text, minutes=shortcut.minutes,
        at=shortcut.at, scope=shortcut.scope,
    )  # fmt: skip


def _mine(who: Principal) -> tuple[int, str]:
    if who.account.company_id is None or who.account.extension is None:
        raise Problem(404, "a provider admin has no phone, so no shortcuts")
    return who.account.company_id, who.account.extension


def zone_of(ctx: WebContext, company_id: int) -> ZoneInfo:
    """The company's time zone (a shortcut's "until 15:30" is its wall clock)."""
    document = configuration.load_document(ctx.store, company_id)
    try:
        return ZoneInfo(document.company.timezone if document else "Europe/Stockholm")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def add(ctx: WebContext, who: Principal, request: Request, body: ShortcutIn) -> ShortcutOut:
    """Keep a new shortcut for `who` (the API's and the page's)."""
    company_id, ext = _mine(who)
    status, text = (body.status, body.text) if body.status else diversions.status_of(body.text)
    made = _out(shortcuts.add_shortcut(
        ctx.store, company_id, ext, status=status, text=text, minutes=body.minutes, at=body.at,
        scope=body.scope,
    ))  # fmt: skip
    audit_change(ctx, who, request, "shortcut.add", ext, company_id=company_id,
                 after=made.model_dump())  # fmt: skip
    return made


def remove(ctx: WebContext, who: Principal, request: Request, shortcut_id: int) -> None:
    company_id, ext = _mine(who)
    removed = shortcuts.remove_shortcut(ctx.store, company_id, ext, shortcut_id)
    audit_change(ctx, who, request, "shortcut.remove", ext, company_id=company_id,
                 before=_out(removed).model_dump())  # fmt: skip


def apply(ctx: WebContext, who: Principal, request: Request, shortcut_id: int) -> DiversionOut:
    """Set the diversion the shortcut describes, from now."""
    company_id, ext = _mine(who)
    shortcut = shortcuts.get_shortcut(ctx.store, company_id, ext, shortcut_id)
    now = ctx.now().astimezone(zone_of(ctx, company_id))
    wanted = DiversionIn(text=shortcut.text, status=shortcut.status, until=shortcut.until(now),
                         scope=shortcut.scope)  # fmt: skip
    return set_and_audit(ctx, who, request, company_id, ext, wanted)


@router.get("/shortcuts")
def my_shortcuts(who: Caller, ctx: Context) -> ShortcutList:
    """My saved diversions, in the order I added them."""
    company_id, ext = _mine(who)
    return ShortcutList(
        items=[_out(s) for s in shortcuts.list_shortcuts(ctx.store, company_id, ext)]
    )


@router.post("/shortcuts", status_code=201)
def add_shortcut(body: ShortcutIn, who: Caller, ctx: Context, request: Request) -> ShortcutOut:
    """Keep a shortcut: `{"text": "Lunch", "minutes": 60}`, `{"status": "meeting", "at":
    "15:30"}` (neither: no end); at most ten."""
    return add(ctx, who, request, body)


@router.delete("/shortcuts/{shortcut_id}", status_code=204)
def remove_shortcut(shortcut_id: RowId, who: Caller, ctx: Context, request: Request) -> None:
    remove(ctx, who, request, shortcut_id)


@router.post("/shortcuts/{shortcut_id}/apply")
def apply_shortcut(shortcut_id: RowId, who: Caller, ctx: Context, request: Request) -> DiversionOut:
    """Set my diversion as the shortcut says, from now."""
    return apply(ctx, who, request, shortcut_id)
