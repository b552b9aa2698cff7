"""Line state per user (U10 busy lamps, U5 presence, P8 live events): idle, ringing, calling
out, in a call, holding one; the same whichever of the user's phones is in it.

Fed by the calls' live events on the bus (`CallOffered`, `CallRinging`, `CallAnswered`,
`CallHeld`, `CallLeft`, `CallEnded`; calls/publish.py), each handled with a few dictionary
operations: the calls are the hot path. Those events are built only for companies someone
watches (`Bus.wants`), so `watch()` is how a subscription to a colleague's line
(calls/presence.py) makes the switch report a company's calls; a call already up when a
company is first watched is read from the running calls (`snapshot`), and `sweep()`
forgets calls that ended while nobody watched.

Each change of a user's line goes to the `changed` listeners (the dialog and presence
subscriptions) and, for watched companies, onto the bus as `LineState` (the WebSocket's
`line.state`). A user who put their calls on hold (every one they talk in) is `held`;
the party they hold still talks, as far as their lamp goes.

A call's states follow RFC 4235 §3.7.1 from the user's side: the caller's dialog is
`trying`, then `early` once a phone rings, `confirmed` when answered; a phone rung is
`early`, then `confirmed` if it answered; every dialog ends `terminated`, when the call
ends or when the user leaves a call that goes on without them (`CallLeft`: they
transferred it, P4, their phone stopped ringing, they were one of three). A park orbit
(P4) has a line too, in a call while someone is parked there (`OrbitChanged`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from vaxel.bus import (
    Bus,
    CallAnswered,
    CallEnded,
    CallHeld,
    CallLeft,
    CallOffered,
    CallRinging,
    LineState,
    OrbitChanged,
)
from vaxel.calls.api import Call, LegState

# Whose line a party is: (company id, extension) -> the user's name, or None (a number,
# a menu, another company's extension).
Users = Callable[[int, str], str | None]


class LineCall:
    """One call a user is in, from their side."""

    __slots__ = (
        "call_id", "direction", "event", "held", "remote", "remote_name", "since", "state",
    )  # fmt: skip

    def __init__(
        self, call_id: str, state: str, direction: str, remote: str, remote_name: str
    ) -> None:
        self.call_id = call_id
        self.state = state  # trying, early, confirmed, terminated (RFC 4235 §3.7.1)
        self.direction = direction  # initiator (they called) or recipient (they are called)
        self.remote = remote  # who they call or talk to: an extension or a number
        self.remote_name = remote_name
        self.since = 0.0  # when it was confirmed
        self.event: str | None = None  # terminated: why (RFC 4235 §4.1.6.2)
        self.held = False  # the user put it on hold


class Line:
    """A user's calls now; `state` is what their lamp shows."""

    __slots__ = ("calls",)

    def __init__(self) -> None:
        self.calls: dict[str, LineCall] = {}

    @property
    def state(self) -> str:
        """idle, dialling (calling out, not answered), ringing, talking, or held (they
        put on hold every call they are in, and have no other)."""
        state = "idle"
        held = False
        for call in self.calls.values():
            if call.state == "confirmed":
                if not call.held:
                    return "talking"
                held = True
            elif call.direction == "recipient":
                state = "ringing"
            elif state == "idle":
                state = "dialling"
        return "held" if held and state == "idle" else state  # (a new call counts first)


@dataclass(frozen=True, slots=True)
class Seen:
    """A running call as `snapshot` reports it: a user of the company on one side."""

    call_id: str
    extension: str
    state: str  # trying, early, confirmed
    direction: str
    remote: str
    remote_name: str


def running(calls: Iterable[Call], company_id: int, users: Users) -> Iterator[Seen]:
    """What `Lines.snapshot` reads from the B2BUA's calls: each user of the company on a leg
    that is up, from their side."""
    for call in calls:
        if call.company_id != company_id or not call.legs:
            continue
        caller = call.caller
        for leg in call.legs:
            if leg.ended or users(company_id, leg.party) is None:
                continue
            if leg is caller:
                answered = call.answered_at is not None
                remote = call.answered_by if answered and " " not in call.answered_by else ""
                state = "confirmed" if answered else "trying"
                yield Seen(call.id, leg.party, state, "initiator", remote or call.dialled, "")
            elif leg.answered or leg.state in (LegState.RINGING, LegState.EARLY):
                state = "confirmed" if leg.answered else "early"
                yield Seen(call.id, leg.party, state, "recipient", caller.party, caller.party_name)


class _Call:
    __slots__ = ("caller", "caller_name", "company_id", "parties")

    def __init__(self, company_id: int, caller: str, caller_name: str) -> None:
        self.company_id = company_id
        self.caller = caller
        self.caller_name = caller_name
        self.parties: list[str] = []  # the users (extensions) in it


Changed = Callable[[int, str, Line, LineCall], None]
_IDLE = Line()


class Lines:
    def __init__(
        self,
        bus: Bus,
        clock: Callable[[], float],
        users: Users,
        *,
        snapshot: Callable[[int], Iterable[Seen]] = lambda company_id: (),
        running: Callable[[str], bool] = lambda call_id: True,
    ) -> None:
        self.bus = bus
        self.clock = clock
        self.users = users
        self.snapshot = snapshot  # the company's running calls, when first watched
        self.running = running  # is this call still up? (for `sweep`)
        self.lines: dict[tuple[int, str], Line] = {}
        self.calls: dict[str, _Call] = {}
        self.listeners: list[Changed] = []
        self._watching: dict[int, int] = {}
        bus.subscribe(CallOffered, self.offered)
        bus.subscribe(CallRinging, self.ringing)
        bus.subscribe(CallAnswered, self.answered)
        bus.subscribe(CallHeld, self.held)
        bus.subscribe(CallLeft, self.left)
        bus.subscribe(OrbitChanged, self.orbit)
        bus.subscribe(CallEnded, self.ended)

    def line(self, company_id: int, extension: str) -> Line:
        """The user's line now (an idle one if they are in no call: never stored)."""
        return self.lines.get((company_id, extension), _IDLE)

    # -- who watches ---------------------------------------------------------------------

    def watch(self, company_id: int) -> None:
        """Someone follows this company's lines: have its calls reported."""
        held = self._watching.get(company_id, 0)
        self._watching[company_id] = held + 1
        if held:
            return
        already = self.bus.wants(company_id)
        self.bus.watch(company_id)
        if not already:  # its calls were not reported until now: read the running ones
            for seen in self.snapshot(company_id):
                if seen.call_id not in self.calls:
                    self._seed(company_id, seen)

    def unwatch(self, company_id: int) -> None:
        held = self._watching.get(company_id, 0) - 1
        if held < 0:
            return
        if held:
            self._watching[company_id] = held
        else:
            del self._watching[company_id]
        self.bus.unwatch(company_id)

    def sweep(self) -> None:
        """Forget calls that ended while their company was not watched (no `CallEnded`)."""
        for call_id in [call_id for call_id in self.calls if not self.running(call_id)]:
            self._end(call_id, None, self.clock())

    # -- the bus's call events -------------------------------------------------------------

    def offered(self, event: CallOffered) -> None:
        call = _Call(event.company_id, event.caller, event.caller_name)
        self.calls[event.call_id] = call
        if self.users(event.company_id, event.caller) is not None:
            line_call = LineCall(event.call_id, "trying", "initiator", event.callee, "")
            self._add(call, event.caller, line_call, event.at)

    def ringing(self, event: CallRinging) -> None:
        call = self.calls.get(event.call_id)
        if call is None:
            return
        company_id = call.company_id
        if call.caller in call.parties:  # the caller hears it ring
            mine = self.lines[(company_id, call.caller)].calls.get(event.call_id)
            if mine is not None and mine.state == "trying":
                mine.state = "early"
                mine.remote, mine.remote_name = event.party, event.party_name
                self._tell(company_id, call.caller, mine, event.at)
        if self.users(company_id, event.party) is None or event.party in call.parties:
            return
        line_call = LineCall(event.call_id, "early", "recipient", call.caller, call.caller_name)
        self._add(call, event.party, line_call, event.at)

    def answered(self, event: CallAnswered) -> None:
        call = self.calls.get(event.call_id)
        if call is None:
            return
        company_id, by = call.company_id, event.answered_by
        for party in list(call.parties):
            mine = self.lines[(company_id, party)].calls[event.call_id]
            if party == by:
                self._confirm(company_id, party, mine, event.at)
            elif party == call.caller:
                if by and by != mine.remote and (" " not in by):
                    mine.remote = by  # a person answered for a group: they are the remote
                    mine.remote_name = self.users(company_id, by) or ""
                self._confirm(company_id, party, mine, event.at)
            elif mine.state != "confirmed":  # someone else took it: this phone stops ringing
                self._drop(call, party, mine, "cancelled", event.at)
        if by and by not in call.parties and self.users(company_id, by) is not None:
            # A colleague whose phone was not rung took the call (P4 pickup): theirs now.
            line_call = LineCall(event.call_id, "confirmed", "recipient", call.caller,
                                 call.caller_name)  # fmt: skip
            self._add(call, by, line_call, event.at)

    def held(self, event: CallHeld) -> None:
        call = self.calls.get(event.call_id)
        if call is None or event.party not in call.parties:
            return
        mine = self.lines[(call.company_id, event.party)].calls[event.call_id]
        if mine.held != event.held:
            mine.held = event.held
            self._tell(call.company_id, event.party, mine, event.at)

    def left(self, event: CallLeft) -> None:
        """A user left a call that goes on (they transferred it, their phone stopped
        ringing, they hung up on two others): their dialog ends, the call's goes on."""
        call = self.calls.get(event.call_id)
        if call is None or event.party not in call.parties:
            return
        mine = self.lines[(call.company_id, event.party)].calls[event.call_id]
        if mine.state == "confirmed":
            reason = "local-bye" if event.by == "party" else "remote-bye"
        else:
            reason = "rejected" if event.by == "party" else "cancelled"
        self._drop(call, event.party, mine, reason, event.at)

    def orbit(self, event: OrbitChanged) -> None:
        """A park orbit (P4) is a line of its own: in a call while one is parked there,
        with the one who waits as the remote party."""
        company_id, orbit = event.company_id, event.orbit
        call = self.calls.get(event.call_id)
        if event.parked:
            if call is None:
                call = self.calls[event.call_id] = _Call(company_id, event.caller, "")
            if orbit not in call.parties:
                line_call = LineCall(event.call_id, "confirmed", "recipient", event.caller,
                                     event.caller_name)  # fmt: skip
                self._add(call, orbit, line_call, self.clock())
        elif call is not None and orbit in call.parties:
            mine = self.lines[(company_id, orbit)].calls[event.call_id]
            self._drop(call, orbit, mine, "remote-bye", self.clock())

    def ended(self, event: CallEnded) -> None:
        reason = "remote-bye" if event.answered_at is not None else "cancelled"
        self._end(event.call_id, reason, event.at)

    # -- changes ----------------------------------------------------------------------------

    def _seed(self, company_id: int, seen: Seen) -> None:
        call = self.calls.get(seen.call_id)
        if call is None:
            call = self.calls[seen.call_id] = _Call(company_id, "", "")
        if seen.direction == "initiator":
            call.caller = seen.extension
        line_call = LineCall(
            seen.call_id, seen.state, seen.direction, seen.remote, seen.remote_name
        )
        self._add(call, seen.extension, line_call, self.clock())

    def _add(self, call: _Call, extension: str, line_call: LineCall, at: float) -> None:
        key = (call.company_id, extension)
        line = self.lines.get(key)
        if line is None:
            line = self.lines[key] = Line()
        line.calls[line_call.call_id] = line_call
        call.parties.append(extension)
        if line_call.state == "confirmed":
            line_call.since = at
        self._tell(call.company_id, extension, line_call, at)

    def _confirm(self, company_id: int, extension: str, line_call: LineCall, at: float) -> None:
        if line_call.state == "confirmed":
            return
        line_call.state, line_call.since = "confirmed", at
        self._tell(company_id, extension, line_call, at)

    def _drop(
        self, call: _Call, extension: str, line_call: LineCall, event: str | None, at: float
    ) -> None:
        key = (call.company_id, extension)
        line = self.lines[key]
        del line.calls[line_call.call_id]
        if not line.calls:
            del self.lines[key]
        call.parties.remove(extension)
        line_call.state, line_call.event = "terminated", event
        self._tell(call.company_id, extension, line_call, at)

    def _end(self, call_id: str, reason: str | None, at: float) -> None:
        call = self.calls.pop(call_id, None)
        if call is None:
            return
        for party in list(call.parties):
            line_call = self.lines[(call.company_id, party)].calls[call_id]
            event = reason if line_call.state == "confirmed" or reason is None else "cancelled"
            self._drop(call, party, line_call, event, at)

    def _tell(self, company_id: int, extension: str, line_call: LineCall, at: float) -> None:
        line = self.lines.get((company_id, extension), _IDLE)
        for listener in self.listeners:
            listener(company_id, extension, line, line_call)
        if self.bus.wants(company_id):
            self.bus.publish(
                LineState(
                    company_id, extension, line.state, line_call.call_id, line_call.state,
                    line_call.direction, line_call.remote, at,
                )
            )  # fmt: skip

    def __iter__(self) -> Iterator[tuple[tuple[int, str], Line]]:
        return iter(self.lines.items())
