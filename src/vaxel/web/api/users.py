"""A company's users (P1, P3, P8, U8, U11): list, read, add, change, remove.

A user is the `users[]` entry of the company's description, so the API takes and gives
exactly what `vaxel config apply` does for one user (`UserConfig`), checked the same
way, with the same error paths. The SIP password can be set here (`password`) and is
never shown back. Each user's ETag covers their entry; a PUT must send it in If-Match.
Their devices' registrations are shown as the registrar stored them, read-only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field

from vaxel.services import accounts, configuration, registrations, users, web_sessions
from vaxel.services.companies import CompanyInfo
from vaxel.services.company_config import UserConfig
from vaxel.web.auth import Caller, Context, Principal, admin_of, audit_change, company_of
from vaxel.web.context import WebContext
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/companies/{domain}/users", tags=["users"])


class UserRow(BaseModel):
    ext: str
    name: str
    ring_time: int
    role: str | None = Field(None, description="admin or user; null without a web login")


class UserList(BaseModel):
    items: list[UserRow]
    next_after: str | None = Field(
        None, description="pass as `after` for the next page; null on the last page"
    )


class Device(BaseModel):
    contact: str
    source: str
    user_agent: str
    expires_at: datetime


class UserOut(BaseModel):
    user: dict[str, Any] = Field(description="the user as the description has it (UserConfig)")
    role: str | None
    devices: list[Device]


@router.get("")
def list_users(
    domain: str,
    who: Caller,
    ctx: Context,
    q: Annotated[str, Query(max_length=100, description="extension prefix or part of name")] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[str | None, Query(max_length=8, description="the last ext seen")] = None,
) -> UserList:
    """A page of the company's users in extension order (every user sees the directory)."""
    company = company_of(ctx, who, domain)
    found = users.page_users(ctx.store, company.id, limit=limit, after=after, q=q)
    roles = accounts.roles_of(ctx.store, company.id, [u.extension for u in found])
    items = [
        UserRow(ext=u.extension, name=u.display_name, ring_time=u.ring_seconds,
                role=roles.get(u.extension))
        for u in found
    ]  # fmt: skip
    return UserList(items=items, next_after=items[-1].ext if len(items) == limit else None)


def _entry(ctx: Context, domain: str, ext: str) -> dict[str, Any]:
    data, _ = configuration.export_data(ctx.store, domain)
    for user in data.get("users", []):
        if user["ext"] == ext:
            return dict(user)
    raise Problem(404, f"no user {ext}")


def _etag(entry: dict[str, Any]) -> str:
    return configuration.entry_tag(entry)


@router.get("/{ext}")
def get_user(domain: str, ext: str, who: Caller, ctx: Context, response: Response) -> UserOut:
    """One user: their settings, web role and registered devices. Admins see anyone; a
    user sees themselves (colleagues through the list)."""
    company = company_of(ctx, who, domain)
    if who.role == "user" and who.account.extension != ext:
        raise Problem(403, "only the company's administrators see other users' settings")
    entry = _entry(ctx, company.domain, ext)
    response.headers["ETag"] = _etag(entry)
    role = accounts.roles_of(ctx.store, company.id, [ext]).get(ext)
    return UserOut(user=entry, role=role, devices=devices_of(ctx, company, ext))


def devices_of(ctx: WebContext, company: CompanyInfo, ext: str) -> list[Device]:
    """The user's registered contacts that have not expired, as the registrar stored them
    (the admin's user page shows the same)."""
    now = ctx.now().timestamp()
    return [
        Device(
            contact=b.contact,
            source=b.received,
            user_agent=b.user_agent,
            expires_at=datetime.fromtimestamp(b.expires_at, UTC),
        )
        for b in registrations.user_registrations(ctx.store, company.id, ext)
        if b.expires_at > now
    ]


def _sent(body: UserConfig) -> dict[str, Any]:
    """What was sent, as the description would hold it (with the password, if given)."""
    return body.model_dump(mode="json", exclude_unset=True)


@router.post("", status_code=201)
def add_user(
    domain: str, body: UserConfig, who: Caller, ctx: Context, request: Request, response: Response
) -> UserOut:
    """A new user; `password` (their SIP password) is needed."""
    company = admin_of(ctx, who, domain)
    if body.password is None:
        raise Problem(422, "a new user needs a SIP password", errors=["password: needed"])

    def add(data: dict[str, Any]) -> None:
        if any(user["ext"] == body.ext for user in data.get("users", [])):
            raise Problem(409, f"extension {body.ext} already exists")
        data.setdefault("users", []).append(_sent(body))

    _, after = configuration.change_config(
        ctx.store, company.domain, add, data=ctx.data,
        source_dir=ctx.uploads(company.domain), by_provider=who.role == "provider",
    )  # fmt: skip
    entry = next(user for user in after["users"] if user["ext"] == body.ext)
    audit_change(ctx, who, request, "user.create", body.ext, company_id=company.id, after=entry)
    response.headers["ETag"] = _etag(entry)
    return UserOut(user=entry, role=None, devices=[])


@router.put("/{ext}")
def put_user(
    domain: str,
    ext: str,
    body: UserConfig,
    who: Caller,
    ctx: Context,
    request: Request,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> UserOut:
    """Replace one user's settings (If-Match: the ETag read). A `password` sets the SIP
    password; left out, it stays."""
    company = admin_of(ctx, who, domain)
    if body.ext != ext:
        raise Problem(422, "ext cannot change: add the new extension and remove the old",
                      errors=[f"ext: must be {ext}"])  # fmt: skip
    if if_match is None:
        raise Problem(428, "send If-Match with the user's ETag, so no change is overwritten")
    before: dict[str, Any] = {}

    def replace(data: dict[str, Any]) -> None:
        for i, user in enumerate(data.get("users", [])):
            if user["ext"] == ext:
                if if_match.strip() != "*" and _etag(user) not in if_match:
                    raise Problem(412, "the user changed since you read them: read again")
                before.update(user)
                data["users"][i] = _sent(body)
                return
        raise Problem(404, f"no user {ext}")

    _, after = configuration.change_config(
        ctx.store, company.domain, replace, data=ctx.data,
        source_dir=ctx.uploads(company.domain), by_provider=who.role == "provider",
    )  # fmt: skip
    entry = next(user for user in after["users"] if user["ext"] == ext)
    audit_change(ctx, who, request, "user.update", ext, company_id=company.id,
                 before=before, after=entry)  # fmt: skip
    response.headers["ETag"] = _etag(entry)
    role = accounts.roles_of(ctx.store, company.id, [ext]).get(ext)
    return UserOut(user=entry, role=role, devices=[])


@router.delete("/{ext}", status_code=204)
def delete_user(domain: str, ext: str, who: Caller, ctx: Context, request: Request) -> None:
    """Remove a user; a description that still names them (a group, a menu) refuses it."""
    company = admin_of(ctx, who, domain)
    remove_user(ctx, who, request, company, ext)


def remove_user(
    ctx: WebContext, who: Principal, request: Request, company: CompanyInfo, ext: str, tag: str = ""
) -> None:
    """Remove user `ext` from the description, with their web login; audited. Not oneself
    (422); `tag`, the entry's ETag as read, refuses a removal of a changed user (412)."""
    if who.account.extension == ext and who.account.company_id == company.id:
        raise Problem(422, "you cannot remove yourself; ask another admin")
    removed: dict[str, Any] = {}

    def remove(data: dict[str, Any]) -> None:
        kept = [user for user in data.get("users", []) if user["ext"] != ext]
        if len(kept) == len(data.get("users", [])):
            raise Problem(404, f"no user {ext}")
        removed.update(next(user for user in data["users"] if user["ext"] == ext))
        if tag and _etag(removed) != tag:
            raise Problem(412, "the user changed since you read them: read again")
        data["users"] = kept

    configuration.change_config(
        ctx.store, company.domain, remove, data=ctx.data,
        source_dir=ctx.uploads(company.domain), by_provider=who.role == "provider",
    )  # fmt: skip
    web_sessions.credentials(ctx.store).forget_everyone()  # their web login went with them
    audit_change(ctx, who, request, "user.delete", ext, company_id=company.id, before=removed)


class AccountChange(BaseModel):
    password: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        None, description="a new web password (never shown back)"
    )
    role: str | None = Field(None, description="admin or user")
    email: Annotated[str, Field(max_length=254)] | None = Field(
        None, description="an e-mail address to log in with"
    )


class AccountOut(BaseModel):
    login: str
    role: str
    email: str | None


@router.put("/{ext}/account")
def set_account(
    domain: str, ext: str, body: AccountChange, who: Caller, ctx: Context, request: Request
) -> AccountOut:
    """The user's web login: a password, a role, a login e-mail (admins only)."""
    company = admin_of(ctx, who, domain)
    demoting_self = who.role == "admin" and who.account.extension == ext
    if demoting_self and body.role not in (None, "admin"):
        raise Problem(422, "you cannot take away your own admin role; ask another admin")
    account = accounts.set_user_account(
        ctx.store, company.domain, ext, password=body.password, role=body.role, email=body.email
    )
    changed = {"role": body.role, "email": body.email, "password": "changed"
               if body.password is not None else None}  # fmt: skip
    audit_change(ctx, who, request, "user.account", ext, company_id=company.id,
                 after={k: v for k, v in changed.items() if v is not None})  # fmt: skip
    return AccountOut(login=account.login, role=account.role, email=account.email)
