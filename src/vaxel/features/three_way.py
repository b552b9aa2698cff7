"""Ad-hoc three-way calls (U12): a party of a connected call adds a third, and the call
becomes a room of three.

`add_party` (the API's `POST /api/v1/calls/{id}/add`) rings the third party from the
call: a colleague's phones, or a number out through the company's trunk behind the
toll-fraud guard (O2), showing the call's caller. The two go on talking meanwhile.
When the third answers, the three legs leave their bridge for a conference room of
the switch (`calls.api.Room`, the mixer of A3): each hears the other two, with a tone
as someone joins or leaves. Should nobody answer, the call is as it was. Anyone may
hang up: two go on talking in the room; when one is left, the call ends.
"""

from __future__ import annotations

from vaxel.calls.api import (
    ELSEWHERE,
    NOT_FOUND,
    Answered,
    Call,
    CallEvent,
    CallHandler,
    Ended,
    Leg,
    Room,
    Target,
)
from vaxel.features.context import Company
from vaxel.services.numbering import NumberError, check, is_external, to_e164

Outcome = tuple[str, object]  # ("ok", what is shown) or ("refused", (HTTP status, why))


class ThirdParty:
    """What serves a call while a third party's phones ring from it (a party added here,
    a colleague consulted: features/consult.py): the handler it had before, which the
    call keeps as its answerer, and the legs ringing the third."""

    def __init__(self, previous: CallHandler | None) -> None:
        self.previous = previous
        self.ringing: list[Leg] = []

    @property
    def answerer(self) -> str:
        return self.previous.answerer if self.previous is not None else ""

    def on_event(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, Answered) and event.leg in self.ringing:
            self.answered(call, event.leg)
        elif isinstance(event, Ended):
            self.ended(call, event.leg)

    def answered(self, call: Call, third: Leg) -> None:
        """The third answered on `third`: their other phones stop ringing."""
        for leg in self.ringing:
            if leg is not third and not leg.ended:
                leg.hangup(ELSEWHERE)
        self.ringing = []

    def ended(self, call: Call, leg: Leg) -> None: ...


class ThreeWay(ThirdParty):
    """The handler of a call while a third party is added, then of its room."""

    def __init__(self, previous: CallHandler | None, pair: tuple[Leg, Leg]) -> None:
        super().__init__(previous)
        self.pair = pair
        self.room: Room | None = None
        self.inside: list[Leg] = []

    def answered(self, call: Call, third: Leg) -> None:
        self.meet(call, third)

    def meet(self, call: Call, third: Leg) -> None:
        """The third answered: the others ringing stop, and the three meet in a room."""
        super().answered(call, third)
        room = call.switchboard.open_room()
        call.unbridge()
        legs = [*self.pair, third]
        for leg in legs:
            leg.stop_playing()  # (a party who waited with music, in a consultation)
        self.inside = [leg for leg in legs if room.join(leg)]
        self.room = room
        if len(self.inside) < len(legs):  # a party whose codec no room takes
            call.hangup()

    def ended(self, call: Call, leg: Leg) -> None:
        if self.room is None and leg not in self.pair:  # a leg to the third party
            call.going_on()
            if self.ringing and all(ringing.ended for ringing in self.ringing):
                self.ringing = []
                call.handler = self.previous  # nobody answered: the call goes on as it was
            return
        room = self.room
        if room is None:  # one of the two hung up while the third rang: the call ends
            call.hangup()
            return
        if leg in self.inside:
            self.inside.remove(leg)
            room.leave(leg)
        if len(self.inside) < 2:
            room.close()
            self.inside = []
            call.hangup()


def party_of(call: Call, extension: str) -> Leg | None:
    """The requester's leg of a connected call of two, if they are on it."""
    bridged = call.bridged
    if bridged is None or not all(leg.answered for leg in bridged):
        return None
    return next((leg for leg in bridged if leg.party == extension), None)


def targets_for(company: Company, extension: str, to: str) -> list[Target] | Outcome:
    """Whom `to` rings: a colleague's phones, or a line out; or why not."""
    try:
        external = is_external(to)
    except NumberError as exc:
        return "refused", (422, str(exc))
    if not external:
        reach = company.reach(to)  # (a user of the description, or one added by hand)
        if reach.refusal is NOT_FOUND or to == extension:
            return "refused", (404, f"no colleague {to!r}")
        if reach.refusal is not None or not reach.devices:
            return "refused", (409, f"{to} cannot be reached now")
        return list(reach.devices)
    try:
        number = to_e164(to)
    except NumberError as exc:
        return "refused", (422, str(exc))
    decision = check(company.config.outbound, number, company.outbound_calls())
    if not decision.allowed:
        return "refused", (403, decision.cause)
    from vaxel.services.company_config import shown_caller_id

    line = company.trunk_line(number, shown_caller_id(company.config, extension, ""))
    if line is None:
        return "refused", (503, "the company has no trunk to call out on")
    return [line]


def add_party(company: Company | None, call: Call | None, extension: str, to: str) -> Outcome:
    """U12: the user `extension`, a party of `call`, rings `to` to make it a call of three.
    Another company's call, or one the user is not on, is 404 as an unknown one."""
    missing: Outcome = "refused", (404, "no such call of yours")
    if company is None or call is None or call.company_id != company.id:
        return missing
    mine = party_of(call, extension)
    if mine is None or call.transferring is not None:
        return missing
    if isinstance(call.handler, ThreeWay):
        return "refused", (409, "a third party is being added already")
    targets = targets_for(company, extension, to.strip())
    if not isinstance(targets, list):
        return targets
    bridged = call.bridged
    assert bridged is not None
    handler = ThreeWay(call.handler, bridged)
    call.handler = handler
    legs = call.fork(targets)  # (a leg may fail at once: one nobody can reach)
    if all(leg.ended for leg in legs):
        call.handler = handler.previous
        return "refused", (409, f"{to.strip()} cannot be reached now")
    handler.ringing = legs
    return "ok", {"call_id": call.id, "to": to.strip()}
