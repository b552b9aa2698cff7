"""A user's chats through the API (U4): conversations, their messages, writing, read marks.

The same messages a phone sends and receives by SIP MESSAGE (calls/messaging.py): one the
web writes is kept here and handed to the switch (`ChatSent` over the link), which
delivers it to the colleague's phones, or keeps it for their next registration. Only a
user's own conversations are reachable; a colleague of another company, or an extension
nobody has, is 404 alike.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vaxel.bus import ChatSent
from vaxel.services import chat, users
from vaxel.services.errors import Invalid
from vaxel.web.auth import Caller, Context, Principal
from vaxel.web.context import WebContext
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/me/chats", tags=["chat"])


class MessageOut(BaseModel):
    id: int
    sender: str
    recipient: str
    text: str
    sent_at: datetime
    delivered_at: datetime | None = Field(description="when a phone of the recipient took it")
    read_at: datetime | None


class ConversationOut(BaseModel):
    with_: str = Field(alias="with", description="the colleague's extension")
    name: str
    last: MessageOut
    unread: int = Field(description="their messages I have not read")


class ConversationList(BaseModel):
    items: list[ConversationOut]


class MessageList(BaseModel):
    items: list[MessageOut] = Field(description="oldest first; page back with `before`")


class NewMessage(BaseModel):
    text: str = Field(min_length=1, max_length=chat.MAX_BODY)


class Marked(BaseModel):
    marked: int


def message_out(message: chat.Message) -> MessageOut:
    return MessageOut(
        id=message.id, sender=message.sender, recipient=message.recipient, text=message.body,
        sent_at=message.sent_at, delivered_at=message.delivered_at, read_at=message.read_at,
    )  # fmt: skip


def mine(who: Principal) -> tuple[int, str, str]:
    account = who.account
    if account.company_id is None or account.extension is None or account.domain is None:
        raise Problem(404, "only a user with a phone chats")
    return account.company_id, account.domain, account.extension


def _colleague(ctx: WebContext, domain: str, me: str, ext: str) -> str:
    """The colleague's name; 404 for nobody of the company, 422 for oneself."""
    if ext == me:
        raise Problem(422, "a message goes to someone else")
    found = users.find_sip_user(ctx.store, domain, ext)
    if found is None:
        raise Problem(404, f"no colleague {ext!r}")
    return found.display_name


@router.get("")
def conversations(who: Caller, ctx: Context) -> ConversationList:
    """Everyone I chatted with, the newest conversation first, with what I have not read."""
    company_id, domain, me = mine(who)
    names = {user.extension: user.display_name for user in users.list_users(ctx.store, domain)}
    return ConversationList(items=[
        ConversationOut.model_validate({"with": c.other, "name": names.get(c.other, ""),
                                        "last": message_out(c.last), "unread": c.unread})
        for c in chat.conversations(ctx.store, company_id, me)
    ])  # fmt: skip


@router.get("/{ext}")
def messages(
    ext: str,
    who: Caller,
    ctx: Context,
    before: int | None = Query(None, ge=1, le=2**63 - 1, description="older than this id"),
    limit: int = Query(50, ge=1, le=chat.MAX_PAGE),
) -> MessageList:
    """My conversation with a colleague, the newest `limit` messages (or those before)."""
    company_id, domain, me = mine(who)
    _colleague(ctx, domain, me, ext)
    found = chat.conversation(ctx.store, company_id, me, ext, before=before, limit=limit)
    return MessageList(items=[message_out(m) for m in found])


@router.post("/{ext}", status_code=201)
def write(ext: str, body: NewMessage, who: Caller, ctx: Context) -> MessageOut:
    """Write to a colleague: kept, then delivered to their phones (or when one registers)."""
    company_id, domain, me = mine(who)
    _colleague(ctx, domain, me, ext)
    try:
        kept = chat.store_message(ctx.store, company_id, me, ext, body.text, ctx.now())
    except Invalid as refused:
        raise Problem(422, str(refused)) from None
    ctx.publish(ChatSent(company_id, domain, [kept]))
    return message_out(kept)


@router.post("/{ext}/read")
def read(ext: str, who: Caller, ctx: Context) -> Marked:
    """I read what this colleague wrote me."""
    company_id, domain, me = mine(who)
    _colleague(ctx, domain, me, ext)
    return Marked(marked=chat.mark_read(ctx.store, company_id, me, ext, ctx.now()))
