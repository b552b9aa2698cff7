"""Attended transfer by in-call code (P4): the user asks a colleague first, then hands the
call over, from a phone without a transfer key (`*2EXT#`, features/in_call.py).

The other party waits with music while the target rings the user, who hears ringback.
When the target answers, the user and the target talk (the consultation); then:

- the user hangs up: the other party and the target talk; the transfer is done;
- the user presses `*2#`, or the target hangs up: back to the other party;
- the user presses `*3#`: all three in one call (a room of three, features/three_way.py);
- the other party hangs up: the user and the target go on talking.

A target who does not answer within `RING_SECONDS`, is busy or cannot be reached brings
the user back to the other party. A user who hangs up while the target still rings
hands the call over then and there: the other party hears the ringing, and talks with
the target when they answer (or the call ends when nobody does).

The target is reached as for a third party (colleague's phones, or a number out past
the toll-fraud guard), and sees the user calling. All of this is one call of the
switch: its record names the target as the one who answered, once the call ends
between the other party and them.
"""

from __future__ import annotations

from typing import Literal

from vaxel.calls.api import (
    CANCELED,
    NORMAL,
    Call,
    CallHandler,
    Leg,
    Timer,
)
from vaxel.features.context import Company
from vaxel.features.three_way import Outcome, ThirdParty, ThreeWay, party_of, targets_for

RING_SECONDS = 30.0  # the target's phones ring this long before the user is back

# ringing: the target's phones ring; talking: the user and the target talk; handing over:
# the user hung up while they rang; done: two talk (or three in a room), the consultation
# is over; over: the consultation ends now, and what follows is the previous handler's.
State = Literal["ringing", "talking", "handing over", "done", "over"]


class Consult(ThirdParty):
    """The handler of a call while its user consults a third party."""

    def __init__(self, company: Company, previous: CallHandler | None, user: Leg, other: Leg):
        super().__init__(previous)
        self.company = company
        self.user = user  # who consults
        self.other = other  # who waits (and is handed over)
        self.target: Leg | None = None
        self.timer: Timer | None = None
        self.state: State = "ringing"

    # -- what the user asks ------------------------------------------------------------

    def back(self, call: Call) -> None:
        """The consultation ends: the target's leg too, and the user and the other party
        talk again (when both are still there)."""
        if self.state in ("done", "over"):
            return
        self.state = "over"
        self._stop_timer()
        for leg in [*self.ringing, *([self.target] if self.target is not None else [])]:
            if not leg.ended:
                leg.hangup(NORMAL if leg.answered else CANCELED)
        call.going_on()  # (the target's end is not the call's)
        call.handler = self.previous
        if self.user.ended or self.other.ended:
            call.hangup()
            return
        call.bridge(self.user, self.other)

    def all_three(self, call: Call) -> None:
        """The user, the other party and the target meet in a room of three."""
        target = self.target
        if self.state != "talking" or target is None:
            return
        self.state = "done"
        handler = ThreeWay(self.previous, (self.user, self.other))
        call.handler = handler
        handler.meet(call, target)

    # -- what happens --------------------------------------------------------------

    def answered(self, call: Call, target: Leg) -> None:
        self._stop_timer()
        super().answered(call, target)
        self.target = target
        if self.state == "handing over":
            self._hand_over(call)
        elif self.other.ended:
            self.state = "done"
            call.bridge(self.user, target)
        else:
            self.state = "talking"
            call.bridge(self.user, target)  # (the other party hears the music on)

    def ended(self, call: Call, leg: Leg) -> None:
        state = self.state
        if state == "over":
            return
        if state == "done":
            if leg in (self.user, self.other, self.target):
                call.hangup(NORMAL)
            return
        if leg in self.ringing:
            if all(ringing.ended for ringing in self.ringing):
                self.ringing = []
                if state == "handing over" or self.other.ended:
                    call.hangup()  # nobody to hand over to, or nobody left to hand over
                else:
                    self.back(call)
            else:
                call.going_on()
            return
        if leg is self.target:
            self.back(call)
        elif leg is self.user:
            call.going_on()
            if self.other.ended:
                call.hangup()
            elif state == "talking":
                self._hand_over(call)
            else:
                self.state = "handing over"
                self.other.play([self.company.system("ringback")], loop=True,
                                interruptible=False)  # fmt: skip
        elif leg is self.other:
            call.going_on()
            if state == "talking":
                self.state = "done"  # the user and the target go on
            elif state == "handing over":
                call.hangup()

    def _hand_over(self, call: Call) -> None:
        """The user hung up: the other party and the target talk."""
        target = self.target
        assert target is not None
        self.state = "done"
        if self.user is call.caller:
            call.take_as_caller(self.other)
        call.bridge(self.other, target)

    def no_answer(self, call: Call) -> None:
        self.timer = None
        if self.state in ("ringing", "handing over") and self.ringing:
            for leg in self.ringing:
                if not leg.ended:
                    leg.hangup(CANCELED)  # (the last one's end brings the user back)

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def consult(company: Company, call: Call, leg: Leg, extension: str, to: str) -> Outcome:
    """The user `extension` on `leg` of `call` consults `to` before handing the call over."""
    mine = party_of(call, extension)
    if mine is not leg or call.transferring is not None:
        return "refused", (409, "not a connected call of yours")
    if isinstance(call.handler, (ThreeWay, Consult)):
        return "refused", (409, "a third party is on the line already")
    targets = targets_for(company, extension, to.strip())
    if not isinstance(targets, list):
        return targets
    bridged = call.bridged
    assert bridged is not None
    other = bridged[1] if bridged[0] is leg else bridged[0]
    handler = Consult(company, call.handler, leg, other)
    call.handler = handler
    call.unbridge()
    other.play([company.system("music")], loop=True, interruptible=False)
    legs = [call.switchboard.dial(call, target, leg) for target in targets]  # the user calls
    if all(ringing.ended for ringing in legs):
        handler.back(call)
        return "refused", (409, f"{to.strip()} cannot be reached now")
    handler.ringing = legs
    leg.play([company.system("ringback")], loop=True, interruptible=False)
    handler.timer = call.after(RING_SECONDS, lambda: handler.no_answer(call))
    return "ok", {"call_id": call.id, "to": to.strip()}
