"""The softphone and mobile web app at /phone (U1, U2, U3, U4, U9, U12): one installable
PWA, for phones and computers, in Swedish and English.

The page is rendered here with what only the server knows cheaply (the user's answering
groups and whether they are logged in, whether they are paused (A5) and the company's
pause reasons, the words of the page); everything else the
scripts in static/phone/ read from the REST API and the live events, as any other client
would, with the session's cookie and CSRF token. The SIP account comes from
`GET /api/v1/me/softphone` (the browser's own credential, web/api/softphone.py), never
in the page itself, so the HTML (and a copy of it) holds no SIP secret.

The web app manifest, the service worker and the PNG icons are served here too, without
a login: a browser fetches a manifest without cookies. The service worker is served from
/phone/sw.js with `Service-Worker-Allowed: /phone`, so its scope is the app and nothing
else of the site. The PNG icons are drawn from numbers at first request (no binary in the
repository, no build step): the manifest also names the SVG.
"""

from __future__ import annotations

import json
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
from fastapi import APIRouter, Request, Response

from vaxel.services import configuration, pauses, presence_settings
from vaxel.services.company_config import pause_words
from vaxel.services.diversions import PRESETS
from vaxel.web.context import WebContext
from vaxel.web.pages.base import (
    PAGE_HEADERS,
    Context,
    PageRoute,
    Seen,
    Viewer,
    browser_language,
    chosen_language,
    render,
)
from vaxel.web.pages.i18n import EN, text
from vaxel.web.problems import Problem

router = APIRouter(route_class=PageRoute, include_in_schema=False)
#: What a browser fetches without a session: the manifest, the service worker, icons.
public = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static" / "phone"
SCOPE = "/phone"
THEME = "#1d4e89"
ICON_SIZES = (192, 512)
CALLER_IDS = ("main", "direct", "mobile", "support")
#: The presses of /me (pages/me.py), posted to its form by the script.
SHORTCUTS = ("lunch_13", "meeting_1530", "away_monday")
STATUSES = tuple(PRESETS)


def _mine(v: Viewer) -> tuple[int, str, str]:
    account = v.who.account
    if account.company_id is None or account.extension is None or account.domain is None:
        raise Problem(404, text(v.lang, "me.no_phone"))
    return account.company_id, account.extension, account.domain


def my_groups(ctx: WebContext, company_id: int, ext: str) -> list[dict[str, object]]:
    """The answering groups the user is a member of (S8), and whether logged in to each."""
    config = configuration.load_document(ctx.store, company_id)
    if config is None:
        return []
    out = presence_settings.logged_out(ctx.store, company_id)
    return [
        {"name": name, "logged_in": (name, ext) not in out}
        for name, group in sorted(config.groups.items())
        if ext in group.members
    ]


def pause_choices(ctx: WebContext, company_id: int, ext: str, lang: str) -> dict[str, object]:
    """A5: whether the user is paused (the reason's words, "" for none) and the company's
    reasons to choose from, as (reason, words)."""
    config = configuration.load_document(ctx.store, company_id)
    reasons = list(config.pause_reasons) if config is not None else []
    found = pauses.pauses(ctx.store, company_id).get(ext)
    return {
        "paused": found is not None,
        "reason": pause_words(found.reason, lang) if found is not None else "",
        "reasons": [(reason, pause_words(reason, lang)) for reason in reasons],
    }


def _texts(lang: str) -> dict[str, str]:
    """The words the scripts show, in the page's language."""
    keys = [key for key in EN if key.startswith(("phone.", "status.", "cid."))]
    return {key: text(lang, key) for key in keys}


@router.get("/phone")
def phone(request: Request, ctx: Context, v: Seen) -> Response:
    company_id, ext, domain = _mine(v)
    data = {
        "extension": ext,
        "domain": domain,
        "name": v.who.account.name,
        "csrf": v.csrf,
        "lang": v.lang,
        "texts": _texts(v.lang),
    }
    return render(request, "phone.html", v, groups=my_groups(ctx, company_id, ext),
                  pause=pause_choices(ctx, company_id, ext, v.lang),
                  data=data, shortcuts=SHORTCUTS, statuses=STATUSES,
                  caller_ids=CALLER_IDS, ext=ext)  # fmt: skip


@public.get("/phone/manifest.webmanifest")
def manifest(request: Request) -> Response:
    """The web app manifest (installable: a name, icons, standalone, start URL, scope)."""
    lang = chosen_language(request) or browser_language(request)
    body = {
        "name": text(lang, "phone.app_name"),
        "short_name": "Vaxel",
        "description": text(lang, "phone.app_description"),
        "lang": lang,
        "id": SCOPE,
        "start_url": SCOPE,
        "scope": SCOPE,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": [
            {"src": "/static/phone/icon.svg", "sizes": "any", "type": "image/svg+xml"},
            *(
                {"src": f"/phone/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png"}
                for size in ICON_SIZES
            ),
        ],
    }
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@public.get("/phone/sw.js")
def service_worker() -> Response:
    """The service worker, served at the app's scope (static/phone/sw.js)."""
    return Response(
        (STATIC / "sw.js").read_bytes(),
        media_type="text/javascript",
        headers={
            "Service-Worker-Allowed": SCOPE,
            "Cache-Control": "no-cache",
            "Content-Security-Policy": PAGE_HEADERS["Content-Security-Policy"],
        },
    )


@public.get("/phone/icon-{size}.png")
def icon(size: int) -> Response:
    if size not in ICON_SIZES:
        raise Problem(404, "no such icon")
    return Response(
        icon_png(size), media_type="image/png", headers={"Cache-Control": "max-age=86400"}
    )


@lru_cache(maxsize=len(ICON_SIZES))
def icon_png(size: int) -> bytes:
    """The app's icon as a PNG of `size` pixels: the white V of icon.svg on its blue, on a
    full square (8-bit RGB, one IDAT chunk, drawn with numpy)."""
    y, x = (np.mgrid[0:size, 0:size] + 0.5) / size
    red, green, blue = (int(THEME[i : i + 2], 16) for i in (1, 3, 5))
    pixels = np.empty((size, size, 3), dtype=np.uint8)
    pixels[:] = (red, green, blue)
    # The V: two strokes from (0.3, 0.3) and (0.7, 0.3) down to (0.5, 0.72).
    width = 0.07
    for x0 in (0.3, 0.7):
        x1, y0, y1 = 0.5, 0.3, 0.72
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        near = np.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) <= width
        pixels[near] = (255, 255, 255)
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
