"""Answering groups (S8): members in priority order, rung one after the other or all at once.

How members are chosen (A5: ring all, fixed order, round robin, longest idle, fewest calls,
and tiers that open after a wait) is features/distribution.py; a one-at-a-time strategy
makes a round of the free members in its order, rings them one after the other, and a
queue starts a new round (in a new order) at its next try.

Only members who are logged in are rung, and a member already in a call is
skipped (or rung anyway, for call waiting, as the group says, unless the member turned
call waiting off). With nobody
to ring the call goes straight to the overflow. A group with a queue keeps
its callers in line, first come first served: they hear their place in the
queue, then music and a repeated announcement (with their place again),
while the first in line rings the members, until each caller's longest
wait, then overflows.

A queue's rules (A7): with `join_empty` off a caller who finds no member logged in goes
straight to the overflow; with `leave_when_empty` the waiting callers leave to it once
the last member logged out (seen at their next try); beyond `max_length` callers a new
one goes to `full` (default: the overflow); and `voicemail_key` takes a waiting caller to
`voicemail_to` to leave a message instead. Each of these ends the visit as "overflow".

With its place a caller hears the estimated wait (A5): their place times the group's
average handling time (its latest calls, answer to end), shared among the members
logged in, to the nearest minute. It is said only once a call of the group was handled,
never from a constant. The place said only ever counts down: a caller is never told
they moved back.

A member who took a group's call is in wrap-up once it ends (A5): for the user's own
`wrap_up` seconds when set, else the group's queue's (none without one), no group offers
them a call; a call to their own extension still rings them. The queue's waiting caller
is offered to them at the queue's next try after it ends (within `RETRY_PAUSE`); the
agent ends it early with a feature code (`wrap_up_end`, features/codes.py) or the API.

An agent who paused (A5: `*47`, the web, the API) is offered no group call until they
unpause, nor is one whose diversion (U9) is on: features/agents.py says who is paused.

Every call offered to a group is one visit for the statistics (S9, A10): when it ends,
answered by a member, abandoned by the caller, sent to the overflow (after the queue's
longest wait: timed out) or ended by the switch, the company is told once
(`Company.queue_visit`), which stores it off the loop. A caller joining or leaving the line
is a live event (`Company.queue_changed`, A11: the wallboard).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from vaxel.calls.api import (
    Call,
    Cause,
    Dtmf,
    Ended,
    Leg,
    PlayFinished,
    Switchboard,
    Target,
    Timer,
)
from vaxel.calls.records import record_call_id
from vaxel.features import distribution
from vaxel.features.agents import pause_reason
from vaxel.features.context import Company, Feature
from vaxel.features.destinations import go, serves
from vaxel.features.queue_callback import CallbackBooking, CallbackEntry
from vaxel.features.ring_user import RingUser
from vaxel.features.user import call_waiting
from vaxel.media.say import say_digits, say_estimated_wait, say_queue_position
from vaxel.services import company_config as cc
from vaxel.services.queue_stats import NewQueueVisit

WRAP_UP_MARGIN = 0.005  # past the wrap-up's end: the agent is free when the queue looks
RETRY_PAUSE = 3.0  # a queue's pause between rounds, so a busy member is not rung in a loop


class Waiting(Protocol):
    """A place in a queue's line: a caller on the phone (`Group`), or one kept for a
    callback (`CallbackEntry`)."""

    @property
    def entered(self) -> float | None: ...

    def present(self) -> bool: ...

    def turn(self) -> None: ...


class Group(Feature):
    def __init__(self, company: Company, name: str) -> None:
        self.company = company
        self.name = name
        self.answerer = f"group {name}"
        self.group = company.config.groups[name]
        self.round: list[str] = []  # one at a time: the members still to offer this round
        self.deadline: float | None = None  # queue: when the caller overflows
        self.announcer: Timer | None = None
        self.expiry: Timer | None = None
        self.ringing: RingUser | None = None
        self.call: Call | None = None
        # The callers waiting in this group's queue, this one among them.
        self.line: list[Waiting] | None = None
        self.entered: float | None = None  # when the call came to the group (S9)
        self.reported = False  # its visit is reported, once
        self.said_place: int | None = None  # the place last said: it only counts down
        self.answered_at: float | None = None  # when a member took it (A5: handling time)
        self.agent = ""  # who took it: in wrap-up once the talk ends (A5)
        self.booking = False  # choosing a callback's number (A5): the longest wait waits

    def present(self) -> bool:
        """Still waiting in line (the caller did not leave)."""
        return self.call is not None and _waiting(self.call)

    def turn(self) -> None:
        """First in line now: ring the members at once."""
        call = self.call
        if call is not None:
            call.after(0.05, lambda: self._retry(call))

    def _members(self, call: Call) -> list[str]:
        return self.free_members(call.switchboard.now())

    def free_members(self, now: float) -> list[str]:
        """The members a call of the group may be offered now, in the group's order."""
        group, company = self.group, self.company
        return [
            ext
            for ext in group.members
            if company.logged_in(self.name, ext)
            and pause_reason(company, ext) is None  # A5: paused, or diverted (U9)
            and not _wrapping_up(company, ext, now)
            and not (
                company.busy(ext)
                and (group.busy_members == "skip" or not call_waiting(company, ext))
            )
        ]

    def _candidates(self, call: Call) -> list[str]:
        """The free members whose tier is open to this caller (A5)."""
        waited = call.switchboard.now() - (self.entered or call.switchboard.now())
        group = self.group
        return distribution.within_tiers(self._members(call), group.tiers, waited, group.tier_delay)

    def _history(self) -> distribution.GroupHistory:
        histories = self.company.group_histories()
        history = histories.get(self.name)
        if history is None:
            history = histories[self.name] = distribution.GroupHistory()
        return history

    def _today(self) -> date:
        return self.company.now().astimezone(self.company.timezone).date()

    def _one_at_a_time(self) -> bool:
        return distribution.canonical(self.group.strategy) != distribution.RING_ALL

    def _pick(self, free: list[str]) -> str:
        """The next member of this round to offer the call to; a new round (in the
        strategy's order) when this one is done."""
        remaining = [ext for ext in self.round if ext in free]
        if not remaining:
            remaining = distribution.order(
                self.group.strategy, self.group.members, free, self._history(), self._today()
            )
        chosen, self.round = remaining[0], remaining[1:]
        self._history().offered(chosen)
        return chosen

    def _more_in_round(self, free: list[str]) -> bool:
        return self._one_at_a_time() and any(ext in free for ext in self.round)

    def _targets(self, extensions: list[str]) -> tuple[Target, ...]:
        targets: list[Target] = []
        for ext in extensions:
            targets += self.company.reach(ext).devices
        return tuple(targets)

    def start(self, call: Call) -> None:
        if self.entered is None:
            self.entered = call.switchboard.now()
            self.call = call
            self.company.queue_arrival(self.name, self.entered)  # A18: the live rate
        queue = self.group.queue
        if queue is not None and self.deadline is None:
            self.call = call
            refused = self._refused(queue)
            if refused:  # A7: the caller does not join
                full = refused == "full" and queue.full is not None
                self._send_on(call, queue.full if full else self.group.overflow, "overflow")
                return
            self.deadline = call.switchboard.now() + queue.max_wait
            self.line = self.company.queue(self.name)
            self.line.append(self)
            self.company.queue_changed(self.name, call, True, len(self.line))  # A11
            call.caller.answer()
            if queue.announce_position or queue.callback is not None:
                said = self._position() if queue.announce_position else []
                call.caller.play(said + self._offers(), interruptible=False)  # then music
            else:
                call.caller.play([self._music()], loop=True, interruptible=False)
            self._schedule_announcement(call)
            self.expiry = call.after(queue.max_wait, lambda: self._expired(call))
        self._ring(call)

    # -- the line of waiting callers -----------------------------------------------------

    def _refused(self, queue: cc.QueueConfig) -> str:
        """A7: why a new caller does not join the line ("empty", "full"), or "" if they do."""
        if not queue.join_empty and not self._anyone_logged_in():
            return "empty"
        if queue.max_length is not None:
            waiting = [entry for entry in self.company.queue(self.name) if entry.present()]
            if len(waiting) >= queue.max_length:  # (places kept for a callback count)
                return "full"
        return ""

    def _anyone_logged_in(self) -> bool:
        return any(self.company.logged_in(self.name, ext) for ext in self.group.members)

    def _place(self) -> int:
        """This caller's place in the queue, from 1; callers who left are dropped first."""
        assert self.line is not None
        self.line[:] = [entry for entry in self.line if entry.present()]
        return self.line.index(self) + 1 if self in self.line else 0

    def _position(self) -> list[Path]:
        """The caller's place, and the estimated wait once the group has handled a call."""
        place = max(self._place(), 1)
        if self.said_place is not None:
            place = min(place, self.said_place)
        self.said_place = place
        language = self.company.language
        names = say_queue_position(place, language)
        queue = self.group.queue
        handling = self.company.queue_handling_time(self.name)
        if queue is not None and queue.announce_wait and handling is not None:
            members = [m for m in self.group.members if self.company.logged_in(self.name, m)]
            seconds = place * handling / max(1, len(members))
            names += say_estimated_wait(int(seconds / 60 + 0.5), language)
        return [self.company.system(name) for name in names]

    def _offers(self) -> list[Path]:
        """ "To be called back instead and keep your place, press two." (A5, A1)"""
        queue = self.group.queue
        if queue is None or queue.callback is None:
            return []
        key = say_digits(queue.callback.key, self.company.language)
        return [self.company.system(name) for name in ("callback-offer", *key)]

    def _leave_line(self) -> None:
        """Answered, overflowed or gone: out of the line, and the next caller's turn at once."""
        line, self.line = self.line, None
        if line is None or self not in line:
            return
        line.remove(self)
        if self.call is not None:  # A11: the wallboard sees the caller leave
            self.company.queue_changed(self.name, self.call, False, len(line))
        self.next_in_line(line)

    def next_in_line(self, line: list[Waiting]) -> None:
        """Someone left the head of the line: the next caller (or kept place) goes now."""
        line[:] = [entry for entry in line if entry.present()]
        if line:
            line[0].turn()

    # -- a callback that keeps the place (A5, A1) ----------------------------------------

    def _offer_callback(self, call: Call) -> None:
        """The caller pressed the callback key: choose the number, the place kept."""
        for timer in (self.announcer,):
            if timer is not None:
                timer.cancel()
        queue = self.group.queue
        assert queue is not None and queue.callback is not None
        self.booking = True
        call.caller.stop_playing()
        booking = CallbackBooking(self, queue.callback)
        call.handler = booking
        booking.start(call)

    def resume(self, call: Call) -> None:
        """Back from the callback's questions (*, or no answer): waiting as before."""
        self.booking = False
        call.handler = self
        if self.deadline is not None and call.switchboard.now() >= self.deadline:
            self._overflow(call)
            return
        call.caller.play([self._music()], loop=True, interruptible=False)
        self._schedule_announcement(call)
        self._retry(call)

    def left_while_booking(self, event: Ended) -> None:
        self.booking = False
        self._gone(_left(event))

    def keep_place(self, entry: CallbackEntry) -> None:
        """The callback is booked: `entry` takes this caller's place in the line; the
        visit is the entry's to report from now on."""
        self.booking = False
        for timer in (self.announcer, self.expiry):
            if timer is not None:
                timer.cancel()
        line, self.line = self.line, None
        self.reported = True
        if line is not None and self in line:
            line[line.index(self)] = entry
            if line[0] is entry:
                entry.turn()

    def leave_for(self, entry: CallbackEntry) -> None:
        """A18: the caller chose a time to be called back: out of the line (the next
        caller's turn); the visit is the callback's, at its time."""
        self.booking = False
        for timer in (self.announcer, self.expiry):
            if timer is not None:
                timer.cancel()
        self.reported = True
        self._leave_line()

    def handled_by(self, agent: str, seconds: float, switchboard: Switchboard) -> None:
        """A call of the group (a callback too) was handled by `agent`: its handling time,
        the end the distribution remembers (longest idle), and their wrap-up (A5)."""
        now = switchboard.now()
        self.company.queue_handled(self.name, seconds)
        self._history().finished(agent, now)
        wrap_up = wrap_up_seconds(self.company, self.group, agent)
        if wrap_up > 0:
            company = self.company
            company.set_wrap_up(agent, now + wrap_up)
            # Offered the next caller as the wrap-up ends, not at the queue's next try.
            switchboard.after(wrap_up + WRAP_UP_MARGIN, lambda: company.agent_available(agent))

    def pick_up(self, call: Call, leg: Leg) -> bool:
        """A16: the operator's console takes a caller waiting in line (not being rung
        now), whatever their place: `leg`, the operator's phone, joins the call as a
        member who answered would, and the caller leaves the line answered by them."""
        if call is not self.call or call.handler is not self or self.booking:
            return False
        if not self.present() or call.bridged is not None or self.line is None:
            return False
        ring = RingUser(targets=(), ring_seconds=self.group.ring_time)
        if not ring.pick_up(call, leg):
            return False
        self.ringing = ring
        call.handler = _Ringing(self, ring)
        self._gone("answered", leg.party)
        return True

    def offer_order(self, now: float) -> list[str]:
        """The free members, in the order the group's strategy offers them a call (a kept
        place's turn: features/queue_callback.py); the one chosen is `offered_to`."""
        waited = now - (self.entered or now)
        group = self.group
        free = distribution.within_tiers(
            self.free_members(now), group.tiers, waited, group.tier_delay
        )
        if not free:
            return []
        return distribution.order(
            group.strategy, group.members, free, self._history(), self._today()
        )

    def offered_to(self, agent: str) -> None:
        self._history().offered(agent)

    def took(self, agent: str) -> None:
        """`agent` answered a call of the group (fewest calls counts it)."""
        self._history().took(agent, self._today())

    # -- ringing -------------------------------------------------------------------------

    def _ring(self, call: Call) -> None:
        if self.line is not None and self._place() > 1:
            self._wait_or_overflow(call)  # callers before this one ring first
            return
        members = self._candidates(call)
        if not members:
            self._wait_or_overflow(call)
            return
        chosen = [self._pick(members)] if self._one_at_a_time() else members
        targets = self._targets(chosen)
        if not targets:  # logged in, but no phone registered
            if self._more_in_round(members):
                self._ring(call)  # the next member in this round
            else:
                self._wait_or_overflow(call)
            return
        ring = RingUser(
            targets=targets,
            ring_seconds=self.group.ring_time,
            fallback=self._next,
            # A queue's caller hears the queue's music and announcements throughout.
            waiting=None if self.line is not None else self._music(),
        )
        self.ringing = ring
        call.handler = _Ringing(self, ring)
        ring.start(call)

    def _music(self) -> Path:
        queue = self.group.queue
        if queue is not None and queue.music is not None:
            return self.company.prompt(queue.music)
        return self.company.system("music" if queue is not None else "ringback")

    def _next(self, call: Call, cause: Cause | None) -> None:
        """The members rung did not answer: the next member, another round, or overflow."""
        call.handler = self
        if call.caller.ended:
            return
        more_in_round = self._more_in_round(self._candidates(call))
        in_queue = self.deadline is not None and call.switchboard.now() < self.deadline
        if more_in_round:
            self._ring(call)
        elif in_queue:
            self._wait_or_overflow(call)
        else:
            self._overflow(call)

    def _wait_or_overflow(self, call: Call) -> None:
        """Nobody to ring now: a queue waits a little and tries again; otherwise overflow."""
        if self.deadline is not None and call.switchboard.now() < self.deadline:
            call.handler = self
            call.after(RETRY_PAUSE, lambda: self._retry(call))
            return
        self._overflow(call)

    def _retry(self, call: Call) -> None:
        if call.handler is not self or call.caller.ended:
            return
        queue = self.group.queue
        if queue is not None and queue.leave_when_empty and not self._anyone_logged_in():
            self._send_on(call, self.group.overflow, "overflow")  # A7: the last one left
        elif self.deadline is not None and call.switchboard.now() >= self.deadline:
            self._overflow(call)
        else:
            self._ring(call)

    def _expired(self, call: Call) -> None:
        """The longest wait passed, maybe while members ring: overflow now."""
        if call.caller.ended or call.bridged is not None or self.booking:
            return  # (a caller choosing a callback's number goes on at `resume`)
        if self.ringing is not None:
            self.ringing.abandon()
        self._overflow(call)

    def _overflow(self, call: Call) -> None:
        # A queue sends its caller on only once the longest wait passed; a group without
        # one when nobody could be rung or nobody answered.
        outcome = "timeout" if self.deadline is not None else "overflow"
        self._send_on(call, self.group.overflow, outcome)

    def _send_on(self, call: Call, destination: cc.Destination | None, outcome: str) -> None:
        """The caller leaves the group for `destination` (None: hung up)."""
        self._gone(outcome)
        call.caller.stop_playing()
        go(call, self.company, destination)

    def _leave_message(self, call: Call) -> None:
        """A7: the waiting caller pressed the queue's voicemail key."""
        queue = self.group.queue
        if queue is None or queue.voicemail_to is None:
            return
        if self.ringing is not None:
            self.ringing.abandon()
        self._send_on(call, queue.voicemail_to, "overflow")

    def _schedule_announcement(self, call: Call) -> None:
        queue = self.group.queue
        if queue is None or (
            queue.announcement is None and not queue.announce_position and queue.callback is None
        ):
            return

        def announce() -> None:
            if call.caller.ended or call.bridged is not None:
                return
            # The announcement interrupts the music; the music comes back after it.
            said = self._position() if queue.announce_position else []
            said += self._offers()
            if queue.announcement is not None:
                said.append(self.company.prompt(queue.announcement))
            call.caller.play(said, interruptible=False)
            self.announcer = call.after(queue.announce_every, announce)

        self.announcer = call.after(queue.announce_every, announce)

    def handle(self, call: Call, event: object) -> None:
        """An announcement ended while the caller waits: the music goes on."""
        caller = call.caller
        queue = self.group.queue
        if isinstance(event, Ended) and event.leg is caller:
            self._gone(_left(event))
        elif (
            isinstance(event, Dtmf)
            and event.leg is caller
            and queue is not None
            and queue.callback is not None
            and event.digit == queue.callback.key
            and self.line is not None
        ):
            self._offer_callback(call)
        elif (
            isinstance(event, Dtmf)
            and event.leg is caller
            and self.group.queue is not None
            and event.digit == self.group.queue.voicemail_key
            and call.bridged is None
            and not self.reported
        ):
            self._leave_message(call)
        elif (
            isinstance(event, PlayFinished)
            and event.leg is caller
            and not event.interrupted
            and call.bridged is None
            and not caller.ended
        ):
            caller.play([self._music()], loop=True, interruptible=False)

    def _handled(self, call: Call) -> None:
        """The answered call ended (either party): its handling time counts, and the member
        who took it goes into wrap-up (A5)."""
        answered_at, self.answered_at = self.answered_at, None
        if answered_at is None:
            return
        now = call.switchboard.now()
        if self.agent:
            self.handled_by(self.agent, now - answered_at, call.switchboard)
        else:
            self.company.queue_handled(self.name, now - answered_at)

    def _gone(self, outcome: str, answered_by: str = "") -> None:
        """Answered, overflowed or hung up: the queue is done with this caller."""
        for timer in (self.announcer, self.expiry):
            if timer is not None:
                timer.cancel()
        self._leave_line()
        if outcome == "answered" and not self.reported and self.call is not None:
            self.answered_at = self.call.switchboard.now()
            self.agent = answered_by
            if answered_by:
                self._history().took(answered_by, self._today())
        self._report(outcome, answered_by)

    def _report(self, outcome: str, answered_by: str) -> None:
        """The visit's one row for the statistics (S9), at its first end only."""
        call, entered = self.call, self.entered
        if self.reported or call is None or entered is None:
            return
        self.reported = True
        now = _instant(call.switchboard.now())
        self.company.queue_visit(NewQueueVisit(
            company_id=self.company.id, group=self.name, call_id=record_call_id(call),
            caller=call.caller.party, entered_at=_instant(entered), left_at=now,
            outcome=outcome, answered_at=now if outcome == "answered" else None,
            answered_by=answered_by,
        ))  # fmt: skip


def wrap_up_seconds(company: Company, group: cc.GroupConfig, extension: str) -> float:
    """A5: the agent's wrap-up after a call of `group`: their own when set, else the
    queue's (a group without a queue has none)."""
    user = company.user(extension)
    if user is not None and user.wrap_up is not None:
        return user.wrap_up
    return group.queue.wrap_up if group.queue is not None else 0.0


def _wrapping_up(company: Company, extension: str, now: float) -> bool:
    until = company.wrap_up_until(extension)
    return until is not None and now < until


def _instant(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _left(event: Ended) -> str:
    """How a caller whose leg ended left: hung up (abandoned), or ended by the switch."""
    return "abandoned" if event.by == "party" else "ended"


def _waiting(call: Call) -> bool:
    """Is the caller still there (a finished call may already be dismantled)?"""
    return bool(call.legs) and not call.caller.ended


class _Ringing(Feature):
    """The group while a round rings: events go to the ringer; announcements end there."""

    def __init__(self, group: Group, ring: RingUser) -> None:
        self.group = group
        self.ring = ring

    def start(self, call: Call) -> None:
        self.ring.start(call)

    def handle(self, call: Call, event: object) -> None:
        if isinstance(event, PlayFinished) and event.leg is call.caller:
            self.group.handle(call, event)  # the announcement ended: music again
            return
        if isinstance(event, Dtmf) and event.leg is call.caller and self.ring.winner is None:
            self.group.handle(call, event)  # a key of the queue (A7)
            if call.handler is not self:
                return
        if (
            isinstance(event, Ended)
            and self.group.answered_at is not None
            and (event.leg is call.caller or event.leg is self.ring.winner)
        ):
            self.group._handled(call)  # the caller's talk with the member ended
        if isinstance(event, Ended) and event.leg is call.caller:
            self.group._gone(_left(event))
        self.ring.handle(call, event)  # type: ignore[arg-type]
        winner = self.ring.winner
        if winner is not None:
            # answered: no more announcements, the next caller's turn
            self.group._gone("answered", winner.party)

    def pick_up(self, call: Call, leg: Leg) -> bool:
        """A colleague picks the call up (P4, U5) while the members ring."""
        if not self.ring.pick_up(call, leg):
            return False
        self.group._gone("answered", leg.party)
        return True


@serves(cc.ToGroup)
def _to_group(company: Company, destination: cc.ToGroup) -> Feature:
    return Group(company, destination.group)
