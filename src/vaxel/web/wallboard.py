"""The wallboard's figures and their live push (A11): `/wallboard/live`, a WebSocket.

The figures of a company's queues are the switch's (who waits now, each agent's state:
features/queue_live.py, asked over the web's link) with the day's statistics so far
(services/queue_stats.py: offered, answered, missed, waits, service level), for the queue
groups its description's `wallboard:` shows, with its thresholds. `GET .../statistics/
queues/live` answers the same figures (web/api/wallboard.py), with each waiting caller's
number; the wallboard gets only their waits (a TV in a hall shows no caller's number).

Who may watch: a browser with a session of the company (a provider admin names it with
`?company=`), its Origin the site's own; or anyone with a wallboard token
(services/wallboard_tokens.py), sent as the first message `{"token": "vxw_..."}`. The
page takes the token from its address's fragment (`/wallboard#vxw_...`), which a browser
never sends to a server: the token is in no request line, so in no log, Referer or
error page. A client with a session sends `{}` as its first message (within 10 s). An
unknown token and a revoked one are closed alike, with code 4404.

The push: while anyone watches a company, one task per company builds its figures once and
sends them to every watcher: at once when a caller joins or leaves a queue, an agent logs
in or out or a line changes (the bus's live events, debounced by `SETTLE`), and every
`TICK` seconds whatever happens (the day's figures, and each watcher's token or session
checked again: a revoked token's wallboard is closed at that update). A watcher that
reads slowly gets only the latest figures, never a backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from vaxel.bus import CallEnded, GroupLogin, LineState, QueueChanged
from vaxel.features.queue_live import QueueNow
from vaxel.services import companies, configuration, queue_stats, wallboard_tokens, web_sessions
from vaxel.services.company_config import LOW_IS_BAD, Threshold, WallboardConfig
from vaxel.services.errors import NotFound
from vaxel.services.queue_stats import GroupFigures
from vaxel.web.auth import COOKIE
from vaxel.web.context import WebContext, blocking
from vaxel.web.events import AUTH_TIMEOUT, POLICY, same_origin

log = logging.getLogger(__name__)

router = APIRouter(tags=["wallboard"])

PATH = "/wallboard/live"
TICK = 2.0  # seconds between updates when nothing happens
SETTLE = 0.2  # seconds an event waits for the ones right behind it
UNKNOWN = 4404  # close code: no such wallboard (a token unknown or revoked: the same)
UNKNOWN_REASON = "no such wallboard"
#: The events after which the figures are built again at once.
TRIGGERS: tuple[type, ...] = (QueueChanged, GroupLogin, LineState, CallEnded)


class NoSwitch(RuntimeError):
    """The web runs without a switch: nobody knows who waits."""


# -- the figures ------------------------------------------------------------------------------


def alarm(metric: str, value: float | None, limit: Threshold) -> str | None:
    """ "red", "amber" or None: above the limits for a figure bad when high, below them for
    one bad when low (`LOW_IS_BAD`)."""
    if value is None:
        return None
    low = metric in LOW_IS_BAD
    for colour, bound in (("red", limit.red), ("amber", limit.amber)):
        if bound is not None and (value < bound if low else value > bound):
            return colour
    return None


def board_figures(
    live: list[QueueNow],
    today: list[GroupFigures],
    board: WallboardConfig,
    *,
    callers: bool,
) -> list[dict[str, Any]]:
    """Each queue the board shows, with its alarms; `callers`: with each waiting caller's
    number and name (the API), else only their waits (the wallboard)."""
    shown = set(board.queues) if board.queues else None
    stats = {figures.group: figures for figures in today}
    limits = board.limits()
    out = []
    for queue in live:
        if shown is not None and queue.group not in shown:
            continue
        day = stats.get(queue.group)
        agents = {state: queue.count(state) for state in ("free", "busy", "wrap_up", "paused")}
        figures: dict[str, Any] = {
            "group": queue.group,
            "waiting": len(queue.waiting),
            "longest_wait": queue.longest_wait,
            "waits": [w.waited for w in queue.waiting],
            "agents": {"logged_in": queue.logged_in, **agents},
            "offered": day.offered if day else 0,
            "answered": day.answered if day else 0,
            "missed": (day.abandoned + day.timed_out + day.callback_failed) if day else 0,
            "abandoned": day.abandoned if day else 0,
            "timed_out": day.timed_out if day else 0,
            "wait_latest": day.wait_latest if day else None,
            "wait_average": day.wait_average if day else None,
            "service_level": day.service_level if day else None,
        }
        if callers:
            figures["callers"] = [
                {"call_id": w.call_id, "caller": w.caller, "caller_name": w.caller_name,
                 "waited": w.waited, "callback": w.callback}
                for w in queue.waiting
            ]  # fmt: skip
        values = {
            "waiting": figures["waiting"], "longest_wait": figures["longest_wait"],
            "average_wait": figures["wait_average"], "missed": figures["missed"],
            "service_level": figures["service_level"], "logged_in": queue.logged_in,
            "free": agents["free"],
        }  # fmt: skip
        figures["alarms"] = {
            metric: colour
            for metric, limit in limits.items()
            if (colour := alarm(metric, values[metric], limit)) is not None
        }
        out.append(figures)
    return out


def _settings(ctx: WebContext, company_id: int) -> tuple[WallboardConfig, Any, str]:
    """The company's wallboard section, time zone and language (defaults without one)."""
    from zoneinfo import ZoneInfo

    document = configuration.load_document(ctx.store, company_id)
    if document is None:
        return WallboardConfig(), ZoneInfo("Europe/Stockholm"), "sv"
    try:
        zone = ZoneInfo(document.company.timezone)
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    return document.wallboard, zone, document.company.language


def _today(
    ctx: WebContext, domain: str, zone: Any, service_level: int, now: datetime
) -> list[GroupFigures]:
    since, until = queue_stats.period(zone, None, None, now)
    return queue_stats.report(
        ctx.store, domain, since, until, service_level=service_level, zone=zone
    ).groups


async def figures(
    ctx: WebContext, company_id: int, domain: str, *, callers: bool
) -> dict[str, Any]:
    """The company's wallboard figures now (raises NoSwitch without a switch)."""
    if ctx.queue_live is None:
        raise NoSwitch("who waits is known to a running switch (vaxel serve) only")
    board, zone, language = await blocking(_settings, ctx, company_id)
    live = await ctx.queue_live(company_id)
    today = await blocking(_today, ctx, domain, zone, board.service_level, ctx.now())
    return {
        "company": domain,
        "time": time.time(),
        "language": language,
        "theme": board.theme,
        "service_level_seconds": board.service_level,
        "thresholds": {metric: limit.model_dump() for metric, limit in board.limits().items()},
        "queues": board_figures(live, today, board, callers=callers),
    }


# -- the watchers and their push -------------------------------------------------------------


@dataclass(eq=False)
class Watcher:
    """One wallboard's connection: the latest figures not yet sent, and its credential's
    check (False: the token was revoked, the session ended)."""

    check: Callable[[], bool]
    latest: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    ended: bool = False

    def offer(self, message: str) -> None:
        self.latest = message  # a slow reader skips what it did not read in time
        self.wake.set()

    def end(self) -> None:
        self.ended = True
        self.wake.set()


class Boards:
    """Every company's wallboards in this web process, and the task that feeds each."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.watchers: dict[int, set[Watcher]] = {}
        self.domains: dict[int, str] = {}
        self.nudges: dict[int, asyncio.Event] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.checked: dict[int, float] = {}  # when the watchers' credentials were checked
        if ctx.bus is not None:
            for kind in TRIGGERS:
                ctx.bus.subscribe(kind, self.nudge)

    def nudge(self, event: Any) -> None:
        """A live event of a watched company: its figures are built again now."""
        found = self.nudges.get(event.company_id)
        if found is not None:
            found.set()

    def join(self, company_id: int, domain: str, watcher: Watcher) -> None:
        self.watchers.setdefault(company_id, set()).add(watcher)
        self.domains[company_id] = domain
        if company_id not in self.tasks:
            self.nudges[company_id] = asyncio.Event()
            if self.ctx.bus is not None:
                self.ctx.bus.watch(company_id)
            self.tasks[company_id] = asyncio.ensure_future(self._feed(company_id))
        else:
            self.nudges[company_id].set()  # the newcomer's first figures now

    def leave(self, company_id: int, watcher: Watcher) -> None:
        watchers = self.watchers.get(company_id)
        if watchers is None:
            return
        watchers.discard(watcher)
        if not watchers:
            del self.watchers[company_id]
            self.nudges.pop(company_id, None)
            self.checked.pop(company_id, None)
            task = self.tasks.pop(company_id, None)
            if task is not None:
                task.cancel()
            if self.ctx.bus is not None:
                self.ctx.bus.unwatch(company_id)

    async def _feed(self, company_id: int) -> None:
        nudge = self.nudges[company_id]
        while company_id in self.watchers:
            nudge.clear()
            await self._update(company_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(nudge.wait(), TICK)
                await asyncio.sleep(SETTLE)

    async def _update(self, company_id: int) -> None:
        watchers = list(self.watchers.get(company_id, ()))
        now = time.monotonic()
        if now - self.checked.get(company_id, 0.0) >= TICK:  # not on every event
            self.checked[company_id] = now
            for watcher in watchers:  # a revoked token sees no more figures
                if not await blocking(watcher.check):
                    watcher.end()
        try:
            found = await figures(self.ctx, company_id, self.domains[company_id], callers=False)
        except NoSwitch:
            found = {"company": self.domains[company_id], "time": time.time(), "queues": [],
                     "unavailable": True}  # fmt: skip
        except Exception:
            log.exception("the wallboard's figures failed")
            return
        message = json.dumps({"type": "figures", **found}, separators=(",", ":"))
        for watcher in watchers:
            if not watcher.ended:
                watcher.offer(message)

    def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        if self.ctx.bus is not None:
            for kind in TRIGGERS:
                self.ctx.bus.unsubscribe(kind, self.nudge)


def install(app: Any, ctx: WebContext) -> None:
    app.state.boards = Boards(ctx)
    app.include_router(router)


# -- the endpoint --------------------------------------------------------------------------


async def _first_message_token(websocket: WebSocket) -> str | None:
    try:
        text = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT)
        message = json.loads(text)
    except (TimeoutError, ValueError, KeyError, RuntimeError, WebSocketDisconnect):
        return None
    token = message.get("token") if isinstance(message, dict) else None
    return token if isinstance(token, str) else None


def _by_token(ctx: WebContext, token: str) -> tuple[int, str, Callable[[], bool]] | None:
    found = wallboard_tokens.find(ctx.store, token)
    if found is None:
        return None
    return *found, lambda: wallboard_tokens.find(ctx.store, token) == found


def _by_session(
    ctx: WebContext, cookie: str, asked: str | None
) -> tuple[int, str, Callable[[], bool]] | None:
    session = web_sessions.find_session(ctx.store, cookie, ctx.now())
    if session is None:
        return None
    account = session.account
    domain = asked if account.role == "provider" and asked else account.domain
    if domain is None or (account.role != "provider" and asked and asked.lower() != domain):
        return None
    try:
        company = companies.get_company(ctx.store, domain)
    except NotFound:
        return None

    def check() -> bool:
        return web_sessions.find_session(ctx.store, cookie, ctx.now()) is not None

    return company.id, company.domain, check


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code, reason)


@router.websocket(PATH)
async def live(websocket: WebSocket) -> None:
    ctx: WebContext = websocket.app.state.vaxel
    boards: Boards = websocket.app.state.boards
    cookie = websocket.cookies.get(COOKIE)
    origin = websocket.headers.get("origin")
    if origin is not None and not same_origin(origin, websocket.headers.get("host", "")):
        await websocket.close(POLICY, "cross-site WebSocket refused")
        return
    await websocket.accept()
    found = None
    token = await _first_message_token(websocket)
    if token:
        found = await blocking(_by_token, ctx, token)
    elif cookie:
        found = await blocking(_by_session, ctx, cookie, websocket.query_params.get("company"))
    if found is None:
        await _close(websocket, UNKNOWN, UNKNOWN_REASON)
        return
    company_id, domain, check = found
    watcher = Watcher(check)
    boards.join(company_id, domain, watcher)
    try:
        await _serve(websocket, watcher)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        boards.leave(company_id, watcher)
    if watcher.ended:
        await _close(websocket, UNKNOWN, UNKNOWN_REASON)


async def _serve(websocket: WebSocket, watcher: Watcher) -> None:
    """Send the latest figures as they come, until the client leaves or its credential
    ends."""

    async def send() -> None:
        while True:
            await watcher.wake.wait()
            watcher.wake.clear()
            if watcher.ended:
                return
            message, watcher.latest = watcher.latest, None
            if message is not None:
                await websocket.send_text(message)

    async def receive() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return

    tasks = [asyncio.ensure_future(work()) for work in (send, receive)]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
