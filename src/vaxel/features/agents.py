"""An agent's state in an answering group (A5), one answer for the groups, the API, the
wallboard (A11) and the operator console (A16).

    logged-out  not logged in to the group (*46, the web, an admin)
    paused      paused with a reason (*47, the web, the API), or diverted (U9)
    wrap-up     after a group's call, until a time (*48 or the web ends it early)
    busy        in a call (talking, or calling out)
    free        a group call may be offered to them now (or rings them now)

The first that holds is the state, in that order: a paused agent in a call is paused. An
agent whose diversion is on ("lunch until 13:00") is paused with the diversion's status
as the reason, and nothing is stored for it: the pause ends with the diversion. A
diversion set to `ring`, or one that applies only to calls to the mobile number, rings
the user as usual, so it does not pause them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vaxel.features.context import Company

State = Literal["logged-out", "paused", "wrap-up", "busy", "free"]


@dataclass(frozen=True, slots=True)
class AgentState:
    state: State
    reason: str = ""  # paused: the pause reason, or the diversion's status (U9)
    until: float | None = None  # wrap-up: when it ends (switchboard time)
    diverted: bool = False  # paused by a diversion, not a pause of their own


def pause_reason(company: Company, extension: str) -> tuple[str, bool] | None:
    """Why the agent is paused, and whether by a diversion; None: not paused."""
    reason = company.paused(extension)
    if reason is not None:
        return reason, False
    diversion = company.diversion(extension)
    if diversion is not None and not diversion.ring and diversion.applies(mobile_call=False):
        return diversion.status, True
    return None


def wrapping_up(company: Company, extension: str, now: float) -> float | None:
    """Until when the agent is in wrap-up, if they are at `now` (switchboard time)."""
    until = company.wrap_up_until(extension)
    return until if until is not None and now < until else None


def agent_state(company: Company, group: str, extension: str, now: float) -> AgentState:
    """The agent's state in `group` at `now` (switchboard time)."""
    if not company.logged_in(group, extension):
        return AgentState("logged-out")
    paused = pause_reason(company, extension)
    if paused is not None:
        return AgentState("paused", reason=paused[0], diverted=paused[1])
    until = wrapping_up(company, extension, now)
    if until is not None:
        return AgentState("wrap-up", until=until)
    if company.busy(extension):
        return AgentState("busy")
    return AgentState("free")


def overall(states: list[AgentState]) -> AgentState:
    """One state for an agent over their groups: the state of the groups they are logged
    in to (their pause, wrap-up and calls are the same in each); logged-out if none."""
    return next((s for s in states if s.state != "logged-out"), AgentState("logged-out"))


@dataclass(frozen=True, slots=True)
class QueueState:
    group: str
    logged_in: bool
    state: AgentState


@dataclass(frozen=True, slots=True)
class Agent:
    """A member of one or more answering groups, with their state in each and overall."""

    extension: str
    name: str
    queues: tuple[QueueState, ...]
    state: AgentState


def company_agents(company: Company, now: float) -> list[Agent]:
    """Every member of the company's answering groups, by extension, with their groups by
    name (what the operator console and the API's agent list show)."""
    groups = sorted(company.config.groups.items())
    extensions = sorted({ext for _, group in groups for ext in group.members})
    found = []
    for ext in extensions:
        queues = tuple(
            QueueState(name, company.logged_in(name, ext), agent_state(company, name, ext, now))
            for name, group in groups
            if ext in group.members
        )
        user = company.user(ext)
        found.append(Agent(ext, user.name if user is not None else "", queues,
                           overall([q.state for q in queues])))  # fmt: skip
    return found
