"""Agents (A5) on `vaxel serve` with pjsua2 phones: Björn pauses with *47N and a queued
caller is not offered to him; he unpauses with *47 and the call rings him. The same with
the login code of one queue (*46N, *45N), and with an admin's pause by the API (through
the web's process to the switch); the API's agents list is the switch's answer.

The company is Acme of tests/integration/acme.py with a server of its own, its "line"
queue (menu key 5, 30 s longest wait) given the login code 5; Björn (1002) is its member.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.integration.acme import ALWAYS, DESCRIPTION, DOMAIN, MAIN, PASSWORDS, Mailbox, company
from tests.integration.peers import Server, rtp_ports
from tests.integration.pjsua import PjPhone, close_all
from tests.integration.test_api_transfer import token
from tests.integration.test_wrap_up import queue_in
from vaxel.features.groups import RETRY_PAUSE

LINE = "5"  # the menu key of the queue, and its login code
AGENTS = f"/api/v1/companies/{DOMAIN}/agents"


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]) -> Iterator[Server]:
    old = 'line: {{members: ["1002"],'
    assert DESCRIPTION.count(old) == 1
    described = DESCRIPTION.replace(old, 'line: {{members: ["1002"], login_code: "5",')
    data, _ = company(tmp_path_factory.mktemp("acme-agents"), ALWAYS, smtp[0], described)
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server
    server.stop()


@pytest.fixture
def phones(acme: Server) -> Iterator[tuple[PjPhone, PjPhone]]:
    bjorn = PjPhone(acme.address, "1002", PASSWORDS["1002"], DOMAIN)
    anna = PjPhone(acme.address, "1001", PASSWORDS["1001"], DOMAIN, register=False)
    try:
        bjorn.registered()
        yield bjorn, anna
    finally:
        close_all([bjorn, anna])


def dial_code(phone: PjPhone, code: str) -> None:
    """A feature code: the switch answers, says "thank you" and hangs up."""
    call = phone.call(code)
    phone.state(call, "CONFIRMED")
    phone.state(call, "DISCONNECTED")


def not_offered_then_offered(server: Server, bjorn: PjPhone, anna: PjPhone, back: object) -> None:
    """Anna waits in the line queue and is not offered to Björn over two of the queue's
    tries; once `back()` ran, her call rings him at the queue's next try and he answers."""
    waiting = queue_in(server, anna, MAIN, LINE)
    assert bjorn.event("incoming", timeout=2 * RETRY_PAUSE + 1.0) is None
    back()  # type: ignore[operator]
    ringing = bjorn.incoming(timeout=RETRY_PAUSE + 3.0)
    bjorn.answer(ringing["call"])
    bjorn.state(ringing["call"], "CONFIRMED")
    anna.hangup(waiting)
    bjorn.state(ringing["call"], "DISCONNECTED")


def agents(server: Server) -> dict[str, dict[str, object]]:
    bearer = {"Authorization": f"Bearer {token(server, '1001', 'admin')}"}
    with httpx.Client(base_url=server.web, timeout=30) as web:
        listed = web.get(AGENTS, headers=bearer)
    assert listed.status_code == 200, listed.text
    return {agent["ext"]: agent for agent in listed.json()["items"]}


def test_a_paused_agent_is_offered_the_queued_call_once_he_unpauses(
    acme: Server, phones: tuple[PjPhone, PjPhone]
) -> None:
    bjorn, anna = phones
    dial_code(bjorn, "*472")  # a break
    assert agents(acme)["1002"]["state"] == {"state": "paused", "reason": "break",
                                             "diverted": False, "until": None}  # fmt: skip
    not_offered_then_offered(acme, bjorn, anna, lambda: dial_code(bjorn, "*47"))


def test_an_agent_logs_out_of_one_queue_by_its_code(
    acme: Server, phones: tuple[PjPhone, PjPhone]
) -> None:
    bjorn, anna = phones
    dial_code(bjorn, "*46" + LINE)
    queues = {q["group"]: q for q in agents(acme)["1002"]["queues"]}  # type: ignore[attr-defined]
    assert queues["line"]["logged_in"] is False and queues["queue"]["logged_in"] is True
    not_offered_then_offered(acme, bjorn, anna, lambda: dial_code(bjorn, "*45" + LINE + "#"))


def test_an_admin_pauses_and_unpauses_an_agent_by_the_api(
    acme: Server, phones: tuple[PjPhone, PjPhone]
) -> None:
    bjorn, anna = phones
    bearer = {"Authorization": f"Bearer {token(acme, '1001', 'admin')}"}
    with httpx.Client(base_url=acme.web, timeout=30, headers=bearer) as web:
        paused = web.put(f"{AGENTS}/1002/pause", json={"reason": "meeting"})
        assert paused.status_code == 200, paused.text

        def unpause() -> None:
            assert web.delete(f"{AGENTS}/1002/pause").status_code == 204

        not_offered_then_offered(acme, bjorn, anna, unpause)
