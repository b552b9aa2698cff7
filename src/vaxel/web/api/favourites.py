"""A user's favourite colleagues through the API (U4): listed with each one's diversion,
starred with PUT, unstarred with DELETE; the user web lists them first in the directory.

A colleague of another company is unknown here (404, as for no such extension: nothing
tells whether it exists elsewhere).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from vaxel.services import diversions, favourites
from vaxel.web.api.diversions import DiversionOut, diversion_out
from vaxel.web.auth import Caller, Context, Principal, audit_change
from vaxel.web.context import WebContext
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/me", tags=["me"])


class FavouriteOut(BaseModel):
    extension: str
    name: str
    diversion: DiversionOut | None


class FavouriteList(BaseModel):
    items: list[FavouriteOut]


def _mine(who: Principal) -> tuple[int, str]:
    if who.account.company_id is None or who.account.extension is None:
        raise Problem(404, "a provider admin has no phone, so no favourites")
    return who.account.company_id, who.account.extension


def star(ctx: WebContext, who: Principal, request: Request, colleague: str, on: bool) -> None:
    """Star (or unstar) `colleague` for `who`; audited when it changed something."""
    company_id, ext = _mine(who)
    if on:
        changed = favourites.add_favourite(ctx.store, company_id, ext, colleague)
    else:
        changed = favourites.remove_favourite(ctx.store, company_id, ext, colleague)
    if changed:
        audit_change(ctx, who, request, "favourite.add" if on else "favourite.remove", ext,
                     company_id=company_id, after={"colleague": colleague})  # fmt: skip


@router.get("/favourites")
def my_favourites(who: Caller, ctx: Context) -> FavouriteList:
    """The colleagues I starred, in extension order, each with their diversion now."""
    company_id, ext = _mine(who)
    active = diversions.active_diversions(ctx.store, company_id, ctx.now())
    found = favourites.favourite_users(ctx.store, company_id, ext)
    return FavouriteList(items=[
        FavouriteOut(extension=user.extension, name=user.display_name,
                     diversion=diversion_out(active[user.extension])
                     if user.extension in active else None)
        for user in found
    ])  # fmt: skip


@router.put("/favourites/{ext}", status_code=204)
def add_favourite(ext: str, who: Caller, ctx: Context, request: Request) -> None:
    """Star a colleague (nothing changes when they are starred already)."""
    star(ctx, who, request, ext, True)


@router.delete("/favourites/{ext}", status_code=204)
def remove_favourite(ext: str, who: Caller, ctx: Context, request: Request) -> None:
    """Unstar a colleague (nothing happens when they were not starred)."""
    star(ctx, who, request, ext, False)
