"""Call park (P4): a caller is put aside in a numbered orbit, and anyone of the company dials
the orbit to take the call.

A user parks the party they talk with by a blind transfer to the park extension (700 by
default; the company's `park:` section), the way desk phones park: the switch puts the
party in the first free orbit (701 ... 709) with music on hold, and the parker's phone,
set aside by the transfer, hears "the call is parked on 7 0 1" before the transfer
completes (its NOTIFY says 200 and the switch ends the parker's leg). A user who dials the
park extension themselves is parked the same way and hears their orbit first. With every
orbit taken the transfer fails (486) and the two talk on.

Dialling an orbit takes the parked call: the dialler's leg joins the parked call
(`Call.adopt`), as for a pickup, and the call record names them. Nothing parked there is a
404 for that orbit. A desk phone's key for an orbit (a BLF subscription to 701, U10)
lights while a call waits there, showing who waits. A call left parked `timeout` seconds
leaves its orbit and rings the user who parked it, as a call to them (their no-answer
forwarding, then voicemail).
"""

from __future__ import annotations

from pathlib import Path

from vaxel.calls.api import NORMAL, Call, CallEvent, Cause, Ended, Leg, PlayFinished, Timer
from vaxel.features.context import Company, Feature, hand_over
from vaxel.features.user import ring_step
from vaxel.media.player import RATE, load_prompt
from vaxel.media.say import say_digits

NOTHING_PARKED = Cause(404, "Not Found (nothing parked there)")
ORBITS_FULL = Cause(486, "Busy Here (every park orbit is taken)", "busy")
ANNOUNCE_PAUSE = 0.3  # after the orbit is said, before the parker's leg ends


def _orbit(company: Company, number: str) -> list[Park]:
    """Who is parked on orbit `number` (at most one), kept across reloads of the
    description, as a group's queue is."""
    line: list[Park] = company.queue(f"park {number}")  # (no group name has a space)
    line[:] = [park for park in line if park.waiting]
    return line


def park_step(company: Company, extension: str, dialled: str) -> Feature | None:
    """What `dialled` means for the company's park, when it is its extension or an orbit;
    `extension` is the user who dials it (or transfers to it)."""
    park = company.config.park
    if park is None:
        return None
    if dialled == park.extension:
        return Park(company, extension)
    if dialled in park.orbit_numbers():
        return Retrieve(company, dialled)
    return None


class Park(Feature):
    """The parked call's step, from the transfer (or call) to the park extension until the
    call is taken or rings the parker again."""

    def __init__(self, company: Company, parker: str) -> None:
        self.company = company
        self.parker = parker
        self.number = ""
        self.call: Call | None = None
        self.timer: Timer | None = None
        self.served: Timer | None = None

    @property
    def waiting(self) -> bool:
        call = self.call
        return call is not None and call.handler is self and bool(call.legs)

    def start(self, call: Call) -> None:
        park = self.company.config.park
        free = None
        if park is not None:
            free = next((n for n in park.orbit_numbers() if not _orbit(self.company, n)), None)
        if park is None or free is None:
            if call.caller.answered:
                call.hangup(ORBITS_FULL)  # a transfer: the two parties talk on
            else:
                call.caller.reject(ORBITS_FULL)
            return
        self.call, self.number = call, free
        _orbit(self.company, free).append(self)
        self.company.orbit_changed(free, call, True)
        parked = call.caller
        if not parked.answered:  # (a transferred party is answered already)
            parked.answer()
        said = self._said()
        transfer = call.transferring
        if transfer is not None:
            transfer.transferor.play(said, interruptible=False)
            seconds = sum(len(load_prompt(path)) for path in said) / RATE + ANNOUNCE_PAUSE
            self.served = call.after(seconds, call.transfer_served)
            parked.play([self._music()], loop=True, interruptible=False)
        else:
            parked.play(said, interruptible=False)  # then music (`handle`)
        self.timer = call.after(park.timeout, lambda: self._timed_out(call))

    def _said(self) -> list[Path]:
        language = self.company.language
        names = ["park-parked-on", *say_digits(self.number, language)]
        return [self.company.system(name) for name in names]

    def _music(self) -> Path:
        return self.company.system("music")

    def handle(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, Ended) and event.leg is call.caller:
            self._leave()
            call.hangup(NORMAL)
        elif (
            isinstance(event, PlayFinished)
            and event.leg is call.caller
            and not event.interrupted
            and not call.caller.ended
        ):
            call.caller.play([self._music()], loop=True, interruptible=False)

    def _leave(self) -> None:
        for timer in (self.timer, self.served):
            if timer is not None:
                timer.cancel()
        self.timer = self.served = None
        line = _orbit(self.company, self.number) if self.number else []
        if self in line:
            line.remove(self)
            if self.call is not None:
                self.company.orbit_changed(self.number, self.call, False)

    def _timed_out(self, call: Call) -> None:
        """Nobody took it: it rings the parker again, as a call to them."""
        if not self.waiting or call.caller.ended:
            return
        self._leave()
        call.transfer_served()  # (if the parker's phone is still listening to the orbit)
        call.caller.stop_playing()
        hand_over(call, ring_step(self.company, self.parker, 0))

    def take(self, leg: Leg) -> None:
        """`leg`, the caller's leg of a call to this orbit, takes the parked call."""
        call = self.call
        assert call is not None
        self._leave()
        call.adopt(leg)
        leg.answer()
        call.handler = Talking()
        call.bridge(call.caller, leg)


class Talking(Feature):
    """A parked call taken from its orbit: the two talk until one hangs up."""

    def start(self, call: Call) -> None:
        pass

    def handle(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, Ended):
            call.hangup(event.cause if event.by == "switch" else NORMAL)


class Retrieve(Feature):
    """A call to an orbit: it takes the call parked there."""

    def __init__(self, company: Company, number: str) -> None:
        self.company = company
        self.number = number

    def start(self, call: Call) -> None:
        line = _orbit(self.company, self.number)
        if not line:
            call.caller.reject(NOTHING_PARKED)
            return
        line[0].take(call.caller)
