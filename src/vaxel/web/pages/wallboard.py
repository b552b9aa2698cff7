"""The wallboard page (A11): `/wallboard`, full screen, for a TV or a team's big screen.

The page itself holds nothing of any company: it is the same for everyone, so it needs no
login. Its script opens `/wallboard/live` (web/wallboard.py) and sends the token from the
address's fragment (`/wallboard#vxw_...`: a browser never sends a fragment to a server),
or, with no token, rides on the visitor's session (a user of the company; a provider
admin adds `?company=`). The figures then come pushed; the waits count up in the page
between updates. The page's words are here in both languages: the company's language is
used unless the visitor chose one (the language cookie). No inline script or style: the
pages' Content-Security-Policy (web/pages/base.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from vaxel.web.pages.base import PageRoute, browser_language, chosen_language, render
from vaxel.web.pages.i18n import EN, LANGUAGES, text

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def words(lang: str) -> dict[str, str]:
    """The page script's words (the `wallboard.` keys) in `lang`."""
    return {key[len("wallboard.") :]: text(lang, key) for key in EN if key.startswith("wallboard.")}


@router.get("/wallboard")
def wallboard(request: Request) -> Response:
    """The wallboard: a TV opens it with its token in the fragment, a user with a login."""
    chosen = chosen_language(request)
    lang = chosen or browser_language(request)
    data = {"chosen": chosen, "words": {other: words(other) for other in LANGUAGES}}
    return render(request, "wallboard.html", None, lang=lang, data=data)
