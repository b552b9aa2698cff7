"""Login attempts, limited per account and per source address, with lockout (P8).

Over HTTP the source address cannot be forged (TCP), so a source that keeps failing is
stopped outright. An account that keeps failing is locked for a while, except from
addresses that logged in to it before: guessing from many addresses stops, and the
account's own person, from their usual place, is never locked out by someone else.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

WINDOW = 900.0  # seconds over which failures count
ACCOUNT_FAILURES = 5  # then the account is locked (for LOCKOUT) to unknown sources
SOURCE_FAILURES = 20  # then the source is refused (for LOCKOUT)
LOCKOUT = 900.0
MAX_TRACKED = 100_000  # keys remembered at most (oldest forgotten first)


class LoginLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.failures: dict[str, deque[float]] = {}
        self.locked_until: dict[str, float] = {}
        self.trusted: dict[tuple[str, str], None] = {}  # (login, source) that succeeded

    def retry_after(self, login: str, source: str) -> float:
        """Seconds until this attempt may be made; 0 when it may be made now."""
        now = self.clock()
        waits = [self._locked(f"source:{source}", now)]
        if (login, source) not in self.trusted:
            waits.append(self._locked(f"login:{login}", now))
        return max(waits)

    def failed(self, login: str, source: str) -> None:
        now = self.clock()
        self._count(f"login:{login}", ACCOUNT_FAILURES, now)
        self._count(f"source:{source}", SOURCE_FAILURES, now)

    def succeeded(self, login: str, source: str) -> None:
        self.trusted[(login, source)] = None
        if len(self.trusted) > MAX_TRACKED:
            del self.trusted[next(iter(self.trusted))]
        self.failures.pop(f"login:{login}", None)

    def _locked(self, key: str, now: float) -> float:
        until = self.locked_until.get(key, 0.0)
        if until <= now:
            self.locked_until.pop(key, None)
            return 0.0
        return until - now

    def _count(self, key: str, limit: int, now: float) -> None:
        times = self.failures.setdefault(key, deque())
        times.append(now)
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if len(times) >= limit:
            self.locked_until[key] = now + LOCKOUT
            times.clear()
        if len(self.failures) > MAX_TRACKED:
            del self.failures[next(iter(self.failures))]


# -- request bodies ---------------------------------------------------------------------------

MAX_BODY = 25 * 1024 * 1024  # bytes of any request (the largest is a prompt upload)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes gets 413 before it is parsed or
    spooled to disk, whether it says its length or comes chunked."""

    def __init__(self, app: App, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({
            "type": "about:blank", "title": "Content Too Large", "status": 413,
            "detail": f"a request body is at most {self.limit // 1024 // 1024} MB",
        }).encode()  # fmt: skip
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
