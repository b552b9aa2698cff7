"""Conference rooms in use, from the API (A3): who is in a room, mute, kick, lock, end.

The company's administrators (and the provider) see and steer a room while
someone is in it, as its moderator does with the keys of the phone
(features/conference.py). The room lives in the switch, so every request is a
question to it (web/link.py); without a running switch the answer is 503.
A room nobody is in has no participants, and nothing to mute, lock or end (409).
Every change is audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from vaxel.web.auth import Caller, Context, Principal, admin_of, audit_change
from vaxel.web.context import WebContext, blocking
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/companies/{domain}/conferences", tags=["conferences"])

NO_SWITCH = "conference rooms live in a running switch (vaxel serve)"


class Participant(BaseModel):
    id: str = Field(description="the room's number for them, for mute and kick")
    party: str = Field(description="who: an extension, or the number that called")
    name: str
    moderator: bool
    muted: bool
    joined_at: float = Field(description="when they joined (Unix time)")


class RoomState(BaseModel):
    name: str
    locked: bool
    participants: list[Participant]


class Mute(BaseModel):
    muted: bool = True


class Lock(BaseModel):
    locked: bool = True


async def _ask(
    ctx: WebContext,
    who: Principal,
    request: Request,
    domain: str,
    name: str,
    action: str,
    participant: str = "",
    value: bool = True,
) -> RoomState:
    company = await blocking(admin_of, ctx, who, domain)
    if ctx.conference is None:
        raise Problem(503, NO_SWITCH)
    outcome, answer = await ctx.conference(company.id, name, action, participant, value)
    if outcome != "ok":
        assert isinstance(answer, tuple)
        raise Problem(int(answer[0]), str(answer[1]))
    assert isinstance(answer, dict)
    if action != "participants":
        target = f"{name}/{participant}" if participant else name
        await blocking(audit_change, ctx, who, request, f"conference.{action}", target,
                       company_id=company.id, after={"value": value} if action in ("mute", "lock")
                       else None)  # fmt: skip
    return RoomState(name=name, **answer)


@router.get("/{name}/participants")
async def participants(
    domain: str, name: str, who: Caller, ctx: Context, request: Request
) -> RoomState:
    """Who is in the room now (none when nobody is), and whether it is locked."""
    return await _ask(ctx, who, request, domain, name, "participants")


@router.post("/{name}/participants/{participant}/mute")
async def mute(
    domain: str, name: str, participant: str, body: Mute, who: Caller, ctx: Context,
    request: Request,
) -> RoomState:  # fmt: skip
    """Mute a participant (they still hear the room), or unmute them (`muted: false`)."""
    return await _ask(ctx, who, request, domain, name, "mute", participant, body.muted)


@router.post("/{name}/participants/{participant}/kick")
async def kick(
    domain: str, name: str, participant: str, who: Caller, ctx: Context, request: Request
) -> RoomState:
    """Take a participant out of the room: their call ends."""
    return await _ask(ctx, who, request, domain, name, "kick", participant)


@router.post("/{name}/lock")
async def lock(
    domain: str, name: str, body: Lock, who: Caller, ctx: Context, request: Request
) -> RoomState:
    """Lock the room (nobody more joins), or open it again (`locked: false`)."""
    return await _ask(ctx, who, request, domain, name, "lock", "", body.locked)


@router.post("/{name}/end")
async def end(domain: str, name: str, who: Caller, ctx: Context, request: Request) -> RoomState:
    """End the conference for everyone: each hears that it has ended, and their call ends."""
    return await _ask(ctx, who, request, domain, name, "end")
