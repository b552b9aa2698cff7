"""Answering groups (S8): members in priority order, rung one after the other or all at once.

Only members who are logged in are rung, and a member already in a call is
skipped (or rung anyway, for call waiting, as the group says). With nobody
to ring the call goes straight to the overflow. A group with a queue keeps
the caller waiting with music and a repeated announcement, trying the
members again, until the longest wait, then overflows.
"""

from __future__ import annotations

from pathlib import Path

from vaxel.calls.api import Call, Cause, PlayFinished, Timer
from vaxel.calls.router import Target
from vaxel.features.context import Company, Feature
from vaxel.features.destinations import go
from vaxel.features.ring_user import RingUser

RETRY_PAUSE = 3.0  # a queue's pause between rounds, so a busy member is not rung in a loop


class Group(Feature):
    def __init__(self, company: Company, name: str) -> None:
        self.company = company
        self.name = name
        self.group = company.config.groups[name]
        self.position = 0  # sequential: the member rung next
        self.deadline: float | None = None  # queue: when the caller overflows
        self.announcer: Timer | None = None

    def _members(self) -> list[str]:
        group, company = self.group, self.company
        return [
            ext
            for ext in group.members
            if company.logged_in(self.name, ext)
            and (group.busy_members == "call-waiting" or not company.busy(ext))
        ]

    def _targets(self, extensions: list[str]) -> tuple[Target, ...]:
        targets: list[Target] = []
        for ext in extensions:
            targets += self.company.devices(ext).targets
        return tuple(targets)

    def start(self, call: Call) -> None:
        queue = self.group.queue
        if queue is not None and self.deadline is None:
            self.deadline = call.switchboard.now() + queue.max_wait
            call.caller.answer()
            call.caller.play([self._music()], loop=True, interruptible=False)
            self._schedule_announcement(call)
        self._ring(call)

    def _ring(self, call: Call) -> None:
        members = self._members()
        if not members:
            self._wait_or_overflow(call)
            return
        if self.group.strategy == "parallel":
            chosen = members
        else:
            chosen = [members[self.position % len(members)]]
            self.position += 1
        targets = self._targets(chosen)
        if not targets:  # logged in, but no phone registered
            if self.group.strategy == "sequential" and self.position % len(members):
                self._ring(call)  # the next member in this round
            else:
                self._wait_or_overflow(call)
            return
        waiting = self._music()
        ring = RingUser(
            targets=targets,
            ring_seconds=self.group.ring_time,
            fallback=self._next,
            waiting=waiting,
        )
        ringer_owner = _Ringing(self, ring)
        call.handler = ringer_owner
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
        sequential = self.group.strategy == "sequential"
        members = self._members()
        more_in_round = sequential and members and self.position % len(members) != 0
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
        if self.deadline is not None and call.switchboard.now() >= self.deadline:
            self._overflow(call)
        else:
            self._ring(call)

    def _overflow(self, call: Call) -> None:
        if self.announcer is not None:
            self.announcer.cancel()
        call.caller.stop_playing()
        go(call, self.company, self.group.overflow)

    def _schedule_announcement(self, call: Call) -> None:
        queue = self.group.queue
        if queue is None or queue.announcement is None:
            return

        def announce() -> None:
            if call.caller.ended or call.bridged is not None:
                return
            # The announcement interrupts the music; the music comes back after it.
            call.caller.play([self.company.prompt(queue.announcement)], interruptible=False)
            self.announcer = call.after(queue.announce_every, announce)

        self.announcer = call.after(queue.announce_every, announce)

    def handle(self, call: Call, event: object) -> None:
        """An announcement ended while the caller waits: the music goes on."""
        caller = call.caller
        if (
            isinstance(event, PlayFinished)
            and event.leg is caller
            and not event.interrupted
            and call.bridged is None
            and not caller.ended
        ):
            caller.play([self._music()], loop=True, interruptible=False)


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
        self.ring.handle(call, event)  # type: ignore[arg-type]
        if self.ring.winner is not None and self.group.announcer is not None:
            self.group.announcer.cancel()
