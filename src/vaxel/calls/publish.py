"""A call's progress as live events on the bus (P8): offered, ringing, answered, held, a
party left, ended.

The B2BUA hands every call this reporter; the call tells it when a party rings
and when someone answers, the B2BUA when a call is offered and when it ends.
Each method first asks the bus whether anyone watches the call's company, so
on the switch's hot path a call nobody watches costs one dictionary lookup per
step and builds nothing. Nothing here knows who listens (the WebSocket stream
of `web/`, later webhooks and statistics).
"""

from __future__ import annotations

from collections.abc import Callable

from vaxel.bus import Bus, CallAnswered, CallEnded, CallHeld, CallLeft, CallOffered, CallRinging
from vaxel.calls.api import NORMAL, Call, Leg, LegState


class CallPublisher:
    """`api.CallReporter` onto a `Bus`, stamped with the switch's clock."""

    def __init__(self, bus: Bus, clock: Callable[[], float]) -> None:
        self.bus = bus
        self.clock = clock

    def offered(self, call: Call) -> None:
        if not self.bus.wants(call.company_id):
            return
        caller = call.caller
        self.bus.publish(
            CallOffered(
                call.company_id, call.id, caller.party, caller.party_name, call.dialled,
                call.started_at,
            )
        )  # fmt: skip

    def ringing(self, call: Call, leg: Leg) -> None:
        """An outbound leg rings: said once per party (a user's three phones ring as one)."""
        if leg.direction != "outbound" or not self.bus.wants(call.company_id):
            return
        for other in call.legs:
            if (
                other is not leg
                and other.party == leg.party
                and other.state in (LegState.RINGING, LegState.EARLY)
            ):
                return
        self.bus.publish(
            CallRinging(call.company_id, call.id, leg.party, leg.party_name, self.clock())
        )

    def answered(self, call: Call) -> None:
        if not self.bus.wants(call.company_id):
            return
        self.bus.publish(CallAnswered(call.company_id, call.id, call.answered_by, self.clock()))

    def held(self, call: Call, leg: Leg, hold: bool) -> None:
        """The party on `leg` put the call on hold, or took it back."""
        if not self.bus.wants(call.company_id):
            return
        self.bus.publish(CallHeld(call.company_id, call.id, leg.party, hold, self.clock()))

    def left(self, call: Call, leg: Leg, by: str) -> None:
        """The party on `leg` left a call that goes on: said once, when their last leg in
        it ends (a user's other phone answered, theirs stopped ringing: not yet)."""
        if not self.bus.wants(call.company_id):
            return
        for other in call.legs:
            if other is not leg and other.party == leg.party and not other.ended:
                return
        self.bus.publish(CallLeft(call.company_id, call.id, leg.party, by, self.clock()))

    def ended(self, call: Call) -> None:
        """The call's last leg ended (before its legs are let go)."""
        if not self.bus.wants(call.company_id) or not call.legs:
            return
        cause = call.cause or NORMAL
        ended = call.ended_at if call.ended_at is not None else self.clock()
        self.bus.publish(
            CallEnded(
                company_id=call.company_id,
                call_id=call.id,
                caller=call.caller.party,
                callee=call.dialled,
                answered_by=call.answered_by,
                disposition=call.disposition,
                hangup_side=call.hangup_side,
                cause_code=cause.code,
                cause_text=cause.text,
                started_at=call.started_at,
                answered_at=call.answered_at,
                at=ended,
            )
        )
