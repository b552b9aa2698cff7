"""Logging in and out, the caller's own account, and API tokens (P8).

`POST /api/v1/login` takes `{"login": ..., "password": ...}`: a provider admin's e-mail,
or a user's EXT@DOMAIN (or e-mail). It sets the session cookie (HttpOnly,
SameSite=Strict, Secure over TLS) and returns the CSRF token that changes made with the
cookie must carry. Wrong logins and passwords get the same 401.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, Field

from vaxel.services import accounts, web_sessions
from vaxel.services.accounts import Account
from vaxel.web.auth import (
    Caller,
    Context,
    audit_change,
    forget_session_cookie,
    log_in,
    set_session_cookie,
)
from vaxel.web.problems import Problem, RowId

router = APIRouter(prefix="/api/v1", tags=["session"])


class Login(BaseModel):
    login: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=128)]


class Me(BaseModel):
    login: str
    role: str
    name: str
    domain: str | None
    extension: str | None
    email: str | None


class LoggedIn(Me):
    csrf_token: str


def me_of(account: Account) -> Me:
    return Me(
        login=account.login,
        role=account.role,
        name=account.name,
        domain=account.domain,
        extension=account.extension,
        email=account.email,
    )


@router.post("/login")
def login(body: Login, request: Request, response: Response, ctx: Context) -> LoggedIn:
    """Log in: sets the session cookie; the CSRF token goes with every change."""
    account, token, csrf = log_in(ctx, request, body.login, body.password)
    set_session_cookie(response, ctx, token)
    return LoggedIn(**me_of(account).model_dump(), csrf_token=csrf)


@router.post("/logout", status_code=204)
def logout(who: Caller, response: Response, ctx: Context) -> None:
    """End this session (a token is not a session: revoke it instead)."""
    if who.session_token is None:
        raise Problem(400, "an API token is not a session: revoke it with DELETE /api/v1/tokens")
    web_sessions.end_session(ctx.store, who.session_token)
    forget_session_cookie(response, ctx)


class Ended(BaseModel):
    sessions_ended: int


@router.post("/logout-everywhere")
def logout_everywhere(who: Caller, request: Request, response: Response, ctx: Context) -> Ended:
    """End every session of this account, on every browser."""
    ended = web_sessions.end_all_sessions(ctx.store, who.account.id)
    forget_session_cookie(response, ctx)
    audit_change(
        ctx, who, request, "sessions.end_all", who.account.login, company_id=who.account.company_id
    )
    return Ended(sessions_ended=ended)


@router.get("/me")
def me(who: Caller) -> Me:
    return me_of(who.account)


class PasswordChange(BaseModel):
    current: Annotated[str, Field(min_length=1, max_length=128)]
    new: Annotated[str, Field(min_length=1, max_length=128)]


@router.put("/me/password", status_code=204)
def change_password(body: PasswordChange, who: Caller, request: Request, ctx: Context) -> None:
    """A new web password; every other session of the account ends."""
    if not accounts.change_password(ctx.store, who.account.id, body.current, body.new):
        raise Problem(403, "the current password is wrong")
    web_sessions.end_all_sessions(ctx.store, who.account.id)
    audit_change(
        ctx, who, request, "account.password", who.account.login, company_id=who.account.company_id
    )


# -- tokens ---------------------------------------------------------------------------


class NewToken(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: list[str] = ["read"]


class TokenOut(BaseModel):
    id: int
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None


class TokenMade(TokenOut):
    token: str  # shown this once


def _token_out(info: web_sessions.TokenInfo) -> TokenOut:
    return TokenOut(
        id=info.id,
        name=info.name,
        scopes=list(info.scopes),
        created_at=info.created_at,
        last_used_at=info.last_used_at,
    )


@router.post("/tokens", status_code=201, tags=["tokens"])
def make_token(
    who: Caller, request: Request, ctx: Context, body: Annotated[NewToken, Body()]
) -> TokenMade:
    """A new API token with scopes (read, write, calls); the token is shown only now.

    A token never has more than its maker: one made with a token gets at most its scopes.
    """
    wanted = web_sessions.validate_scopes(body.scopes)
    beyond = [scope for scope in wanted if scope not in who.scopes]
    if beyond:
        raise Problem(403, f"you cannot give a token scopes you lack: {', '.join(beyond)}")
    token, info = web_sessions.create_token(
        ctx.store, who.account, body.name, body.scopes, ctx.now()
    )
    audit_change(
        ctx,
        who,
        request,
        "token.create",
        info.name,
        company_id=who.account.company_id,
        after={"scopes": list(info.scopes)},
    )
    return TokenMade(**_token_out(info).model_dump(), token=token)


class TokenList(BaseModel):
    items: list[TokenOut]


@router.get("/tokens", tags=["tokens"])
def list_tokens(who: Caller, ctx: Context) -> TokenList:
    return TokenList(
        items=[_token_out(t) for t in web_sessions.list_tokens(ctx.store, who.account.id)]
    )


@router.delete("/tokens/{token_id}", status_code=204, tags=["tokens"])
def revoke_token(token_id: RowId, who: Caller, request: Request, ctx: Context) -> None:
    web_sessions.revoke_token(ctx.store, who.account.id, token_id)
    audit_change(
        ctx, who, request, "token.revoke", str(token_id), company_id=who.account.company_id
    )
