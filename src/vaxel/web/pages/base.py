"""What every page shares (S7, U4, U9): who is looking, in which language, rendering, CSRF.

Pages are server-rendered HTML (Jinja2 with autoescape on: no user text reaches a page
unescaped) with htmx for the few live parts. They reach data only through `services/`
and the helpers the API uses (`web/auth.py`), so a page and the API refuse and accept
the same things.

A page is not the API: a visitor without a session is sent to /login rather than
answered 401, and an error is a page in their language rather than problem+json. That
is `PageRoute`'s job, the route class of every page router; it also puts the pages'
Content-Security-Policy (scripts from this site only, no inline script or style: htmx
is configured through a meta tag) and `Cache-Control: no-store` on every page.

Every POST form carries the session's CSRF token in a hidden field `csrf`; an htmx
request sends it in `X-CSRF-Token` (from `hx-headers` on <body>). `check_csrf` refuses
anything else with a 403 page.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException

from vaxel.services import configuration, web_sessions
from vaxel.services.companies import CompanyInfo
from vaxel.services.errors import Conflict, Invalid, NotFound, ServiceError, Stale
from vaxel.web.auth import COOKIE, CSRF_HEADER, Principal, company_of
from vaxel.web.context import WebContext, context
from vaxel.web.pages.i18n import LANGUAGES, status_words, text, when
from vaxel.web.problems import Problem

log = logging.getLogger("vaxel.web")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGE_COOKIE = "vaxel_lang"

#: No script but this site's files, no inline script or style, no framing, forms post
#: only here. htmx needs nothing more (its inline indicator styles are turned off). The
#: <audio> players (voicemail U7, prompts S4) play sound from this site only; the
#: softphone (U1) loads its web app manifest from here too.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-store"}

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class LoginNeeded(Exception):
    """Raised by `viewer` without a session: the visitor is sent to /login."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person looking at a page: their session, language and company's clock."""

    who: Principal
    lang: str
    tz: ZoneInfo
    company: CompanyInfo | None  # their own company; None for a provider admin

    @property
    def role(self) -> str:
        return self.who.role

    @property
    def csrf(self) -> str:
        return self.who.csrf or ""

    def now(self, ctx: WebContext) -> datetime:
        return ctx.now().astimezone(self.tz)


def _company_settings(ctx: WebContext, company: CompanyInfo | None) -> tuple[str, ZoneInfo]:
    """The company's language and time zone, from its description (defaults without)."""
    lang, zone = "sv", "Europe/Stockholm"
    if company is not None:
        document = configuration.load_document(ctx.store, company.id)
        if document is not None:
            lang, zone = document.company.language, document.company.timezone
    try:
        return lang, ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return lang, ZoneInfo("UTC")


def chosen_language(request: Request) -> str | None:
    lang = request.cookies.get(LANGUAGE_COOKIE, "")
    return lang if lang in LANGUAGES else None


def browser_language(request: Request) -> str:
    """Before anyone logs in: the first of our languages the browser asks for (sv)."""
    for part in request.headers.get("accept-language", "").split(","):
        lang = part.split(";")[0].strip().lower()[:2]
        if lang in LANGUAGES:
            return lang
    return "sv"


def viewer(request: Request, ctx: Annotated[WebContext, Depends(context)]) -> Viewer:
    """The FastAPI dependency of every page that needs a login (sessions only: an API
    token opens no page)."""
    token = request.cookies.get(COOKIE)
    session = web_sessions.find_session(ctx.store, token, ctx.now()) if token else None
    if session is None:
        raise LoginNeeded
    who = Principal(session.account, "session", web_sessions.SCOPES, session.csrf, token)
    company = None
    if who.account.domain is not None:
        company = company_of(ctx, who, who.account.domain)
    lang, tz = _company_settings(ctx, company)
    return Viewer(who, chosen_language(request) or lang, tz, company)


Seen = Annotated[Viewer, Depends(viewer)]
Context = Annotated[WebContext, Depends(context)]


def need_admin(v: Viewer) -> None:
    if v.role == "user":
        raise Problem(403, "only the company's administrators may do this")


def need_provider(v: Viewer) -> None:
    if v.role != "provider":
        raise Problem(403, "only the service provider's administrators may do this")


def company_page(ctx: WebContext, v: Viewer, domain: str | None) -> CompanyInfo:
    """The company an admin page is about: the admin's own, or for a provider admin the
    one named by `?company=`. Another company's is 404, as if it did not exist."""
    need_admin(v)
    if domain is None:
        if v.company is None:
            raise Problem(404, "choose a company first")
        return v.company
    return company_of(ctx, v.who, domain)


def check_csrf(request: Request, v: Viewer, form: Mapping[str, Any]) -> None:
    """A change must carry the session's CSRF token: the form's `csrf` field, or the
    X-CSRF-Token header that htmx sends."""
    sent = form.get("csrf") or request.headers.get(CSRF_HEADER) or ""
    if not (isinstance(sent, str) and v.csrf):
        raise Problem(403, "csrf")
    if not hmac.compare_digest(sent.encode(), v.csrf.encode()):
        raise Problem(403, "csrf")


def field(form: Mapping[str, Any], name: str) -> str:
    """A text field of a form, trimmed ('' when absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# -- rendering ---------------------------------------------------------------------------


def link_for(v: Viewer | None, path: str, company: CompanyInfo | None = None, **query: Any) -> str:
    """A link to an admin page; a provider admin's links carry the company they look at."""
    params = {k: val for k, val in query.items() if val not in (None, "")}
    if v is not None and v.role == "provider" and company is not None:
        params = {"company": company.domain, **params}
    return path + ("?" + urlencode(params) if params else "")


def render(
    request: Request,
    template: str,
    v: Viewer | None,
    *,
    status: int = 200,
    lang: str | None = None,
    **values: Any,
) -> HTMLResponse:
    language = lang or (v.lang if v is not None else chosen_language(request))
    language = language or browser_language(request)
    now = datetime.now(UTC) if v is None else datetime.now(v.tz)

    def t(key: str, **fill: Any) -> str:
        return text(language, key, **fill)

    def status_of(status: str, own: str) -> str:
        return status_words(language, status, own)

    def until(moment: datetime) -> str:
        return when(language, moment, now)

    company = values.get("company")
    html = _env.get_template(template).render(
        request=request,
        v=v,
        lang=language,
        languages=LANGUAGES,
        t=t,
        status_of=status_of,
        until=until,
        link=lambda path, **q: link_for(v, path, company, **q),
        here=quote(request.url.path + (f"?{request.url.query}" if request.url.query else "")),
        **values,
    )
    return HTMLResponse(html, status_code=status)


def _error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    lang = chosen_language(request) or browser_language(request)
    if detail == "csrf":
        message = text(lang, "error.csrf")
    elif status in (403, 404):
        message = text(lang, f"error.{status}")
    else:
        message = detail
    return render(request, "error.html", None, status=status, lang=lang, message=message)


def _status_of(exc: ServiceError) -> int:
    if isinstance(exc, Stale):
        return 412
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    return 422 if isinstance(exc, Invalid) else 400


class PageRoute(APIRoute):
    """The route class of the pages: login redirects, error pages, security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginNeeded:
                wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                target = "/login" if wanted == "/" else f"/login?next={quote(wanted, safe='')}"
                if request.headers.get("HX-Request"):  # htmx: the whole page, not a part
                    response = Response(status_code=204, headers={"HX-Redirect": target})
                else:
                    response = RedirectResponse(target, status_code=303)
            except Problem as exc:
                response = _error_page(request, exc.status, exc.detail)
            except ServiceError as exc:
                response = _error_page(request, _status_of(exc), exc.message)
            except RequestValidationError:
                response = _error_page(request, 400, "the address has a wrong value")
            except HTTPException as exc:
                response = _error_page(request, exc.status_code, str(exc.detail))
            except Exception:
                log.exception("%s %s failed", request.method, request.url.path)
                response = _error_page(request, 500, "the server failed; the error is logged")
            response.headers.update(PAGE_HEADERS)
            response.headers["Vary"] = "HX-Request, Cookie"
            return response

        return page


def wants_fragment(request: Request) -> bool:
    """An htmx request for a part of the page (not its history restoring a whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


def redirect(path: str) -> RedirectResponse:
    """After a POST: see the result with a GET (303), so a reload posts nothing again."""
    return RedirectResponse(path, status_code=303)


def safe_next(path: str | None, default: str = "/") -> str:
    """Only a path of this site: never `//elsewhere` or a full URL (no open redirect)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return default
