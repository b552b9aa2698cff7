"""Meetings booked in conference rooms, from the API (A3).

`/api/v1/companies/{domain}/conferences/{name}/meetings`: the room's meetings (GET) and
a new one (POST: the invitations go out at once, by mail with an iCalendar attachment
and by SMS); `/meetings/{id}`: one (GET) and its cancellation (DELETE: the same UID with
METHOD:CANCEL to the mail invitees, an SMS to the phone ones). The company's admins (and
the provider) book them; another company's room or meeting is 404, as one that does not
exist. Who could not be told is in the answer, never a 500. The room's PIN an organiser
gives goes into the invitations only: never stored, returned or audited
(services/meetings.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from vaxel.services import configuration, meetings
from vaxel.services.company_config import CompanyConfig
from vaxel.services.errors import Invalid
from vaxel.services.meetings import Meeting, MeetingRequest, Recurrence
from vaxel.web.auth import Caller, Context, Principal, admin_of, audit_change
from vaxel.web.context import WebContext, blocking
from vaxel.web.problems import Problem, RowId

router = APIRouter(prefix="/api/v1/companies/{domain}/conferences", tags=["conferences"])


class NotSent(BaseModel):
    to: str
    reason: str


class Invitations(BaseModel):
    sent: list[str] = Field(description="the addresses and numbers told")
    not_sent: list[NotSent] = Field(description="who was not told, and why")


class MeetingOut(BaseModel):
    id: int
    room: str
    uid: str = Field(description="the iCalendar UID its invitations carry")
    title: str
    organiser: str
    start: str = Field(description="the first occurrence, local time with its UTC offset")
    timezone: str
    duration_minutes: int
    recurrence: Recurrence | None
    reminder_minutes: int
    emails: list[str]
    phones: list[str]
    next_start: str | None = Field(description="the next occurrence to come; none: past")


class MeetingList(BaseModel):
    items: list[MeetingOut]


class MeetingMade(MeetingOut):
    invitations: Invitations


def shown(meeting: Meeting, ctx: WebContext) -> MeetingOut:
    upcoming = meetings.next_occurrence(meeting, ctx.now())
    return MeetingOut(
        id=meeting.id, room=meeting.room, uid=meeting.uid, title=meeting.title,
        organiser=meeting.organiser, start=meeting.local_start.isoformat(),
        timezone=meeting.timezone, duration_minutes=meeting.duration_minutes,
        recurrence=meeting.recurrence, reminder_minutes=meeting.reminder_minutes,
        emails=list(meeting.emails), phones=list(meeting.phones),
        next_start=upcoming.astimezone(meeting.zone).isoformat() if upcoming else None,
    )  # fmt: skip


def invitations(delivery: meetings.Delivery) -> Invitations:
    refused = [NotSent(to=to, reason=why) for to, why in delivery.not_sent]
    return Invitations(sent=delivery.sent, not_sent=refused)


def _room_config(
    ctx: WebContext, who: Principal, domain: str, room: str
) -> tuple[int, CompanyConfig]:
    company = admin_of(ctx, who, domain)
    config = configuration.load_document(ctx.store, company.id)
    if config is None or room not in config.conferences:
        raise Problem(404, f"no conference {room!r}")
    return company.id, config


def book(
    ctx: WebContext, who: Principal, request: Request, domain: str, room: str,
    body: MeetingRequest,
) -> tuple[Meeting, meetings.Delivery]:  # fmt: skip
    """Book a meeting and send its invitations (blocking: a worker thread); Problem 422
    with the field's path for what the booking refuses."""
    company_id, config = _room_config(ctx, who, domain, room)
    now = ctx.now()
    try:
        meeting = meetings.create(ctx.store, company_id, config, room, body,
                                  organiser=who.account.login, now=now)  # fmt: skip
    except Invalid as exc:
        raise Problem(422, "the meeting has errors; nothing was booked",
                      errors=[exc.message]) from None  # fmt: skip
    delivery = meetings.tell(config, meeting, kind="invite", pin=body.pin, now=now)
    after: dict[str, Any] = shown(meeting, ctx).model_dump(mode="json")
    after["not_sent"] = [to for to, _ in delivery.not_sent]
    audit_change(ctx, who, request, "meetings.create", f"{room}/{meeting.id}",
                 company_id=company_id, after=after)  # fmt: skip
    return meeting, delivery


def call_off(
    ctx: WebContext, who: Principal, request: Request, domain: str, room: str, meeting_id: int
) -> meetings.Delivery:
    """Cancel a meeting and tell its invitees (blocking)."""
    company = admin_of(ctx, who, domain)
    config = configuration.load_document(ctx.store, company.id)
    meeting = meetings.cancel(ctx.store, company.id, room, meeting_id)
    before = shown(meeting, ctx).model_dump(mode="json")
    delivery = meetings.Delivery([], [])
    if config is not None and room in config.conferences:
        delivery = meetings.tell(config, meeting, kind="cancel", now=ctx.now())
    audit_change(ctx, who, request, "meetings.cancel", f"{room}/{meeting_id}",
                 company_id=company.id, before=before)  # fmt: skip
    return delivery


@router.get("/{name}/meetings")
async def list_meetings(domain: str, name: str, who: Caller, ctx: Context) -> MeetingList:
    """The room's meetings, by their first start."""

    def work() -> MeetingList:
        company_id, _ = _room_config(ctx, who, domain, name)
        found = meetings.list_meetings(ctx.store, company_id, name)
        return MeetingList(items=[shown(meeting, ctx) for meeting in found])

    return await blocking(work)


@router.post("/{name}/meetings", status_code=201)
async def create_meeting(
    domain: str, name: str, body: MeetingRequest, who: Caller, ctx: Context, request: Request
) -> MeetingMade:
    """Book a meeting in the room; its invitations go out at once (mail with an
    iCalendar attachment, SMS). `pin`, the room's PIN, goes into the invitations only."""
    meeting, delivery = await blocking(book, ctx, who, request, domain, name, body)
    return MeetingMade(**shown(meeting, ctx).model_dump(), invitations=invitations(delivery))


@router.get("/{name}/meetings/{meeting_id}")
async def get_meeting(
    domain: str, name: str, meeting_id: RowId, who: Caller, ctx: Context
) -> MeetingOut:
    def work() -> MeetingOut:
        company = admin_of(ctx, who, domain)
        return shown(meetings.get(ctx.store, company.id, name, meeting_id), ctx)

    return await blocking(work)


@router.delete("/{name}/meetings/{meeting_id}")
async def cancel_meeting(
    domain: str, name: str, meeting_id: RowId, who: Caller, ctx: Context, request: Request
) -> Invitations:
    """Cancel the meeting: its invitees are told (the same UID, METHOD:CANCEL)."""
    delivery = await blocking(call_off, ctx, who, request, domain, name, meeting_id)
    return invitations(delivery)
