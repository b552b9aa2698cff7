"""services/chat on SQLite and PostgreSQL (U4): messages kept, pending until delivered,
conversations newest first with their unread counts, read marks, pages, and no company
sees another's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vaxel.services import chat, companies
from vaxel.services.errors import Invalid, NotFound
from vaxel.store import Store

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def two_companies(store: Store) -> tuple[int, int]:
    return (
        companies.add_company(store, "acme.example", "Acme").id,
        companies.add_company(store, "other.example", "Other").id,
    )


def test_conversations_unread_and_read_marks(store: Store) -> None:
    acme, other = two_companies(store)
    for minutes, (sender, recipient, body) in enumerate(
        [("1001", "1002", "hi"), ("1002", "1001", "hello"), ("1003", "1001", "lunch?"),
         ("1002", "1001", "are you there?")]
    ):  # fmt: skip
        chat.store_message(store, acme, sender, recipient, body, NOW + timedelta(minutes=minutes))
    chat.store_message(store, other, "1002", "1001", "not for Acme", NOW)
    found = chat.conversations(store, acme, "1001")
    assert [(c.other, c.last.body, c.unread) for c in found] == [
        ("1002", "are you there?", 2), ("1003", "lunch?", 1),
    ]  # fmt: skip
    assert chat.mark_read(store, acme, "1001", "1002", NOW) == 2
    assert chat.conversations(store, acme, "1001")[0].unread == 0
    assert [m.body for m in chat.conversation(store, acme, "1001", "1002")] == [
        "hi", "hello", "are you there?",
    ]  # fmt: skip
    newest = chat.conversation(store, acme, "1002", "1001", limit=2)
    assert [m.body for m in newest] == ["hello", "are you there?"]
    older = chat.conversation(store, acme, "1002", "1001", before=newest[0].id)
    assert [m.body for m in older] == ["hi"]
    assert [c.last.body for c in chat.conversations(store, other, "1001")] == ["not for Acme"]


def test_pending_until_delivered_and_who_waits(store: Store) -> None:
    acme, other = two_companies(store)
    first = chat.store_message(store, acme, "1001", "1002", "one", NOW)
    chat.store_message(store, acme, "1001", "1002", "two", NOW)
    chat.store_message(store, other, "1001", "1002", "elsewhere", NOW)
    assert chat.waiting_recipients(store) == {(acme, "1002"), (other, "1002")}
    chat.mark_delivered(store, acme, [first.id], NOW)
    chat.mark_delivered(store, other, [first.id], NOW)  # another company's id: nothing
    assert [m.body for m in chat.pending(store, acme, "1002")] == ["two"]
    assert [m.body for m in chat.pending(store, other, "1002")] == ["elsewhere"]


def test_bodies_are_checked() -> None:
    assert chat.check_body("  two\r\nlines\t ") == "two\nlines"
    for bad in ("", "   ", "x" * (chat.MAX_BODY + 1), "bell\x07"):
        with pytest.raises(Invalid):
            chat.check_body(bad)


def test_group_chats_keep_a_copy_per_member(store: Store) -> None:
    acme, other = two_companies(store)
    group = chat.create_group(store, acme, "1001", " Team ", ["1002", "1003", "1002"])
    assert (group.name, group.members) == ("Team", ("1001", "1002", "1003"))
    copies = chat.store_group_message(store, acme, group.id, "1002", "hi all", NOW)
    assert sorted(c.recipient for c in copies) == ["1001", "1002", "1003"]
    own = next(c for c in copies if c.recipient == "1002")
    assert own.read_at is not None and own.delivered_at is not None
    assert chat.group_unread(store, acme, "1001") == {group.id: 1}
    assert chat.group_unread(store, acme, "1002") == {}
    assert chat.mark_group_read(store, acme, group.id, "1001", NOW) == 1
    assert [m.body for m in chat.group_messages(store, acme, group.id, "1003")] == ["hi all"]
    assert chat.conversations(store, acme, "1001") == []  # not a one-to-one conversation
    assert [g.name for g in chat.groups_of(store, acme, "1003")] == ["Team"]
    for company, member in ((acme, "1004"), (other, "1001")):  # no member, another company
        with pytest.raises(NotFound):
            chat.group_messages(store, company, group.id, member)
        with pytest.raises(NotFound):
            chat.store_group_message(store, company, group.id, member, "x", NOW)
    with pytest.raises(Invalid):
        chat.create_group(store, acme, "1001", "Alone", [])
    for member in ("1001", "1002", "1003"):
        chat.leave_group(store, acme, group.id, member)
    assert chat.groups_of(store, acme, "1001") == []
    assert chat.pending(store, acme, "1003") == []  # the group's messages went with it
