"""Ringing phones (P3): every device at once; the first to answer gets the call.

The others are cancelled with "Call completed elsewhere" (RFC 3326), so
phones do not log a missed call. When every device refuses, the caller
hears why: busy if all were busy, otherwise unavailable; nobody answering
within the ring time is "no answer" (480). A step of a longer flow (an
answering group, a menu's key) gives a `fallback` instead, and the flow goes
on there; a caller the switch already answered hears `waiting` (ringback or
music) meanwhile. A colleague may take the call while it rings (`pick_up`: P4, U5).

A target in `confirm` (a user's mobile rung through the trunk, U2) must confirm its
answer: it hears `confirm_prompt` and takes the call by pressing 1 within
CONFIRM_SECONDS; anything else (the mobile's own voicemail answering, a wrong key,
silence) hangs that leg up and the other phones ring on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
    DigitsCollected,
    Ended,
    Leg,
    Offered,
    Reach,
    Ringing,
    Target,
    Timer,
)
from vaxel.features.context import Feature
from vaxel.services.users import DEFAULT_RING_SECONDS

Fallback = Callable[[Call, Cause], None]
CONFIRM_SECONDS = 10.0  # to press 1 once the confirmation prompt has begun
CONFIRM_KEY = "1"


class Refuse(Feature):
    """A call that routing already refused (unknown extension, nobody registered)."""

    def __init__(self, cause: Cause) -> None:
        self.cause = cause

    def start(self, call: Call) -> None:
        if call.caller.answered:
            call.hangup(self.cause)
        else:
            call.caller.reject(self.cause)


class RingUser(Feature):
    def __init__(
        self,
        reach: Reach | None = None,
        *,
        targets: tuple[Target, ...] = (),
        ring_seconds: float | None = None,
        fallback: Fallback | None = None,
        waiting: Path | None = None,
        confirm: tuple[Target, ...] = (),
        confirm_prompt: Path | None = None,
    ) -> None:
        self.targets: tuple[Target, ...] = reach.devices if reach is not None else targets
        self.confirm = confirm  # targets whose answer must be confirmed (a key)
        self.confirm_prompt = confirm_prompt
        self.confirming: list[Leg] = []
        default = reach.ring_seconds if reach is not None else DEFAULT_RING_SECONDS
        self.ring_seconds = ring_seconds if ring_seconds is not None else default
        self.fallback = fallback
        self.waiting = waiting
        self.forks: list[Leg] = []
        self.winner: Leg | None = None
        self.timer: Timer | None = None
        self.refusals: list[Cause] = []
        self.forking = False  # a device may fail at once, before every fork exists
        self.done = False

    def on_event(self, call: Call, event: CallEvent) -> None:
        # The same as Feature's, here so that it is compiled with the rest of ringing.
        if isinstance(event, Offered):
            self.start(call)
        else:
            self.handle(call, event)

    def start(self, call: Call) -> None:
        if call.caller.answered and self.waiting is not None:
            call.caller.play([self.waiting], loop=True, interruptible=False)
        self.forking = True
        self.forks = call.fork(list(self.targets))
        self.forking = False
        self.timer = call.after(self.ring_seconds, lambda: self._give_up(call, NO_ANSWER))
        self._all_refused(call)

    def handle(self, call: Call, event: CallEvent) -> None:
        if self.done:
            return
        if isinstance(event, Ringing) and event.leg in self.forks and self.winner is None:
            call.caller.ring(early_media=event.early_media)
            if event.early_media and not call.caller.answered:
                call.bridge(call.caller, event.leg)  # the caller hears the callee's early media
        elif isinstance(event, Answered) and event.leg in self.forks and self.winner is None:
            if self._must_confirm(event.leg):
                self._ask_to_confirm(call, event.leg)
            else:
                self._answered(call, event.leg)
        elif isinstance(event, DigitsCollected) and event.leg in self.confirming:
            self.confirming.remove(event.leg)
            if event.digits == CONFIRM_KEY and self.winner is None and not event.leg.ended:
                self._answered(call, event.leg)
            else:
                event.leg.hangup(NORMAL)  # (the others ring on)
        elif isinstance(event, Ended):
            self._ended(call, event)

    def _must_confirm(self, leg: Leg) -> bool:
        target = leg.target
        return any(target is wanted for wanted in self.confirm)

    def _ask_to_confirm(self, call: Call, leg: Leg) -> None:
        """An answer to confirm: the leg hears the question (not the caller: a bridge of
        early media is undone) and has CONFIRM_SECONDS to press 1."""
        bridged = call.bridged
        if bridged is not None and leg in bridged:
            call.unbridge()
        self.confirming.append(leg)
        if self.confirm_prompt is not None:
            leg.play([self.confirm_prompt], interruptible=True)
        leg.collect(max_digits=1, timeout=CONFIRM_SECONDS)

    def _answered(self, call: Call, leg: Leg) -> None:
        self.winner = leg
        self._stop_timer()
        for fork in self.forks:
            if fork is not leg:
                fork.hangup(ELSEWHERE)
        call.caller.answer()
        call.bridge(call.caller, leg)

    def pick_up(self, call: Call, leg: Leg) -> bool:
        """Pickup (P4, U5): `leg`, the leg of a colleague who dialled a pickup code, answers
        the call instead of the phones rung, which stop ringing ("completed elsewhere")."""
        if self.done or self.winner is not None or call.caller.ended or leg.ended:
            return False
        call.adopt(leg)
        self.forks.append(leg)  # (its end is the winner's end, as for a phone rung)
        leg.answer()
        self._answered(call, leg)
        return True

    def _ended(self, call: Call, event: Ended) -> None:
        leg = event.leg
        # The switch ended a leg for a reason (a session that expired, no ACK): the other
        # party is told the same; a party that hung up is just over.
        cause = event.cause if event.by == "switch" else NORMAL
        if leg is call.caller:
            self._stop_timer()
            call.hangup(cause)  # answered: BYE; still ringing: CANCEL
            return
        if leg is self.winner:
            call.caller.hangup(cause)
            return
        if leg in self.forks and self.winner is None and event.by == "party":
            self.refusals.append(event.cause)
        self._all_refused(call)

    def _all_refused(self, call: Call) -> None:
        if call.caller.ended or self.winner is not None or self.forking:
            return
        if all(fork.ended for fork in self.forks):
            self._give_up(call, self._verdict())

    def _give_up(self, call: Call, cause: Cause) -> None:
        """Nobody answered: the flow goes on at the fallback, or the caller is told why."""
        if self.winner is not None or self.done or call.caller.ended:
            return
        self.done = True
        self._stop_timer()
        for fork in self.forks:
            fork.hangup(cause if cause is NO_ANSWER else NORMAL)
        if self.fallback is not None:
            if self.waiting is not None:
                call.caller.stop_playing()  # the ringback it played; a queue's music plays on
            self.fallback(call, cause)
        elif call.caller.answered:
            call.hangup(cause)
        else:
            call.caller.reject(cause)

    def abandon(self) -> None:
        """Stop ringing, with no fallback: the flow moved on (a queue's longest wait passed)."""
        if self.done or self.winner is not None:
            return
        self.done = True
        self._stop_timer()
        for fork in self.forks:
            fork.hangup(NORMAL)

    def _verdict(self) -> Cause:
        """What the caller is told when every device refused."""
        codes = {cause.code for cause in self.refusals}
        if len(codes) == 1 and self.refusals[0].code in (486, 600, 603):
            return self.refusals[0]
        if codes and codes <= {486, 600, 603}:
            return BUSY
        return UNAVAILABLE

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
