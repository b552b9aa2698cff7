"""Live events over a WebSocket (P8), against the real server: who may listen (cookie with
a same-site Origin, a token in the header or as the first message), company isolation,
the provider's scope, what a plain user sees of colleagues, order and `seq`, and a slow
client dropped (1013) without holding up the others."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from tests.web.conftest import Web
from vaxel.bus import (
    AgentPaused,
    BoxChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallRinging,
    DeviceRegistration,
    DiversionChanged,
    ForwardingChanged,
    GroupLogin,
)
from vaxel.services import companies
from vaxel.store import Store
from vaxel.web import events

PATH = "/api/v1/events"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only: what is tested here is the stream, not the database (the session and
    token checks it uses run on both in test_session.py)."""
    opened = Store.open(tmp_path)
    yield opened
    opened.close()


def company_id(web: Web, domain: str) -> int:
    return companies.get_company(web.store, domain).id


def url(web: Web, query: str = "") -> str:
    return web.base.replace("http://", "ws://", 1) + PATH + query


def cookie_of(web: Web, login: str) -> str:
    with web.login(login) as client:
        value = client.cookies.get("vaxel_session")
    assert value
    return value


def token_of(web: Web, login: str, scopes: tuple[str, ...] = ("read",)) -> str:
    with web.token(login, list(scopes)) as client:
        return client.headers["Authorization"].split()[1]


@contextmanager
def listen(web: Web, login: str, query: str = "") -> Iterator[ClientConnection]:
    """A client that sent its token as the first message and got its hello."""
    with connect(url(web, query), open_timeout=10) as client:
        client.send(json.dumps({"token": token_of(web, login)}))
        hello = receive(client)
        assert hello["type"] == "hello" and hello["seq"] == 1, hello
        yield client


def refused(web: Web, login: str, query: str = "") -> int | None:
    """The close code a client gets after sending its token."""
    with connect(url(web, query), open_timeout=10) as client:
        client.send(json.dumps({"token": token_of(web, login)}))
        return closed_with(client)


def receive(client: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    message = json.loads(client.recv(timeout=timeout))
    assert isinstance(message, dict)
    return message


def closed_with(client: ClientConnection, timeout: float = 10) -> int | None:
    """Read until the server closes; its close code."""
    try:
        while True:
            client.recv(timeout=timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


def offered(company: int, call_id: str, caller: str = "1001", callee: str = "1002") -> CallOffered:
    return CallOffered(company, call_id, caller, "Anna", callee, time.time())


# -- who may listen -------------------------------------------------------------------------


def test_without_a_cookie_or_token_the_stream_is_refused(web: Web) -> None:
    with connect(url(web), open_timeout=10) as client:
        client.send(json.dumps({"hello": "there"}))
        assert closed_with(client) == events.POLICY
    with connect(url(web), open_timeout=10) as client:
        client.send(json.dumps({"token": "vxl_not-a-token"}))
        assert closed_with(client) == events.POLICY
    with pytest.raises(InvalidStatus) as refused:
        connect(url(web), additional_headers={"Authorization": "Bearer vxl_nope"})
    assert refused.value.response.status_code == 403


def test_a_token_without_read_is_refused(web: Web) -> None:
    token = token_of(web, "1001@acme.example", ("calls",))
    with connect(url(web), open_timeout=10) as client:
        client.send(json.dumps({"token": token}))
        assert closed_with(client) == events.POLICY


def test_a_session_cookie_from_the_same_site_is_accepted_a_cross_site_origin_refused(
    web: Web,
) -> None:
    cookie = {"Cookie": f"vaxel_session={cookie_of(web, '1001@acme.example')}"}
    same = web.base  # http://127.0.0.1:PORT, the Host the client sends
    with connect(url(web), additional_headers=cookie, origin=same) as client:  # type: ignore[arg-type]
        hello = receive(client)
    assert hello["company"] == "acme.example" and hello["role"] == "admin"
    for origin in ("https://evil.example", same.replace("127.0.0.1", "localhost"), "null"):
        with pytest.raises(InvalidStatus) as refused:
            connect(url(web), additional_headers=cookie, origin=origin)  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403


def test_a_token_in_the_authorization_header_is_accepted(web: Web) -> None:
    headers = {"Authorization": f"Bearer {token_of(web, '2001@other.example')}"}
    with connect(url(web), additional_headers=headers, open_timeout=10) as client:
        assert receive(client)["company"] == "other.example"


def test_same_origin_compares_host_and_port() -> None:
    assert events.same_origin("http://pbx.example", "pbx.example")
    assert events.same_origin("https://PBX.example", "pbx.example:443")
    assert events.same_origin("http://[::1]:8080", "[::1]:8080")
    assert not events.same_origin("http://pbx.example:8080", "pbx.example")
    assert not events.same_origin("http://pbx.example.evil", "pbx.example")
    assert not events.same_origin("null", "pbx.example")
    assert not events.same_origin("ftp://pbx.example", "pbx.example")


# -- scope ------------------------------------------------------------------------------------


def test_a_company_never_gets_another_companys_events(web: Web) -> None:
    acme, other = company_id(web, "acme.example"), company_id(web, "other.example")
    with listen(web, "1001@acme.example") as anna, listen(web, "2001@other.example") as olle:
        web.publish(offered(acme, "secret"), offered(other, "mine", "2001"), offered(acme, "end"))
        assert [receive(anna)["call_id"] for _ in range(2)] == ["secret", "end"]
        got = receive(olle)
        assert got["call_id"] == "mine" and got["company"] == "other.example"
        web.publish(offered(other, "marker", "2001"))
        assert receive(olle)["call_id"] == "marker"  # nothing of acme's came in between


def test_a_company_admin_cannot_ask_for_another_company(web: Web) -> None:
    with listen(web, "1001@acme.example", "?company=acme.example"):
        pass
    assert refused(web, "1001@acme.example", "?company=other.example") == events.POLICY


def test_a_provider_admin_watches_a_company_or_every_company(web: Web) -> None:
    acme, other = company_id(web, "acme.example"), company_id(web, "other.example")
    with (
        listen(web, "provider@vaxel.test", "?company=other.example") as one,
        listen(web, "provider@vaxel.test", "?company=*") as every,
    ):
        web.publish(offered(acme, "a1"), offered(other, "o1", "2001"))
        assert receive(one)["call_id"] == "o1"
        both = [receive(every) for _ in range(2)]
        assert [(m["company"], m["call_id"]) for m in both] == [
            ("acme.example", "a1"),
            ("other.example", "o1"),
        ]
    assert refused(web, "provider@vaxel.test") == events.POLICY  # no ?company=: say which


def test_a_plain_user_sees_colleagues_line_state_but_not_their_private_details(
    web: Web,
) -> None:
    acme = company_id(web, "acme.example")
    now = time.time()
    with listen(web, "1002@acme.example") as bo, listen(web, "1001@acme.example") as admin:
        web.publish(
            DeviceRegistration(acme, "1001", "registered", "sip:1001@192.0.2.7", "Yealink",
                               now + 3600, now),
            DeviceRegistration(acme, "1002", "registered", "sip:1002@192.0.2.8", "baresip",
                               now + 3600, now),
            ForwardingChanged(acme, "1001", "always", "+46701234567", now),
            BoxChanged(acme, "1001"),
            DiversionChanged(acme, "1001", "lunch", "", now + 3600, now),
            GroupLogin(acme, "sales", "1003", False, now),
        )  # fmt: skip
        seen = [receive(bo) for _ in range(5)]
        for_admin = [receive(admin) for _ in range(6)]
        web.publish(BoxChanged(acme, "1002"))
        own_box = receive(bo)
    theirs, own, forwarding, diversion, group = seen
    assert theirs["type"] == "registration" and theirs["extension"] == "1001"
    assert "contact" not in theirs and "user_agent" not in theirs
    assert own["contact"] == "sip:1002@192.0.2.8" and own["user_agent"] == "baresip"
    assert forwarding["type"] == "forwarding.set" and "to" not in forwarding
    assert diversion["type"] == "diversion.set" and diversion["status"] == "lunch"
    assert group["type"] == "group.logout" and group["extension"] == "1003"
    assert own_box["type"] == "voicemail" and own_box["box"] == "1002"
    assert (own_box["new"], own_box["old"]) == (0, 0)
    # The admin sees everything, the number and 1001's box included (voicemail counts are
    # read from the database first, so they may come after later events).
    assert sorted(m["type"] for m in for_admin) == [
        "diversion.set", "forwarding.set", "group.logout", "registration", "registration",
        "voicemail",
    ]  # fmt: skip
    assert next(m for m in for_admin if m["type"] == "forwarding.set")["to"] == "+46701234567"


def test_a_colleagues_pause_is_seen_by_every_user(web: Web) -> None:
    """A5: what the wallboard and console show: who paused, why, and who unpaused."""
    acme = company_id(web, "acme.example")
    now = time.time()
    with listen(web, "1002@acme.example") as bo:
        web.publish(AgentPaused(acme, "1003", "lunch", now), AgentPaused(acme, "1003", None, now))
        paused, unpaused = receive(bo), receive(bo)
    assert paused["type"] == "agent.paused"
    assert (paused["extension"], paused["reason"]) == ("1003", "lunch")
    assert unpaused["type"] == "agent.unpaused" and "reason" not in unpaused


def test_shared_box_counts_go_to_its_members_only(web: Web) -> None:
    acme = company_id(web, "acme.example")
    with listen(web, "1002@acme.example") as bo:
        web.publish(
            BoxChanged(acme, "reception", shared=True, members=("1001",)),
            BoxChanged(acme, "sales", shared=True, members=("1002", "1003")),
        )
        got = receive(bo)
    assert got["box"] == "sales" and got["shared"] is True


# -- delivery ---------------------------------------------------------------------------------


def test_events_arrive_in_order_with_a_monotonic_seq(web: Web) -> None:
    acme = company_id(web, "acme.example")
    now = time.time()
    with listen(web, "1001@acme.example") as client:
        web.publish(
            offered(acme, "c1"),
            CallRinging(acme, "c1", "1002", "Bo User", now),
            CallAnswered(acme, "c1", "1002", now),
            CallEnded(acme, "c1", "1001", "1002", "1002", "answered", "caller", 200,
                      "Normal clearing", now - 5, now - 4, now),
        )  # fmt: skip
        web.publish(*(offered(acme, f"n{i}") for i in range(200)))
        messages = [receive(client) for _ in range(204)]
    assert [m["seq"] for m in messages] == list(range(2, 206))
    assert [m["type"] for m in messages[:4]] == [
        "call.offered", "call.ringing", "call.answered", "call.ended",
    ]  # fmt: skip
    assert [m["call_id"] for m in messages[4:]] == [f"n{i}" for i in range(200)]
    ended = messages[3]
    assert ended["cause"] == {"code": 200, "text": "Normal clearing"}
    assert ended["disposition"] == "answered" and ended["answered_at"] == now - 4


class StalledClient:
    """A WebSocket client that stops reading after its hello (sans-I/O, on a raw socket with
    a small receive buffer, so the server's writes back up at once)."""

    def __init__(self, web: Web, token: str) -> None:
        self.protocol = ClientProtocol(parse_uri(url(web)))
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", int(web.base.rsplit(":", 1)[1])))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        self.messages = 0
        while self.protocol.state is not State.OPEN:  # the handshake's answer
            self._read()
        self.protocol.send_text(json.dumps({"token": token}).encode())
        self._flush()
        while self.messages < 1:  # the hello
            self._read()

    def _flush(self) -> None:
        self.sock.sendall(b"".join(self.protocol.data_to_send()))

    def _read(self) -> None:
        self.protocol.receive_data(self.sock.recv(65536))
        self.messages += sum(isinstance(e, Frame) for e in self.protocol.events_received())
        self._flush()  # pongs, and the answer to a close

    def close_code(self, timeout: float) -> int | None:
        """Read again, until the server's close; its code."""
        deadline = time.monotonic() + timeout
        while self.protocol.close_rcvd is None and time.monotonic() < deadline:
            self._read()
        self.sock.close()
        return self.protocol.close_rcvd.code if self.protocol.close_rcvd is not None else None


def test_a_slow_client_is_dropped_and_the_others_keep_up(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "QUEUE_LIMIT", 50)
    acme = company_id(web, "acme.example")
    stalled = StalledClient(web, token_of(web, "1001@acme.example"))
    with listen(web, "1001@acme.example") as fast:
        # 2000 events of 4 kB, 25 at a time, read as they come: 8 MB, more than the
        # kernel holds for the stalled client (a send buffer of at most 4 MB here).
        padding, got = "x" * 4000, []
        started = time.monotonic()
        for batch in range(80):
            web.publish(*(offered(acme, f"c{batch}.{i}", callee=padding) for i in range(25)))
            got += [receive(fast)["call_id"] for _ in range(25)]
        took = time.monotonic() - started
    assert got == [f"c{batch}.{i}" for batch in range(80) for i in range(25)]
    assert took < 20
    assert stalled.close_code(timeout=60) == events.TRY_AGAIN
    assert stalled.messages < 1 + 2000


def test_changes_made_through_the_api_are_events(web: Web) -> None:
    """A diversion, a forwarding and a group logout set through the API reach the stream
    (the phone's feature codes publish the same, from the switch)."""
    with listen(web, "1001@acme.example") as admin, web.login("1002@acme.example") as bo:
        bo.put("/api/v1/me/diversion", json={"text": "Lunch", "scope": "fixed"})
        bo.put("/api/v1/me/forwarding", json={"busy": "1003"})
        bo.put("/api/v1/companies/acme.example/groups/sales/members/1002",
               json={"logged_in": False})  # fmt: skip
        bo.delete("/api/v1/me/diversion")
        seen = [receive(admin) for _ in range(4)]
    assert [(m["type"], m["extension"]) for m in seen] == [
        ("diversion.set", "1002"), ("forwarding.set", "1002"), ("group.logout", "1002"),
        ("diversion.cleared", "1002"),
    ]  # fmt: skip
    assert seen[0]["status"] == "lunch" and seen[1]["to"] == "1003"
    assert seen[0]["scope"] == "fixed"  # colleagues see which calls it applies to (U9)


def test_a_chat_message_goes_to_its_two_parties_only_even_past_an_admin(web: Web) -> None:
    """U4: Bo writes to Cia; Bo sees it live (his other devices follow); Anna, an admin,
    does not."""
    from datetime import UTC, datetime

    from vaxel.bus import ChatKept
    from vaxel.services.chat import Message

    acme = company_id(web, "acme.example")
    now = time.time()
    message = Message(7, "1002", "1003", "Fika?", datetime.now(UTC), None, None)
    with listen(web, "1002@acme.example") as bo, listen(web, "1001@acme.example") as anna:
        web.publish(ChatKept(acme, message, now), GroupLogin(acme, "sales", "1003", True, now))
        got = receive(bo)
        first_for_anna = receive(anna)
    assert got["type"] == "chat.message"
    assert (got["sender"], got["recipient"], got["text"]) == ("1002", "1003", "Fika?")
    assert first_for_anna["type"] == "group.login"  # the chat never reached her
