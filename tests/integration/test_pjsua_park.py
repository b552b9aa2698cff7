"""P4: call park with pjsua2 phones at every end.

Acme AB (English) parks calls on 700 (orbits 701-709, 12 s here). Anna calls Björn;
Björn's phone transfers her to 700 with pjsua2's own REFER (`xfer`): it hears "The call
is parked on 7 0 1", is told 200 and its call ends; Anna hears music on hold. Cecilia
dials 701 and talks with Anna. A call nobody takes rings Björn again, and he talks
with Anna once more.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.acme import ALWAYS, DESCRIPTION, DOMAIN, PASSWORDS, SMS_GATEWAY, Mailbox
from tests.integration.peers import Server, free_sip_port, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone, close_all, hears
from tests.integration.test_pjsua_calls import talk
from tests.integration.test_pjsua_transfer import final_status

PARK_SECONDS = 12


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("acme-park")
    data, trunk = tmp / "data", free_sip_port()
    text = DESCRIPTION.format(
        domain=DOMAIN, weekly=ALWAYS, trunk=trunk, smtp=smtp[0], sms=SMS_GATEWAY.port
    )
    (tmp / "acme.yaml").write_text(f"{text}\npark: {{timeout: {PARK_SECONDS}}}\n")
    result = vaxel_cli(data, "config", "apply", str(tmp / "acme.yaml"))
    assert result.returncode == 0, result.stderr
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server
    server.stop()


@pytest.fixture
def phones(acme: Server) -> Iterator[dict[str, PjPhone]]:
    started = {ext: PjPhone(acme.address, ext, PASSWORDS[ext], DOMAIN) for ext in PASSWORDS}
    for phone in started.values():
        phone.registered()
    yield started
    close_all(list(started.values()))


def parked_by_bjorn(phones: dict[str, PjPhone], system_prompts: Path) -> int:
    """Anna called Björn, who parked her on 701; Anna's call id."""
    anna, bjorn = phones["1001"], phones["1002"]
    anna_call = anna.call("1002")
    ringing = bjorn.incoming()
    bjorn_call = int(ringing["call"])
    bjorn.answer(bjorn_call)
    anna.state(anna_call, "CONFIRMED")
    bjorn.state(bjorn_call, "CONFIRMED")
    bjorn.transfer(bjorn_call, "700")
    assert hears(bjorn, bjorn_call, system_prompts / "en" / "park-parked-on.wav")
    assert final_status(bjorn, bjorn_call) == 200
    bjorn.state(bjorn_call, "DISCONNECTED")
    assert hears(anna, anna_call, system_prompts / "en" / "music.wav")
    return anna_call


def test_cecilia_takes_the_call_bjorn_parked(
    phones: dict[str, PjPhone], system_prompts: Path
) -> None:
    anna, cecilia = phones["1001"], phones["1003"]
    anna_call = parked_by_bjorn(phones, system_prompts)
    cecilia_call = cecilia.call("701")
    cecilia.state(cecilia_call, "CONFIRMED")
    talk(anna, anna_call, cecilia, cecilia_call, seed=61)


def test_a_call_nobody_takes_comes_back_to_bjorn(
    phones: dict[str, PjPhone], system_prompts: Path
) -> None:
    anna, bjorn = phones["1001"], phones["1002"]
    anna_call = parked_by_bjorn(phones, system_prompts)
    ringing = bjorn.incoming(timeout=PARK_SECONDS + 10)
    assert "sip:1001@" in ringing["from"]  # Anna again
    bjorn.answer(ringing["call"])
    bjorn_call = int(ringing["call"])
    bjorn.state(bjorn_call, "CONFIRMED")
    talk(anna, anna_call, bjorn, bjorn_call, seed=71)
