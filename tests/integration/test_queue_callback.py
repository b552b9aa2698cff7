"""A callback that keeps its place (A5, A1) on `vaxel serve` with pjsua2 phones: three
callers and one agent.

Björn (1002), the queue's only member, is logged out while three callers line up: one from
outside, then Cecilia (1003), then Anna (1001). Cecilia presses 2, confirms her own number
and hangs up. Björn logs in and is offered the callers in the order they came: the caller
from outside, then Cecilia's kept place (his phone rings first, showing her number, and
only once he answered is her phone called; she hears the greeting, then him), then Anna.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.acme import ALWAYS, DESCRIPTION, DOMAIN, MAIN, PASSWORDS, Mailbox, company
from tests.integration.peers import Server, rtp_ports
from tests.integration.pjsua import PjPhone, close_all, hears

CALLER = "+46701740605"
LINE = "5"  # the menu key of the "line" queue
OLD = "queue: {{announce_every: 20, max_wait: 30}}"
NEW = "queue: {{announce_every: 20, max_wait: 240, callback: {{key: '2'}}}}"


@pytest.fixture(scope="module")
def acme(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]
) -> Iterator[tuple[Server, int]]:
    assert DESCRIPTION.count(OLD) == 1
    described = DESCRIPTION.replace(OLD, NEW)
    data, trunk = company(tmp_path_factory.mktemp("acme-callback"), ALWAYS, smtp[0], described)
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, trunk
    server.stop()


@pytest.fixture
def phones(acme: tuple[Server, int]) -> Iterator[list[PjPhone]]:
    server, trunk = acme
    address = server.address
    made = [
        PjPhone(address, "1002", PASSWORDS["1002"], DOMAIN),
        PjPhone(address, CALLER, "", "carrier.test", port=trunk, register=False, name="carrier"),
        PjPhone(address, "1003", PASSWORDS["1003"], DOMAIN),
        PjPhone(address, "1001", PASSWORDS["1001"], DOMAIN, register=False),
    ]
    try:
        made[0].registered()
        made[2].registered()
        yield made
    finally:
        close_all(made)


def code(phone: PjPhone, dialled: str) -> None:
    """A feature code: the switch confirms and hangs up."""
    call = phone.call(dialled)
    phone.state(call, "CONFIRMED")
    phone.state(call, "DISCONNECTED", timeout=15.0)


def queue_in(server: Server, phone: PjPhone, target: str, system: Path) -> int:
    """`phone` calls the main number, picks the queue, and hears the callback offered."""
    call = phone.call(target)
    phone.state(call, "CONFIRMED")
    assert hears(phone, call, server.data / "prompts" / DOMAIN / "menu.wav", 0.3)
    phone.press(call, LINE)
    assert hears(phone, call, system / "callback-offer.wav", 0.5, wait=15.0)
    return call


def test_the_callback_keeps_its_place_and_the_agent_is_connected_first(
    acme: tuple[Server, int], phones: list[PjPhone], system_prompts: Path
) -> None:
    server, _ = acme
    bjorn, outside, cecilia, anna = phones
    en = system_prompts / "en"
    code(bjorn, "*46")  # nobody to take the calls: they wait in line
    first = queue_in(server, outside, f"sip:{MAIN}@carrier.test", en)
    second = queue_in(server, cecilia, MAIN, en)
    third = queue_in(server, anna, MAIN, en)

    cecilia.press(second, "2")  # a callback, please
    assert hears(cecilia, second, en / "callback-number-is.wav", 0.5)
    cecilia.press(second, "1")  # to my own number
    assert hears(cecilia, second, en / "callback-booked.wav", 0.5)
    cecilia.state(second, "DISCONNECTED", timeout=15.0)

    code(bjorn, "*45")  # Björn logs in: the first caller's turn
    ringing = bjorn.incoming(timeout=15.0)
    assert CALLER in ringing["from"]
    bjorn.answer(ringing["call"])
    bjorn.state(ringing["call"], "CONFIRMED")
    outside.hangup(first)
    bjorn.state(ringing["call"], "DISCONNECTED")

    ringing = bjorn.incoming(timeout=15.0)  # Cecilia's kept place, before Anna
    assert "1003" in ringing["from"], ringing
    assert cecilia.event("incoming", timeout=2.0) is None, "called back before the agent"
    bjorn.answer(ringing["call"])
    bjorn.state(ringing["call"], "CONFIRMED")
    assert hears(bjorn, ringing["call"], en / "callback-for.wav", 0.5)
    called = cecilia.incoming(timeout=15.0)
    cecilia.answer(called["call"])
    cecilia.state(called["call"], "CONFIRMED")
    assert hears(cecilia, called["call"], en / "callback-greeting.wav", 1.0)
    cecilia.hangup(called["call"])
    bjorn.state(ringing["call"], "DISCONNECTED")

    ringing = bjorn.incoming(timeout=15.0)  # then Anna, who waited behind the kept place
    assert "1001" in ringing["from"], ringing
    anna.hangup(third)
    bjorn.state(ringing["call"], "DISCONNECTED")


def test_a_kept_place_outlives_a_restart_of_the_switch(
    acme: tuple[Server, int], phones: list[PjPhone], system_prompts: Path
) -> None:
    """Cecilia books a callback while nobody takes calls; the switch stops and starts
    again (same data); when Björn logs in he is rung for her, then she is called."""
    server, _ = acme
    bjorn, _, cecilia, _ = phones
    en = system_prompts / "en"
    code(bjorn, "*46")
    waiting = queue_in(server, cecilia, MAIN, en)
    cecilia.press(waiting, "2")
    assert hears(cecilia, waiting, en / "callback-number-is.wav", 0.5)
    cecilia.press(waiting, "1")
    assert hears(cecilia, waiting, en / "callback-booked.wav", 0.5)
    cecilia.state(waiting, "DISCONNECTED", timeout=15.0)
    assert server.stop() == 0, server.output
    server.start("--rtp-ports", rtp_ports())  # the same data folder and ports
    # (the phones' bindings outlive the restart, as the list's callbacks do)
    code(bjorn, "*45")
    ringing = bjorn.incoming(timeout=15.0)
    assert "1003" in ringing["from"], ringing
    bjorn.answer(ringing["call"])
    bjorn.state(ringing["call"], "CONFIRMED")
    called = cecilia.incoming(timeout=20.0)
    cecilia.answer(called["call"])
    cecilia.state(called["call"], "CONFIRMED")
    assert hears(cecilia, called["call"], en / "callback-greeting.wav", 1.0)
    cecilia.hangup(called["call"])
    bjorn.state(ringing["call"], "DISCONNECTED")
