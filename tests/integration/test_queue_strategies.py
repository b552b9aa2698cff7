"""Distribution strategies and queue rules (A5, A7) on `vaxel serve` with pjsua2 phones:
round robin takes three calls in turn to three agents, a full queue sends the extra caller
to its `full` destination, and the voicemail key leaves a message that is in the box.

The company is Acme of tests/integration/acme.py with a server of its own, a fourth user
(Dan, 1004, who calls in) and its queue "line" (menu key 5) given to Anna, Björn and
Cecilia by round robin, at most one caller waiting (the next goes to the reception's box),
and key 7 to leave a message in that box instead of waiting.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.acme import (
    ALWAYS,
    DESCRIPTION,
    DOMAIN,
    MAIN,
    PASSWORDS,
    Mailbox,
    company,
    wait_messages,
)
from tests.integration.peers import Server, rtp_ports
from tests.integration.pjsua import PjPhone, close_all, hears
from tests.integration.test_pjsua_main_number import voice

CALLER = "+46701740605"
AGENTS = ("1001", "1002", "1003")  # the line's members, in their order
LINE = (
    '  line: {{members: ["1002"], ring_time: 30, overflow: {{voicemail: reception}},\n'
    "          queue: {{announce_every: 20, max_wait: 30}}}}"
)
RULED = (
    '  line: {{members: ["1001", "1002", "1003"], strategy: round-robin, ring_time: 30,\n'
    "          overflow: {{voicemail: reception}},\n"
    "          queue: {{announce_every: 20, max_wait: 30, max_length: 1,\n"
    "                   full: {{voicemail: reception}},\n"
    '                   voicemail_key: "7", voicemail_to: {{voicemail: reception}}}}}}'
)
CECILIA = '  - {{ext: "1003", name: Cecilia Lind, password: cecilia-secret-3, ring_time: 5}}\n'
DAN = '  - {{ext: "1004", name: Dan Ek, password: dan-secret-4}}\n'


def described() -> str:
    assert DESCRIPTION.count(LINE) == 1 and DESCRIPTION.count(CECILIA) == 1
    return DESCRIPTION.replace(LINE, RULED).replace(CECILIA, CECILIA + DAN)


@pytest.fixture(scope="module")
def acme(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]
) -> Iterator[tuple[Server, int]]:
    data, trunk = company(tmp_path_factory.mktemp("acme-strategies"), ALWAYS, smtp[0], described())
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, trunk
    server.stop()


class Phones:
    """The three agents (registered), a caller from outside on the carrier's trunk, and
    Dan, who calls in without registering."""

    def __init__(self, server: Server, trunk: int) -> None:
        address = server.address
        self.server = server
        self.agents = {ext: PjPhone(address, ext, PASSWORDS[ext], DOMAIN) for ext in AGENTS}
        self.carrier = PjPhone(address, CALLER, "", "carrier.test", port=trunk,
                               register=False, name="carrier")  # fmt: skip
        self.dan = PjPhone(address, "1004", "dan-secret-4", DOMAIN, register=False, name="dan")

    def all(self) -> list[PjPhone]:
        return [*self.agents.values(), self.carrier, self.dan]

    def queue_in(self, phone: PjPhone, target: str = MAIN) -> int:
        """`phone` calls the main number and picks the line (key 5) once it hears the menu."""
        call = phone.call(target)
        phone.state(call, "CONFIRMED")
        assert hears(phone, call, self.server.data / "prompts" / DOMAIN / "menu.wav", 0.3)
        phone.press(call, "5")
        return call

    def rung(self, timeout: float = 10.0) -> tuple[str, int]:
        """The one agent whose phone rings now, and its call (no other rings with it)."""
        deadline = time.monotonic() + timeout
        while True:
            for ext, phone in self.agents.items():
                ringing = phone.event("incoming", timeout=0.05)
                if ringing is not None:
                    others = [p for e, p in self.agents.items() if e != ext]
                    assert all(p.event("incoming", timeout=0.3) is None for p in others)
                    return ext, int(ringing["call"])
            assert time.monotonic() < deadline, "no agent rung"


@pytest.fixture
def phones(acme: tuple[Server, int]) -> Iterator[Phones]:
    made = Phones(*acme)
    try:
        for phone in made.agents.values():
            phone.registered()
        yield made
    finally:
        close_all(made.all())


def test_round_robin_lands_three_calls_on_three_agents_in_turn(phones: Phones) -> None:
    carrier = phones.carrier
    landed: list[str] = []
    for _ in range(3):
        call = phones.queue_in(carrier, f"sip:{MAIN}@carrier.test")
        ext, ringing = phones.rung()
        agent = phones.agents[ext]
        agent.answer(ringing)
        agent.state(ringing, "CONFIRMED")
        carrier.hangup(call)
        agent.state(ringing, "DISCONNECTED")
        landed.append(ext)
    # each agent once, in member order from where the last offer of the group left off
    start = AGENTS.index(landed[0])
    assert landed == [AGENTS[(start + i) % 3] for i in range(3)]


def test_a_full_queue_sends_the_extra_caller_to_its_full_destination(
    phones: Phones, system_prompts: Path
) -> None:
    first = phones.queue_in(phones.carrier, f"sip:{MAIN}@carrier.test")
    ext, ringing = phones.rung()  # the first caller waits, an agent's phone rings
    extra = phones.queue_in(phones.dan)  # one more than max_length: 1
    assert hears(phones.dan, extra, system_prompts / "en" / "vm-greeting-shared.wav")
    assert phones.agents[ext].event("incoming", timeout=0.5) is None  # not queued
    phones.dan.hangup(extra)
    phones.carrier.hangup(first)
    phones.agents[ext].state(ringing, "DISCONNECTED")


def test_the_voicemail_key_leaves_a_message_in_the_box_instead_of_waiting(
    phones: Phones, system_prompts: Path
) -> None:
    en = system_prompts / "en"
    before = len(wait_messages(phones.server.data, "reception", 0))
    carrier = phones.carrier
    call = phones.queue_in(carrier, f"sip:{MAIN}@carrier.test")
    ext, ringing = phones.rung()
    carrier.press(call, "7")  # rather leave a message
    phones.agents[ext].state(ringing, "DISCONNECTED")  # no longer offered
    assert hears(carrier, call, en / "vm-greeting-shared.wav")
    assert hears(carrier, call, en / "beep.wav", 1.0, wait=15)  # the whole tone: now speak
    carrier.speak(call, voice(2.5, seed=21, frequency=470))
    carrier.press(call, "#")  # done: "goodbye", and the switch hangs up
    carrier.state(call, "DISCONNECTED", timeout=15)
    messages = wait_messages(phones.server.data, "reception", before + 1)
    assert len(messages) == before + 1
    newest = max(messages, key=lambda message: message.id)
    assert newest.caller == CALLER and newest.duration_seconds > 2.0
