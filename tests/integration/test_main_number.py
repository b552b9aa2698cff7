"""End to end: a company described in YAML, called through its trunk (S5, S6, P6, U8),
where exact headers and bodies are checked.

The suite's own Python phone (real RTP, every byte it sends written out here)
stands in for the carrier on the trunk's address and for the users: it shows
the INVITE a call out carried (the caller ID chosen per device), and the
NOTIFY bodies of message waiting. The main number's flows with third-party
phones are in test_pjsua_main_number.py (pjsua2) and
test_softphone_main_number.py (baresip).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import numpy as np
import pytest

from tests.integration.acme import (
    ALWAYS,
    DOMAIN,
    MAIN,
    PASSWORDS,
    SMS_GATEWAY,
    WORKDAYS,
    Mailbox,
    company,
    wait_mail,
    wait_messages,
)
from tests.integration.audio_phone import AudioPhone
from tests.integration.flows import heard
from tests.integration.peers import Server, rtp_ports
from vaxel.media.player import load_prompt
from vaxel.rtp.g711 import alaw_encode


@pytest.fixture(scope="module")
def open_company(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]
) -> Iterator[tuple[Server, Path, int]]:
    data, trunk = company(tmp_path_factory.mktemp("acme"), ALWAYS, smtp[0])
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, data, trunk
    server.stop()


def carrier(server: Server, trunk: int, audio: np.ndarray | None = None) -> AudioPhone:
    """The carrier's side of an inbound call, sending from the trunk's address."""
    # Its From and Request-URI name the carrier's domain, as a real carrier's do.
    return AudioPhone(server, "+46701740605", "", "carrier.test", port=trunk, audio=audio)


def call_main(phone: AudioPhone, offer: str | None = None) -> None:
    response = phone.invite(MAIN, offer or phone.offer())
    assert response.status == 200, response
    assert not phone.challenged, "the switch challenged its own carrier"
    phone.learn(response.body)


def voice(seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(8000 * seconds)) / 8000
    rng = np.random.default_rng(7)
    return (3000 * np.sin(2 * np.pi * 310 * t) + rng.normal(0, 800, t.size)).astype(np.int16)


@pytest.mark.parametrize("instant", ["2027-06-25T10:00+02:00", "2027-06-23T03:00+02:00"])
def test_closed_on_midsommarafton_and_at_night_then_voicemail(
    tmp_path: Path,
    smtp: tuple[int, Mailbox],
    monkeypatch: pytest.MonkeyPatch,
    system_prompts: Path,
    instant: str,
) -> None:
    data, trunk = company(tmp_path, WORKDAYS, smtp[0])
    monkeypatch.setenv("VAXEL_SCHEDULE_NOW", instant)
    server = Server(data).start("--rtp-ports", rtp_ports())
    message = voice(2.5)
    caller = carrier(server, trunk)
    sent_before = len(smtp[1].messages)
    # Anna listens to the reception box: her phone watches it (RFC 3842).
    anna = AudioPhone(server, "1001", PASSWORDS["1001"], DOMAIN)
    prompts = system_prompts / "en"
    try:
        assert anna.subscribe().status == 200
        notify = anna.wait_request("NOTIFY")
        anna.reply(notify, 200)
        assert b"Messages-Waiting: no" in notify.body
        call_main(caller)
        assert heard(caller, data / "prompts" / DOMAIN / "closed.wav")
        assert heard(caller, prompts / "vm-greeting-shared.wav", wait=15)
        assert heard(caller, prompts / "beep.wav", 0.3, wait=15)  # the box records from here
        caller.play(message)
        caller.wait_played()
        caller.press("#")  # done: "goodbye", and the switch hangs up
        caller.reply(caller.wait_request("BYE", timeout=10), 200)
        messages = wait_messages(data, "reception", 1)
        assert len(messages) == 1, messages
        stored = load_prompt(messages[0].path)
        encoded = alaw_encode(stored)
        assert alaw_encode(message)[4000:12000] in encoded, "the message is not the caller's audio"
        assert messages[0].caller == "+46701740605"
        mail = message_from_bytes(wait_mail(smtp[1], sent_before + 1))
        assert "+46701740605" in mail["Subject"]
        (attachment,) = [part for part in mail.walk() if part.get_content_type() == "audio/wav"]
        assert attachment.get_payload(decode=True) == messages[0].path.read_bytes()
        texts = [path for path in SMS_GATEWAY.received if "to=%2B46701740699" in path]
        assert texts and "46701740605" in texts[-1], (SMS_GATEWAY.received, server.output)
        notify = anna.wait_request("NOTIFY")  # the lamp goes on
        anna.reply(notify, 200)
        assert b"Messages-Waiting: yes" in notify.body
        assert b"Voice-Message: 1/0" in notify.body
        assert notify.headers.get("Event") == "message-summary"
        # Anna listens by phone: *98, 1 (listen): she hears the caller's message.
        listen = anna.invite("*98", anna.offer())
        assert listen.status == 200
        anna.learn(listen.body)
        # "You have one new message", then the menu: she presses 1 as it begins.
        assert heard(anna, prompts / "vm-main-menu.wav", 0.3), "no voicemail menu"
        anna.press("1")
        deadline = time.monotonic() + 10
        while alaw_encode(message)[4000:8000] not in bytes(anna.heard):
            assert time.monotonic() < deadline, "Anna did not hear the message"
            time.sleep(0.2)
        while b"Messages-Waiting: no" not in notify.body:  # skip a retransmitted NOTIFY
            notify = anna.wait_request("NOTIFY")  # heard: the lamp goes off everywhere
            anna.reply(notify, 200)
        assert b"Voice-Message: 0/1" in notify.body
        assert anna.request("BYE").status == 200
    finally:
        anna.close()
        caller.close()
        server.stop()


def test_calling_out_through_the_trunk(open_company: tuple[Server, Path, int]) -> None:
    server, _, trunk = open_company
    anna = AudioPhone(server, "1001", PASSWORDS["1001"], DOMAIN)
    far_end = carrier(server, trunk)
    try:

        def carrier_answers() -> None:
            invite = far_end.wait_request("INVITE", timeout=10)
            far_end.last_invite = invite  # type: ignore[attr-defined]
            far_end.reply(invite, 200, far_end.offer())
            far_end.wait_request("ACK")

        thread = threading.Thread(target=carrier_answers, daemon=True)
        thread.start()
        response = anna.invite("070-1740605", anna.offer())  # as a phone sends 070-174 06 05
        thread.join(10)
        assert response.status == 200
        invite = far_end.last_invite  # type: ignore[attr-defined]
        assert str(invite.uri).startswith("sip:+46701740605@")
        assert "+46812345601" in invite.headers.get("From")  # Anna's direct number, as she chose
        assert anna.request("BYE").status == 200
        premium = anna.invite("0900-1234567", anna.offer())
        assert premium.status == 403
        # From her mobile app, Anna's calls show her mobile number (her per-device choice).
        thread = threading.Thread(target=carrier_answers, daemon=True)
        thread.start()
        response = anna.invite("0701740605", anna.offer(), headers=["User-Agent: Vaxel Mobile/1.0"])
        thread.join(10)
        assert response.status == 200
        assert "+46701740610" in far_end.last_invite.headers.get("From")  # type: ignore[attr-defined]
        assert anna.request("BYE").status == 200
    finally:
        anna.close()
        far_end.close()
