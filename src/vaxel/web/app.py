"""The ASGI application (P8): the API routers, problem details, the OpenAPI document at
`/api/openapi.json` with its docs page at `/api/docs`, and the vendored static files.

Every response carries headers that keep a page from being framed or sniffed; API
answers are never cached (they hold people's data).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from vaxel.web import events, pages, problems, sip_ws
from vaxel.web import push as web_push
from vaxel.web import wallboard as wallboard_live
from vaxel.web.api import (
    admins,
    agents,
    audit,
    callbacks,
    calls,
    calls_placed,
    calls_transfer,
    chat,
    chat_groups,
    companies,
    conferences,
    console,
    contacts,
    diversions,
    favourites,
    greeting,
    groups,
    health,
    me,
    meetings,
    prompts,
    push,
    recordings,
    reports,
    sections,
    session,
    settings,
    shortcuts,
    softphone,
    statistics,
    three_way,
    users,
    voicemail,
    wallboard,
    wrap_up,
)
from vaxel.web.context import WebContext
from vaxel.web.limits import App, BodyLimit, Message, Receive, Scope, Send

STATIC = Path(__file__).with_name("static")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(ctx: WebContext) -> FastAPI:
    app = FastAPI(
        title="Vaxel",
        summary="A hosted business phone system: the administration and user API.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.vaxel = ctx
    problems.install(app)
    # prompts, groups, wallboard, statistics and agents before sections: their paths are more
    # specific.
    routers = (health, session, me, companies, settings, users, prompts, groups, voicemail,
               wallboard, statistics, reports, agents, sections, calls, calls_placed,
               calls_transfer, diversions, audit, shortcuts, favourites, greeting, admins,
               conferences, meetings, three_way, recordings, chat, chat_groups, contacts, push,
               softphone, wrap_up, callbacks, console)  # fmt: skip
    for module in routers:
        app.include_router(module.router, responses=problems.PROBLEM_RESPONSES)
    app.include_router(pages.router)  # the web pages (S7, U4, U9): HTML, not the API
    events.install(app, ctx)
    wallboard_live.install(app, ctx)  # A11: the wallboard's figures, pushed
    web_push.install(app, ctx.bus, lambda: ctx.store, ctx.data)  # U1: wakes the web app
    sip_ws.install(app, ctx.sip_relay)  # P2, U1: SIP over WebSocket at /ws (RFC 7118)

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="Vaxel API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    return app


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` to every response, and `Cache-Control: no-store` to the
    API's. A plain ASGI middleware: Starlette's `BaseHTTPMiddleware` costs a task and a
    stream per request on the loop that also relays RTP."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += _ENCODED
                if api and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


_ENCODED = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
