"""A user's own settings on live calls, with third-party phones (pjsua2) at every end
(U9, U11, U7).

Acme AB (English) on `vaxel serve`, with Björn's mobile number and direct number leading
to him. Each setting is stored through the services, as the user web stores it, while
the switch runs:

- a diversion for the fixed numbers only: a carrier's call to his mobile number rings
  his phone, a call to his direct number hears the diversion (U9);
- "Meeting" forwarded to Cecilia: while his meeting is on, a call to him rings
  Cecilia's phone, which answers and hears the caller (U11);
- a greeting Cecilia uploads through the running server's API is what a caller reaching
  her voicemail hears, before the beep (U7).
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.integration.acme import ALWAYS, DESCRIPTION, DOMAIN, PASSWORDS, SMS_GATEWAY, Mailbox
from tests.integration.audio import RATE, g711_levels
from tests.integration.peers import Server, free_sip_port, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone, close_all, hears, hears_voice
from vaxel.media.player import load_prompt
from vaxel.services import accounts, activities, diversions
from vaxel.services.configuration import prompt_folder
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


def test_an_uploaded_greeting_is_what_a_caller_hears(
    acme: tuple[Server, int], phones: list[PjPhone], system_prompts: Path
) -> None:
    server, _ = acme
    with Store.open(server.data) as store:
        accounts.set_user_account(store, DOMAIN, "1003", password="web-secret-103", role="user")
    recording = voice(2.0, seed=47)
    upload = io.BytesIO()
    with wave.open(upload, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(recording.astype("<i2").tobytes())
    with httpx.Client(base_url=server.web, timeout=30) as web:
        account = {"login": f"1003@{DOMAIN}", "password": "web-secret-103"}
        login = web.post("/api/v1/login", json=account)
        assert login.status_code == 200, login.text
        web.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        sent = {"file": ("greeting.wav", upload.getvalue(), "audio/wav")}
        done = web.post("/api/v1/me/greeting", files=sent)
    assert done.status_code == 200, done.text
    kept = prompt_folder(server.data, DOMAIN) / "greeting-1003.wav"

    anna = PjPhone(server.address, "1001", PASSWORDS["1001"], DOMAIN, register=False)
    phones.append(anna)
    call = anna.call("1003")  # no phone of Cecilia's registered: her voicemail answers
    anna.state(call, "CONFIRMED")
    assert hears(anna, call, kept, 1.5), "the uploaded greeting was not heard"
    assert hears(anna, call, system_prompts / "en" / "beep.wav", 0.2, wait=10)
    assert not hears(anna, call, system_prompts / "en" / "vm-greeting-generic.wav", 0.5, wait=0)
    anna.hangup(call)
    # What was heard (the greeting kept) is the recording uploaded, as the prompt converter
    # makes it (filtered and levelled by sox): as long, and its tone at 410 Hz.
    played = load_prompt(kept).astype(float)
    assert abs(len(played) - len(recording)) < 0.1 * RATE
    spectrum = np.abs(np.fft.rfft(played))
    peak = np.fft.rfftfreq(len(played), 1 / RATE)[int(np.argmax(spectrum))]
    assert abs(peak - 410) < 3, peak
