"""The service provider's own administrators (P1, S7): listed, added and removed by a
provider admin, as `vaxel admin add` adds the first. One cannot remove oneself, so the
provider always keeps an administrator; a removed admin's sessions and tokens end."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from vaxel.services import accounts
from vaxel.web.auth import Caller, Context, audit_change, provider_only
from vaxel.web.problems import RowId

router = APIRouter(prefix="/api/v1", tags=["admins"])


class AdminOut(BaseModel):
    id: int
    email: str


class AdminList(BaseModel):
    items: list[AdminOut]


class NewAdmin(BaseModel):
    email: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        description="their web password (never shown back)"
    )


def _out(account: accounts.Account) -> AdminOut:
    return AdminOut(id=account.id, email=account.email or "")


@router.get("/admins")
def list_admins(who: Caller, ctx: Context) -> AdminList:
    provider_only(who)
    return AdminList(items=[_out(a) for a in accounts.provider_admins(ctx.store)])


def add_admin(ctx: Context, who: Caller, request: Request, email: str, password: str) -> AdminOut:
    """Add a provider admin, audited; the page and the API both come here."""
    added = accounts.add_provider_admin(ctx.store, email, password)
    audit_change(ctx, who, request, "admin.create", added.login, company_id=None)
    return _out(added)


def remove_admin(ctx: Context, who: Caller, request: Request, account_id: int) -> None:
    removed = accounts.remove_provider_admin(ctx.store, account_id, by=who.account.id)
    audit_change(ctx, who, request, "admin.delete", removed.login, company_id=None)


@router.post("/admins", status_code=201)
def post_admin(
    who: Caller, request: Request, ctx: Context, body: Annotated[NewAdmin, Body()]
) -> AdminOut:
    provider_only(who)
    return add_admin(ctx, who, request, body.email, body.password)


@router.delete("/admins/{account_id}", status_code=204)
def delete_admin(account_id: RowId, who: Caller, request: Request, ctx: Context) -> None:
    provider_only(who)
    remove_admin(ctx, who, request, account_id)
