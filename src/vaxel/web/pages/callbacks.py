"""The callback list on the web (A5, A1, A18): what agents see of the callbacks callers
asked for.

Every user of a company (and its admins, and the provider for a company it opens) sees
today's callbacks and those still waiting from before: who to call back, who asked and
when, the queue, a booked time, the status (waiting, being called, done, not reached), the
attempts and the agent who took it. The list is the API's (`GET .../callbacks`,
services/callbacks.py); the page reloads its table every 10 s (htmx), so a TV or an
agent's screen follows the switch as it serves them. Nothing here changes a callback: the
switch makes them, in their turn.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from fastapi import APIRouter, Request, Response

from vaxel.services import callbacks
from vaxel.web.context import WebContext, blocking
from vaxel.web.pages.base import Context, PageRoute, Seen, Viewer, render
from vaxel.web.problems import Problem

router = APIRouter(route_class=PageRoute, include_in_schema=False)

REFRESH_SECONDS = 10


def _shown(ctx: WebContext, v: Viewer) -> list[callbacks.CallbackInfo]:
    """Today's callbacks (in the company's zone), and older ones still waiting."""
    if v.company is None:
        raise Problem(404, "no company")
    found = callbacks.list_callbacks(ctx.store, v.company.id)
    midnight = datetime.combine(datetime.now(v.tz).date(), time(0), v.tz)
    return [
        c for c in found
        if c.requested_at >= midnight or c.status in ("waiting", "calling")
        or (c.due_at is not None and c.due_at >= midnight - timedelta(days=1))
    ]  # fmt: skip


@router.get("/callbacks")
async def callback_list(request: Request, ctx: Context, v: Seen) -> Response:
    """The page, or (for htmx's refresh) its table alone."""
    shown = await blocking(_shown, ctx, v)
    template = "_callback_rows.html" if request.headers.get("HX-Request") else "callbacks.html"
    return render(request, template, v, nav="callbacks", callbacks=shown,
                  refresh=REFRESH_SECONDS, company=v.company)  # fmt: skip
