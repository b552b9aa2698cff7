"""The operator console's calls (A16): what a receptionist sees and does, on the switch.

`calls` lists the company's calls an operator deals with: callers waiting in a queue's
line (kept places of a callback too, which cannot be answered: the caller hung up),
calls ringing a user's or a group's phones that nobody answered yet, calls parked in an
orbit (P4), and the operator's own calls (talking, or consulting a colleague first).

`answer` takes ANY of the waiting or ringing calls, not only the first in line: the
switch rings the operator's own phones (each shows the caller), and when one answers,
it takes the chosen call as a directed pickup would (features/pickup.py: the leg joins
the call, `Feature.pick_up`); a queued caller leaves the line and the visit is
"answered" by the operator (features/groups.py `Group.pick_up`). Should the caller hang
up, or someone else answer first, the operator's phones stop ringing ("completed
elsewhere"); the operator not answering within their ring time changes nothing for the
caller.

`consult`, `complete` and `back` are the announced transfer (features/consult.py): the
caller waits with music while the operator talks to the colleague, then the operator
hands the call over (their leg ends and the two talk) or goes back to the caller. A
blind transfer and park (a blind transfer to the park extension) are the API's transfer
(web/api/calls_transfer.py), and retrieving a parked call is a click-to-call to its
orbit: nothing of the console's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vaxel.calls.api import (
    ELSEWHERE,
    NO_ANSWER,
    NORMAL,
    Answered,
    Call,
    CallEvent,
    CallHandler,
    Cause,
    Device,
    Leg,
    LegState,
    Party,
    Timer,
)
from vaxel.features.consult import Consult, consult
from vaxel.features.context import Company, Feature
from vaxel.features.pickup import _talking
from vaxel.features.queue_callback import CallbackEntry

Outcome = tuple[str, object]  # ("ok", what is shown) or ("refused", (HTTP status, why))
WATCH_EVERY = 0.5  # seconds between looks at the chosen call while the operator's phone rings
_RINGING = (LegState.CALLING, LegState.RINGING, LegState.EARLY)


@dataclass(frozen=True, slots=True)
class ConsoleCall:
    """One call on the console.

    state: "queued" (waiting in a queue's line), "callback" (a place kept for a callback:
    the caller hung up), "ringing" (a user's or group's phones ring), "parked", "talking"
    (the operator's own call), "consulting" (the operator talks to, or rings, a colleague
    while the caller waits)."""

    call_id: str
    state: str
    caller: str
    caller_name: str
    waited: float  # seconds: in the line, ringing, parked or in the call
    where: str  # the queue, the extensions rung, the orbit, or whom the operator talks to
    answerable: bool = False


class Placer(Protocol):
    """What places a call (the B2BUA)."""

    def originate(self, company_id: int, handler: CallHandler) -> Call: ...


def calls(company: Company, operator: str, now: float) -> list[ConsoleCall]:
    """The company's calls for the console, longest waiting first within each kind."""
    queued: list[ConsoleCall] = []
    seen: set[str] = set()
    for name in sorted(company.config.groups):
        if company.config.groups[name].queue is None:
            continue
        for entry in company.queue(name):
            shown = _queued(entry, name, now)
            if shown is not None:
                queued.append(shown)
                seen.add(shown.call_id)
    parked: list[ConsoleCall] = []
    park = company.config.park
    for orbit in park.orbit_numbers() if park is not None else []:
        for entry in company.queue(f"park {orbit}"):
            call = getattr(entry, "call", None)
            if isinstance(call, Call) and getattr(entry, "waiting", False):
                seen.add(call.id)
                caller = call.caller
                waited = now - (call.answered_at or call.started_at)
                parked.append(ConsoleCall(call.id, "parked", caller.party, caller.party_name,
                                          max(0.0, waited), orbit))  # fmt: skip
    ringing: list[ConsoleCall] = []
    mine: list[ConsoleCall] = []
    for call in company.calls():
        if call.id in seen or not call.legs or call.caller.ended:
            continue
        if isinstance(call.handler, ConsoleTake):
            continue  # the operator's own phones ringing for a call they chose
        own = _own(call, operator, now)
        if own is not None:
            mine.append(own)
            continue
        rung = _rung(call)
        if rung and not _talking(call):
            caller = call.caller
            ringing.append(ConsoleCall(call.id, "ringing", caller.party, caller.party_name,
                                       max(0.0, now - call.started_at), ", ".join(rung),
                                       answerable=isinstance(call.handler, Feature)))  # fmt: skip
    found = []
    for kind in (queued, ringing, parked):
        found += sorted(kind, key=lambda shown: -shown.waited)
    return found + mine


def _queued(entry: object, group: str, now: float) -> ConsoleCall | None:
    if isinstance(entry, CallbackEntry):
        if not entry.present():
            return None
        return ConsoleCall(entry.key, "callback", entry.caller, "",
                           max(0.0, now - entry.entered), group)  # fmt: skip
    call = getattr(entry, "call", None)
    entered = getattr(entry, "entered", None)
    if not isinstance(call, Call) or entered is None or not call.legs or call.caller.ended:
        return None
    if call.bridged is not None and _talking(call):
        return None
    caller = call.caller
    booking = bool(getattr(entry, "booking", False))
    return ConsoleCall(call.id, "queued", caller.party, caller.party_name,
                       max(0.0, now - entered), group, answerable=not booking)  # fmt: skip


def _rung(call: Call) -> list[str]:
    """The extensions whose phones the call rings now."""
    found: list[str] = []
    for leg in call.legs[1:]:
        target = leg.target
        ringing = leg.direction == "outbound" and leg.state in _RINGING
        if ringing and isinstance(target, Device) and target.extension not in found:
            found.append(target.extension)
    return found


def _own(call: Call, operator: str, now: float) -> ConsoleCall | None:
    """The operator's call, talking or consulting; None when they are not on it."""
    handler = call.handler
    if isinstance(handler, Consult) and handler.user.party == operator:
        if handler.state not in ("ringing", "talking") or handler.user.ended:
            return None  # handed over (or back to the caller: bridged again, below)
        other = handler.other
        return ConsoleCall(call.id, "consulting", other.party, other.party_name,
                           _since(call, now), _consulted(handler))  # fmt: skip
    bridged = call.bridged
    if bridged is None or not all(leg.answered for leg in bridged):
        return None
    mine = [leg for leg in bridged if leg.party == operator]
    if len(mine) != 1:
        return None
    other = bridged[1] if bridged[0] is mine[0] else bridged[0]
    return ConsoleCall(call.id, "talking", other.party, other.party_name, _since(call, now),
                       other.party)  # fmt: skip


def _since(call: Call, now: float) -> float:
    return max(0.0, now - (call.answered_at or call.started_at))


def _consulted(handler: Consult) -> str:
    target = handler.target
    if target is not None:
        return target.party
    parties = {leg.party for leg in handler.ringing}
    return ", ".join(sorted(parties))


# -- answer any call ---------------------------------------------------------------------


def find(company: Company, call_id: str) -> Call | None:
    """The company's live call by its id (another company's is not found)."""
    return next((call for call in company.calls() if call.id == call_id), None)


def answerable(company: Company, call: Call) -> bool:
    """Can the operator take the call now: its caller waits, and nobody answered it?"""
    if not call.legs or call.caller.ended or not isinstance(call.handler, Feature):
        return False
    if isinstance(call.handler, ConsoleTake) or call.transferring is not None:
        return False
    return not _talking(call)


def answer(placer: Placer, company: Company, operator: str, call_id: str) -> Outcome:
    """Ring the operator's phones for the chosen call; the first to answer takes it."""
    call = find(company, call_id)
    if call is None:
        return "refused", (404, "no such call")
    if not answerable(company, call):
        return "refused", (409, "the call is answered or gone")
    reach = company.reach(operator)
    if not reach.devices:
        return "refused", (409, "none of your phones is registered: register one first")
    caller = call.caller
    take = ConsoleTake(call, reach.devices, reach.ring_seconds,
                       Party(caller.party, caller.party_name))  # fmt: skip
    placed = placer.originate(company.id, take)
    placed.dialled = caller.party
    take.place(placed)
    return "ok", {"call_id": call.id, "ringing": placed.id}


class ConsoleTake(Feature):
    """The operator's phones ring, showing the chosen call's caller; the first to answer
    takes that call (its handler's `pick_up`), and this call, left without legs, is over."""

    answerer = "console"

    def __init__(
        self, chosen: Call, devices: tuple[Device, ...], ring_seconds: float, shown: Party
    ) -> None:
        self.chosen = chosen
        self.devices = devices
        self.ring_seconds = ring_seconds
        self.shown = shown
        self.forks: list[Leg] = []
        self.deadline = 0.0
        self.timer: Timer | None = None
        self.winner: Leg | None = None

    def place(self, call: Call) -> None:
        self.forks = [call.place(device, self.shown) for device in self.devices]
        self.deadline = call.switchboard.now() + self.ring_seconds
        self.timer = call.after(WATCH_EVERY, lambda: self._watch(call))

    def start(self, call: Call) -> None:
        pass  # placed by `place`, not offered by anyone

    def _watch(self, call: Call) -> None:
        """While the operator's phones ring: the chosen call gone or answered elsewhere
        stops them; so does their ring time passing."""
        self.timer = None
        if self.winner is not None:
            return
        chosen = self.chosen
        if not chosen.legs or chosen.caller.ended or _talking(chosen):
            self._stop(ELSEWHERE)
        elif call.switchboard.now() >= self.deadline:
            self._stop(NO_ANSWER)
        else:
            self.timer = call.after(WATCH_EVERY, lambda: self._watch(call))

    def _stop(self, cause: Cause) -> None:
        for fork in self.forks:
            fork.hangup(cause)

    def handle(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, Answered) and event.leg in self.forks and self.winner is None:
            self._answered(event.leg)

    def _answered(self, leg: Leg) -> None:
        self.winner = leg
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for fork in self.forks:
            if fork is not leg:
                fork.hangup(ELSEWHERE)
        chosen = self.chosen
        handler = chosen.handler
        taken = (
            isinstance(handler, Feature) and answerable_now(chosen) and handler.pick_up(chosen, leg)
        )
        if not taken:
            leg.hangup(NORMAL)  # the caller left, or someone answered first


def answerable_now(call: Call) -> bool:
    return bool(call.legs) and not call.caller.ended and not _talking(call)


# -- the announced transfer ---------------------------------------------------------------


def _operator_leg(call: Call, operator: str) -> Leg | None:
    bridged = call.bridged
    if bridged is None or not all(leg.answered for leg in bridged):
        return None
    return next((leg for leg in bridged if leg.party == operator), None)


def ask_first(company: Company, operator: str, call_id: str, to: str) -> Outcome:
    """The operator consults `to` while the caller waits with music."""
    call = find(company, call_id)
    leg = _operator_leg(call, operator) if call is not None else None
    if call is None or leg is None:
        return "refused", (404, "no such call of yours")
    return consult(company, call, leg, operator, to)


def _consultation(company: Company, operator: str, call_id: str) -> tuple[Call, Consult] | None:
    call = find(company, call_id)
    handler = call.handler if call is not None else None
    if call is None or not isinstance(handler, Consult) or handler.user.party != operator:
        return None
    return call, handler


def complete(company: Company, operator: str, call_id: str) -> Outcome:
    """The operator hands the caller over to the colleague consulted (their leg ends);
    while the colleague still rings, the caller hears the ringing and is theirs on answer."""
    found = _consultation(company, operator, call_id)
    if found is None:
        return "refused", (404, "no consultation of yours")
    call, handler = found
    if handler.state not in ("ringing", "talking"):
        return "refused", (409, "the consultation is over")
    handler.user.hangup(NORMAL)
    return "ok", {"call_id": call.id}


def back(company: Company, operator: str, call_id: str) -> Outcome:
    """The consultation ends: the operator talks to the caller again."""
    found = _consultation(company, operator, call_id)
    if found is None:
        return "refused", (404, "no consultation of yours")
    call, handler = found
    handler.back(call)
    return "ok", {"call_id": call.id}
