"""The web pages (S7 admin web; U4 directory, U7 voicemail, U8 caller ID, U9 diversions,
U11 forwarding; U1, U3 the softphone at /phone; A11 the wallboard; A5 the callback list;
A16 the operator console): server-rendered HTML.

`router` holds every page; `web/app.py` includes it beside the API. What the pages
share (login redirect, error pages, CSRF, the Content-Security-Policy, rendering) is in
`base.py`, their words in Swedish and English in `i18n.py`.
"""

from __future__ import annotations

from fastapi import APIRouter

from vaxel.web.pages import (
    admin,
    admins,
    callbacks,
    conferences,
    config,
    console,
    groups,
    me,
    mine,
    phone,
    prompts,
    provider,
    provider_company,
    provider_trunks,
    recordings,
    routing,
    schedules,
    session,
    settings,
    statistics,
    tokens,
    wallboard,
    wallboard_admin,
)

router = APIRouter(include_in_schema=False)
_MODULES = (session, admin, settings, config, routing, schedules, groups, prompts, provider)
for _module in (
    *_MODULES,
    conferences,
    admins,
    provider_company,
    provider_trunks,
    tokens,
    me,
    mine,
    recordings,
    statistics,
    phone,
    wallboard,
    wallboard_admin,
    callbacks,
    console,
):
    router.include_router(_module.router)
router.include_router(phone.public)  # the manifest, service worker and icons: no login
