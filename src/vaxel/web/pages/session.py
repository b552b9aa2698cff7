"""Logging in and out of the pages, the start page by role, the language (S7, U9).

/login opens a session exactly as POST /api/v1/login does (`auth.log_in`: the same
login limiter, the same cookie), and shows a wrong password or a held-back login next
to the form. / sends each person to their start: the provider's companies, a company
admin's overview, a user's own status.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response

from vaxel.services import web_sessions
from vaxel.web.auth import forget_session_cookie, log_in, set_session_cookie
from vaxel.web.context import blocking
from vaxel.web.pages.base import (
    LANGUAGE_COOKIE,
    Context,
    PageRoute,
    Seen,
    browser_language,
    check_csrf,
    chosen_language,
    field,
    redirect,
    render,
    safe_next,
)
from vaxel.web.pages.i18n import LANGUAGES, text
from vaxel.web.problems import Problem

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HOME = {"provider": "/admin/companies", "admin": "/admin", "user": "/me"}


@router.get("/")
def start(v: Seen) -> Response:
    return redirect(HOME.get(v.role, "/me"))


@router.get("/login")
def login_page(request: Request, ctx: Context, next: str = "") -> Response:
    return render(request, "login.html", None, next=safe_next(next, ""), error=None, login="")


@router.post("/login")
async def login(request: Request, ctx: Context) -> Response:
    if not same_origin(request):
        raise Problem(403, "")  # another site's form: no logging in behind someone's back
    form = await request.form()
    login, password = field(form, "login"), form.get("password")
    wanted = safe_next(field(form, "next"), "")
    try:
        if not login or not isinstance(password, str) or not password:
            raise Problem(401, "wrong login or password")
        account, token, _ = await blocking(log_in, ctx, request, login, password)
    except Problem as exc:
        lang = chosen_language(request) or browser_language(request)
        if exc.status == 429:
            seconds = (exc.headers or {}).get("Retry-After", "60")
            error = text(lang, "login.wait", seconds=seconds)
        else:
            error = text(lang, "login.wrong")
        return render(request, "login.html", None, status=exc.status, next=wanted,
                      error=error, login=login)  # fmt: skip
    response = redirect(wanted or HOME.get(account.role, "/me"))
    set_session_cookie(response, ctx, token)
    return response


def same_origin(request: Request) -> bool:
    """The Origin a browser sends with a POST names this host (or is absent, as from a
    script): the login form has no session, so no CSRF token, to check instead."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


@router.post("/logout")
async def logout(request: Request, ctx: Context, v: Seen) -> Response:
    check_csrf(request, v, await request.form())
    if v.who.session_token is not None:
        await blocking(web_sessions.end_session, ctx.store, v.who.session_token)
    response = redirect("/login")
    forget_session_cookie(response, ctx)
    return response


@router.get("/language")
def language(ctx: Context, lang: str = "", next: str = "/") -> Response:
    """Choose the pages' language (a preference cookie, a year long)."""
    response = redirect(safe_next(next))
    if lang in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, path="/",
                            samesite="lax", secure=ctx.secure_cookies)  # fmt: skip
    return response
