"""P8 live events end to end: a real `vaxel serve`, a WebSocket client on its web port,
and two third-party phones (pjsua2) registering and calling each other. The stream shows
each phone's registration, then the call offered, ringing, answered and ended."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.integration.peers import Server, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone, close_all
from vaxel.services import accounts, web_sessions
from vaxel.store import Store

DOMAIN = "events.vaxel.test"
USERS = {"1001": ("Anna Svensson", "anna-secret-1"), "1002": ("Björn Karlsson", "bjorn-secret-2")}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("vaxel-events")
    assert vaxel_cli(folder, "company", "add", DOMAIN, "--name", "Events AB").returncode == 0
    for ext, (name, password) in USERS.items():
        added = vaxel_cli(folder, "user", "add", "--company", DOMAIN, "--ext", ext,
                          "--name", name, "--password", password)  # fmt: skip
        assert added.returncode == 0, added.stderr
    return folder


@pytest.fixture(scope="module")
def server(data: Path) -> Iterator[Server]:
    srv = Server(data).start("--rtp-ports", rtp_ports())
    yield srv
    srv.stop()


@pytest.fixture
def token(data: Path) -> str:
    """An API token of the company's admin (read), made as the CLI would, beside the switch."""
    store = Store.open(data)
    try:
        account = accounts.set_user_account(
            store, DOMAIN, "1001", password="correct horse battery", role="admin"
        )
        now = datetime.now(UTC)
        made, _ = web_sessions.create_token(store, account, "events", ["read"], now)
    finally:
        store.close()
    return made


class Stream:
    """The WebSocket, read on a thread of its own so the phones never wait for it."""

    def __init__(self, client: ClientConnection) -> None:
        self.client = client
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for text in self.client:
                self.messages.put(json.loads(text))
        except ConnectionClosed:
            pass

    def until(self, kind: str, timeout: float = 15.0, **match: Any) -> list[dict[str, Any]]:
        """Every message up to and including the first of `kind` that matches."""
        taken = []
        while True:
            message = self.messages.get(timeout=timeout)
            taken.append(message)
            if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
                return taken


def test_registrations_and_a_call_stream_live(server: Server, token: str) -> None:
    assert server.web, server.output
    url = server.web.replace("http://", "ws://", 1) + "/api/v1/events"
    phones: list[PjPhone] = []
    with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as client:
        stream = Stream(client)
        hello = stream.until("hello")[-1]
        assert (hello["seq"], hello["company"], hello["role"]) == (1, DOMAIN, "admin")
        try:
            for ext in ("1002", "1001"):
                phone = PjPhone(server.address, ext, USERS[ext][1], DOMAIN)
                phones.append(phone)
                phone.registered()
                registered = stream.until("registration", extension=ext)[-1]
                assert registered["state"] == "registered"
                assert registered["contact"].startswith(f"sip:{ext}@")
            bjorn, anna = phones
            call = anna.call("1002")
            ringing = bjorn.incoming()
            offered = stream.until("call.offered")[-1]
            assert (offered["caller"], offered["caller_name"], offered["callee"]) == (
                "1001", "Anna Svensson", "1002",
            )  # fmt: skip
            rang = stream.until("call.ringing")[-1]
            assert rang["party"] == "1002" and rang["call_id"] == offered["call_id"]
            bjorn.answer(ringing["call"])
            anna.state(call, "CONFIRMED")
            answered = stream.until("call.answered")[-1]
            assert answered["answered_by"] == "1002"
            anna.hangup(call)
            ended = stream.until("call.ended")[-1]
            assert ended["call_id"] == offered["call_id"]
            assert (ended["disposition"], ended["hangup_side"]) == ("answered", "caller")
            assert ended["cause"]["code"] == 200
            assert ended["ended_at"] >= ended["answered_at"] >= ended["started_at"]
            seqs = [hello["seq"]]
            seqs += [m["seq"] for m in (offered, rang, answered, ended)]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        finally:
            close_all(phones)
