"""Issue 4 end to end: a company described in YAML, called through its trunk (S1-S8, P6, U8).

A Python phone stands in for the carrier on the trunk's address; members
and callers are phones with real RTP. Prompts are spoken by espeak-ng when
the description is applied, and what callers hear is compared with them.
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
from tests.integration.flows import answer, heard, leave, new_invite
from tests.integration.peers import Server, rtp_ports, vaxel_cli
from vaxel.media.player import load_prompt
from vaxel.rtp.g711 import alaw_encode
from vaxel.rtp.inband import generate


@pytest.fixture(scope="module")
def open_company(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]
) -> Iterator[tuple[Server, Path, int]]:
    data, trunk = company(tmp_path_factory.mktemp("acme"), ALWAYS, smtp[0])
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, data, trunk
    server.stop()


def member(server: Server, ext: str, audio: np.ndarray | None = None) -> AudioPhone:
    phone = AudioPhone(server, ext, PASSWORDS[ext], DOMAIN, audio=audio)
    assert phone.register().status == 200
    return phone


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


def test_welcome_menu_and_a_sequential_group(open_company: tuple[Server, Path, int]) -> None:
    server, data, trunk = open_company
    prompts = data / "prompts" / DOMAIN
    bjorn, cecilia = member(server, "1002"), member(server, "1003", audio=voice(20))
    caller = carrier(server, trunk)
    try:
        busy, answering = answer(bjorn, 486), answer(cecilia)
        call_main(caller)
        assert heard(caller, prompts / "welcome.wav"), "the caller did not hear the welcome"
        assert heard(caller, prompts / "menu.wav", 0.3)
        caller.press("1")  # sales: Björn first (busy), then Cecilia
        busy.join(15)
        answering.join(15)
        caller.clear()
        chunks = [alaw_encode(voice(20))[i : i + 800] for i in range(0, 160000, 800)]
        deadline = time.monotonic() + 10
        while not any(chunk in bytes(caller.heard) for chunk in chunks):
            assert time.monotonic() < deadline, "Cecilia's voice did not reach the caller"
            time.sleep(0.1)
        assert caller.request("BYE").status == 200
        cecilia.wait_request("BYE")
    finally:
        leave((bjorn, cecilia), caller)


def test_wrong_keys_retry_the_menu_then_the_default(
    open_company: tuple[Server, Path, int], system_prompts: Path
) -> None:
    server, data, trunk = open_company
    caller = carrier(server, trunk)
    menu = data / "prompts" / DOMAIN / "menu.wav"
    try:
        call_main(caller)
        for attempt in range(3):  # the first try and two retries (the menu's default)
            assert heard(caller, menu, 0.3), f"no menu on attempt {attempt + 1}"
            caller.clear()
            caller.press("7")  # leads nowhere
        # After the retries: the default destination, the reception box.
        assert heard(caller, system_prompts / "en" / "vm-greeting-shared.wav")
        caller.request("BYE")
    finally:
        caller.close()


def test_in_band_tones_route_the_menu(open_company: tuple[Server, Path, int]) -> None:
    server, _, trunk = open_company
    cecilia = member(server, "1003")
    # A carrier without telephone-events: the key is a tone in the audio, after the menu.
    tones = np.concatenate(
        [np.zeros(8000 * 4, np.int16), generate("2", 120), np.zeros(8000, np.int16)]
    )
    caller = carrier(server, trunk, audio=tones)
    offer = (
        caller.offer()
        .replace(" 8 0 101", " 8 0")
        .replace("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n", "")
    )
    try:
        ringing = answer(cecilia)
        call_main(caller, offer)
        ringing.join(15)
        assert not ringing.is_alive(), "key 2 (an in-band tone) did not reach Cecilia"
        assert caller.request("BYE").status == 200
    finally:
        cecilia.register(expires=0)
        cecilia.close()
        caller.close()


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


def dial(phone: AudioPhone, number: str) -> int:
    """A phone dials a number (a feature code, an extension) and hangs up when told to."""
    response = phone.invite(number, phone.offer())
    if response.status == 200:
        phone.learn(response.body)
        bye = phone.wait_request("BYE", timeout=10)  # "thank you", then the switch hangs up
        phone.reply(bye, 200)
    return response.status


def test_parallel_group_rings_all_members(open_company: tuple[Server, Path, int]) -> None:
    server, _, trunk = open_company
    bjorn, cecilia = member(server, "1002"), member(server, "1003")
    caller = carrier(server, trunk)
    invites: dict[str, float] = {}

    def ring(phone: AudioPhone, answers: bool) -> None:
        invite = phone.wait_request("INVITE", timeout=15)
        invites[phone.user] = time.monotonic()
        phone.learn(invite.body)
        phone.reply(invite, 180)
        if answers:
            time.sleep(1)
            phone.reply(invite, 200, phone.offer())
            phone.wait_request("ACK")
        else:
            cancel = phone.wait_request("CANCEL", timeout=15)
            phone.reply(cancel, 200)
            phone.reply(invite, 487)

    threads = [threading.Thread(target=ring, args=(bjorn, False), daemon=True),
               threading.Thread(target=ring, args=(cecilia, True), daemon=True)]  # fmt: skip
    try:
        for thread in threads:
            thread.start()
        call_main(caller)
        assert heard(caller, server.data / "prompts" / DOMAIN / "menu.wav", 0.3)
        caller.press("3")
        for thread in threads:
            thread.join(20)
        assert set(invites) == {"1002", "1003"}
        assert abs(invites["1002"] - invites["1003"]) < 1.0  # at once, not one after the other
        assert caller.request("BYE").status == 200
        cecilia.wait_request("BYE")
    finally:
        leave((bjorn, cecilia), caller)


def test_a_queue_plays_music_and_its_announcement_then_overflows(
    open_company: tuple[Server, Path, int], system_prompts: Path
) -> None:
    server, data, trunk = open_company
    caller = carrier(server, trunk)  # nobody of the queue group has a phone registered
    try:
        call_main(caller)
        assert heard(caller, server.data / "prompts" / DOMAIN / "menu.wav", 0.3)
        caller.press("4")
        assert heard(caller, system_prompts / "sv" / "music.wav", 1.0), "no music while waiting"
        caller.clear()
        # Every 5 s the announcement (here: the welcome prompt) cuts into the music ...
        assert heard(caller, data / "prompts" / DOMAIN / "welcome.wav", 0.5, wait=8)
        # ... and after the longest wait (12 s) the caller overflows to voicemail.
        assert heard(caller, system_prompts / "en" / "vm-greeting-shared.wav", wait=15)
        caller.request("BYE")
    finally:
        caller.close()


def test_queue_callers_hear_their_place_and_are_served_in_order(
    open_company: tuple[Server, Path, int], system_prompts: Path
) -> None:
    server, data, trunk = open_company
    bjorn = member(server, "1002")
    caller = carrier(server, trunk)
    anna = AudioPhone(server, "1001", PASSWORDS["1001"], DOMAIN)
    menu = data / "prompts" / DOMAIN / "menu.wav"
    try:
        call_main(caller)  # first in line: Björn's phone rings, he does not answer yet
        assert heard(caller, menu, 0.3)
        caller.press("5")
        assert heard(caller, system_prompts / "en" / "you-are-number.wav", 0.5)
        assert heard(caller, system_prompts / "en" / "num-1.wav", 0.3)
        first = bjorn.wait_request("INVITE", timeout=10)
        bjorn.learn(first.body)
        bjorn.reply(first, 180)
        # Anna calls the main number too, and is second: she hears so, then music,
        # and Björn's phone is not rung for her while the first caller waits.
        response = anna.invite("0812345600", anna.offer())
        assert response.status == 200, response
        anna.learn(response.body)
        assert heard(anna, menu, 0.3)
        anna.press("5")
        assert heard(anna, system_prompts / "en" / "num-2.wav", 0.3), "Anna's place not said"
        assert heard(anna, system_prompts / "en" / "music.wav", 1.0)
        assert new_invite(bjorn, first, timeout=1) is None
        bjorn.reply(first, 200, bjorn.offer())  # Björn takes the first caller
        bjorn.wait_request("ACK")
        assert "+46701740605" in first.headers.get("From")
        time.sleep(1)
        with pytest.raises(AssertionError):  # busy with the first caller: not rung for Anna
            bjorn.wait_request("INVITE", timeout=1)
        assert caller.request("BYE").status == 200
        bjorn.reply(bjorn.wait_request("BYE"), 200)
        second = bjorn.wait_request("INVITE", timeout=6)  # free again: Anna's turn
        assert "1001" in second.headers.get("From") or "+46812345601" in second.headers.get("From")
        bjorn.learn(second.body)
        bjorn.reply(second, 200, bjorn.offer())
        bjorn.wait_request("ACK")
        assert anna.request("BYE").status == 200
        bjorn.reply(bjorn.wait_request("BYE"), 200)
    finally:
        leave((bjorn,), caller, anna)


def test_logged_out_members_are_not_rung_and_the_call_overflows(
    open_company: tuple[Server, Path, int], system_prompts: Path
) -> None:
    server, _, trunk = open_company
    bjorn, cecilia = member(server, "1002"), member(server, "1003")
    caller = carrier(server, trunk)
    try:
        assert dial(bjorn, "*46") == 200  # Björn logs out from his phone
        result = vaxel_cli(server.data, "group", "logout", "--company", DOMAIN,
                           "--group", "support", "--ext", "1003")  # fmt: skip
        assert result.returncode == 0, result.stderr
        time.sleep(0.5)
        call_main(caller)
        assert heard(caller, server.data / "prompts" / DOMAIN / "menu.wav", 0.3)
        caller.press("3")
        # Nobody to ring: straight to the reception box's greeting.
        assert heard(caller, system_prompts / "en" / "vm-greeting-shared.wav")
        with pytest.raises(AssertionError):
            bjorn.wait_request("INVITE", timeout=1)
        caller.request("BYE")
    finally:
        assert dial(bjorn, "*45") == 200  # back in
        vaxel_cli(server.data, "group", "login", "--company", DOMAIN, "--group", "support",
                  "--ext", "1003")  # fmt: skip
        leave((bjorn, cecilia), caller)


def test_forwarding_set_from_the_phone(open_company: tuple[Server, Path, int]) -> None:
    server, _, _ = open_company
    anna = AudioPhone(server, "1001", PASSWORDS["1001"], DOMAIN)
    bjorn, cecilia = member(server, "1002"), member(server, "1003")
    try:
        assert dial(bjorn, "*21*1003#") == 200  # Björn forwards everything to Cecilia
        time.sleep(0.5)
        answering = answer(cecilia)
        response = anna.invite("1002", anna.offer())
        answering.join(10)
        assert response.status == 200, response  # Cecilia answered Björn's call
        assert anna.request("BYE").status == 200
        cecilia.wait_request("BYE")
        assert dial(bjorn, "#21#") == 200
    finally:
        leave((bjorn, cecilia), anna)


def test_a_user_turns_voicemail_off_by_phone_and_on_from_the_command_line(
    open_company: tuple[Server, Path, int], system_prompts: Path
) -> None:
    server, _, _ = open_company
    anna = AudioPhone(server, "1001", PASSWORDS["1001"], DOMAIN)
    cecilia = AudioPhone(server, "1003", PASSWORDS["1003"], DOMAIN)  # no phone registered
    try:
        response = cecilia.invite("*98", cecilia.offer())
        assert response.status == 200
        cecilia.learn(response.body)
        assert heard(cecilia, system_prompts / "en" / "vm-main-menu.wav", 0.5)
        cecilia.press("3")
        assert heard(cecilia, system_prompts / "en" / "vm-box-off.wav", 0.5)
        assert cecilia.request("BYE").status == 200
        time.sleep(0.5)
        # Her box is off: a caller who cannot reach her is told so, not asked for a message.
        assert anna.invite("1003", anna.offer()).status == 480
        result = vaxel_cli(server.data, "voicemail", "on", "--company", DOMAIN, "--ext", "1003")
        assert result.returncode == 0, result.stderr
        time.sleep(0.5)
        response = anna.invite("1003", anna.offer())
        assert response.status == 200
        anna.learn(response.body)
        assert heard(anna, system_prompts / "en" / "vm-greeting-generic.wav")
        assert anna.request("BYE").status == 200
        unknown = vaxel_cli(server.data, "voicemail", "off", "--company", DOMAIN, "--ext", "1099")
        assert unknown.returncode != 0 and "unknown extension 1099" in unknown.stderr
    finally:
        anna.close()
        cecilia.close()


def test_no_answer_goes_to_the_users_voicemail(
    open_company: tuple[Server, Path, int], system_prompts: Path
) -> None:
    server, _, _ = open_company
    anna = AudioPhone(server, "1001", PASSWORDS["1001"], DOMAIN)
    cecilia = member(server, "1003")  # rings 5 s (her ring time), nobody answers
    try:
        response = anna.invite("1003", anna.offer())
        assert response.status == 200  # the switch answered for her voicemail
        anna.learn(response.body)
        assert heard(anna, system_prompts / "en" / "vm-greeting-generic.wav")
        assert anna.request("BYE").status == 200
    finally:
        cecilia.register(expires=0)
        cecilia.close()
        anna.close()


def test_an_admin_records_the_welcome_by_phone(
    open_company: tuple[Server, Path, int], system_prompts: Path
) -> None:
    """Last in the module: it changes the welcome prompt."""
    server, data, trunk = open_company
    recording = voice(2.0)
    prompts = system_prompts / "en"
    # *99, then "1#" (the welcome's number), then speak, "#", and "1" to save.
    anna = AudioPhone(server, "1001", PASSWORDS["1001"], DOMAIN)
    try:
        response = anna.invite("*99", anna.offer())
        assert response.status == 200
        anna.learn(response.body)
        assert heard(anna, prompts / "prompt-enter-number.wav", 0.3), "not asked for a number"
        anna.press("1#")
        assert heard(anna, prompts / "beep.wav", 0.3, wait=15), "no beep"
        anna.play(recording)  # after the tone
        anna.wait_played()
        anna.press("#")
        assert heard(anna, prompts / "prompt-menu.wav", 0.3), "no menu after the recording"
        anna.press("1")
        bye = anna.wait_request("BYE", timeout=10)
        anna.reply(bye, 200)
        saved = alaw_encode(load_prompt(data / "prompts" / DOMAIN / "welcome.wav"))
        assert alaw_encode(recording)[2000:6000] in saved, "the welcome is not Anna's recording"
    finally:
        anna.close()
    caller = carrier(server, trunk)
    try:
        call_main(caller)
        assert heard(caller, data / "prompts" / DOMAIN / "welcome.wav", 1.0)
        caller.request("BYE")
    finally:
        caller.close()
