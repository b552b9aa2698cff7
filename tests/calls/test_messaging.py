"""Chat over SIP MESSAGE in memory (U4; RFC 3428): Anna's phone writes to Björn; the switch
keeps the message (202), delivers it to each of his phones, marks it delivered, and keeps
what no phone took for his next registration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.memory import DOMAIN, MemoryPhone, MemorySwitch
from vaxel.services import chat


@pytest.fixture
def switch(tmp_path: Path, tone_prompts: Path) -> Iterator[MemorySwitch]:
    memory = MemorySwitch(
        tmp_path,
        tone_prompts,
        user_names={"1001": "Anna", "1002": "Björn", "1003": "Cilla", "1004": "Dan"},
    )
    yield memory
    memory.close()


def company_id(switch: MemorySwitch) -> int:
    return next(iter(switch.core.directory.companies))


def texts(phone: MemoryPhone) -> list[tuple[str, str]]:
    """(from, text) of the MESSAGEs the phone got."""
    return [(str(m.from_.uri), m.body.decode()) for m in phone.requests("MESSAGE")]


def test_a_message_is_kept_delivered_and_marked(switch: MemorySwitch) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    assert anna.message("1002", "Lunch at twelve? 🍝") == 202
    switch.run()
    assert texts(bjorn) == [(f"sip:1001@{DOMAIN}", "Lunch at twelve? 🍝")]
    (message,) = bjorn.requests("MESSAGE")
    assert '"Anna"' in (message.headers.get("From") or "")
    (kept,) = chat.conversation(switch.store, company_id(switch), "1001", "1002")
    assert kept.body == "Lunch at twelve? 🍝" and kept.delivered_at is not None


def test_a_message_waits_for_the_next_registration(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    assert anna.message("1002", "call me when you are back") == 202
    assert anna.message("1002", "it is about the offer") == 202
    (waiting, _) = chat.pending(switch.store, company_id(switch), "1002")
    assert waiting.delivered_at is None
    bjorn = switch.phone("1002")  # registers: what waits comes in order
    switch.run()
    assert [text for _, text in texts(bjorn)] == [
        "call me when you are back", "it is about the offer",
    ]  # fmt: skip
    assert chat.pending(switch.store, company_id(switch), "1002") == []


def test_a_phone_that_refuses_leaves_it_waiting(switch: MemorySwitch) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    bjorn.takes_messages = False  # a desk phone without chat: it never answers 2xx
    assert anna.message("1002", "are you there?") == 202
    (message,) = bjorn.requests("MESSAGE")
    bjorn.reply(message, 405)
    switch.run()
    assert len(chat.pending(switch.store, company_id(switch), "1002")) == 1
    bjorn.takes_messages = True
    assert bjorn.register().status == 200
    switch.run()
    assert texts(bjorn)[-1][1] == "are you there?"
    assert chat.pending(switch.store, company_id(switch), "1002") == []


def test_what_is_refused(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    assert anna.message("1099", "hello") == 404  # nobody: the same as another company's
    assert anna.message("1001", "note to self") == 400
    assert anna.message("1002", "<b>hi</b>", content_type="text/html") == 415
    assert anna.message("1002", "   ") == 400
    assert anna.message("1002", "x" * (chat.MAX_BODY + 1)) == 400
    assert chat.pending(switch.store, company_id(switch), "1002") == []


def test_a_group_chat_reaches_every_member_and_a_reply_goes_to_the_group(
    switch: MemorySwitch,
) -> None:
    anna, bjorn, cilla = switch.phone("1001"), switch.phone("1002"), switch.phone("1003")
    company = company_id(switch)
    group = chat.create_group(switch.store, company, "1001", "Team", ["1002", "1003"])
    address = f"chat-{group.id}"
    assert anna.message(address, "Standup in five") == 202
    for phone in (bjorn, cilla):
        (got,) = phone.requests("MESSAGE")
        assert str(got.from_.uri) == f"sip:{address}@{DOMAIN}" and got.body == b"Standup in five"
        assert '"Anna (Team)"' in (got.headers.get("From") or "")
    assert anna.requests("MESSAGE") == []  # not to the writer's own phones
    assert bjorn.message(address, "On my way") == 202  # a reply to the group
    assert [m.body for m in anna.requests("MESSAGE")] == [b"On my way"]
    assert [m.body for m in cilla.requests("MESSAGE")][-1] == b"On my way"
    mine = chat.group_messages(switch.store, company, group.id, "1003")
    assert [(m.sender, m.body) for m in mine] == [("1001", "Standup in five"),
                                                  ("1002", "On my way")]  # fmt: skip
    outsider = switch.phone("1004")
    assert outsider.message(address, "let me in") == 404
    assert outsider.message("chat-999999", "anyone?") == 404
