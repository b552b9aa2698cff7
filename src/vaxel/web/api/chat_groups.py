"""A user's group chats through the API (U4): made with colleagues, listed with what is
unread, read and written, left.

A group message reaches every member's phones by SIP MESSAGE from the group's own
address (`sip:chat-<id>@domain`, calls/messaging.py), so a phone's reply goes to the
whole group. Only members reach a group: anyone else gets 404, as for no group at all.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vaxel.bus import ChatSent
from vaxel.services import chat, users
from vaxel.services.errors import Invalid, NotFound
from vaxel.web.api.chat import Marked, MessageList, MessageOut, NewMessage, message_out, mine
from vaxel.web.auth import Caller, Context
from vaxel.web.problems import Problem, RowId

router = APIRouter(prefix="/api/v1/me/chat-groups", tags=["chat"])


class GroupIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    members: list[str] = Field(description="colleagues' extensions (you are in it anyway)")


class GroupOut(BaseModel):
    id: int
    name: str
    members: list[str]
    created_by: str
    address: str = Field(description="its SIP address: a phone's reply reaches the group")
    unread: int = 0


class GroupList(BaseModel):
    items: list[GroupOut]


def _group_out(group: chat.Group, domain: str, unread: int = 0) -> GroupOut:
    return GroupOut(
        id=group.id, name=group.name, members=list(group.members), created_by=group.created_by,
        address=f"sip:chat-{group.id}@{domain}", unread=unread,
    )  # fmt: skip


@router.get("")
def my_groups(who: Caller, ctx: Context) -> GroupList:
    """The group chats I am in, with how many of their messages I have not read."""
    company_id, domain, me = mine(who)
    unread = chat.group_unread(ctx.store, company_id, me)
    return GroupList(items=[_group_out(g, domain, unread.get(g.id, 0))
                            for g in chat.groups_of(ctx.store, company_id, me)])  # fmt: skip


@router.post("", status_code=201)
def make_group(body: GroupIn, who: Caller, ctx: Context) -> GroupOut:
    company_id, domain, me = mine(who)
    for i, ext in enumerate(body.members):
        if users.find_sip_user(ctx.store, domain, ext) is None:
            raise Problem(422, f"members.{i}: no colleague {ext!r}",
                          errors=[f"members.{i}: no colleague {ext!r}"])  # fmt: skip
    try:
        made = chat.create_group(ctx.store, company_id, me, body.name, body.members)
    except Invalid as refused:
        raise Problem(422, str(refused), errors=[str(refused)]) from None
    return _group_out(made, domain)


@router.get("/{group_id}/messages")
def messages(
    group_id: RowId,
    who: Caller,
    ctx: Context,
    before: int | None = Query(None, ge=1, le=2**63 - 1, description="older than this id"),
    limit: int = Query(50, ge=1, le=chat.MAX_PAGE),
) -> MessageList:
    company_id, _, me = mine(who)
    try:
        found = chat.group_messages(ctx.store, company_id, group_id, me, before=before,
                                    limit=limit)  # fmt: skip
    except NotFound:
        raise Problem(404, f"no group chat {group_id}") from None
    return MessageList(items=[message_out(m) for m in found])


@router.post("/{group_id}/messages", status_code=201)
def write(group_id: RowId, body: NewMessage, who: Caller, ctx: Context) -> MessageOut:
    """Write to the group: each member's phones get it (or when one registers)."""
    company_id, domain, me = mine(who)
    try:
        copies = chat.store_group_message(ctx.store, company_id, group_id, me, body.text,
                                          ctx.now())  # fmt: skip
        group = chat.group_of(ctx.store, company_id, group_id, me)
    except NotFound:
        raise Problem(404, f"no group chat {group_id}") from None
    except Invalid as refused:
        raise Problem(422, str(refused)) from None
    ctx.publish(ChatSent(company_id, domain, copies, group.name))
    return message_out(next(copy for copy in copies if copy.recipient == me))


@router.post("/{group_id}/read")
def read(group_id: RowId, who: Caller, ctx: Context) -> Marked:
    company_id, _, me = mine(who)
    try:
        return Marked(marked=chat.mark_group_read(ctx.store, company_id, group_id, me, ctx.now()))
    except NotFound:
        raise Problem(404, f"no group chat {group_id}") from None


@router.delete("/{group_id}/membership", status_code=204)
def leave(group_id: RowId, who: Caller, ctx: Context) -> None:
    """Leave the group (the last one out removes it, and its messages)."""
    company_id, _, me = mine(who)
    try:
        chat.leave_group(ctx.store, company_id, group_id, me)
    except NotFound:
        raise Problem(404, f"no group chat {group_id}") from None
