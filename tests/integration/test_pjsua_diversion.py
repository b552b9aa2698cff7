"""A diversion on a live call, with third-party phones (pjsua2) at both ends (U9, U7).

Acme AB (English) on `vaxel serve`: Björn's diversion is set through the service, as the
web sets it, while the switch runs. Anna calls him: his registered phone does not ring,
she hears "Björn Karlsson is at lunch until ..." (compared code for code with the spoken
name the switch made and the system prompts), presses 1 and leaves a message, which holds
her voice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tests.integration.acme import ALWAYS, DOMAIN, PASSWORDS, Mailbox, company, wait_messages
from tests.integration.audio import RATE, g711_levels
from tests.integration.peers import Server, rtp_ports
from tests.integration.pjsua import PjPhone, close_all, heard_of, hears
from vaxel.media.player import load_prompt
from vaxel.media.say import say_until
from vaxel.media.tts import synthesize
from vaxel.services import diversions
from vaxel.services.company import speech_path
from vaxel.services.configuration import prompt_folder
from vaxel.store import Store

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]) -> Iterator[Server]:
    data, _trunk = company(tmp_path_factory.mktemp("acme-diversion"), ALWAYS, smtp[0])
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server
    server.stop()


@pytest.fixture
def phones(acme: Server) -> Iterator[list[PjPhone]]:
    started: list[PjPhone] = []
    yield started
    close_all(started)


def voice(seconds: float, seed: int) -> np.ndarray:
    """A tone in noise at A-law levels: no two stretches alike, so pieces are found again."""
    t = np.arange(int(RATE * seconds)) / RATE
    rng = np.random.default_rng(seed)
    samples = 3000 * np.sin(2 * np.pi * 380 * t) + rng.normal(0, 800, t.size)
    return g711_levels(samples.astype(np.int16))


def test_a_diverted_user_is_not_rung_and_the_caller_leaves_a_message(
    acme: Server, phones: list[PjPhone], system_prompts: Path, tmp_path: Path
) -> None:
    en = system_prompts / "en"
    bjorn = PjPhone(acme.address, "1002", PASSWORDS["1002"], DOMAIN)
    phones.append(bjorn)
    bjorn.registered()
    now = datetime.now(UTC)
    until = (now + timedelta(hours=3)).replace(second=0, microsecond=0)
    with Store.open(acme.data) as store:  # Acme is the data folder's first company
        diversions.set_diversion(store, 1, "1002", status="lunch", until=until, now=now)

    anna = PjPhone(acme.address, "1001", PASSWORDS["1001"], DOMAIN, register=False)
    phones.append(anna)
    call = anna.call("1002")
    anna.state(call, "CONFIRMED")  # the switch answers for him
    local = datetime.now(UTC).astimezone(STOCKHOLM)
    ending = say_until(until.astimezone(STOCKHOLM), local, "en")
    for prompt in ("div-lunch", *ending, "div-press-1-voicemail"):
        assert hears(anna, call, en / f"{prompt}.wav", 0.5), prompt
    # Said before those: his name, spoken by the switch into Acme's folder on this call.
    name = speech_path(prompt_folder(acme.data, DOMAIN), "en", "Björn Karlsson")
    assert hears(anna, call, name, 0.6), "the name was not said"
    assert bjorn.event("incoming", timeout=0.5) is None, "Björn's phone rang"
    # ... and it is the name: as long as the name spoken afresh (sox dithers, so the codes
    # of two renderings differ).
    fresh = synthesize("Björn Karlsson", "en", tmp_path / "name.wav")
    assert abs(len(load_prompt(name)) - len(load_prompt(fresh.path))) < 0.05 * RATE

    anna.press(call, "1")
    assert hears(anna, call, en / "vm-greeting-generic.wav")
    assert hears(anna, call, en / "beep.wav", 1.0, wait=15)  # the whole tone: now speak
    message = voice(2.5, seed=21)
    anna.speak(call, message)
    anna.hangup(call)
    (left,) = wait_messages(acme.data, "1002", 1)
    assert left.caller == "1001", left
    stored = load_prompt(left.path)
    assert heard_of(message, stored) >= 0.9 * len(message), "the message is not what Anna said"
