"""P4, P8: a live call transferred through the API, with pjsua2 phones on a real
`vaxel serve` (`POST /api/v1/calls/{id}/transfer`).

Anna calls Björn, who answers. Björn's softphone (his API token) finds the call's id in
the live events and transfers Anna to Cecilia: Cecilia's phone rings showing Anna,
Björn's call ends when she answers, and Anna and Cecilia hear each other. Cecilia, not
yet on the call, is told there is no such call; an admin names whose side leaves.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.integration.acme import ALWAYS, DOMAIN, PASSWORDS, Mailbox, company
from tests.integration.peers import Server, rtp_ports
from tests.integration.pjsua import PjPhone, close_all
from tests.integration.test_pjsua_calls import talk
from vaxel.services import accounts, web_sessions
from vaxel.store import Store


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]) -> Iterator[Server]:
    data, _ = company(tmp_path_factory.mktemp("acme-transfer"), ALWAYS, smtp[0])
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server
    server.stop()


def token(server: Server, ext: str, role: str) -> str:
    """An API token (read, write, calls) of the user `ext`, made as the CLI would."""
    with Store.open(server.data) as store:
        account = accounts.set_user_account(
            store, DOMAIN, ext, password=f"web password {ext}", role=role
        )
        made, _ = web_sessions.create_token(
            store, account, f"softphone {ext}", ["read", "write", "calls"], datetime.now(UTC)
        )
    return made


class Events:
    """The live events as `who` sees them, read on a thread of its own."""

    def __init__(self, client: ClientConnection) -> None:
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, args=(client,), daemon=True).start()

    def _read(self, client: ClientConnection) -> None:
        try:
            for text in client:
                self.messages.put(json.loads(text))
        except ConnectionClosed:
            pass

    def next(self, kind: str, timeout: float = 15.0, **match: Any) -> dict[str, Any]:
        while True:
            message = self.messages.get(timeout=timeout)
            if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
                return message


@pytest.fixture
def phones(acme: Server) -> Iterator[dict[str, PjPhone]]:
    started: dict[str, PjPhone] = {}
    for ext in ("1001", "1002", "1003"):
        started[ext] = PjPhone(acme.address, ext, PASSWORDS[ext], DOMAIN)
    for phone in started.values():
        phone.registered()
    yield started
    close_all(list(started.values()))


def test_bjorn_transfers_anna_to_cecilia_from_the_api(
    acme: Server, phones: dict[str, PjPhone]
) -> None:
    anna, bjorn, cecilia = phones["1001"], phones["1002"], phones["1003"]
    mine, hers = token(acme, "1002", "user"), token(acme, "1003", "user")
    url = acme.web.replace("http://", "ws://", 1) + "/api/v1/events"
    with connect(url, additional_headers={"Authorization": f"Bearer {mine}"}) as client:
        events = Events(client)
        anna_call = anna.call("1002")
        ringing = bjorn.incoming()
        call_id = events.next("call.offered", caller="1001")["call_id"]
        bjorn.answer(ringing["call"])
        bjorn_call = int(ringing["call"])
        anna.state(anna_call, "CONFIRMED")
        events.next("call.answered", call_id=call_id)

    with httpx.Client(base_url=acme.web, timeout=30) as web:
        path = f"/api/v1/calls/{call_id}/transfer"
        cecilias = web.post(path, json={"to": "1001"}, headers={"Authorization": f"Bearer {hers}"})
        assert cecilias.status_code == 404, cecilias.text  # not her call: none at all
        bearer = {"Authorization": f"Bearer {mine}"}
        barred = web.post(path, json={"to": "0900123456"}, headers=bearer)
        assert barred.status_code == 403, barred.text
        other = web.post(path, json={"to": "1003", "party": "1001"}, headers=bearer)
        assert other.status_code == 403, other.text  # a user names only themselves
        done = web.post(path, json={"to": "1003"}, headers=bearer)
    assert done.status_code == 202, done.text
    assert done.json() == {"call_id": call_id, "party": "1002", "transferred": "1001", "to": "1003"}
    offered = cecilia.incoming()
    assert "sip:1001@" in offered["from"], offered  # Cecilia sees Anna calling
    cecilia.answer(offered["call"])
    cecilia_call = int(offered["call"])
    cecilia.state(cecilia_call, "CONFIRMED")
    bjorn.state(bjorn_call, "DISCONNECTED")  # the switch ended Björn's part
    talk(anna, anna_call, cecilia, cecilia_call, seed=51)
    anna.hangup(anna_call)
    cecilia.state(cecilia_call, "DISCONNECTED")


def test_an_admin_transfers_bjorn_away_from_anna(acme: Server, phones: dict[str, PjPhone]) -> None:
    """Anna is an admin on her own call: she names herself as the side that leaves, and
    Björn, whom she called, is put through to Cecilia."""
    anna, bjorn, cecilia = phones["1001"], phones["1002"], phones["1003"]
    admin = token(acme, "1001", "admin")
    url = acme.web.replace("http://", "ws://", 1) + "/api/v1/events"
    with connect(url, additional_headers={"Authorization": f"Bearer {admin}"}) as client:
        events = Events(client)
        anna_call = anna.call("1002")
        ringing = bjorn.incoming()
        call_id = events.next("call.offered", caller="1001")["call_id"]
        bjorn.answer(ringing["call"])
        bjorn_call = int(ringing["call"])
        anna.state(anna_call, "CONFIRMED")
        events.next("call.answered", call_id=call_id)
    with httpx.Client(base_url=acme.web, timeout=30) as web:
        done = web.post(
            f"/api/v1/calls/{call_id}/transfer", json={"to": "1003", "party": "1001"},
            headers={"Authorization": f"Bearer {admin}"},
        )  # fmt: skip
    assert done.status_code == 202, done.text
    assert (done.json()["party"], done.json()["transferred"]) == ("1001", "1002")
    offered = cecilia.incoming()
    assert "sip:1002@" in offered["from"], offered
    cecilia.answer(offered["call"])
    cecilia_call = int(offered["call"])
    cecilia.state(cecilia_call, "CONFIRMED")
    anna.state(anna_call, "DISCONNECTED")
    talk(bjorn, bjorn_call, cecilia, cecilia_call, seed=61)
    bjorn.hangup(bjorn_call)
