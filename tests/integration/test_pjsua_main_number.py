"""A company's main number with third-party phones (pjsua2) at every end (S3, S4, S6, S8,
U7, U11, P6).

The company of test_main_number.py (Acme AB, described in YAML, open around the
clock), called through its trunk: the carrier is a pjsua2 phone bound to the trunk's
address that does not register, the members and callers are pjsua2 phones registered
with the company's domain. What a caller hears is compared code for code with the
prompt files; a voice with what the other phone said.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from email import message_from_bytes
from pathlib import Path

import numpy as np
import pytest

from tests.integration.acme import (
    ALWAYS,
    DOMAIN,
    MAIN,
    PASSWORDS,
    Mailbox,
    company,
    wait_mail,
    wait_messages,
)
from tests.integration.audio import RATE, g711_levels
from tests.integration.peers import Server, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone, close_all, heard_of, hears, hears_voice
from vaxel.media.player import load_prompt

CALLER = "+46701740605"


@pytest.fixture(scope="module")
def open_company(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]
) -> Iterator[tuple[Server, int]]:
    data, trunk = company(tmp_path_factory.mktemp("acme-pjsua"), ALWAYS, smtp[0])
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, trunk
    server.stop()


class Phones:
    """pjsua2 phones of one test; all hang up, unregister and end with it."""

    def __init__(self, server: Server, trunk: int) -> None:
        self.server, self.trunk = server, trunk
        self.started: list[PjPhone] = []

    def _keep(self, phone: PjPhone) -> PjPhone:
        self.started.append(phone)
        return phone

    def member(self, ext: str, **options: object) -> PjPhone:
        """A registered phone of `ext`: calls to the user ring it."""
        phone = self._keep(
            PjPhone(self.server.address, ext, PASSWORDS[ext], DOMAIN, **options)  # type: ignore[arg-type]
        )
        phone.registered()
        return phone

    def user(self, ext: str, **options: object) -> PjPhone:
        """A phone of `ext` that only calls (not registered)."""
        return self._keep(
            PjPhone(self.server.address, ext, PASSWORDS[ext], DOMAIN, register=False, **options)  # type: ignore[arg-type]
        )

    def carrier(self) -> PjPhone:
        """The carrier: on the trunk's address, not registered, sending to the switch."""
        return self._keep(
            PjPhone(
                self.server.address, CALLER, "", "carrier.test", port=self.trunk,
                register=False, name="carrier",
            )
        )  # fmt: skip

    def close(self) -> None:
        close_all(self.started)


@pytest.fixture
def phones(open_company: tuple[Server, int]) -> Iterator[Phones]:
    made = Phones(*open_company)
    yield made
    made.close()


def prompt(server: Server, name: str) -> Path:
    return server.data / "prompts" / DOMAIN / f"{name}.wav"


def voice(seconds: float, seed: int, frequency: float = 310) -> np.ndarray:
    """A tone in noise at A-law levels: no two stretches alike, so pieces are found again."""
    t = np.arange(int(RATE * seconds)) / RATE
    rng = np.random.default_rng(seed)
    samples = 3000 * np.sin(2 * np.pi * frequency * t) + rng.normal(0, 800, t.size)
    return g711_levels(samples.astype(np.int16))


def call_main(caller: PjPhone) -> int:
    """The carrier rings the main number; the switch answers (without a challenge)."""
    call = caller.call(f"sip:{MAIN}@carrier.test")
    caller.state(call, "CONFIRMED")
    return call


def rings(phone: PjPhone, timeout: float = 10.0) -> int:
    """The phone's next incoming call (it rings: 180)."""
    return int(phone.incoming(timeout=timeout)["call"])


def not_rung(phone: PjPhone, timeout: float = 1.0) -> bool:
    return phone.event("incoming", timeout=timeout) is None


def feature(phone: PjPhone, code: str) -> None:
    """The phone dials a feature code; the switch says "thank you" and hangs up."""
    call = phone.call(code)
    phone.state(call, "CONFIRMED")
    phone.state(call, "DISCONNECTED", timeout=15)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


# -- S3: the menu ---------------------------------------------------------------------------


def test_wrong_keys_retry_the_menu_then_the_default(phones: Phones, system_prompts: Path) -> None:
    caller = phones.carrier()
    call = call_main(caller)
    menu = prompt(phones.server, "menu")
    for attempt in range(3):  # the first try and two retries (the menu's default)
        assert hears(caller, call, menu, 0.3), f"no menu on attempt {attempt + 1}"
        caller.clear(call)
        caller.press(call, "7")  # leads nowhere
    # After the retries: the default destination, the reception box.
    assert hears(caller, call, system_prompts / "en" / "vm-greeting-shared.wav")
    caller.hangup(call)


# -- S8: queues -------------------------------------------------------------------------------


def test_a_queue_plays_music_and_its_announcement_then_overflows(
    phones: Phones, system_prompts: Path
) -> None:
    caller = phones.carrier()  # nobody of the queue group has a phone registered
    call = call_main(caller)
    assert hears(caller, call, prompt(phones.server, "menu"), 0.3)
    caller.press(call, "4")
    assert hears(caller, call, system_prompts / "sv" / "music.wav", 1.0), "no music while waiting"
    caller.clear(call)
    # Every 5 s the announcement (here: the welcome prompt) cuts into the music ...
    assert hears(caller, call, prompt(phones.server, "welcome"), 0.5, wait=8)
    # ... and after the longest wait (12 s) the caller overflows to voicemail.
    assert hears(caller, call, system_prompts / "en" / "vm-greeting-shared.wav", wait=15)
    caller.hangup(call)


def test_queue_callers_hear_their_place_and_are_served_in_order(
    phones: Phones, system_prompts: Path
) -> None:
    server = phones.server
    bjorn = phones.member("1002")
    caller, anna = phones.carrier(), phones.user("1001")
    menu, en = prompt(server, "menu"), system_prompts / "en"
    first = call_main(caller)  # first in line: Björn's phone rings, he does not answer yet
    assert hears(caller, first, menu, 0.3)
    caller.press(first, "5")
    assert hears(caller, first, en / "you-are-number.wav", 0.5)
    assert hears(caller, first, en / "num-1.wav", 0.3)
    ringing = bjorn.incoming()
    assert CALLER in ringing["from"], ringing
    # Anna calls the main number too, and is second: she hears so, then music, and
    # Björn's phone is not rung for her while the first caller waits.
    second = anna.call(MAIN)
    anna.state(second, "CONFIRMED")
    assert hears(anna, second, menu, 0.3)
    anna.press(second, "5")
    assert hears(anna, second, en / "num-2.wav", 0.3), "Anna's place not said"
    assert hears(anna, second, en / "music.wav", 1.0)
    assert not_rung(bjorn), "Björn was rung for Anna while the first caller waited"
    bjorn.answer(ringing["call"])  # Björn takes the first caller, and they talk
    bjorn.state(ringing["call"], "CONFIRMED")
    said = voice(3, seed=11)
    bjorn.play(ringing["call"], said)
    assert hears_voice(caller, first, said, RATE) >= RATE, "the caller did not hear Björn"
    assert not_rung(bjorn), "Björn was rung while busy with the first caller"
    caller.hangup(first)
    bjorn.state(ringing["call"], "DISCONNECTED")
    turn = bjorn.incoming(timeout=6)  # free again: Anna's turn
    assert "1001" in turn["from"] or "+46812345601" in turn["from"], turn
    bjorn.answer(turn["call"])
    bjorn.state(turn["call"], "CONFIRMED")
    anna.hangup(second)
    bjorn.state(turn["call"], "DISCONNECTED")


# -- U11: forwarding set by phone ---------------------------------------------------------------


def test_forwarding_set_from_the_phone(phones: Phones) -> None:
    bjorn, cecilia = phones.member("1002"), phones.member("1003")
    anna = phones.user("1001")
    feature(bjorn, "*21*1003#")  # Björn forwards everything to Cecilia
    try:
        call = anna.call("1002")
        ringing = cecilia.incoming()  # Björn's call rings Cecilia's phone ...
        assert not_rung(bjorn, 0.2), "Björn's own phone rang"
        cecilia.answer(ringing["call"])
        anna.state(call, "CONFIRMED")
        said = voice(3, seed=12)
        cecilia.play(ringing["call"], said)
        assert hears_voice(anna, call, said) >= RATE, "Anna did not hear Cecilia"
        anna.hangup(call)
        cecilia.state(ringing["call"], "DISCONNECTED")
    finally:
        feature(bjorn, "#21#")
    call = anna.call("1002")  # ... and no longer: Björn's phone rings again
    ringing = bjorn.incoming()
    assert not_rung(cecilia, 0.2)
    anna.hangup(call)
    bjorn.state(ringing["call"], "DISCONNECTED")


# -- U7: a user's voicemail ---------------------------------------------------------------------


def test_voicemail_turned_off_by_phone_and_on_again_takes_the_message_of_an_unanswered_call(
    phones: Phones, system_prompts: Path
) -> None:
    server = phones.server
    en = system_prompts / "en"
    cecilia_box = phones.user("1003")  # Cecilia, at a phone that is not registered
    call = cecilia_box.call("*98")
    cecilia_box.state(call, "CONFIRMED")
    assert hears(cecilia_box, call, en / "vm-main-menu.wav", 0.5)
    cecilia_box.press(call, "3")
    assert hears(cecilia_box, call, en / "vm-box-off.wav", 0.5)
    cecilia_box.hangup(call)
    # Her box is off: a caller who cannot reach her is told so, not asked for a message.
    anna = phones.user("1001")
    call = anna.call("1003")
    refused = anna.expect("call_state", call=call, state="DISCONNECTED")
    assert refused["code"] == 480, refused
    result = vaxel_cli(server.data, "voicemail", "on", "--company", DOMAIN, "--ext", "1003")
    assert result.returncode == 0, result.stderr
    # Cecilia's phone rings her ring time (5 s), unanswered: her box takes Anna's message.
    cecilia = phones.member("1003")
    call = anna.call("1003")
    ringing = cecilia.incoming()
    anna.state(call, "CONFIRMED", timeout=15)  # the switch answered for her box
    cecilia.state(ringing["call"], "DISCONNECTED")
    assert hears(anna, call, en / "vm-greeting-generic.wav")
    assert hears(anna, call, en / "beep.wav", 1.0, wait=15)  # the whole tone: now speak
    message = voice(2.5, seed=13, frequency=420)
    anna.speak(call, message)
    anna.hangup(call)
    (left,) = wait_messages(server.data, "1003", 1)  # stored once the recording is closed
    assert left.caller == "1001", left
    stored = load_prompt(left.path)
    assert heard_of(message, stored) >= 0.9 * len(message), "the message is not what Anna said"


# -- S6: the reception box: a message left, mailed, lit, and heard by phone --------------------


def test_a_message_for_reception_is_mailed_lit_and_heard_by_phone(
    phones: Phones, smtp: tuple[int, Mailbox], system_prompts: Path
) -> None:
    server = phones.server
    en = system_prompts / "en"
    anna = phones.member("1001", mwi=True)  # she watches the reception box (RFC 3842)
    lamp = anna.expect("mwi")
    assert "Messages-Waiting: no" in lamp["body"], lamp
    sent_before = len(smtp[1].messages)
    before = len(wait_messages(server.data, "reception", 0))

    caller = phones.carrier()
    call = call_main(caller)
    assert hears(caller, call, prompt(server, "menu"), 0.3)
    caller.press(call, "9")  # the reception box
    assert hears(caller, call, en / "vm-greeting-shared.wav")
    assert hears(caller, call, en / "beep.wav", 1.0, wait=15)  # the whole tone: now speak
    message = voice(2.5, seed=14, frequency=510)
    caller.speak(call, message)
    caller.press(call, "#")  # done: "goodbye", and the switch hangs up
    caller.state(call, "DISCONNECTED", timeout=15)

    messages = wait_messages(server.data, "reception", before + 1)
    assert len(messages) == before + 1, messages
    (left,) = [m for m in messages if not m.heard]
    assert left.caller == CALLER, left
    stored = load_prompt(left.path)
    assert heard_of(message, stored) >= 0.9 * len(message), "not the message the caller left"
    mail = message_from_bytes(wait_mail(smtp[1], sent_before + 1))
    assert CALLER in mail["Subject"]
    (attachment,) = [part for part in mail.walk() if part.get_content_type() == "audio/wav"]
    assert attachment.get_payload(decode=True) == left.path.read_bytes()
    lamp = anna.expect("mwi")  # the lamp goes on
    assert "Messages-Waiting: yes" in lamp["body"] and "Voice-Message: 1/0" in lamp["body"], lamp

    # Anna listens by phone: *98, 1: she hears the caller's message, and the lamp goes off.
    listen = anna.call("*98")
    anna.state(listen, "CONFIRMED")
    assert hears(anna, listen, en / "vm-main-menu.wav", 0.3), "no voicemail menu"
    anna.press(listen, "1")
    assert hears_voice(anna, listen, message, 2 * RATE) >= 2 * RATE, "Anna did not hear it"
    lamp = anna.expect("mwi")
    assert "Messages-Waiting: no" in lamp["body"] and "Voice-Message: 0/1" in lamp["body"], lamp
    anna.hangup(listen)


# -- S4: a prompt recorded by phone ---------------------------------------------------------------


def test_an_admin_records_the_welcome_by_phone(phones: Phones, system_prompts: Path) -> None:
    """Last in the module: it changes the welcome prompt."""
    server = phones.server
    en = system_prompts / "en"
    recording = voice(2.0, seed=15, frequency=260)
    anna = phones.user("1001")  # an admin
    call = anna.call("*99")
    anna.state(call, "CONFIRMED")
    assert hears(anna, call, en / "prompt-enter-number.wav", 0.3), "not asked for a number"
    anna.press(call, "1#")  # the welcome's number
    assert hears(anna, call, en / "beep.wav", 1.0, wait=15), "no beep"  # the whole tone
    anna.speak(call, recording)
    anna.press(call, "#")
    assert hears(anna, call, en / "prompt-menu.wav", 0.3), "no menu after the recording"
    anna.press(call, "1")  # keep it: "saved", "goodbye", and the switch hangs up
    anna.state(call, "DISCONNECTED", timeout=15)
    saved = load_prompt(prompt(server, "welcome"))
    assert heard_of(recording, saved) >= 0.9 * len(recording), "the welcome is not Anna's"
    caller = phones.carrier()  # callers hear it from now on
    call = call_main(caller)
    assert hears(caller, call, prompt(server, "welcome"), 1.0)
    caller.hangup(call)
