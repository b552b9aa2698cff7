"""The operator console's page (A16): `/console`, for the receptionist, in Swedish and English.

The page holds only what the script needs to start (the words, the session's CSRF token);
its script (static/console/console.js) reads the settings, the calls and the colleagues
from `/api/v1/console` (web/api/console.py) and follows the live events
(`/api/v1/events`): calls offered, ringing, answered and ended, line states, queue
joins and leaves, diversions. No inline script or style (the pages' CSP). Who may open
it: the company's admins and the users its description names as operators; anyone else
gets 403, a provider admin 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from vaxel.services import configuration
from vaxel.web.context import WebContext
from vaxel.web.pages.base import Context, PageRoute, Seen, Viewer, render
from vaxel.web.pages.i18n import EN, text
from vaxel.web.problems import Problem

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def texts(lang: str) -> dict[str, str]:
    """The script's words: the console's own, line states and diversion statuses."""
    keys = [key for key in EN if key.startswith(("console.", "phone.line.", "status."))]
    return {key: text(lang, key) for key in keys}


def may_use(ctx: WebContext, v: Viewer) -> bool:
    """An admin of the company, or a user its description names as an operator."""
    account = v.who.account
    if account.company_id is None:
        return False
    if v.who.role == "admin":
        return True
    config = configuration.load_document(ctx.store, account.company_id)
    return config is not None and account.extension in config.console.operators


@router.get("/console")
def console_page(request: Request, ctx: Context, v: Seen) -> Response:
    account = v.who.account
    if account.company_id is None:
        raise Problem(404, text(v.lang, "error.404"))
    if not may_use(ctx, v):
        raise Problem(403, text(v.lang, "error.403"))
    data = {
        "csrf": v.csrf,
        "lang": v.lang,
        "extension": account.extension,
        "texts": texts(v.lang),
    }
    return render(request, "console.html", v, data=data)
