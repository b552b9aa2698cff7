"""The queues as they are now (A11, A5): who waits in each queue group, and its agents' states.

Only the switch knows this (the line of waiting callers lives in its memory, as do the
agents' calls and wrap-ups), so the wallboard and `GET .../statistics/queues/live` ask it
over the web's link (app.py `_queue_live`); the figures of the day so far come from the
statistics (services/queue_stats.py) on the web's side.

An agent's state is features/agents.py's (logged out of the group, paused or diverted, in
wrap-up, busy in a call, else free), spelt as the figures spell it; `live` takes the state
function as a parameter (a test gives its own).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vaxel.features import agents
from vaxel.features.context import Company
from vaxel.features.queue_callback import CallbackEntry

#: Every state an agent of a queue can be in, as the figures count them.
AGENT_STATES = ("logged_out", "free", "busy", "wrap_up", "paused")

#: (company, group, extension, switchboard time now) -> one of AGENT_STATES.
AgentState = Callable[[Company, str, str, float], str]


def agent_state(company: Company, group: str, extension: str, now: float) -> str:
    """The member's state in `group` (features/agents.py, the one answer), in the figures'
    spelling: logged_out, paused, wrap_up, busy or free."""
    return agents.agent_state(company, group, extension, now).state.replace("-", "_")


@dataclass(frozen=True, slots=True)
class Waiting:
    """One caller waiting in a queue now."""

    call_id: str  # a kept place's: its callback's key
    caller: str  # an extension, or the caller's number
    caller_name: str
    waited: float  # seconds so far
    callback: bool = False  # a place kept for a callback (A5): the caller hung up


@dataclass(frozen=True, slots=True)
class QueueNow:
    """A queue group now: its waiting callers, longest waiting first, and its members'
    states (extension -> one of AGENT_STATES), in the group's order."""

    group: str
    waiting: tuple[Waiting, ...]
    agents: tuple[tuple[str, str], ...]

    @property
    def longest_wait(self) -> float | None:
        return self.waiting[0].waited if self.waiting else None

    def count(self, state: str) -> int:
        return sum(1 for _, s in self.agents if s == state)

    @property
    def logged_in(self) -> int:
        return sum(1 for _, s in self.agents if s != "logged_out")


def live(company: Company, now: float, state: AgentState = agent_state) -> list[QueueNow]:
    """Every queue group of the company (groups with a `queue:`), by name."""
    found = []
    for name in sorted(company.config.groups):
        group = company.config.groups[name]
        if group.queue is None:
            continue
        waiting = [_waiting(entry, now) for entry in company.queue(name)]
        callers = sorted((w for w in waiting if w is not None), key=lambda w: -w.waited)
        agents = tuple((ext, state(company, name, ext, now)) for ext in group.members)
        found.append(QueueNow(name, tuple(callers), agents))
    return found


def _waiting(entry: object, now: float) -> Waiting | None:
    """A line's entry (features/groups.py `Group`) as a waiting caller, or a place kept for
    a callback (features/queue_callback.py); None for one that left and is not yet dropped
    from the line."""
    if isinstance(entry, CallbackEntry):
        if not entry.present():
            return None
        waited = max(0.0, now - entry.entered)
        return Waiting(entry.key, entry.caller, "", waited, callback=True)
    call = getattr(entry, "call", None)
    entered = getattr(entry, "entered", None)
    if call is None or entered is None or not call.legs or call.caller.ended:
        return None
    caller = call.caller
    return Waiting(call.id, caller.party, caller.party_name, max(0.0, now - entered))
