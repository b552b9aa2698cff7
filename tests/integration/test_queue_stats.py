"""Queue statistics (S9, A10) on `vaxel serve` with pjsua2 phones: a caller answered by the
queue's member after waiting, another who hangs up while queued, and the API's report of
the day says so (2 offered, 1 answered, 1 abandoned, the waits as they were).

The company is Acme of tests/integration/acme.py, with a server of its own so that no
other test's calls are counted: its main number's menu key 5 is the queue group "line"
(member 1002, Björn).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.acme import ALWAYS, DOMAIN, MAIN, PASSWORDS, Mailbox, company
from tests.integration.peers import Server, rtp_ports
from tests.integration.pjsua import PjPhone, close_all, hears
from tests.integration.test_api_transfer import token

CALLER = "+46701740605"


@pytest.fixture(scope="module")
def acme(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]
) -> Iterator[tuple[Server, int]]:
    data, trunk = company(tmp_path_factory.mktemp("acme-qstats"), ALWAYS, smtp[0])
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, trunk
    server.stop()


def queue_in(server: Server, phone: PjPhone, target: str) -> int:
    """`phone` calls the main number and picks the queue (key 5) once it hears the menu."""
    call = phone.call(target)
    phone.state(call, "CONFIRMED")
    assert hears(phone, call, server.data / "prompts" / DOMAIN / "menu.wav", 0.3)
    phone.press(call, "5")
    return call


def queue_phones(server: Server, trunk: int) -> list[PjPhone]:
    """Björn (the queue's member, registered), a caller from outside on the carrier's trunk,
    and Anna, who calls in without registering."""
    address = server.address
    return [
        PjPhone(address, "1002", PASSWORDS["1002"], DOMAIN),
        PjPhone(address, CALLER, "", "carrier.test", port=trunk, register=False, name="carrier"),
        PjPhone(address, "1001", PASSWORDS["1001"], DOMAIN, register=False),
    ]


def report(server: Server, admin: str, ready: Any, timeout: float = 15.0) -> dict[str, Any]:
    """The queue group's figures of today, once `ready(figures)` holds: the switch writes
    the visits and the call records behind the calls."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.web, timeout=30) as web:
        while True:
            response = web.get(
                f"/api/v1/companies/{DOMAIN}/statistics/queues",
                params={"group": "line"},
                headers={"Authorization": f"Bearer {admin}"},
            )
            assert response.status_code == 200, response.text
            groups = response.json()["groups"]
            if groups and ready(groups[0]):
                return dict(groups[0])
            assert time.monotonic() < deadline, f"the report did not come: {groups}"
            time.sleep(0.2)


def test_the_report_counts_an_answered_and_an_abandoned_queue_caller(
    acme: tuple[Server, int],
) -> None:
    server, trunk = acme
    admin = token(server, "1001", "admin")
    bjorn, carrier, anna = phones = queue_phones(server, trunk)
    try:
        bjorn.registered()
        first = queue_in(server, carrier, f"sip:{MAIN}@carrier.test")
        ringing = bjorn.incoming()  # Björn's phone rings for the first caller ...
        entered = time.monotonic()
        time.sleep(2.0)  # ... who waits while it rings (the wait being measured)
        bjorn.answer(ringing["call"])
        bjorn.state(ringing["call"], "CONFIRMED")
        answered_after = time.monotonic() - entered
        second = queue_in(server, anna, MAIN)  # Björn is busy: Anna waits in the queue ...
        time.sleep(3.0)
        anna.hangup(second)  # ... and gives up
        anna.state(second, "DISCONNECTED")
        time.sleep(1.0)  # the first call goes on a while: its handling time
        carrier.hangup(first)
        bjorn.state(ringing["call"], "DISCONNECTED")
    finally:
        close_all(phones)
    line = report(server, admin, lambda g: g["offered"] == 2 and g["handling_average"])
    assert (line["offered"], line["answered"], line["abandoned"]) == (2, 1, 1)
    assert (line["overflowed"], line["ended"]) == (0, 0)
    assert answered_after - 0.5 < line["wait_latest"] < answered_after + 2.0
    assert line["wait_average"] == line["wait_p90"] == line["wait_latest"]
    assert 2.5 < line["abandoned_wait_max"] < 6.0
    assert line["abandoned_wait_average"] == line["abandoned_wait_max"]
    assert line["service_level"] == 50.0  # 1 of 2 answered within 20 s
    assert 4.0 < line["handling_average"] < 15.0  # Björn's talk: Anna's wait and a second


def test_a_queued_caller_hears_the_estimated_wait_once_a_call_was_handled(
    acme: tuple[Server, int], system_prompts: Path
) -> None:
    """A5 with phones we did not write: after the group handled a call (a few seconds), the
    next caller in line hears their place and then "The estimated waiting time is less
    than a minute." (the group's handling time, one member logged in)."""
    server, trunk = acme
    bjorn, carrier, anna = phones = queue_phones(server, trunk)
    try:
        bjorn.registered()
        for handled in (True, False):  # the first call is handled; Björn talks in the second
            call = queue_in(server, carrier, f"sip:{MAIN}@carrier.test")
            ringing = bjorn.incoming()
            bjorn.answer(ringing["call"])
            bjorn.state(ringing["call"], "CONFIRMED")
            if handled:
                time.sleep(1.0)
                carrier.hangup(call)
                bjorn.state(ringing["call"], "DISCONNECTED")
        waiting = queue_in(server, anna, MAIN)  # Björn is busy: Anna is first in line
        english = system_prompts / "en"
        assert hears(anna, waiting, english / "you-are-number.wav", 0.5)
        assert hears(anna, waiting, english / "wait-under-a-minute.wav", 1.0)
        anna.hangup(waiting)
        carrier.hangup(call)
    finally:
        close_all(phones)
