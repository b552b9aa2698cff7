"""Who is asking, and what they may touch (P8).

A request is authenticated by the session cookie (browsers) or by
`Authorization: Bearer vxl_...` (scripts). A change made with a session must carry the
session's CSRF token in `X-CSRF-Token` (or a form's `csrf` field): a page of another
site can make the browser send the cookie, but cannot read the token. SameSite=Strict
on the cookie is the second fence.

Every company-scoped lookup goes through `company_of`: a provider admin reaches every
company, anyone else only their own, and another company's anything is 404, exactly as
if it did not exist (no enumeration).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from vaxel.services import accounts, audit, companies, web_sessions
from vaxel.services.accounts import Account
from vaxel.services.companies import CompanyInfo
from vaxel.services.errors import NotFound
from vaxel.web.context import WebContext, blocking, context
from vaxel.web.problems import Problem

COOKIE = "vaxel_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True, slots=True)
class Principal:
    account: Account
    via: str  # "session" or "token"
    scopes: tuple[str, ...]
    csrf: str | None = None  # the session's CSRF token
    session_token: str | None = None

    @property
    def role(self) -> str:
        return self.account.role

    def need(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Problem(403, f"this token lacks the scope {scope!r}")


def source_of(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _authenticate(request: Request, ctx: WebContext) -> Principal:
    header = request.headers.get("authorization", "")
    now = ctx.now()
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("use Authorization: Bearer <token>")
        found = web_sessions.find_token(ctx.store, token.strip(), now)
        if found is None:
            raise _unauthorized("the token is unknown or revoked")
        return Principal(found[0], "token", found[1])
    cookie = request.cookies.get(COOKIE)
    if cookie:
        session = web_sessions.find_session(ctx.store, cookie, now)
        if session is not None:
            return Principal(session.account, "session", web_sessions.SCOPES, session.csrf, cookie)
    raise _unauthorized("log in first (POST /api/v1/login) or send an API token")


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="vaxel"'})


async def principal(request: Request, ctx: Annotated[WebContext, Depends(context)]) -> Principal:
    """The FastAPI dependency: the authenticated caller, CSRF and scope checked.

    Async, so a credential kept in memory (services.web_sessions.Credentials) costs no
    hop to a worker thread; only a lookup in the database goes there."""
    kept = _kept(request, ctx)
    who = kept if kept is not None else await blocking(_authenticate, request, ctx)
    if request.method not in SAFE_METHODS:
        if who.via == "session":
            sent = request.headers.get(CSRF_HEADER, "")
            if not (who.csrf and hmac.compare_digest(sent.encode(), who.csrf.encode())):
                raise Problem(403, f"missing or wrong {CSRF_HEADER}: reload the page")
        who.need("write")
    else:
        who.need("read")
    return who


def _kept(request: Request, ctx: WebContext) -> Principal | None:
    """The caller, if their credential was looked up a moment ago (no I/O)."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        found = web_sessions.kept_token(ctx.store, token.strip())
        return Principal(found[0], "token", found[1]) if found is not None else None
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    session = web_sessions.kept_session(ctx.store, cookie, ctx.now())
    if session is None:
        return None
    return Principal(session.account, "session", web_sessions.SCOPES, session.csrf, cookie)


Caller = Annotated[Principal, Depends(principal)]
Context = Annotated[WebContext, Depends(context)]


def company_of(ctx: WebContext, who: Principal, domain: str) -> CompanyInfo:
    """The company `domain` names, if `who` may see it; else 404 as for an unknown one."""
    missing = Problem(404, f'no company "{domain}"')
    if who.role != "provider" and (who.account.domain or "") != domain.strip().lower():
        raise missing
    try:
        return companies.get_company(ctx.store, domain)
    except NotFound:
        raise missing from None


def admin_of(ctx: WebContext, who: Principal, domain: str) -> CompanyInfo:
    """As `company_of`, for what only the company's admins (or the provider) may do."""
    company = company_of(ctx, who, domain)
    if who.role == "user":
        raise Problem(403, "only the company's administrators may do this")
    return company


def provider_only(who: Principal) -> None:
    if who.role != "provider":
        raise Problem(403, "only the service provider's administrators may do this")


def audit_change(
    ctx: WebContext,
    who: Principal,
    request: Request,
    action: str,
    target: str,
    *,
    company_id: int | None,
    before: object = None,
    after: object = None,
) -> None:
    """One entry in the audit log: `who` did `action` to `target`, from the request's
    source; filed under the company changed (None: the provider's own changes). Every
    change goes through here once made, so it also tells the switch to look again."""
    ctx.changed()
    audit.record(
        ctx.store,
        company_id=company_id,
        actor=who.account.login,
        source=source_of(request),
        action=action,
        target=target,
        before=before,
        after=after,
        now=ctx.now(),
    )


def log_in(
    ctx: WebContext, request: Request, login: str, password: str
) -> tuple[Account, str, str]:
    """Check a login and password behind the login limiter and open a session: the
    account, the session's token (for the cookie) and its CSRF token. Raises Problem 429
    while the login or the source is held back, 401 for a wrong login or password (the
    same for both). The API's POST /api/v1/login and the page /login both come here."""
    source = source_of(request)
    key = login.strip().lower()
    wait = ctx.limiter.retry_after(key, source)
    if wait > 0:
        raise Problem(
            429,
            f"too many failed logins: try again in {int(wait) + 1} seconds",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    account = accounts.authenticate(ctx.store, login, password)
    if account is None:
        ctx.limiter.failed(key, source)
        raise Problem(401, "wrong login or password")
    ctx.limiter.succeeded(key, source)
    token, csrf = web_sessions.create_session(ctx.store, account, source, ctx.now())
    return account, token, csrf


def set_session_cookie(response: Response, ctx: WebContext, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure when served over TLS."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(web_sessions.SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=ctx.secure_cookies,
    )


def forget_session_cookie(response: Response, ctx: WebContext) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=ctx.secure_cookies
    )
