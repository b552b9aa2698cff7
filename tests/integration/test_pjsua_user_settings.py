"""A user's own settings on live calls, with third-party phones (pjsua2) at every end
(U9, U11, U7).

Acme AB (English) on `vaxel serve`, with Björn's mobile number and direct number leading
to him. Each setting is stored through the services, as the user web stores it, while
the switch runs:

- a diversion for the fixed numbers only: a carrier's call to his mobile number rings
  his phone, a call to his direct number hears the diversion (U9);
- "Meeting" forwarded to Cecilia: while his meeting is on, a call to him rings
  Cecilia's phone, which answers and hears the caller (U11).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.integration.acme import ALWAYS, DESCRIPTION, DOMAIN, PASSWORDS, SMS_GATEWAY, Mailbox
from tests.integration.audio import RATE, g711_levels
from tests.integration.peers import Server, free_sip_port, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone, close_all, hears, hears_voice
from vaxel.services import activities, diversions
from vaxel.store import Store

CALLER = "+46701740605"
MOBILE = "+46701740620"  # Björn's mobile number, one of Acme's numbers
DIRECT = "+46812345602"  # Björn's direct number

BJORN = '  - {{ext: "1002", name: Björn Karlsson, password: bjorn-secret-2}}'
WITH_NUMBERS = DESCRIPTION.replace(
    BJORN,
    f'  - {{{{ext: "1002", name: Björn Karlsson, password: bjorn-secret-2, mobile: "{MOBILE}",'
    f' direct_number: "{DIRECT}"}}}}',
).replace(
    '  - {{number: "08-123 456 00", flow: main}}',
    '  - {{number: "08-123 456 00", flow: main}}\n'
    f'  - {{{{number: "{MOBILE}", user: "1002"}}}}\n'
    f'  - {{{{number: "{DIRECT}", user: "1002"}}}}',
)
assert WITH_NUMBERS.count(MOBILE) == 2 and WITH_NUMBERS.count(DIRECT) == 2


@pytest.fixture(scope="module")
def acme(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]
) -> Iterator[tuple[Server, int]]:
    tmp = tmp_path_factory.mktemp("acme-settings")
    data, trunk = tmp / "data", free_sip_port()
    text = WITH_NUMBERS.format(
        domain=DOMAIN, weekly=ALWAYS, trunk=trunk, smtp=smtp[0], sms=SMS_GATEWAY.port
    )
    (tmp / "acme.yaml").write_text(text)
    result = vaxel_cli(data, "config", "apply", str(tmp / "acme.yaml"))
    assert result.returncode == 0, result.stderr
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, trunk
    server.stop()


@pytest.fixture
def phones() -> Iterator[list[PjPhone]]:
    started: list[PjPhone] = []
    yield started
    close_all(started)


def member(server: Server, phones: list[PjPhone], ext: str) -> PjPhone:
    phone = PjPhone(server.address, ext, PASSWORDS[ext], DOMAIN)
    phones.append(phone)
    phone.registered()
    return phone


def carrier(server: Server, trunk: int, phones: list[PjPhone]) -> PjPhone:
    phone = PjPhone(server.address, CALLER, "", "carrier.test", port=trunk, register=False,
                    name="carrier")  # fmt: skip
    phones.append(phone)
    return phone


def voice(seconds: float, seed: int) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    rng = np.random.default_rng(seed)
    samples = 3000 * np.sin(2 * np.pi * 410 * t) + rng.normal(0, 800, t.size)
    return g711_levels(samples.astype(np.int16))


def test_a_diversion_for_the_fixed_numbers_lets_the_mobile_ring(
    acme: tuple[Server, int], phones: list[PjPhone], system_prompts: Path
) -> None:
    server, trunk = acme
    bjorn = member(server, phones, "1002")
    now = datetime.now(UTC)
    until = (now + timedelta(hours=3)).replace(second=0, microsecond=0)
    with Store.open(server.data) as store:  # Acme is the data folder's first company
        diversions.set_diversion(
            store, 1, "1002", status="lunch", until=until, scope="fixed", now=now
        )
    outside = carrier(server, trunk, phones)
    to_mobile = outside.call(f"sip:{MOBILE}@carrier.test")
    ringing = bjorn.incoming()  # the mobile number: his phone rings
    bjorn.answer(ringing["call"])
    outside.state(to_mobile, "CONFIRMED")
    outside.hangup(to_mobile)
    outside.state(to_mobile, "DISCONNECTED")

    to_direct = outside.call(f"sip:{DIRECT}@carrier.test")
    outside.state(to_direct, "CONFIRMED")  # the switch answers for him
    assert hears(outside, to_direct, system_prompts / "en" / "div-lunch.wav", 0.5)
    assert bjorn.event("incoming", timeout=0.5) is None, "the direct number rang his phone"
    outside.hangup(to_direct)


def test_meeting_forwarded_to_a_colleague_rings_the_colleague(
    acme: tuple[Server, int], phones: list[PjPhone]
) -> None:
    server, _ = acme
    bjorn, cecilia = member(server, phones, "1002"), member(server, phones, "1003")
    now = datetime.now(UTC)
    with Store.open(server.data) as store:
        activities.set_activity_forwarding(store, 1, "1002", "meeting", "1003")
        diversions.set_diversion(store, 1, "1002", status="meeting", until=None, now=now)
    anna = PjPhone(server.address, "1001", PASSWORDS["1001"], DOMAIN, register=False)
    phones.append(anna)
    call = anna.call("1002")
    ringing = cecilia.incoming()  # Cecilia's phone rings for Björn's meeting
    assert bjorn.event("incoming", timeout=0.5) is None, "Björn's phone rang in his meeting"
    cecilia.answer(ringing["call"])
    anna.state(call, "CONFIRMED")
    words = voice(1.5, seed=31)
    anna.speak(call, words)
    assert hears_voice(cecilia, ringing["call"], words)
    anna.hangup(call)
