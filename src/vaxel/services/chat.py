"""Chat between colleagues (U4, P7): messages stored, delivered when a device can take them,
read marks, conversations.

A message comes from a phone's SIP MESSAGE (calls/messaging.py) or from the web, and is
stored before anything else: the sender is told it was accepted once it is (SIP 202).
It is delivered to every device the recipient has registered; one that takes it marks it
delivered. One that nobody took waits, and goes out, in order, when the recipient's next
device registers. The recipient marks a conversation read on the web or the softphone.

A group chat has a name and members (at most MAX_GROUP). A message to it is kept once per
member, so each has their own delivered and read marks and the delivery above serves it
unchanged; the writer's own copy is delivered and read at once. The last member to leave
takes the group and its messages with them.

Every query names the company: a colleague of another company is no colleague, and an
extension is only unique within its company. Bodies are plain text, at most `MAX_BODY`
characters, without control characters other than line breaks and tabs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update

from vaxel.services.errors import Invalid, NotFound
from vaxel.store import Store
from vaxel.store.models import ChatGroup, ChatGroupMember, ChatMessage

MAX_BODY = 2000  # characters, as a long SMS thread's message; a chat is not mail
MAX_PAGE = 200
#: Messages waiting for one recipient that are sent when a device registers: more wait
#: for the next registration (a phone's inbox is small).
MAX_PENDING = 100


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    sender: str
    recipient: str
    body: str
    sent_at: datetime
    delivered_at: datetime | None
    read_at: datetime | None
    group_id: int | None = None  # written in this group chat (this is the recipient's copy)


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    name: str
    members: tuple[str, ...]
    created_by: str


@dataclass(frozen=True, slots=True)
class Conversation:
    """The other colleague, the last message either way, and how many of theirs are unread."""

    other: str
    last: Message
    unread: int


def _message(row: ChatMessage) -> Message:
    return Message(
        row.id, row.sender, row.recipient, row.body, row.sent_at, row.delivered_at, row.read_at,
        row.group_id,
    )  # fmt: skip


def check_body(body: str) -> str:
    """The body as stored, or `Invalid` saying what is wrong with it."""
    text = body.strip()
    if not text:
        raise Invalid("a message needs some text")
    if len(text) > MAX_BODY:
        raise Invalid(f"a message holds at most {MAX_BODY} characters")
    if any(ord(char) < 0x20 and char not in "\n\t" for char in text.replace("\r\n", "\n")):
        raise Invalid("a message cannot hold control characters")
    return text.replace("\r\n", "\n")


def store_message(
    store: Store, company_id: int, sender: str, recipient: str, body: str, now: datetime
) -> Message:
    """Keep a message from `sender` to `recipient` (both the company's extensions)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if sender == recipient:
        raise Invalid("a message goes to someone else")
    row = ChatMessage(
        company_id=company_id, sender=sender, recipient=recipient, body=check_body(body),
        sent_at=now,
    )  # fmt: skip
    with store.session() as session:
        session.add(row)
        session.flush()
        return _message(row)


def mark_delivered(store: Store, company_id: int, ids: list[int], now: datetime) -> None:
    """A device of the recipient took these messages (the first time counts)."""
    if not ids:
        return
    with store.session() as session:
        session.execute(
            update(ChatMessage)
            .where(
                ChatMessage.company_id == company_id,
                ChatMessage.id.in_(ids),
                ChatMessage.delivered_at.is_(None),
            )
            .values(delivered_at=now)
        )


def pending(store: Store, company_id: int, recipient: str) -> list[Message]:
    """What waits for a device of `recipient`, oldest first (at most MAX_PENDING)."""
    with store.session(read_only=True) as session:
        rows = session.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.company_id == company_id,
                ChatMessage.recipient == recipient,
                ChatMessage.delivered_at.is_(None),
            )
            .order_by(ChatMessage.id)
            .limit(MAX_PENDING)
        )
        return [_message(row) for row in rows]


def _between(company_id: int, me: str, other: str):  # type: ignore[no-untyped-def]
    return and_(
        ChatMessage.company_id == company_id,
        ChatMessage.group_id.is_(None),
        or_(
            and_(ChatMessage.sender == me, ChatMessage.recipient == other),
            and_(ChatMessage.sender == other, ChatMessage.recipient == me),
        ),
    )


def conversation(
    store: Store,
    company_id: int,
    me: str,
    other: str,
    *,
    before: int | None = None,
    limit: int = 50,
) -> list[Message]:
    """The messages between `me` and `other`, newest last; `before` pages back by id."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be 1 to {MAX_PAGE}")
    query = select(ChatMessage).where(_between(company_id, me, other))
    if before is not None:
        query = query.where(ChatMessage.id < before)
    with store.session(read_only=True) as session:
        rows = session.scalars(query.order_by(ChatMessage.id.desc()).limit(limit))
        return [_message(row) for row in reversed(list(rows))]


def mark_read(store: Store, company_id: int, me: str, other: str, now: datetime) -> int:
    """`me` read what `other` sent them; how many messages that marked."""
    with store.session() as session:
        result = session.execute(
            update(ChatMessage)
            .where(
                ChatMessage.company_id == company_id,
                ChatMessage.group_id.is_(None),
                ChatMessage.sender == other,
                ChatMessage.recipient == me,
                ChatMessage.read_at.is_(None),
            )
            .values(read_at=now)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def conversations(store: Store, company_id: int, me: str) -> list[Conversation]:
    """Everyone `me` has chatted with: the newest conversation first."""
    mine = and_(
        ChatMessage.company_id == company_id,
        ChatMessage.group_id.is_(None),
        or_(ChatMessage.sender == me, ChatMessage.recipient == me),
    )
    other = func.coalesce(
        func.nullif(ChatMessage.sender, me), ChatMessage.recipient
    )  # the one who is not me
    with store.session(read_only=True) as session:
        newest: dict[str, int] = dict(
            session.execute(
                select(other.label("other"), func.max(ChatMessage.id)).where(mine).group_by(other)
            ).all()
        )
        unread = dict(
            session.execute(
                select(ChatMessage.sender, func.count())
                .where(
                    ChatMessage.company_id == company_id,
                    ChatMessage.group_id.is_(None),
                    ChatMessage.recipient == me,
                    ChatMessage.read_at.is_(None),
                )
                .group_by(ChatMessage.sender)
            ).all()
        )
        query = select(ChatMessage).where(ChatMessage.id.in_(list(newest.values())))
        rows = {row.id: _message(row) for row in session.scalars(query)}
    found = [
        Conversation(str(who), rows[last], int(unread.get(who, 0)))
        for who, last in newest.items()
        if last in rows
    ]
    return sorted(found, key=lambda c: c.last.id, reverse=True)


def waiting_recipients(store: Store) -> set[tuple[int, str]]:
    """(company id, extension) of everyone with a message no device took yet."""
    with store.session(read_only=True) as session:
        rows = session.execute(
            select(ChatMessage.company_id, ChatMessage.recipient)
            .where(ChatMessage.delivered_at.is_(None))
            .distinct()
        )
        return {(int(company_id), str(recipient)) for company_id, recipient in rows}


# -- group chats -------------------------------------------------------------------------

MAX_GROUP = 50  # members: a team, not the whole company
_GROUP_NAME = 80


def _group(session: Any, row: ChatGroup) -> Group:
    members = session.scalars(
        select(ChatGroupMember.extension)
        .where(ChatGroupMember.group_id == row.id)
        .order_by(ChatGroupMember.extension)
    )
    return Group(row.id, row.name, tuple(members), row.created_by)


def create_group(
    store: Store, company_id: int, creator: str, name: str, members: list[str]
) -> Group:
    """A group chat of `creator` and `members` (the company's extensions, checked by the
    caller)."""
    name = name.strip()
    if not name or len(name) > _GROUP_NAME:
        raise Invalid(f"name: 1 to {_GROUP_NAME} characters")
    everyone = sorted({creator, *members})
    if len(everyone) < 2:
        raise Invalid("members: a group needs someone besides you")
    if len(everyone) > MAX_GROUP:
        raise Invalid(f"members: at most {MAX_GROUP}")
    with store.session() as session:
        row = ChatGroup(company_id=company_id, name=name, created_by=creator)
        session.add(row)
        session.flush()
        session.add_all(ChatGroupMember(group_id=row.id, extension=e) for e in everyone)
        session.flush()
        return _group(session, row)


def group_of(store: Store, company_id: int, group_id: int, member: str) -> Group:
    """The group, if `member` is in it (else NotFound, as for no group at all)."""
    with store.session(read_only=True) as session:
        row = session.get(ChatGroup, group_id)
        if row is None or row.company_id != company_id:
            raise NotFound(f"no group chat {group_id}")
        found = _group(session, row)
    if member not in found.members:
        raise NotFound(f"no group chat {group_id}")
    return found


def groups_of(store: Store, company_id: int, member: str) -> list[Group]:
    with store.session(read_only=True) as session:
        rows = session.scalars(
            select(ChatGroup)
            .join(ChatGroupMember, ChatGroupMember.group_id == ChatGroup.id)
            .where(ChatGroup.company_id == company_id, ChatGroupMember.extension == member)
            .order_by(ChatGroup.name, ChatGroup.id)
        )
        return [_group(session, row) for row in rows]


def leave_group(store: Store, company_id: int, group_id: int, member: str) -> None:
    """`member` leaves; the last one out removes the group and its messages."""
    group_of(store, company_id, group_id, member)
    with store.session() as session:
        session.execute(delete(ChatGroupMember).where(
            ChatGroupMember.group_id == group_id, ChatGroupMember.extension == member,
        ))  # fmt: skip
        left = session.scalar(select(func.count()).where(ChatGroupMember.group_id == group_id))
        if not left:
            session.execute(delete(ChatGroup).where(ChatGroup.id == group_id))


def store_group_message(
    store: Store, company_id: int, group_id: int, sender: str, body: str, now: datetime
) -> list[Message]:
    """A message to a group: a copy per member; the writer's own is delivered and read."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    text = check_body(body)
    group = group_of(store, company_id, group_id, sender)
    with store.session() as session:
        rows = [
            ChatMessage(
                company_id=company_id, sender=sender, recipient=member, body=text,
                sent_at=now, group_id=group_id,
                delivered_at=now if member == sender else None,
                read_at=now if member == sender else None,
            )
            for member in group.members
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        return [_message(row) for row in rows]


def group_messages(
    store: Store,
    company_id: int,
    group_id: int,
    member: str,
    *,
    before: int | None = None,
    limit: int = 50,
) -> list[Message]:
    """`member`'s copies of the group's messages, newest last."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be 1 to {MAX_PAGE}")
    group_of(store, company_id, group_id, member)
    query = select(ChatMessage).where(
        ChatMessage.company_id == company_id,
        ChatMessage.group_id == group_id,
        ChatMessage.recipient == member,
    )
    if before is not None:
        query = query.where(ChatMessage.id < before)
    with store.session(read_only=True) as session:
        rows = session.scalars(query.order_by(ChatMessage.id.desc()).limit(limit))
        return [_message(row) for row in reversed(list(rows))]


def mark_group_read(
    store: Store, company_id: int, group_id: int, member: str, now: datetime
) -> int:
    group_of(store, company_id, group_id, member)
    with store.session() as session:
        result = session.execute(
            update(ChatMessage)
            .where(
                ChatMessage.company_id == company_id,
                ChatMessage.group_id == group_id,
                ChatMessage.recipient == member,
                ChatMessage.read_at.is_(None),
            )
            .values(read_at=now)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def group_unread(store: Store, company_id: int, member: str) -> dict[int, int]:
    """group id -> how many of its messages `member` has not read."""
    with store.session(read_only=True) as session:
        rows = session.execute(
            select(ChatMessage.group_id, func.count())
            .where(
                ChatMessage.company_id == company_id,
                ChatMessage.group_id.is_not(None),
                ChatMessage.recipient == member,
                ChatMessage.read_at.is_(None),
            )
            .group_by(ChatMessage.group_id)
        )
        return {int(group_id or 0): int(count) for group_id, count in rows}


def group_names(store: Store, company_id: int, ids: set[int]) -> dict[int, str]:
    """The names of these groups of the company (for what is delivered late)."""
    if not ids:
        return {}
    with store.session(read_only=True) as session:
        rows = session.execute(
            select(ChatGroup.id, ChatGroup.name).where(
                ChatGroup.company_id == company_id, ChatGroup.id.in_(ids)
            )
        )
        return {int(group_id): str(name) for group_id, name in rows}
