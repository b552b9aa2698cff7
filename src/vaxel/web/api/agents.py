"""Agents of the answering groups from the web and the API (A5): pause with a reason and
unpause, and the company's agents with their state in each queue (the operator console's
and the wallboard's list).

`PUT /api/v1/me/pause` `{"reason": "lunch"}` pauses me in all my groups (no group offers
me a call); the reason is one of the company's `pause_reasons`, or left out. `DELETE`
unpauses. An admin does the same for anyone under `/companies/{domain}/agents/{ext}/pause`
(a user there: only themselves). These are the phone's `*47` and `*47N`
(features/codes.py), through the same store (`services.pauses`), published as
`agent.paused` / `agent.unpaused` and filed in the audit log.

`GET /api/v1/companies/{domain}/agents` lists every group member with, for each of their
groups, whether they are logged in and their state there (logged-out, paused with its
reason, wrap-up until when, busy, free: features/agents.py), and one state overall. Busy
and wrap-up live in the running switch, so the list is its answer (web/link.py); without
one the answer is 503.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from vaxel.bus import AgentPaused
from vaxel.features.agents import Agent, AgentState
from vaxel.services import configuration, pauses
from vaxel.services.company_config import pause_words
from vaxel.web.auth import Caller, Context, Principal, company_of
from vaxel.web.auth import audit_change as audit
from vaxel.web.context import WebContext, blocking
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["agents"])

NO_SWITCH = "agents' states live in a running switch (vaxel serve)"


class PauseIn(BaseModel):
    reason: str = Field("", description="one of the company's pause_reasons; none: no reason")


class PauseOut(BaseModel):
    extension: str
    paused: bool
    reason: str | None = Field(description='why, when paused ("" for no reason)')
    words: dict[str, str] = Field(description="the reason as shown, sv and en")


def _pause_out(ext: str, reason: str | None) -> PauseOut:
    words = {lang: pause_words(reason, lang) for lang in ("sv", "en")} if reason else {}
    return PauseOut(extension=ext, paused=reason is not None, reason=reason, words=words)


def set_pause(
    ctx: WebContext, who: Principal, request: Request, company_id: int, ext: str,
    reason: str | None,
) -> PauseOut:  # fmt: skip
    """Pause `ext` with `reason`, or unpause (None), as *47 does from the phone: the API
    and the pages come here (a user: only themselves)."""
    if who.role == "user" and who.account.extension != ext:
        raise Problem(403, "you can pause only yourself; ask an admin")
    config = configuration.load_document(ctx.store, company_id)
    if config is None or ext not in {user.ext for user in config.users}:
        raise Problem(404, f"no user {ext}")
    if reason is None:
        if pauses.clear_pause(ctx.store, company_id, ext):
            ctx.publish(AgentPaused(company_id, ext, None, time.time()))
            audit(ctx, who, request, "agent.unpause", ext, company_id=company_id)
        return _pause_out(ext, None)
    pauses.check_reason(config, reason)  # Invalid: 422, with the company's reasons
    pauses.set_pause(ctx.store, company_id, ext, reason, ctx.now())
    ctx.publish(AgentPaused(company_id, ext, reason, time.time()))
    audit(ctx, who, request, "agent.pause", ext, company_id=company_id, after={"reason": reason})
    return _pause_out(ext, reason)


def _mine(who: Principal) -> tuple[int, str]:
    account = who.account
    if account.company_id is None or account.extension is None:
        raise Problem(404, "a provider admin has no phone, so no pause")
    return account.company_id, account.extension


@router.get("/me/pause")
def my_pause(who: Caller, ctx: Context) -> PauseOut:
    """Am I paused, and why (a diversion pauses too: see the agents list)."""
    company_id, ext = _mine(who)
    found = pauses.pauses(ctx.store, company_id).get(ext)
    return _pause_out(ext, found.reason if found is not None else None)


@router.put("/me/pause")
def pause_me(body: PauseIn, who: Caller, ctx: Context, request: Request) -> PauseOut:
    """Pause me: no group offers me a call until I unpause (I stay logged in)."""
    company_id, ext = _mine(who)
    return set_pause(ctx, who, request, company_id, ext, body.reason)


@router.delete("/me/pause", status_code=204)
def unpause_me(who: Caller, ctx: Context, request: Request) -> None:
    """Unpause me: my groups offer me their calls again (nothing happens when not paused)."""
    company_id, ext = _mine(who)
    set_pause(ctx, who, request, company_id, ext, None)


@router.put("/companies/{domain}/agents/{ext}/pause")
def pause_agent(
    domain: str, ext: str, body: PauseIn, who: Caller, ctx: Context, request: Request
) -> PauseOut:
    """Pause an agent (admins; a user only themselves)."""
    company = company_of(ctx, who, domain)
    return set_pause(ctx, who, request, company.id, ext, body.reason)


@router.delete("/companies/{domain}/agents/{ext}/pause", status_code=204)
def unpause_agent(domain: str, ext: str, who: Caller, ctx: Context, request: Request) -> None:
    """Unpause an agent (admins; a user only themselves)."""
    company = company_of(ctx, who, domain)
    set_pause(ctx, who, request, company.id, ext, None)


class StateOut(BaseModel):
    state: str = Field(description="logged-out, paused, wrap-up, busy or free")
    reason: str | None = Field(None, description="paused: the reason, or the diversion's status")
    diverted: bool = Field(False, description="paused by a diversion, not a pause of their own")
    until: float | None = Field(None, description="wrap-up: when it ends (seconds since epoch)")


class QueueOut(BaseModel):
    group: str
    logged_in: bool
    state: StateOut


class AgentOut(BaseModel):
    ext: str
    name: str
    paused: bool
    reason: str | None
    state: StateOut
    queues: list[QueueOut]


class AgentList(BaseModel):
    items: list[AgentOut]


def _state(found: AgentState) -> StateOut:
    paused = found.state == "paused"
    return StateOut(state=found.state, reason=found.reason if paused else None,
                    diverted=found.diverted, until=found.until)  # fmt: skip


def _agent(agent: Agent) -> AgentOut:
    state = _state(agent.state)
    return AgentOut(
        ext=agent.extension, name=agent.name, paused=state.state == "paused",
        reason=state.reason, state=state,
        queues=[QueueOut(group=q.group, logged_in=q.logged_in, state=_state(q.state))
                for q in agent.queues],
    )  # fmt: skip


@router.get("/companies/{domain}/agents")
async def agents(domain: str, who: Caller, ctx: Context) -> AgentList:
    """The company's agents, each with their groups, logins and states (every user of the
    company sees their colleagues', as on the live events)."""
    company = await blocking(company_of, ctx, who, domain)
    if ctx.agents is None:
        raise Problem(503, NO_SWITCH)
    return AgentList(items=[_agent(agent) for agent in await ctx.agents(company.id)])
