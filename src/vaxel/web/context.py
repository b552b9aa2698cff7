"""What the web side is given by `vaxel serve` (or a test): the store, the data folder,
the clock, the login limiter and the switch's event bus (the live events of P8). The
web reaches data only through `services/`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from vaxel.bus import Bus
from vaxel.store import Store
from vaxel.web.limits import LoginLimiter


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebContext:
    store: Store
    data: Path
    now: Callable[[], datetime] = _now
    # Cookies marked Secure: set when the web is served over TLS (or behind a TLS proxy).
    secure_cookies: bool = False
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    # The switch's bus: the WebSocket at /api/v1/events streams it (None: no live events).
    bus: Bus | None = None
    loop: asyncio.AbstractEventLoop | None = None  # the bus's loop, set when the web starts

    def publish(self, event: object) -> None:
        """Put a live event on the bus from an endpoint, on any thread (plain `def`
        endpoints run on worker threads): subscribers run on the switch's loop."""
        bus, loop = self.bus, self.loop
        if bus is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            bus.publish(event)
        else:
            loop.call_soon_threadsafe(bus.publish, event)

    def uploads(self, domain: str) -> Path:
        """Where a company's uploaded files wait for its description to name them."""
        return self.data / "uploads" / domain


def context(request: Request) -> WebContext:
    """The FastAPI dependency that hands an endpoint its context."""
    ctx = request.app.state.vaxel
    assert isinstance(ctx, WebContext)
    return ctx


P = ParamSpec("P")
T = TypeVar("T")


async def blocking(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `work` (database, files, text to speech) on a worker thread, off the loop that
    carries SIP and RTP. Plain `def` endpoints get this from FastAPI already."""
    return await run_in_threadpool(work, *args, **kwargs)
