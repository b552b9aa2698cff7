"""A user's chats through the API (U4): written, listed as conversations with unread
counts, read back page by page, marked read; the switch is asked to deliver each one;
another company's extension, oneself and a provider admin get nothing."""

from __future__ import annotations

import threading

from tests.web.conftest import Web
from vaxel.bus import ChatSent

BASE = "/api/v1/me/chats"


def test_a_conversation_is_written_listed_read_and_marked(web: Web) -> None:
    sent: list[ChatSent] = []
    seen = threading.Event()

    def told(event: ChatSent) -> None:
        sent.append(event)
        seen.set()

    web.bus.subscribe(ChatSent, told)
    with web.login("1002@acme.example") as bo:
        first = bo.post(f"{BASE}/1001", json={"text": "Fika at three?"})
        bo.post(f"{BASE}/1001", json={"text": "In the kitchen"})
        other = bo.post(f"{BASE}/2001", json={"text": "hello"})  # Other AB's user
        own = bo.post(f"{BASE}/1002", json={"text": "note to self"})
        empty = bo.post(f"{BASE}/1001", json={"text": ""})
    assert first.status_code == 201, first.text
    assert first.json()["text"] == "Fika at three?" and first.json()["delivered_at"] is None
    assert other.status_code == 404 and own.status_code == 422 and empty.status_code == 422
    assert seen.wait(5) and sent[0].messages[0].body == "Fika at three?"
    assert sent[0].domain == "acme.example"

    with web.login("1001@acme.example") as anna:
        (conversation,) = anna.get(BASE).json()["items"]
        newest = anna.get(f"{BASE}/1002", params={"limit": 1}).json()["items"]
        older = anna.get(f"{BASE}/1002", params={"before": newest[0]["id"]}).json()["items"]
        marked = anna.post(f"{BASE}/1002/read").json()
        after = anna.get(BASE).json()["items"]
        anna.post(f"{BASE}/1002", json={"text": "Yes!"})
    assert (conversation["with"], conversation["name"]) == ("1002", "Bo User")
    assert conversation["unread"] == 2 and conversation["last"]["text"] == "In the kitchen"
    assert [m["text"] for m in newest] == ["In the kitchen"]
    assert [m["text"] for m in older] == ["Fika at three?"]
    assert marked == {"marked": 2} and after[0]["unread"] == 0

    with web.login("1002@acme.example") as bo:
        mine = bo.get(f"{BASE}/1001").json()["items"]
    assert [(m["sender"], m["text"]) for m in mine] == [
        ("1002", "Fika at three?"), ("1002", "In the kitchen"), ("1001", "Yes!"),
    ]  # fmt: skip
    assert mine[0]["read_at"] is not None and mine[2]["read_at"] is None
    with web.login("2001@other.example") as olle:
        assert olle.get(BASE).json()["items"] == []
        assert olle.get(f"{BASE}/1001").status_code == 404
    with web.login("provider@vaxel.test") as provider:
        assert provider.get(BASE).status_code == 404


def test_a_group_chat_through_the_api(web: Web) -> None:
    groups = "/api/v1/me/chat-groups"
    sent: list[ChatSent] = []
    seen = threading.Event()
    web.bus.subscribe(ChatSent, lambda event: (sent.append(event), seen.set()))
    with web.login("1002@acme.example") as bo:
        bad = bo.post(groups, json={"name": "Team", "members": ["1001", "2001"]})
        made = bo.post(groups, json={"name": "Team", "members": ["1001", "1003"]})
        group = made.json()
        written = bo.post(f"{groups}/{group['id']}/messages", json={"text": "Fika?"})
    assert bad.status_code == 422 and "members.1" in bad.json()["detail"]
    assert made.status_code == 201 and group["members"] == ["1001", "1002", "1003"]
    assert group["address"] == f"sip:chat-{group['id']}@acme.example"
    assert written.status_code == 201 and written.json()["recipient"] == "1002"
    assert seen.wait(5) and sent[0].group_name == "Team" and len(sent[0].messages) == 3
    with web.login("1001@acme.example") as anna:
        (listed,) = anna.get(groups).json()["items"]
        got = anna.get(f"{groups}/{group['id']}/messages").json()["items"]
        marked = anna.post(f"{groups}/{group['id']}/read").json()
        assert anna.delete(f"{groups}/{group['id']}/membership").status_code == 204
        assert anna.get(f"{groups}/{group['id']}/messages").status_code == 404
    assert listed["unread"] == 1 and [m["text"] for m in got] == ["Fika?"]
    assert marked == {"marked": 1}
    with web.login("2001@other.example") as olle:
        assert olle.get(f"{groups}/{group['id']}/messages").status_code == 404
