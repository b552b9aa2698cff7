"""Live events over a WebSocket (P8): `/api/v1/events` streams the caller's company.

What the operator console (A16), the wallboard (A11) and the softphone (U3) are built
on: calls offered, ringing, answered and ended; devices registered and gone; voicemail
counts; group logins; agents' pauses (A5); diversions (U9) and forwarding (U11); users'
line state (U10); callers joining and leaving a queue (A11).
docs/events.md has the message format; in short every message is one JSON object with
`seq` (1, 2, 3, ... on this connection), `type`, `time` (when the switch published it,
seconds since the epoch) and `company` (the domain).

Who may listen, and to what:

- A browser authenticates with its session cookie; then the handshake's `Origin` must
  match its `Host` (a page of another site must not ride on the cookie: Cross-Site
  WebSocket Hijacking). A script sends `Authorization: Bearer vxl_...`, or, where it
  cannot set headers (a browser with an API token), the token as its first message,
  `{"token": "vxl_..."}`, within 10 s. A token in the URL is not accepted: query strings
  end up in logs. A token needs the `read` scope. The session or token is checked again
  every minute, so logging out (or revoking) ends the stream.
- Company admins and users get their own company; a provider admin names one with
  `?company=DOMAIN`, or `?company=*` for every company. Another company is refused as if
  it did not exist.
- A user (role `user`) sees colleagues' calls, line state, group logins, pauses and diversions
  (that is what a console or softphone shows), but of another user's devices only that
  they registered or went (not their addresses), of another user's forwarding only that
  it is set (not the number), and no voicemail but their own box and the shared boxes
  they are a member of.

The switch never waits for a listener: an event is rendered to JSON once, whoever
listens, and handed to every subscriber of its company as the same string (only `seq`
is put in front per connection). Each connection has a bounded queue; a client that
falls `QUEUE_LIMIT` messages behind is dropped with close code 1013 (try again later)
and may reconnect. What happened meanwhile is not replayed: a client that reconnects
reads the current state from the REST API.

The events come from the switch's bus (over web/link.py when the web runs in its own
process). A change made with the `vaxel` command line (another process) is not an
event; the API's endpoints publish theirs with `WebContext.publish`, through the switch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from vaxel.bus import (
    LIVE_EVENTS,
    AgentPaused,
    BoxChanged,
    Bus,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallRinging,
    ChatKept,
    DeviceRegistration,
    DiversionChanged,
    ForwardingChanged,
    GroupLogin,
    LineState,
    QueueChanged,
)
from vaxel.services import companies, voicemail, web_sessions
from vaxel.services.accounts import Account
from vaxel.services.errors import NotFound
from vaxel.store import Store
from vaxel.web.auth import COOKIE
from vaxel.web.context import WebContext, blocking

log = logging.getLogger(__name__)

router = APIRouter(tags=["events"])

PATH = "/api/v1/events"
QUEUE_LIMIT = 1000  # messages waiting for one client; past it the client is dropped
AUTH_TIMEOUT = 10.0  # seconds for a client without a cookie or header to send its token
RECHECK_SECONDS = 60.0  # how often the session or token is checked again

# Close codes (RFC 6455 §7.4.1).
POLICY = 1008  # not authenticated, or not allowed
TRY_AGAIN = 1013  # too slow: the client fell too far behind
UNAVAILABLE = 1011  # this server has no live events


# -- rendering: each event becomes JSON once ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rendered:
    """An event as sent: `full` for whoever may see all of it, `public` (None: nothing)
    for a plain user who is not one of its `owners` (no owners: everyone gets `full`).
    Both are JSON objects without their opening brace, so `seq` can be put first."""

    company_id: int
    full: str
    public: str | None = None
    owners: frozenset[str] = frozenset()
    # Only for its owners, whatever anyone's role (a chat message: not even an admin
    # reads colleagues' chats).
    private: bool = False


def _body(fields: dict[str, Any]) -> str:
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)[1:]


def _head(kind: str, at: float, domain: str) -> dict[str, Any]:
    return {"type": kind, "time": at, "company": domain}


def render(event: object, domain: str) -> Rendered | None:
    """The message(s) an event of the bus becomes; None for an event not streamed."""
    if isinstance(event, CallOffered):
        return Rendered(event.company_id, _body({
            **_head("call.offered", event.at, domain), "call_id": event.call_id,
            "caller": event.caller, "caller_name": event.caller_name, "callee": event.callee,
        }))  # fmt: skip
    if isinstance(event, CallRinging):
        return Rendered(event.company_id, _body({
            **_head("call.ringing", event.at, domain), "call_id": event.call_id,
            "party": event.party, "party_name": event.party_name,
        }))  # fmt: skip
    if isinstance(event, CallAnswered):
        return Rendered(event.company_id, _body({
            **_head("call.answered", event.at, domain), "call_id": event.call_id,
            "answered_by": event.answered_by,
        }))  # fmt: skip
    if isinstance(event, CallEnded):
        return Rendered(event.company_id, _body({
            **_head("call.ended", event.at, domain), "call_id": event.call_id,
            "caller": event.caller, "callee": event.callee, "answered_by": event.answered_by,
            "disposition": event.disposition, "hangup_side": event.hangup_side,
            "cause": {"code": event.cause_code, "text": event.cause_text},
            "started_at": event.started_at, "answered_at": event.answered_at,
            "ended_at": event.at,
        }))  # fmt: skip
    if isinstance(event, DeviceRegistration):
        head = {**_head("registration", event.at, domain), "extension": event.extension,
                "state": event.state}  # fmt: skip
        full = {**head, "contact": event.contact, "user_agent": event.user_agent,
                "expires_at": event.expires_at}  # fmt: skip
        return Rendered(event.company_id, _body(full), _body(head), frozenset((event.extension,)))
    if isinstance(event, GroupLogin):
        kind = "group.login" if event.logged_in else "group.logout"
        return Rendered(event.company_id, _body({
            **_head(kind, event.at, domain), "group": event.group, "extension": event.extension,
        }))  # fmt: skip
    if isinstance(event, AgentPaused):  # A5
        fields = {**_head("agent.unpaused", event.at, domain), "extension": event.extension}
        if event.reason is not None:
            fields = {**_head("agent.paused", event.at, domain), "extension": event.extension,
                      "reason": event.reason}  # fmt: skip
        return Rendered(event.company_id, _body(fields))
    if isinstance(event, DiversionChanged):
        if event.status is None:
            fields = {**_head("diversion.cleared", event.at, domain), "extension": event.extension}
        else:
            fields = {**_head("diversion.set", event.at, domain), "extension": event.extension,
                      "status": event.status, "text": event.text, "until": event.until,
                      "scope": event.scope}  # fmt: skip
        return Rendered(event.company_id, _body(fields))
    if isinstance(event, ForwardingChanged):
        kind = "forwarding.set" if event.target is not None else "forwarding.cleared"
        head = {**_head(kind, event.at, domain), "extension": event.extension,
                "kind": event.kind}  # fmt: skip
        full = {**head, "to": event.target} if event.target is not None else head
        return Rendered(event.company_id, _body(full), _body(head), frozenset((event.extension,)))
    if isinstance(event, ChatKept):
        message = event.message
        # A group message is kept once per member: each copy is its recipient's alone.
        owners = (message.recipient,) if message.group_id else (message.sender, message.recipient)
        return Rendered(event.company_id, _body({
            **_head("chat.message", event.at, domain), "id": message.id,
            "sender": message.sender, "recipient": message.recipient, "text": message.body,
            "sent_at": message.sent_at.isoformat(), "group": message.group_id,
        }), None, frozenset(owners), private=True)  # fmt: skip
    if isinstance(event, LineState):
        return Rendered(event.company_id, _body({
            **_head("line.state", event.at, domain), "extension": event.extension,
            "state": event.state, "call_id": event.call_id, "call_state": event.call_state,
            "direction": event.direction, "remote": event.remote,
        }))  # fmt: skip
    if isinstance(event, QueueChanged):  # A11: a caller joined or left a queue
        kind = "queue.joined" if event.joined else "queue.left"
        return Rendered(event.company_id, _body({
            **_head(kind, event.at, domain), "group": event.group, "call_id": event.call_id,
            "caller": event.caller, "caller_name": event.caller_name, "waiting": event.waiting,
        }))  # fmt: skip
    return None


def render_voicemail(event: BoxChanged, domain: str, new: int, old: int, at: float) -> Rendered:
    """A box's counts: for its owner (a user's own box) or members (a shared box) only."""
    owners = frozenset(event.members) if event.shared else frozenset((event.box,))
    body = _body({
        **_head("voicemail", at, domain), "box": event.box, "shared": event.shared,
        "new": new, "old": old,
    })  # fmt: skip
    return Rendered(event.company_id, body, None, owners)


# -- subscribers and the hub -----------------------------------------------------------------


class Subscriber:
    """One connection's view and its bounded queue of messages to send."""

    __slots__ = ("company_id", "extension", "limit", "overflowed", "own", "queue", "wake")

    def __init__(
        self, company_id: int | None, extension: str | None, limit: int, own: str | None = None
    ) -> None:
        self.company_id = company_id  # None: every company (a provider admin)
        self.extension = extension  # a plain user's own extension; None: sees everything
        self.own = own  # the account's own extension, whatever its role (private events)
        self.limit = limit
        self.queue: deque[str] = deque()
        self.wake = asyncio.Event()
        self.overflowed = False

    def offer(self, rendered: Rendered) -> None:
        """Queue what this subscriber may see of an event; never blocks, never raises."""
        if self.overflowed:
            return
        body = rendered.full
        if rendered.private and (self.own is None or self.own not in rendered.owners):
            return
        extension = self.extension
        if extension is not None and rendered.owners and extension not in rendered.owners:
            if rendered.public is None:
                return
            body = rendered.public
        if len(self.queue) >= self.limit:
            self.overflowed = True  # the sender closes the connection (1013)
            self.queue.clear()
        else:
            self.queue.append(body)
        self.wake.set()


class Hub:
    """The bus's live events, fanned out to the WebSocket subscribers of each company."""

    def __init__(self, bus: Bus, store: Callable[[], Store], *, limit: int | None = None) -> None:
        self.bus = bus
        self.store = store  # the web's current store (a test swaps it between tests)
        self.limit = limit  # None: QUEUE_LIMIT
        self.by_company: dict[int, set[Subscriber]] = {}
        self.everywhere: set[Subscriber] = set()
        self.domains: dict[int, str] = {}
        self._counts: ThreadPoolExecutor | None = None  # voicemail counts, one at a time
        for kind in LIVE_EVENTS:
            bus.subscribe(kind, self.publish)
        bus.subscribe(BoxChanged, self.box_changed)

    def join(
        self, company_id: int | None, extension: str | None, own: str | None = None
    ) -> Subscriber:
        subscriber = Subscriber(company_id, extension, self.limit or QUEUE_LIMIT, own)
        if company_id is None:
            self.everywhere.add(subscriber)
        else:
            self.by_company.setdefault(company_id, set()).add(subscriber)
        self.bus.watch(company_id)
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        company_id = subscriber.company_id
        if company_id is None:
            self.everywhere.discard(subscriber)
        else:
            subscribers = self.by_company.get(company_id)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self.by_company[company_id]
        self.bus.unwatch(company_id)

    def domain(self, company_id: int) -> str:
        domain = self.domains.get(company_id)
        if domain is None:  # a company new since the last look (rare): read them all again
            self.domains.update((c.id, c.domain) for c in companies.list_companies(self.store()))
            domain = self.domains.get(company_id, "")
        return domain

    def _fan_out(self, rendered: Rendered) -> None:
        for subscriber in self.by_company.get(rendered.company_id, ()):
            subscriber.offer(rendered)
        for subscriber in self.everywhere:
            subscriber.offer(rendered)

    def publish(self, event: Any) -> None:
        """A live event from the bus (on the web's loop): rendered once, queued for all."""
        company_id = event.company_id
        if company_id not in self.by_company and not self.everywhere:
            return
        rendered = render(event, self.domain(company_id))
        if rendered is not None:
            self._fan_out(rendered)

    def box_changed(self, event: BoxChanged) -> None:
        """A box changed: its counts are read off the loop, then sent to who may see them."""
        if event.company_id not in self.by_company and not self.everywhere:
            return
        if self._counts is None:
            self._counts = ThreadPoolExecutor(1, thread_name_prefix="vaxel-events")
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._counts, voicemail.counts, self.store(), event.company_id, event.box
        )
        at = time.time()

        def counted(done: asyncio.Future[tuple[int, int]]) -> None:
            if done.cancelled() or done.exception() is not None:
                log.warning("could not count the messages of box %s", event.box)
                return
            new, old = done.result()
            domain = self.domain(event.company_id)
            self._fan_out(render_voicemail(event, domain, new, old, at))

        future.add_done_callback(counted)

    def close(self) -> None:
        for kind in LIVE_EVENTS:
            self.bus.unsubscribe(kind, self.publish)
        self.bus.unsubscribe(BoxChanged, self.box_changed)
        if self._counts is not None:
            self._counts.shutdown(wait=False)


def install(app: Any, ctx: WebContext) -> None:
    """Add the endpoint to the app, with its hub when the switch gave the web a bus."""
    app.state.events = Hub(ctx.bus, lambda: ctx.store) if ctx.bus is not None else None
    app.include_router(router)


# -- the endpoint --------------------------------------------------------------------------


def same_origin(origin: str, host: str) -> bool:
    """Does the page's Origin name the host (and port) this request was sent to?"""
    try:
        page = urlsplit(origin)
        asked = urlsplit(f"//{host}")
        page_port, asked_port = page.port, asked.port
    except ValueError:
        return False
    if page.scheme not in ("http", "https") or not page.hostname or not asked.hostname:
        return False
    default = 443 if page.scheme == "https" else 80
    return page.hostname.lower() == asked.hostname.lower() and (page_port or default) == (
        asked_port or default
    )


@dataclass(frozen=True, slots=True)
class _Listener:
    account: Account
    check: Callable[[], bool]  # does the session or token still hold?


def _by_session(ctx: WebContext, cookie: str) -> _Listener | None:
    found = web_sessions.find_session(ctx.store, cookie, ctx.now())
    if found is None:
        return None
    return _Listener(
        found.account, lambda: web_sessions.find_session(ctx.store, cookie, ctx.now()) is not None
    )


def _by_token(ctx: WebContext, token: str) -> _Listener | None:
    found = web_sessions.find_token(ctx.store, token.strip(), ctx.now())
    if found is None or "read" not in found[1]:
        return None
    return _Listener(
        found[0], lambda: web_sessions.find_token(ctx.store, token.strip(), ctx.now()) is not None
    )


async def _first_message_token(websocket: WebSocket) -> str | None:
    try:
        text = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT)
        message = json.loads(text)
    except (TimeoutError, ValueError, KeyError, RuntimeError, WebSocketDisconnect):
        return None
    token = message.get("token") if isinstance(message, dict) else None
    return token if isinstance(token, str) and 0 < len(token) <= 200 else None


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    """Close; for a client that reads nothing this waits until uvicorn's keep-alive pings
    (20 s, then 20 s for the pong) give up on it and drop the connection."""
    with contextlib.suppress(Exception):
        await websocket.close(code, reason)


@router.websocket(PATH)
async def events(websocket: WebSocket) -> None:
    ctx: WebContext = websocket.app.state.vaxel
    hub: Hub | None = websocket.app.state.events
    listener: _Listener | None = None
    header = websocket.headers.get("authorization", "")
    cookie = websocket.cookies.get(COOKIE)
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            listener = await blocking(_by_token, ctx, token)
        if listener is None:
            await websocket.close(POLICY, "the token is unknown, revoked or lacks 'read'")
            return
    elif cookie:
        origin = websocket.headers.get("origin")
        if origin is not None and not same_origin(origin, websocket.headers.get("host", "")):
            await websocket.close(POLICY, "cross-site WebSocket refused")  # HTTP 403
            return
        listener = await blocking(_by_session, ctx, cookie)
    await websocket.accept()
    if listener is None:
        sent = await _first_message_token(websocket)
        if sent is not None:
            listener = await blocking(_by_token, ctx, sent)
        if listener is None:
            await _close(websocket, POLICY, 'log in, or send {"token": "vxl_..."} first')
            return
    if hub is None:
        await _close(websocket, UNAVAILABLE, "this server has no live events")
        return
    account = listener.account
    scope = await _scope(ctx, account, websocket.query_params.get("company"))
    if isinstance(scope, str):
        await _close(websocket, POLICY, scope)
        return
    company_id, domain = scope
    if company_id is not None and domain is not None:
        hub.domains[company_id] = domain
    extension = account.extension if account.role == "user" else None
    subscriber = hub.join(company_id, extension, account.extension)
    ending: tuple[int, str] | None = None
    try:
        hello = {"type": "hello", "time": time.time(), "company": domain or "*",
                 "role": account.role, "login": account.login}  # fmt: skip
        await websocket.send_text('{"seq":1,' + _body(hello))
        ending = await _serve(websocket, subscriber, listener)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.leave(subscriber)  # before the close, which may wait on a client that reads nothing
    if ending is not None:
        await _close(websocket, *ending)


async def _scope(
    ctx: WebContext, account: Account, asked: str | None
) -> tuple[int | None, str | None] | str:
    """The company the listener gets (None: all), or why not."""
    if account.role == "provider":
        if asked is None:
            return "say which company: ?company=DOMAIN, or ?company=* for all"
        if asked == "*":
            return None, None
        try:
            company = await blocking(companies.get_company, ctx.store, asked)
        except NotFound:
            return f'no company "{asked}"'
        return company.id, company.domain
    own = account.domain or ""
    if account.company_id is None or (asked is not None and asked.strip().lower() != own):
        return f'no company "{asked}"'
    return account.company_id, own


async def _serve(
    websocket: WebSocket, subscriber: Subscriber, listener: _Listener
) -> tuple[int, str] | None:
    """Send what the subscriber's queue holds, notice the client leaving, check the login
    again every minute; whichever ends first ends the connection. Returns how to close it
    (None: the client left)."""
    ending: list[tuple[int, str]] = []

    async def send() -> None:
        seq = 1
        queue, wake = subscriber.queue, subscriber.wake
        while True:
            await wake.wait()
            wake.clear()
            while queue and not subscriber.overflowed:
                seq += 1
                await websocket.send_text(f'{{"seq":{seq},{queue.popleft()}')
            if subscriber.overflowed:
                ending.append((TRY_AGAIN, f"too slow: {subscriber.limit} events behind"))
                return

    async def receive() -> None:
        while True:  # what a client sends after its token is not needed: read and let go
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return

    async def recheck() -> None:
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            if not await blocking(listener.check):
                ending.append((POLICY, "the session or token has ended"))
                return

    tasks = [asyncio.ensure_future(work()) for work in (send, receive, recheck)]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return ending[0] if ending else None
