"""Wrap-up (A5) on `vaxel serve` with pjsua2 phones: after Björn's call from a queue ends,
the next caller in line does not ring him until his wrap-up is over, and the feature code
*48, or the API's `POST /api/v1/me/wrap-up/end` (through the web's link to the switch),
ends a wrap-up early.

The company is Acme of tests/integration/acme.py with a server of its own, its queues given
a wrap-up: "line" (menu key 5) 3 s, "queue" (key 4) 30 s; Björn (1002) is their member.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.acme import ALWAYS, DESCRIPTION, DOMAIN, MAIN, PASSWORDS, Mailbox, company
from tests.integration.peers import Server, rtp_ports
from tests.integration.pjsua import PjPhone, close_all, hears
from tests.integration.test_api_transfer import token
from vaxel.features.groups import RETRY_PAUSE

CALLER = "+46701740605"
LINE, QUEUE = "5", "4"  # the menu keys of the two queues
LINE_WRAP_UP, QUEUE_WRAP_UP = 3.0, 30.0


def wrapping_up() -> str:
    """Acme's description with the queues' wrap-ups."""
    described = DESCRIPTION
    for old, seconds in (("max_wait: 12}}", QUEUE_WRAP_UP), ("max_wait: 30}}", LINE_WRAP_UP)):
        assert described.count(old) == 1, old
        described = described.replace(old, f"max_wait: {old[10:12]}, wrap_up: {seconds}}}}}")
    return described


@pytest.fixture(scope="module")
def acme(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]
) -> Iterator[tuple[Server, int]]:
    data, trunk = company(tmp_path_factory.mktemp("acme-wrap-up"), ALWAYS, smtp[0], wrapping_up())
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, trunk
    server.stop()


def queue_in(server: Server, phone: PjPhone, target: str, key: str) -> int:
    """`phone` calls the main number and picks a queue once it hears the menu."""
    call = phone.call(target)
    phone.state(call, "CONFIRMED")
    assert hears(phone, call, server.data / "prompts" / DOMAIN / "menu.wav", 0.3)
    phone.press(call, key)
    return call


def handled(server: Server, bjorn: PjPhone, carrier: PjPhone, key: str) -> float:
    """A caller from outside reaches Björn through a queue, talks a second and hangs up;
    the moment just before the hangup (the switch ends the call, and starts the wrap-up,
    after it)."""
    call = queue_in(server, carrier, f"sip:{MAIN}@carrier.test", key)
    ringing = bjorn.incoming()
    bjorn.answer(ringing["call"])
    bjorn.state(ringing["call"], "CONFIRMED")
    time.sleep(1.0)  # the talk
    ending = time.monotonic()
    carrier.hangup(call)
    bjorn.state(ringing["call"], "DISCONNECTED")
    return ending


@pytest.fixture
def phones(acme: tuple[Server, int]) -> Iterator[tuple[PjPhone, PjPhone, PjPhone]]:
    server, trunk = acme
    address = server.address
    bjorn = PjPhone(address, "1002", PASSWORDS["1002"], DOMAIN)
    carrier = PjPhone(address, CALLER, "", "carrier.test", port=trunk,
                      register=False, name="carrier")  # fmt: skip
    anna = PjPhone(address, "1001", PASSWORDS["1001"], DOMAIN, register=False)
    try:
        bjorn.registered()
        yield bjorn, carrier, anna
    finally:
        close_all([bjorn, carrier, anna])


def test_the_next_queue_caller_rings_the_agent_only_after_his_wrap_up(
    acme: tuple[Server, int], phones: tuple[PjPhone, PjPhone, PjPhone]
) -> None:
    server, _ = acme
    bjorn, carrier, anna = phones
    ending = handled(server, bjorn, carrier, LINE)
    waiting = queue_in(server, anna, MAIN, LINE)  # Anna is first in line at once
    ringing = bjorn.incoming(timeout=LINE_WRAP_UP + RETRY_PAUSE + 5.0)
    rung_after = time.monotonic() - ending
    assert rung_after >= LINE_WRAP_UP  # not a moment earlier (the switch's end came later)
    assert rung_after < LINE_WRAP_UP + RETRY_PAUSE + 2.0  # and at the queue's next try
    anna.hangup(waiting)  # (unanswered: no wrap-up left for the next test)
    bjorn.state(ringing["call"], "DISCONNECTED")


@pytest.mark.parametrize("by", ["code", "api"])
def test_the_agent_ends_the_wrap_up_early(
    acme: tuple[Server, int], phones: tuple[PjPhone, PjPhone, PjPhone], by: str
) -> None:
    server, _ = acme
    bjorn, carrier, anna = phones
    handled(server, bjorn, carrier, QUEUE)  # 30 s of wrap-up now
    waiting = queue_in(server, anna, MAIN, QUEUE)  # (she overflows after 12 s)
    assert bjorn.event("incoming", timeout=2.0) is None  # Björn is not offered her call
    if by == "code":
        code = bjorn.call("*48")
        bjorn.state(code, "CONFIRMED")
        bjorn.state(code, "DISCONNECTED")  # "thank you", and the switch hangs up
    else:
        bearer = {"Authorization": f"Bearer {token(server, '1002', 'user')}"}
        with httpx.Client(base_url=server.web, timeout=30) as web:
            ended_by_api = web.post("/api/v1/me/wrap-up/end", headers=bearer)
        assert ended_by_api.status_code == 204, ended_by_api.text
    ended = time.monotonic()
    ringing = bjorn.incoming(timeout=RETRY_PAUSE + 3.0)  # long before the 30 s
    assert time.monotonic() - ended < RETRY_PAUSE + 2.0
    anna.hangup(waiting)  # (unanswered: no wrap-up left for the next test)
    bjorn.state(ringing["call"], "DISCONNECTED")
