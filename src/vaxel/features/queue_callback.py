"""A callback that keeps the caller's place in the queue (A5, A1).

A caller waiting in a queue with `callback:` hears, with each announcement, that they may
press its key to be called back instead. They press it, hear the number they will be
called on (their own, when it can be called) and press 1 to confirm, or key in another
number ending with #; * takes them back to the queue. Once confirmed they may hang up:
their place in the line is kept by a `CallbackEntry`, and the callers behind them still
wait behind it.

When the entry is first in line and a member is free, that member's phones ring first,
showing the number to call back. Only once the member answered is the caller dialled: the
member hears "callback to 070..." and ringback, the caller hears the greeting (the
company's, or the system's "this is the callback you asked for") and then the two talk.
A member is connected before every callback, so the switch never has more callbacks
ringing than it has members free to take them, and the entry served first is the one
first in line: nobody jumps the queue.

A member who does not answer passes the turn to the next free member. A caller who does
not answer (or is busy) is tried again `retry_after` seconds later, back in line by the
time they first came, `attempts` times in all; then the visit ends as `callback-failed`
in the statistics. A callback that connected is the visit's answer: its wait runs from
when the caller first came to when they talk with the member.

The number keyed in goes through the company's outbound guard when it is booked and
again when it is dialled: a number the company may not call (premium rate, abroad when
that is barred, emergency) is refused at once, so a callback cannot be used to make the
company pay for a call.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from secrets import token_hex
from typing import TYPE_CHECKING

from vaxel.calls.api import (
    ELSEWHERE,
    NO_ANSWER,
    NORMAL,
    Answered,
    Call,
    CallEvent,
    DigitsCollected,
    Ended,
    Leg,
    Party,
    PlayFinished,
    Switchboard,
    Target,
    Timer,
)
from vaxel.calls.records import record_call_id
from vaxel.features.click_to_call import RingFirst
from vaxel.features.context import Feature
from vaxel.media.say import say_digits, say_slot
from vaxel.services import company_config as cc
from vaxel.services.callbacks import CallbackChange
from vaxel.services.erlang import Forecast, offered_slots
from vaxel.services.numbering import check
from vaxel.services.queue_stats import NewQueueVisit

if TYPE_CHECKING:
    from vaxel.features.context import Company
    from vaxel.features.groups import Group, Waiting
    from vaxel.services.callbacks import CallbackInfo

CONFIRM_KEY = "1"
STAY_KEY = "*"  # back to the queue, place kept
KEY_SECONDS = 8.0  # to press the first key after the question
MAX_DIGITS = 16  # of a number keyed in
MIN_DIGITS = 3
RETRY_PAUSE = 3.0  # no member free, or one did not answer: look again after this
AGENT_RING_SECONDS = 20.0
# A18: the handling time the forecast assumes until the group has handled a call of its own.
ASSUMED_HANDLING = 180.0


def dialable(number: str) -> str:
    """The caller's number as it can be keyed back in ("" for anonymous or a SIP name)."""
    digits = number.strip()
    return digits if digits and all(c.isdigit() or c == "+" for c in digits) else ""


def callable_number(company: Company, number: str) -> bool:
    """May the switch call `number` back: a colleague's extension, or a number the
    company's outbound guard lets through (never emergency: nobody asks for that)."""
    if company.user(number) is not None:
        return True
    decision = check(company.config.outbound, number, 0)
    return decision.allowed and decision.destination != "emergency"


def _local(company: Company) -> datetime:
    """Now on the company's wall clock: slots fall on its half hours, and are said so."""
    return company.now().astimezone(company.timezone)


def _instant(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class AskNumber(Feature):
    """Which number to call back (A5, A1): the caller's own, read back, confirmed with 1;
    or one keyed in, ending with #, checked against the company's outbound rules; * to
    leave the question. What follows is the subclass's (`confirmed`, `stay`, `left`)."""

    answerer = "queue"

    def __init__(self, company: Company, caller: str) -> None:
        self.company = company
        own = dialable(caller)
        self.number = own if own and callable_number(company, own) else ""
        self.first = ""  # the first key of a number being keyed in
        self.booked = False  # done: what plays now ends the call
        self.asked = 0

    def start(self, call: Call) -> None:
        # Asked once the key that brought the caller here is done with: a collection begun
        # now would take that very key as the first of the answer.
        call.after(0.0, lambda: self._ask(call))

    def _ask(self, call: Call, prefix: tuple[str, ...] = ()) -> None:
        self.asked += 1
        if self.asked > 3:  # three questions without an answer
            self.stay(call)
            return
        lang = self.company.language
        if self.number:
            names = [*prefix, "callback-number-is", *say_digits(self.number, lang),
                     "callback-confirm"]  # fmt: skip
        else:
            names = [*prefix, "callback-enter-number"]
        call.caller.play([self.company.system(n) for n in names], interruptible=True)
        call.caller.collect(max_digits=1, timeout=KEY_SECONDS + 10.0)

    def handle(self, call: Call, event: CallEvent) -> None:
        caller = call.caller
        if isinstance(event, Ended) and event.leg is caller:
            if not self.booked:
                self.left(event)
            return
        if isinstance(event, PlayFinished) and event.leg is caller and self.booked:
            call.hangup(NORMAL)
            return
        if not isinstance(event, DigitsCollected) or event.leg is not caller or self.booked:
            return
        if not self.answer(call, event.digits):
            self._number(call, event.digits)

    def _number(self, call: Call, digits: str) -> None:
        if not self.first:
            if digits == STAY_KEY:
                self.stay(call)
            elif digits == CONFIRM_KEY and self.number:
                self.confirmed(call)
            elif digits.isdigit() or digits == "+":
                self.first = digits  # a number is being keyed in: the rest, up to #
                call.caller.collect(max_digits=MAX_DIGITS, timeout=KEY_SECONDS, inter_digit=5.0)
            else:
                self._ask(call)
            return
        number, self.first = self.first + digits, ""
        if len(number) >= MIN_DIGITS and callable_number(self.company, number):
            self.number = number
            self._ask(call)
        else:
            self._ask(call, ("callback-invalid",))

    def finish(self, call: Call, names: list[str]) -> None:
        """Done: say `names`, then hang up."""
        self.booked = True
        call.caller.play([self.company.system(n) for n in names], interruptible=False)

    # -- what the subclass does ------------------------------------------------------------

    def answer(self, call: Call, digits: str) -> bool:
        """Keys for a later question of the subclass's (True: taken)."""
        return False

    def confirmed(self, call: Call) -> None:
        raise NotImplementedError

    def stay(self, call: Call) -> None:
        raise NotImplementedError

    def left(self, event: Ended) -> None:
        """The caller hung up before it was done."""


class CallbackBooking(AskNumber):
    """The caller in the queue pressed the callback key: which number, then keep their
    place, or (A18) choose a time."""

    def __init__(self, group: Group, settings: cc.CallbackConfig) -> None:
        caller = group.call.caller.party if group.call is not None else ""
        super().__init__(group.company, caller)
        self.group = group
        self.settings = settings
        self.stage = "number"  # then "when" (place or time), then "slot" (A18)
        self.slots: list[datetime] = []

    def answer(self, call: Call, digits: str) -> bool:
        if self.stage == "when":
            self._when(call, digits)
        elif self.stage == "slot":
            self._slot(call, digits)
        else:
            return False
        return True

    def confirmed(self, call: Call) -> None:
        if self.settings.slots:
            self._ask_when(call)
        else:
            self._book(call)

    def stay(self, call: Call) -> None:
        self.group.resume(call)

    def left(self, event: Ended) -> None:
        self.group.left_while_booking(event)

    def _book(self, call: Call) -> None:
        group = self.group
        group.keep_place(CallbackEntry(group, self.settings, self.number, call.switchboard))
        self.finish(call, ["callback-booked"])

    # -- A18: or a time chosen from the forecast ----------------------------------------

    def _say(self, call: Call, names: list[str], digits: int = 1) -> None:
        company = self.group.company
        call.caller.play([company.system(n) for n in names], interruptible=True)
        call.caller.collect(max_digits=digits, timeout=KEY_SECONDS + 10.0)

    def _ask_when(self, call: Call, prefix: tuple[str, ...] = ()) -> None:
        self.stage = "when"
        self.asked += 1
        if self.asked > 6:
            self._book(call)  # no answer: the place, as the caller first asked
            return
        self._say(call, [*prefix, "callback-when"])

    def _when(self, call: Call, digits: str) -> None:
        if digits == "1":
            self._book(call)
        elif digits == "2":
            self.slots = self._forecast_slots(call)
            if not self.slots:
                self._ask_when(call, ("callback-no-times",))
                return
            self.stage = "slot"
            company = self.group.company
            now, lang = _local(company), company.language
            names = ["callback-choose-time"]
            for key, slot in enumerate(self.slots, start=1):
                names += [*say_slot(slot, now, lang), "press", *say_digits(str(key), lang)]
            self._say(call, names)
        else:
            self._ask_when(call)

    def _slot(self, call: Call, digits: str) -> None:
        index = int(digits) - 1 if digits.isdigit() else -1
        if not 0 <= index < len(self.slots):
            self._ask_when(call)
            return
        slot = self.slots[index]
        group, company = self.group, self.group.company
        due = call.switchboard.now() + (slot - company.now()).total_seconds()
        entry = CallbackEntry(
            group, self.settings, self.number, call.switchboard, due=due, due_at=slot
        )
        group.leave_for(entry)
        self.finish(
            call, ["callback-scheduled", *say_slot(slot, _local(company), company.language)]
        )

    def _forecast_slots(self, call: Call) -> list[datetime]:
        """The first slots the queue can keep (services/erlang.py), from the live figures."""
        group, company, settings = self.group, self.group.company, self.settings
        now = call.switchboard.now()
        handling = company.queue_handling_time(group.name) or ASSUMED_HANDLING
        members = company.config.groups.get(group.name, group.group).members
        forecast = Forecast(
            arrivals_per_hour=company.queue_arrivals(group.name, now - 3600.0),
            handling=handling,
            agents=sum(1 for m in members if company.logged_in(group.name, m)),
            target=settings.service_level,
            within=settings.answer_within,
        )
        booked = Counter(
            entry.due_at
            for entry in company.scheduled_callbacks(group.name)
            if isinstance(entry, CallbackEntry)
            and entry.state == "scheduled"
            and entry.due_at is not None
        )
        schedule = company.config.schedules.get(settings.schedule) if settings.schedule else None

        def is_open(start: datetime, end: datetime) -> bool:
            if schedule is None:
                return True
            verdict = schedule.evaluate(start)
            return verdict.open and (verdict.until is None or verdict.until >= end)

        return offered_slots(
            forecast, _local(company), booked=booked, is_open=is_open,
            slot_minutes=settings.slot_minutes, count=settings.slots,
        )  # fmt: skip


class CallbackEntry:
    """A caller's place in the line, kept while they are not on the phone.

    `state`: waiting (in line), ringing (a member's phones ring for it, still first in
    line), calling (the member answered, the caller is being dialled: out of the line),
    resting (nobody answered: back in line after `retry_after`), done or failed.
    """

    def __init__(
        self,
        group: Group,
        settings: cc.CallbackConfig,
        number: str,
        switchboard: Switchboard,
        *,
        due: float | None = None,
        due_at: datetime | None = None,
        source: str = "queue",
        restored: CallbackInfo | None = None,
    ) -> None:
        self.group = group
        self.settings = settings
        self.number = number
        self.switchboard = switchboard
        self.entered = group.entered if group.entered is not None else switchboard.now()
        self.requested = switchboard.now() if due is not None else self.entered
        self.source = source
        self.due_at = due_at
        if due is not None:  # A18: a time chosen: its wait counts from then
            self.entered, self.source = due, "scheduled"
        original = group.call
        # Who asked, and the call they asked on (its legs go when it ends).
        self.caller = original.caller.party if original is not None else number
        self.asked_on = record_call_id(original) if original is not None else ""
        self.state = "waiting"
        self.attempts = 0
        self.passed: list[str] = []  # members who did not answer it this turn
        self.timer: Timer | None = None
        self.key = token_hex(8)
        self.agent = ""
        if restored is not None:  # the list's row, after a restart (`restore`)
            self.key, self.caller, self.source = restored.key, restored.caller, restored.source
            self.attempts, self.agent = restored.attempts, restored.agent
            self.requested = group.entered if group.entered is not None else self.requested
        if due is not None:
            self.state = "scheduled"
            group.company.scheduled_callbacks(group.name).append(self)
            self.timer = switchboard.after(max(0.0, due - switchboard.now()), self._due)
        self._changed()

    def _changed(self) -> None:
        """The list agents see (services/callbacks.py) follows each change."""
        status = {"ringing": "waiting", "resting": "waiting", "scheduled": "waiting"}.get(
            self.state, self.state
        )
        group, now = self.group, self.switchboard.now()
        group.company.callback_changed(CallbackChange(
            company_id=group.company.id, key=self.key, group=group.name, number=self.number,
            caller=self.caller, source=self.source, requested_at=_instant(self.requested),
            status=status, attempts=self.attempts, agent=self.agent, at=_instant(now),
            due_at=self.due_at,
        ))  # fmt: skip

    # -- its place in the line -------------------------------------------------------------

    def present(self) -> bool:
        return self.state in ("waiting", "ringing")

    def _line(self) -> list[Waiting]:
        group = self.group
        return group.company.queue(group.name)

    def _first(self) -> bool:
        line = self._line()
        line[:] = [entry for entry in line if entry.present()]
        return bool(line) and line[0] is self

    def turn(self) -> None:
        """First in line now, maybe: ring one free member (none: look again soon)."""
        if self.state != "waiting" or not self._first():
            return
        group, now = self.group, self.switchboard.now()
        offered = group.offer_order(now)  # the group's strategy and tiers
        free = [m for m in offered if m not in self.passed]
        if not free and self.passed:
            self.passed = []  # each member had their chance: a new round, after a pause
            self._later(RETRY_PAUSE)
            return
        for agent in free:
            devices = group.company.reach(agent).devices
            if devices:
                group.offered_to(agent)
                self._ring(agent, devices)
                return
        self._later(RETRY_PAUSE)

    def _later(self, delay: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.switchboard.after(delay, self.turn)

    def _ring(self, agent: str, devices: tuple[Target, ...]) -> None:
        self.state = "ringing"
        company = self.group.company
        ringing = AgentFirst(self, agent, devices)
        call = self.switchboard.originate(company.id, ringing)
        call.dialled = self.number
        ringing.place(call)

    def _leave_line(self) -> None:
        line = self._line()
        if self in line:
            line.remove(self)
        self.group.next_in_line(line)

    def _due(self) -> None:
        """A18: its time has come: first in line, served by the next free member."""
        booked = self.group.company.scheduled_callbacks(self.group.name)
        if self in booked:
            booked.remove(self)
        self.state = "waiting"
        self._line().insert(0, self)
        self.turn()

    def _rejoin(self) -> None:
        """Back in line where the time the caller first came puts it."""
        self.state = "waiting"
        line = self._line()
        at = next((i for i, e in enumerate(line) if (e.entered or 0.0) > self.entered), len(line))
        line.insert(at, self)
        self.turn()

    # -- what the member's and the caller's phones did ---------------------------------------

    def agent_missed(self, agent: str) -> None:
        """The member rung did not answer: the next free member, soon."""
        self.passed.append(agent)
        self.state = "waiting"
        self._later(0.05)

    def agent_answered(self, agent: str) -> None:
        """A member is on the line: out of the line (the next caller's turn), dial."""
        self.state = "calling"
        self.attempts += 1
        self.agent = agent
        self._changed()
        self._leave_line()

    def caller_missed(self) -> None:
        """The caller did not answer: again later, or given up."""
        if self.attempts >= self.settings.attempts:
            self.state = "failed"
            self._changed()
            self._report("callback-failed", "", None)
            return
        self.state = "resting"
        self._changed()
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.switchboard.after(self.settings.retry_after, self._rejoin)

    def connected(self, call: Call, agent: str) -> None:
        self.state = "done"
        self.group.took(agent)
        self._changed()
        self._report("answered", agent, call)

    def _report(self, outcome: str, agent: str, call: Call | None) -> None:
        group = self.group
        now = _instant(self.switchboard.now())
        group.company.queue_visit(NewQueueVisit(
            company_id=group.company.id, group=group.name,
            call_id=record_call_id(call) if call is not None else self.asked_on,
            caller=self.caller, entered_at=_instant(self.entered),
            left_at=now, outcome=outcome, answered_at=now if call is not None else None,
            answered_by=agent,
        ))  # fmt: skip


class AgentFirst(RingFirst):
    """The member's phones ring for a callback, showing the number to call."""

    answerer = "callback"

    def __init__(self, entry: CallbackEntry, agent: str, devices: tuple[Target, ...]) -> None:
        ring = float(entry.group.group.ring_time) or AGENT_RING_SECONDS
        super().__init__(devices, Party(entry.number, "Callback"), ring)
        self.entry = entry
        self.agent = agent

    def answered(self, call: Call, leg: Leg) -> None:
        self.entry.agent_answered(self.agent)
        call.hand_over(self.entry.number, CallingBack(self.entry, self.agent))

    def _no_answer(self, call: Call) -> None:
        super()._no_answer(call)
        self.unanswered()

    def unanswered(self) -> None:
        if self.entry.state == "ringing":
            self.entry.agent_missed(self.agent)


class CallingBack(Feature):
    """The member is on the line; the caller is dialled, greeted, then joined to them."""

    answerer = "callback"

    def __init__(self, entry: CallbackEntry, agent: str) -> None:
        self.entry = entry
        self.agent = agent
        self.forks: list[Leg] = []
        self.winner: Leg | None = None
        self.timer: Timer | None = None
        self.talking_since: float | None = None
        self.failed = False

    def _targets(self) -> tuple[Target, ...]:
        company, number = self.entry.group.company, self.entry.number
        if company.user(number) is not None:
            return company.reach(number).devices
        if not callable_number(company, number):
            return ()
        decision = check(company.config.outbound, number, company.outbound_calls())
        line = company.trunk_line(number, None) if decision.allowed else None
        return (line,) if line is not None else ()

    def start(self, call: Call) -> None:
        """The member hears whom they call back first; the caller is dialled after it."""
        company = self.entry.group.company
        names = ["callback-for", *say_digits(self.entry.number, company.language)]
        call.caller.play([company.system(n) for n in names], interruptible=False)

    def _dial(self, call: Call) -> None:
        company = self.entry.group.company
        targets = self._targets()
        if not targets:
            self._missed(call)
            return
        call.caller.play([company.system("ringback")], loop=True, interruptible=False)
        self.forks = call.fork(list(targets))
        ring = float(self.entry.settings.ring_time)
        self.timer = call.after(ring, lambda: self._no_answer(call))

    def handle(self, call: Call, event: CallEvent) -> None:
        agent = call.caller
        company = self.entry.group.company
        if isinstance(event, Answered) and event.leg in self.forks and self.winner is None:
            self.winner = event.leg
            if self.timer is not None:
                self.timer.cancel()
            for fork in self.forks:
                if fork is not event.leg:
                    fork.hangup(ELSEWHERE)
            greeting = self.entry.settings.greeting
            prompt = (
                company.prompt(greeting) if greeting is not None
                else company.system("callback-greeting")
            )  # fmt: skip
            event.leg.play([prompt], interruptible=False)
        elif isinstance(event, PlayFinished) and not event.interrupted:
            if event.leg is self.winner and call.bridged is None:
                call.bridge(agent, event.leg)
                self.talking_since = call.switchboard.now()
                self.entry.connected(call, self.agent)
            elif event.leg is agent and self.failed:
                call.hangup(NORMAL)
            elif event.leg is agent and not self.forks:
                self._dial(call)
        elif isinstance(event, Ended):
            self._ended(call, event)

    def _ended(self, call: Call, event: Ended) -> None:
        if self.entry.state == "done":  # the talk ended: handling time, wrap-up
            since, self.talking_since = self.talking_since, None
            if since is None:
                return  # (the other leg, ended by the hangup below)
            self.entry.group.handled_by(
                self.agent, call.switchboard.now() - since, call.switchboard
            )
            call.hangup(NORMAL)
            return
        if event.leg is call.caller:  # the member hung up before the caller answered
            for fork in self.forks:
                fork.hangup(NORMAL)
            if not self.failed:
                self.failed = True
                self.entry.caller_missed()
            return
        if event.leg is self.winner or all(fork.ended for fork in self.forks):
            self._missed(call)

    def _no_answer(self, call: Call) -> None:
        if self.winner is None:
            for fork in self.forks:
                fork.hangup(NO_ANSWER)
            self._missed(call)

    def _missed(self, call: Call) -> None:
        """The caller could not be reached: the member is told, then hung up."""
        if self.failed:
            return
        self.failed = True
        self.entry.caller_missed()
        company = self.entry.group.company
        agent = call.caller
        if agent.ended:
            return
        agent.play([company.system("callback-no-answer")], interruptible=False)


def restore(
    company: Company, switchboard: Switchboard, pending: list[CallbackInfo], now: datetime
) -> int:
    """After a restart: the callbacks the list says still wait (waiting, or calling when
    the switch stopped) take their places again, in the order they were asked for (no
    caller on the phone is in any line yet), or wait for their time; `now` is the wall
    clock. Returns how many were restored."""
    from vaxel.features.groups import Group  # (it imports this module)

    restored = 0
    for info in sorted(pending, key=lambda info: info.requested_at):
        group = company.config.groups.get(info.group)
        if group is None or group.queue is None or group.queue.callback is None:
            continue  # the queue, or its callbacks, went meanwhile: left on the list
        visit = Group(company, info.group)
        visit.entered = switchboard.now() - (now - info.requested_at).total_seconds()
        due = None
        if info.due_at is not None and info.source == "scheduled":
            due = switchboard.now() + (info.due_at - now).total_seconds()
        entry = CallbackEntry(
            visit, group.queue.callback, info.number, switchboard, due=due,
            due_at=info.due_at, source=info.source, restored=info,
        )  # fmt: skip
        if due is None:
            company.queue(info.group).append(entry)
        restored += 1
    for name in {info.group for info in pending}:
        line = company.queue(name)
        if line:
            line[0].turn()
    return restored
