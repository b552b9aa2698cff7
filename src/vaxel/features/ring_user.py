"""Calling a colleague (P3): every device of the user rings; the first to answer gets the call.

The others are cancelled with "Call completed elsewhere" (RFC 3326), so
phones do not log a missed call. When every device refuses, the caller
hears why: busy if all were busy, otherwise unavailable; nobody answering
within the user's ring time is "no answer" (480).
"""

from __future__ import annotations

from vaxel.calls.api import (
    BUSY,
    ELSEWHERE,
    NO_ANSWER,
    NORMAL,
    UNAVAILABLE,
    Answered,
    Call,
    CallEvent,
    Cause,
    Ended,
    Leg,
    Offered,
    Ringing,
    Timer,
)
from vaxel.calls.router import Route


class Refuse:
    """A call that routing already refused (unknown extension, nobody registered)."""

    def __init__(self, cause: Cause) -> None:
        self.cause = cause

    def on_event(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, Offered):
            event.leg.reject(self.cause)


class RingUser:
    def __init__(self, route: Route) -> None:
        self.route = route
        self.forks: list[Leg] = []
        self.winner: Leg | None = None
        self.timer: Timer | None = None
        self.refusals: list[Cause] = []
        self.forking = False  # a device may fail at once, before every fork exists

    def on_event(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, Offered):
            self.forking = True
            self.forks = call.fork(list(self.route.targets))
            self.forking = False
            self.timer = call.after(self.route.ring_seconds, lambda: self._no_answer(call))
            self._all_refused(call)
        elif isinstance(event, Ringing) and self.winner is None:
            call.caller.ring(early_media=event.early_media)
            if event.early_media:
                call.bridge(call.caller, event.leg)  # the caller hears the callee's early media
        elif isinstance(event, Answered) and self.winner is None:
            self._answered(call, event.leg)
        elif isinstance(event, Ended):
            self._ended(call, event)

    def _answered(self, call: Call, leg: Leg) -> None:
        self.winner = leg
        self._stop_timer()
        for fork in self.forks:
            if fork is not leg:
                fork.hangup(ELSEWHERE)
        call.caller.answer()
        call.bridge(call.caller, leg)

    def _ended(self, call: Call, event: Ended) -> None:
        leg = event.leg
        if leg is call.caller:
            self._stop_timer()
            call.hangup(NORMAL)  # answered: BYE; still ringing: CANCEL
            return
        if leg is self.winner:
            call.caller.hangup(NORMAL)
            return
        if self.winner is None and event.by == "party":
            self.refusals.append(event.cause)
        self._all_refused(call)

    def _all_refused(self, call: Call) -> None:
        if call.caller.ended or self.winner is not None or self.forking:
            return
        if all(fork.ended for fork in self.forks):
            self._stop_timer()
            call.caller.reject(self._verdict())

    def _verdict(self) -> Cause:
        """What the caller is told when every device refused."""
        codes = {cause.code for cause in self.refusals}
        if len(codes) == 1 and self.refusals[0].code in (486, 600, 603):
            return self.refusals[0]
        if codes and codes <= {486, 600, 603}:
            return BUSY
        return UNAVAILABLE

    def _no_answer(self, call: Call) -> None:
        if self.winner is None:
            call.caller.reject(NO_ANSWER)  # its Ended cancels the forks

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def handler_for(route: Route) -> RingUser | Refuse:
    """The feature that serves a routed call."""
    if route.refusal is not None:
        return Refuse(route.refusal)
    return RingUser(route)
