"""What the web side is given by `vaxel serve` (or a test): the store, the data folder,
the clock, the login limiter and the switch's event bus (the live events of P8). The
web reaches data only through `services/`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from vaxel.bus import Bus
from vaxel.store import Store
from vaxel.web.limits import LoginLimiter

if TYPE_CHECKING:
    from vaxel.features.agents import Agent
    from vaxel.features.queue_live import QueueNow
    from vaxel.web.sip_ws import SipRelay


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
    # Called after every change the web makes (from a worker thread): the switch looks
    # again before it returns, so the next call sees the change.
    changed: Callable[[], None] = lambda: None
    # Puts a live event on the switch's bus (on its loop; safe from a worker thread):
    # a message marked heard lights the phones' lamps off.
    publish: Callable[[object], None] = lambda event: None
    # The running switch's figures for /api/v1/metrics (name -> value); none without one.
    stats: Callable[[], dict[str, float]] = dict
    # Places a click-to-call call on the switch (company id, domain, extension, number ->
    # the call's id and what is dialled), awaited on the web's loop. None: no switch.
    place_call: Callable[[int, str, str, str], Awaitable[tuple[str, str]]] | None = None
    # A3: asks the switch about a conference room in use (company id, room, action,
    # participant id, on/off -> features.conference.room_action's outcome). None: no switch.
    conference: Callable[[int, str, str, str, bool], Awaitable[tuple[str, object]]] | None = None
    # U12: asks the switch to add a third party to a call (company id, the user's
    # extension, call id, whom -> features.three_way.add_party's outcome). None: no switch.
    add_party: Callable[[int, str, str, str], Awaitable[tuple[str, object]]] | None = None
    # A5: ends a user's wrap-up on the switch (company id, extension). None: no switch.
    end_wrap_up: Callable[[int, str], Awaitable[None]] | None = None
    # A11: asks the switch for the company's queue groups now (company id -> the waiting
    # callers and agents' states of features.queue_live). None: no switch.
    queue_live: Callable[[int], Awaitable[list[QueueNow]]] | None = None
    # A5: the company's agents and their states (features.agents.company_agents), asked
    # of the switch (company id). None: no switch.
    agents: Callable[[int], Awaitable[list[Agent]]] | None = None
    # Transfers a live call on the switch (web/link.py `TransferCall`), awaited on the
    # web's loop; a refusal raises `TransferError`. None: no switch.
    transfer: (
        Callable[[int, str, str | None, str | None, bool, str], Awaitable[tuple[str, str, str]]]
        | None
    ) = None
    # A6: a running call's recording started, paused or stopped on the switch (company id,
    # the user's extension or None for an admin, call id, action -> HTTP status, and the
    # recording's state or why not). None: no switch.
    call_recording: Callable[[int, str | None, str, str], Awaitable[tuple[int, str]]] | None = None
    # A16: the operator console on the switch (company id, the operator's extension,
    # action, call id, target -> features/console.py's outcome). None: no switch.
    console: Callable[[int, str, str, str, str], Awaitable[tuple[str, object]]] | None = None
    # P2, U1: relays SIP over WebSocket (`/ws`, web/sip_ws.py) to the switch. None: no
    # switch, and `/ws` refuses every connection.
    sip_relay: SipRelay | None = None

    def uploads(self, domain: str) -> Path:
        """Where a company's uploaded files wait for its description to name them."""
        return self.data / "uploads" / domain


async def context(request: Request) -> WebContext:
    """The FastAPI dependency that hands an endpoint its context (async: FastAPI runs a
    plain `def` dependency on a worker thread, a hop for nothing)."""
    ctx = request.app.state.vaxel
    assert isinstance(ctx, WebContext)
    return ctx


P = ParamSpec("P")
T = TypeVar("T")


async def blocking(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `work` (database, files, text to speech) on a worker thread, off the loop that
    carries SIP and RTP. Plain `def` endpoints get this from FastAPI already."""
    return await run_in_threadpool(work, *args, **kwargs)
