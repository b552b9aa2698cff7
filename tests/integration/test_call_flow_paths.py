"""End to end, the remaining call-flow paths (S1, S3, U11, P6, S6), with
third-party phones.

A company of its own (Paths AB) is described in YAML and called through its
trunk: a direct number, menus that nest, repeat and lead out through the
trunk, forwarding to an external number and to a colleague when busy or on
no answer, the ceiling on concurrent calls out, the personal greeting
(recorded by phone, or uploaded), and a user's mobile rung as their phone (U2,
U6: it presses 1 to take the call). Every phone is pjsua2 (PJSIP's user agent,
tests/integration/pjsua.py): the users' phones, and the carrier on the trunk's
address, which calls in and is the far end of calls out. What a phone heard is
compared code for code with a prompt, or with what the other phone said.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.integration.audio import g711_levels
from tests.integration.peers import Server, free_sip_port, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone, close_all, heard_of, hears, hears_voice
from vaxel.media.player import load_prompt
from vaxel.services.directory import PROBE_INTERVAL

DOMAIN = "paths.vaxel.test"
MAIN = "+46812345700"
DIRECT = "+46812345701"  # Anna's direct number
PARTNER = "+46701740699"  # the external number behind menu key 3
CALLER = "+46701740605"  # who calls in through the carrier
PASSWORDS = {"1001": "anna-secret-1", "1002": "bjorn-secret-2", "1003": "cecilia-secret-3"}

DESCRIPTION = """
company: {{domain: {domain}, name: Paths AB, language: en}}
users:
  - {{ext: "1001", name: Anna Svensson, password: anna-secret-1}}
  - {{ext: "1002", name: Björn Karlsson, password: bjorn-secret-2, ring_time: 5,
     voicemail: {{greeting: bjorn-greeting}}}}
  - {{ext: "1003", name: Cecilia Lind, password: cecilia-secret-3, ring_time: 5}}
  - {{ext: "1004", name: Doris Ek, password: doris-secret-4, forwarding: {{always: "1003"}}}}
  - {{ext: "1005", name: Erik Mobil, password: erik-secret-5, mobile: "070-1740655",
     mobile_rings: {{confirm: true}}}}
numbers:
  - {{number: "08-123 457 00", flow: main}}
  - {{number: "08-123 457 01", user: "1001"}}
prompts:
  menu: {{text: "For the service menu, press 2. For our partner, press 3.
          To hear this again, press 0.", language: en}}
  service: {{text: "This is the service menu. For Anna, press 1.", language: en}}
  invalid: {{text: "That key is not in use.", language: en}}
  bjorn-greeting: {{file: bjorn.wav}}
flows:
  main: {{menu: main}}
menus:
  main:
    prompt: menu
    invalid_prompt: invalid
    keys: {{"2": {{menu: service}}, "3": {{external: "070-1740699"}}, "0": repeat}}
  service:
    prompt: service
    keys: {{"1": {{user: "1001"}}, "9": {{menu: main}}}}
trunks:
  carrier: {{host: 127.0.0.1, port: {trunk}}}
outbound: {{max_concurrent_calls: 1}}
"""


def tone(seconds: float, frequency: float, seed: int) -> np.ndarray:
    """A tone with noise at A-law levels: no two stretches of it alike, so pieces of it
    can be found again."""
    t = np.arange(int(8000 * seconds)) / 8000
    rng = np.random.default_rng(seed)
    wave_ = 3000 * np.sin(2 * np.pi * frequency * t) + rng.normal(0, 800, t.size)
    return g711_levels(wave_.astype(np.int16))


def write_wav(path: Path, samples: np.ndarray, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())


@pytest.fixture(scope="module")
def paths_company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, int]]:
    folder = tmp_path_factory.mktemp("paths")
    data, trunk = folder / "data", free_sip_port()  # the carrier listens there
    write_wav(folder / "bjorn.wav", tone(3.0, 440, seed=3))  # Björn's uploaded greeting
    (folder / "paths.yaml").write_text(DESCRIPTION.format(domain=DOMAIN, trunk=trunk))
    result = vaxel_cli(data, "config", "apply", str(folder / "paths.yaml"))
    assert result.returncode == 0, result.stderr
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, trunk
    server.stop()


# -- phones ----------------------------------------------------------------------------


class Phones:
    """pjsua2 phones of one test; all hang up, unregister and end with it."""

    def __init__(self, server: Server, trunk: int) -> None:
        self.server, self.trunk = server, trunk
        self.started: list[PjPhone] = []

    def _keep(self, phone: PjPhone) -> PjPhone:
        self.started.append(phone)
        return phone

    def member(self, ext: str) -> PjPhone:
        """A user's registered phone: calls to the user ring it."""
        phone = self._keep(PjPhone(self.server.address, ext, PASSWORDS[ext], DOMAIN))
        phone.registered()
        return phone

    def user(self, ext: str) -> PjPhone:
        """A user's phone that only calls (not registered: calls to the user do not ring it)."""
        return self._keep(PjPhone(self.server.address, ext, PASSWORDS[ext], DOMAIN, register=False))

    def carrier(self) -> PjPhone:
        """The carrier, on the trunk's address: it calls in, and it is the far end of calls
        out (it does not register; the switch knows its trunk by address)."""
        return self._keep(
            PjPhone(
                self.server.address, CALLER, "", "carrier.test", port=self.trunk,
                register=False, name="carrier",
            )
        )  # fmt: skip

    def close(self) -> None:
        close_all(self.started)


@pytest.fixture
def phones(paths_company: tuple[Server, int]) -> Iterator[Phones]:
    made = Phones(*paths_company)
    yield made
    made.close()


def call_in(carrier: PjPhone, number: str = MAIN) -> int:
    """The carrier calls `number`; the switch answers (without a challenge)."""
    call = carrier.call(f"sip:{number}@carrier.test")
    carrier.state(call, "CONFIRMED")
    return call


def answered(phone: PjPhone, timeout: float = 10.0) -> tuple[int, str]:
    """The phone's next incoming call, answered: (its id, the INVITE as it arrived)."""
    incoming = phone.incoming(timeout=timeout)
    phone.answer(incoming["call"])
    phone.state(incoming["call"], "CONFIRMED")
    return int(incoming["call"]), str(incoming["message"])


def not_rung(phone: PjPhone, timeout: float = 1.0) -> bool:
    return phone.event("incoming", timeout=timeout) is None


def forward(server: Server, ext: str, when: str, to: str | None) -> None:
    """`vaxel forward` from the command line; None clears."""
    target = ["--to", to] if to is not None else ["--clear"]
    result = vaxel_cli(server.data, "forward", "--company", DOMAIN, "--ext", ext,
                       "--when", when, *target)  # fmt: skip
    assert result.returncode == 0, result.stderr
    # The switch reads its directory again when a call comes at least PROBE_INTERVAL
    # after a change: no event to wait for, but a bound.
    time.sleep(2 * PROBE_INTERVAL)


def prompt(server: Server, name: str) -> Path:
    return server.data / "prompts" / DOMAIN / f"{name}.wav"


def request_line(invite: str) -> str:
    return invite.split("\r\n", 1)[0].split("\n", 1)[0]


# -- S1: a direct number ----------------------------------------------------------------------


def test_a_direct_number_rings_its_user(phones: Phones) -> None:
    anna, carrier = phones.member("1001"), phones.carrier()
    call = carrier.call(f"sip:{DIRECT}@carrier.test")
    ringing = anna.incoming()
    assert CALLER in ringing["from"], "Anna does not see who calls"
    anna.answer(ringing["call"])
    carrier.state(call, "CONFIRMED")  # connected once Anna answers
    said = tone(4, 350, seed=31)
    anna.play(ringing["call"], said)
    assert hears_voice(carrier, call, said) >= 8000, "the caller did not hear Anna"
    carrier.hangup(call)
    anna.state(ringing["call"], "DISCONNECTED")


# -- S3: menus ------------------------------------------------------------------------------


def test_a_menu_key_leads_to_another_menu(phones: Phones) -> None:
    carrier = phones.carrier()
    call = call_in(carrier)
    assert hears(carrier, call, prompt(phones.server, "menu"), 0.3), "no menu"
    carrier.press(call, "2")
    assert hears(carrier, call, prompt(phones.server, "service"), 0.5), "no service menu"
    carrier.hangup(call)


def test_the_repeat_key_plays_the_menu_again(phones: Phones) -> None:
    carrier = phones.carrier()
    menu = prompt(phones.server, "menu")
    call = call_in(carrier)
    assert hears(carrier, call, menu, 0.3)
    carrier.clear(call)
    carrier.press(call, "0")  # during the prompt: it starts over at once
    # Well before the prompt could end and time out (that would replay it too).
    assert hears(carrier, call, menu, 0.3, wait=3), "the menu did not start again"
    assert not hears(carrier, call, prompt(phones.server, "invalid"), 0.3, wait=0.1)
    carrier.hangup(call)


def test_a_menu_key_leads_out_to_an_external_number(phones: Phones) -> None:
    carrier = phones.carrier()  # calls in, and is the far end of the call out
    inbound = call_in(carrier)
    assert hears(carrier, inbound, prompt(phones.server, "menu"), 0.3)
    carrier.press(inbound, "3")
    outbound, invite = answered(carrier)  # back out through the trunk
    assert request_line(invite).startswith(f"INVITE sip:{PARTNER}@"), invite
    assert MAIN in next(e for e in carrier.seen if e["event"] == "incoming")["from"], (
        "the call out does not show the main number"
    )
    said = tone(4, 520, seed=32)
    carrier.play(outbound, said)  # the partner speaks; the caller hears it
    assert hears_voice(carrier, inbound, said) >= 8000, "the caller did not hear the partner"
    # The partner hangs up; the switch ends the inbound call too.
    carrier.hangup(outbound)
    carrier.state(inbound, "DISCONNECTED")


# -- U11: forwarding ----------------------------------------------------------------------------


def test_forwarding_always_to_an_external_number(phones: Phones) -> None:
    anna, far_end = phones.user("1001"), phones.carrier()
    forward(phones.server, "1002", "always", "0701740698")
    try:
        call = anna.call("1002")
        out, invite = answered(far_end)
        assert request_line(invite).startswith("INVITE sip:+46701740698@"), invite
        anna.state(call, "CONFIRMED")
        said = tone(4, 610, seed=33)
        far_end.play(out, said)
        assert hears_voice(anna, call, said) >= 8000, "Anna did not hear the far end"
        anna.hangup(call)
        far_end.state(out, "DISCONNECTED")
    finally:
        forward(phones.server, "1002", "always", None)


@pytest.mark.parametrize("when", ["busy", "no-answer"])
def test_forwarding_to_a_colleague_when_busy_or_on_no_answer(phones: Phones, when: str) -> None:
    anna = phones.user("1001")
    bjorn, cecilia = phones.member("1002"), phones.member("1003")
    forward(phones.server, "1002", when, "1003")
    try:
        call = anna.call("1002")
        ringing = bjorn.incoming()  # Björn's phone is rung first
        if when == "busy":
            bjorn.answer(ringing["call"], 486)  # busy on another line
        # Unanswered, it rings his ring time (5 s); then the switch stops it.
        stopped = bjorn.expect("call_state", call=ringing["call"], state="DISCONNECTED")
        assert stopped["code"] == (486 if when == "busy" else 487), stopped
        colleague, _ = answered(cecilia, timeout=10)
        anna.state(call, "CONFIRMED")
        said = tone(4, 330, seed=34)
        cecilia.play(colleague, said)
        assert hears_voice(anna, call, said) >= 8000, f"Anna did not hear Cecilia ({when})"
        anna.hangup(call)
        cecilia.state(colleague, "DISCONNECTED")
    finally:
        forward(phones.server, "1002", when, None)


def test_the_described_forwarding_applies_until_the_user_clears_it(
    phones: Phones, system_prompts: Path
) -> None:
    """Doris's description forwards her calls to Cecilia; clearing it by command line
    (as #21# does by phone) switches the described forwarding off too."""
    anna, cecilia = phones.user("1001"), phones.member("1003")
    call = anna.call("1004")
    colleague, _ = answered(cecilia)
    anna.state(call, "CONFIRMED")
    anna.hangup(call)
    cecilia.state(colleague, "DISCONNECTED")

    forward(phones.server, "1004", "always", None)
    call = anna.call("1004")  # Doris has no phone: her voicemail answers
    anna.state(call, "CONFIRMED")
    assert hears(anna, call, system_prompts / "en" / "vm-greeting-generic.wav")
    assert not_rung(cecilia, 0.5)
    anna.hangup(call)


# -- P6: the toll-fraud ceiling ------------------------------------------------------------------


def test_a_second_call_out_past_the_ceiling_is_refused(phones: Phones) -> None:
    anna, bjorn = phones.user("1001"), phones.user("1002")
    far_end = phones.carrier()
    first = anna.call("070-1740605")
    out, _ = answered(far_end)
    anna.state(first, "CONFIRMED")
    # One call out is up, the company's ceiling (max_concurrent_calls: 1).
    refused = bjorn.call("070-1740606")
    ended = bjorn.expect("call_state", call=refused, state="DISCONNECTED")
    assert ended["code"] == 503, ended
    assert not_rung(far_end), "a second call went out"
    anna.hangup(first)
    far_end.state(out, "DISCONNECTED")
    # Anna's call is over: Björn may call out again.
    second = bjorn.call("070-1740606")
    out, invite = answered(far_end)
    assert request_line(invite).startswith("INVITE sip:+46701740606@"), invite
    bjorn.state(second, "CONFIRMED")
    bjorn.hangup(second)
    far_end.state(out, "DISCONNECTED")


# -- S6: personal greetings ------------------------------------------------------------------------


def test_a_greeting_recorded_by_phone_is_what_callers_hear(
    phones: Phones, system_prompts: Path
) -> None:
    en = system_prompts / "en"
    greeting = prompt(phones.server, "greeting-1003")
    # Cecilia's phone is not registered: calls to her go to her box.
    cecilia = phones.user("1003")
    call = cecilia.call("*98")
    cecilia.state(call, "CONFIRMED")
    # A second of it: a phone on a loaded machine may miss the first packet or two.
    assert hears(cecilia, call, en / "vm-main-menu.wav", 1.0)
    cecilia.press(call, "2")  # record your greeting
    assert hears(cecilia, call, en / "beep.wav", 1.0), "no beep"  # the whole tone
    spoken = tone(3.0, 310, seed=7)
    cecilia.speak(call, spoken)
    cecilia.press(call, "#")
    assert hears(cecilia, call, en / "vm-greeting-saved.wav", 0.3), "not saved?"
    cecilia.hangup(call)
    saved = load_prompt(greeting)
    assert heard_of(spoken, saved) >= 8000 * 2.5, "the greeting is not Cecilia's voice"
    kept = greeting.read_bytes()
    # She starts a new one but hangs up at the beep: the greeting she had stays.
    call = cecilia.call("*98")
    cecilia.state(call, "CONFIRMED")
    assert hears(cecilia, call, en / "vm-main-menu.wav", 0.3)
    cecilia.press(call, "2")
    assert hears(cecilia, call, en / "beep.wav", 1.0), "no beep"  # the switch records now
    cecilia.hangup(call)
    anna = phones.user("1001")
    call = anna.call("1003")
    anna.state(call, "CONFIRMED")  # the switch answered for her box
    assert hears(anna, call, greeting, 1.0), "Anna did not hear Cecilia's greeting"
    assert not hears(anna, call, en / "vm-greeting-generic.wav", 0.3, wait=0.1)
    anna.hangup(call)
    assert greeting.read_bytes() == kept, "hanging up at the beep changed the greeting"


def test_an_uploaded_personal_greeting_replaces_the_generic_one(
    phones: Phones, system_prompts: Path
) -> None:
    anna = phones.user("1001")  # nobody of 1002 has a phone registered
    call = anna.call("1002")
    anna.state(call, "CONFIRMED")
    assert hears(anna, call, prompt(phones.server, "bjorn-greeting"), 1.0), "not Björn's"
    assert not hears(anna, call, system_prompts / "en" / "vm-greeting-generic.wav", 0.3, wait=0.1)
    anna.hangup(call)


# -- U2, U6: a mobile number as a phone ---------------------------------------------------------


def test_a_mobile_rung_as_a_phone_takes_the_call_by_pressing_1(
    phones: Phones, system_prompts: Path
) -> None:
    """Erik has only his mobile: Anna's call to 1005 rings it through the trunk, showing
    the number Anna's calls show; the mobile hears "press 1 to answer", presses 1, and they talk."""
    anna, mobile = phones.user("1001"), phones.carrier()
    call = anna.call("1005")
    out, invite = answered(mobile)
    assert request_line(invite).startswith("INVITE sip:+46701740655@"), invite
    shown = next(line for line in invite.splitlines() if line.lower().startswith("from:"))
    assert MAIN in shown, shown  # Anna's calls out show the main number
    assert hears(mobile, out, system_prompts / "en" / "mobile-confirm.wav", 1.0)
    mobile.press(out, "1")
    anna.state(call, "CONFIRMED")  # taken only now
    said = tone(4, 430, seed=35)
    mobile.play(out, said)
    assert hears_voice(anna, call, said) >= 8000, "Anna did not hear Erik's mobile"
    anna.hangup(call)
    mobile.state(out, "DISCONNECTED")
