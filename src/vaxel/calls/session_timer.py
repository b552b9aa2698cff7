"""Session timers (P4, RFC 4028) on a call's legs: a call whose parties vanished ends.

On the caller's leg the caller proposes an interval and who refreshes
(Session-Expires); the switch, as the UAS, takes it unless it is below our
Min-SE (422). On a device's leg the switch says it supports timers, and the
device's 2xx may ask for them (then it names the refresher). When the switch
is the refresher it sends a re-INVITE every half interval; when the party
is, a call not refreshed within the interval, less a margin (§10: the
smaller of 32 s and a third of it), is hung up with 408.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from vaxel.calls.api import Timer
from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.headers import parse_session_expires
from vaxel.sip.message import Request, Response

MIN_SE = 90  # the shortest interval we accept (RFC 4028 §5)


class Refreshable(Protocol):
    """The leg a session timer watches."""

    @property
    def ended(self) -> bool: ...

    def refresh(self) -> None:
        """Send a session refresh (a re-INVITE keeping the current direction)."""

    def expire(self) -> None:
        """The session was not refreshed in time: end the call."""


def _supports(request: Request, option: str) -> bool:
    return any(
        option == item.strip().lower()
        for name in ("Supported", "Require")
        for item in request.headers.values(name)
    )


class SessionTimer:
    """The session interval agreed with a caller, and the timer that enforces it."""

    __slots__ = ("interval", "ours", "refreshed_at", "refresher")

    def __init__(self, interval: int, refresher: str, ours: bool) -> None:
        self.interval = interval
        self.refresher = refresher  # as Session-Expires says it: "uac" or "uas"
        self.ours = ours  # does the switch refresh (else the party must)?
        self.refreshed_at = 0.0

    @staticmethod
    def negotiate(invite: Request) -> SessionTimer | None:
        """The caller's proposal as the UAS takes it, or None when it asks for none.

        Raises a 422 with our Min-SE when the interval is too small (§6).
        """
        value = invite.headers.get("Session-Expires")
        if not value or not _supports(invite, "timer"):
            return None
        requested = parse_session_expires(value)
        if requested.delta < MIN_SE:
            raise RemoteProtocolError("Session Interval Too Small", 422, [("Min-SE", str(MIN_SE))])
        refresher = requested.refresher or "uac"
        return SessionTimer(requested.delta, refresher, ours=refresher == "uas")

    @staticmethod
    def answered(response: Response) -> SessionTimer | None:
        """What a device's 2xx to our INVITE asks for, as the UAC (RFC 4028 §7.2): the
        interval, and who refreshes (left open, the UAC: us)."""
        value = response.headers.get("Session-Expires")
        if not value:
            return None
        granted = parse_session_expires(value)
        refresher = granted.refresher or "uac"
        return SessionTimer(max(granted.delta, MIN_SE), refresher, ours=refresher == "uac")

    def stamp(self, response: Response) -> None:
        """Say the agreed interval in a 2xx (to the INVITE, or to a refresh)."""
        response.headers.add("Session-Expires", f"{self.interval};refresher={self.refresher}")
        response.headers.add("Require", "timer")

    def refreshed(self, now: float) -> None:
        self.refreshed_at = now

    def start(
        self,
        leg: Refreshable,
        *,
        after: Callable[[float, Callable[[], None]], Timer],
        now: Callable[[], float],
        timers: list[Timer],
    ) -> None:
        """Watch the session from now on; the timers it arms go to `timers` (the leg's)."""
        self.refreshed_at = now()
        # The refresher refreshes at half time; the other side waits the interval less a margin.
        delay = self.interval / 2 if self.ours else self.interval - min(32, self.interval / 3)

        def check() -> None:
            if leg.ended:
                return
            if self.ours:
                leg.refresh()
                timers.append(after(delay, check))
                return
            waited = now() - self.refreshed_at
            if waited >= delay:
                leg.expire()
            else:
                timers.append(after(delay - waited, check))

        timers.append(after(delay, check))
