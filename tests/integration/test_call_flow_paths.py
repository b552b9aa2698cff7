"""Issue 4 end to end, the remaining call-flow paths (S1, S3, U11, P6, S6).

A company of its own (Paths AB) is described in YAML and called through its
trunk: a direct number, menus that nest, repeat and lead out through the
trunk, forwarding to an external number and to a colleague when busy or on
no answer, the ceiling on concurrent calls out, and the personal greeting
(recorded by phone, or uploaded). A Python phone stands in for the carrier
on the trunk's address: it calls in, and it is the far end of calls out.
"""

from __future__ import annotations

import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.integration.audio_phone import AudioPhone
from tests.integration.flows import answer, heard, leave, new_invite
from tests.integration.peers import Server, free_port, rtp_ports, vaxel_cli
from vaxel.media.player import load_prompt
from vaxel.rtp.g711 import alaw_encode

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
    """A tone with noise: no two stretches of it alike, so pieces of it can be found again."""
    t = np.arange(int(8000 * seconds)) / 8000
    rng = np.random.default_rng(seed)
    wave_ = 3000 * np.sin(2 * np.pi * frequency * t) + rng.normal(0, 800, t.size)
    return wave_.astype(np.int16)


def write_wav(path: Path, samples: np.ndarray, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())


@pytest.fixture(scope="module")
def paths_company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, int]]:
    folder = tmp_path_factory.mktemp("paths")
    data, trunk = folder / "data", free_port()
    write_wav(folder / "bjorn.wav", tone(3.0, 440, seed=3))  # Björn's uploaded greeting
    (folder / "paths.yaml").write_text(DESCRIPTION.format(domain=DOMAIN, trunk=trunk))
    result = vaxel_cli(data, "config", "apply", str(folder / "paths.yaml"))
    assert result.returncode == 0, result.stderr
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, trunk
    server.stop()


# -- phones ----------------------------------------------------------------------------


def member(server: Server, ext: str, audio: np.ndarray | None = None) -> AudioPhone:
    """A user's registered phone."""
    phone = AudioPhone(server, ext, PASSWORDS[ext], DOMAIN, audio=audio)
    assert phone.register().status == 200
    return phone


def user(server: Server, ext: str, audio: np.ndarray | None = None) -> AudioPhone:
    """A user's phone that only calls (not registered: calls to the user do not ring it)."""
    return AudioPhone(server, ext, PASSWORDS[ext], DOMAIN, audio=audio)


def carrier(server: Server, trunk: int) -> AudioPhone:
    """The carrier, on the trunk's address: it calls in, and it is the far end of calls out."""
    return AudioPhone(server, CALLER, "", "carrier.test", port=trunk)


def call_in(phone: AudioPhone, number: str = MAIN) -> None:
    response = phone.invite(number, phone.offer())
    assert response.status == 200, response
    assert not phone.challenged, "the switch challenged its own carrier"
    phone.learn(response.body)


def forward(server: Server, ext: str, when: str, to: str | None) -> None:
    """`vaxel forward` from the command line; None clears."""
    target = ["--to", to] if to is not None else ["--clear"]
    result = vaxel_cli(server.data, "forward", "--company", DOMAIN, "--ext", ext,
                       "--when", when, *target)  # fmt: skip
    assert result.returncode == 0, result.stderr
    time.sleep(0.5)  # the running switch sees the change at its next look


def prompt(server: Server, name: str) -> Path:
    return server.data / "prompts" / DOMAIN / f"{name}.wav"


# -- S1: a direct number ----------------------------------------------------------------------


def test_a_direct_number_rings_its_user(paths_company: tuple[Server, int]) -> None:
    server, trunk = paths_company
    anna = member(server, "1001")
    caller = carrier(server, trunk)
    try:
        answering = answer(anna)
        call_in(caller, DIRECT)  # the carrier's call is connected once Anna answers
        answering.join(10)
        assert not answering.is_alive(), "Anna's phone did not ring"
        invite = anna.last_invite  # type: ignore[attr-defined]
        assert CALLER in invite.headers.get("From"), "Anna does not see who calls"
        assert caller.request("BYE").status == 200
        anna.reply(anna.wait_request("BYE"), 200)
    finally:
        leave((anna,), caller)


# -- S3: menus ------------------------------------------------------------------------------


def test_a_menu_key_leads_to_another_menu(paths_company: tuple[Server, int]) -> None:
    server, trunk = paths_company
    caller = carrier(server, trunk)
    try:
        call_in(caller)
        assert heard(caller, prompt(server, "menu"), 0.3), "no menu"
        caller.press("2")
        assert heard(caller, prompt(server, "service"), 0.5), "no service menu after key 2"
        assert caller.request("BYE").status == 200
    finally:
        caller.close()


def test_the_repeat_key_plays_the_menu_again(paths_company: tuple[Server, int]) -> None:
    server, trunk = paths_company
    caller = carrier(server, trunk)
    menu = prompt(server, "menu")
    try:
        call_in(caller)
        assert heard(caller, menu, 0.3)
        caller.clear()
        caller.press("0")  # during the prompt: it starts over at once
        # Well before the prompt could end and time out (that would replay it too).
        assert heard(caller, menu, 0.3, wait=3), "the menu did not start again"
        assert not heard(caller, prompt(server, "invalid"), 0.3, wait=0.1)
        assert caller.request("BYE").status == 200
    finally:
        caller.close()


def test_a_menu_key_leads_out_to_an_external_number(paths_company: tuple[Server, int]) -> None:
    server, trunk = paths_company
    caller = carrier(server, trunk)  # calls in, and is the far end of the call out
    try:
        call_in(caller)
        inbound = caller.call_id
        assert heard(caller, prompt(server, "menu"), 0.3)
        caller.press("3")
        invite = caller.wait_request("INVITE", timeout=10)  # back out through the trunk
        assert str(invite.uri).startswith(f"sip:{PARTNER}@"), invite.uri
        assert MAIN in invite.headers.get("From"), "the call out does not show the main number"
        caller.reply(invite, 180)
        caller.reply(invite, 200, caller.offer())
        caller.wait_request("ACK")
        # The partner hangs up; the switch ends the inbound call too.
        assert caller.request("BYE").status == 200
        bye = caller.wait_request("BYE", timeout=5)
        assert bye.call_id == inbound, "the switch did not hang up the caller's call"
        caller.reply(bye, 200)
    finally:
        caller.close()


# -- U11: forwarding ----------------------------------------------------------------------------


def test_forwarding_always_to_an_external_number(paths_company: tuple[Server, int]) -> None:
    server, trunk = paths_company
    anna = user(server, "1001")
    far_end = carrier(server, trunk)
    try:
        forward(server, "1002", "always", "0701740698")
        answering = answer(far_end)
        response = anna.invite("1002", anna.offer())
        answering.join(10)
        assert response.status == 200, response
        invite = far_end.last_invite  # type: ignore[attr-defined]
        assert str(invite.uri).startswith("sip:+46701740698@"), invite.uri
        assert anna.request("BYE").status == 200
        far_end.reply(far_end.wait_request("BYE"), 200)
    finally:
        forward(server, "1002", "always", None)
        anna.close()
        far_end.close()


@pytest.mark.parametrize("when", ["busy", "no-answer"])
def test_forwarding_to_a_colleague_when_busy_or_on_no_answer(
    paths_company: tuple[Server, int], when: str
) -> None:
    server, _ = paths_company
    anna = user(server, "1001")
    bjorn, cecilia = member(server, "1002"), member(server, "1003")
    try:
        forward(server, "1002", when, "1003")

        def bjorn_does_not_take_it() -> None:
            invite = bjorn.wait_request("INVITE", timeout=10)
            if when == "busy":
                bjorn.reply(invite, 486)  # busy on another line
                return
            bjorn.reply(invite, 180)  # rings for his ring time (5 s), unanswered
            cancel = bjorn.wait_request("CANCEL", timeout=10)
            bjorn.reply(cancel, 200)
            bjorn.reply(invite, 487)

        bjorn_rings = threading.Thread(target=bjorn_does_not_take_it, daemon=True)
        bjorn_rings.start()
        answering = answer(cecilia)
        response = anna.invite("1002", anna.offer())
        bjorn_rings.join(10)
        answering.join(10)
        assert not bjorn_rings.is_alive(), "Björn's phone was not rung first"
        assert not answering.is_alive(), f"Cecilia's phone did not ring ({when})"
        assert response.status == 200, response
        assert anna.request("BYE").status == 200
        cecilia.reply(cecilia.wait_request("BYE"), 200)
    finally:
        forward(server, "1002", when, None)
        leave((bjorn, cecilia), anna)


def test_the_described_forwarding_applies_until_the_user_clears_it(
    paths_company: tuple[Server, int],
) -> None:
    """Doris's description forwards her calls to Cecilia; clearing it by command line
    (as #21# does by phone) switches the described forwarding off too."""
    server, _ = paths_company
    anna = user(server, "1001")
    cecilia = member(server, "1003")
    try:
        answering = answer(cecilia)
        response = anna.invite("1004", anna.offer())
        answering.join(10)
        assert response.status == 200, response
        assert not answering.is_alive(), "the described forwarding did not ring Cecilia"
        assert anna.request("BYE").status == 200
        cecilia.reply(cecilia.wait_request("BYE"), 200)

        forward(server, "1004", "always", None)
        response = anna.invite("1004", anna.offer())  # Doris has no phone: her voicemail
        assert response.status == 200, response
        anna.learn(response.body)
        assert new_invite(cecilia, None, timeout=1) is None
        assert anna.request("BYE").status == 200
    finally:
        leave((cecilia,), anna)


# -- P6: the toll-fraud ceiling ------------------------------------------------------------------


def test_a_second_call_out_past_the_ceiling_is_refused(paths_company: tuple[Server, int]) -> None:
    server, trunk = paths_company
    anna, bjorn = user(server, "1001"), user(server, "1002")
    far_end = carrier(server, trunk)
    try:
        answering = answer(far_end)
        response = anna.invite("070-1740605", anna.offer())
        answering.join(10)
        assert response.status == 200, response
        first = far_end.last_invite  # type: ignore[attr-defined]
        # One call out is up, the company's ceiling (max_concurrent_calls: 1).
        refused = bjorn.invite("070-1740606", bjorn.offer())
        assert refused.status == 503, refused
        assert new_invite(far_end, first, timeout=1) is None, "a second call went out"
        assert anna.request("BYE").status == 200
        far_end.reply(far_end.wait_request("BYE"), 200)
        time.sleep(0.3)
        # Anna's call is over: Björn may call out again.
        answering = answer(far_end)
        response = bjorn.invite("070-1740606", bjorn.offer())
        answering.join(10)
        assert response.status == 200, response
        assert str(far_end.last_invite.uri).startswith("sip:+46701740606@")  # type: ignore[attr-defined]
        assert bjorn.request("BYE").status == 200
        far_end.reply(far_end.wait_request("BYE"), 200)
    finally:
        anna.close()
        bjorn.close()
        far_end.close()


# -- S6: personal greetings ------------------------------------------------------------------------


def test_a_greeting_recorded_by_phone_is_what_callers_hear(
    paths_company: tuple[Server, int], system_prompts: Path
) -> None:
    server, _ = paths_company
    spoken = tone(30.0, 310, seed=7)
    # Cecilia's phone is not registered: calls to her go to her box.
    cecilia = user(server, "1003", audio=spoken)
    anna = user(server, "1001")
    greeting = server.data / "prompts" / DOMAIN / "greeting-1003.wav"
    try:
        response = cecilia.invite("*98", cecilia.offer())
        assert response.status == 200, response
        cecilia.learn(response.body)
        assert heard(cecilia, system_prompts / "en" / "vm-main-menu.wav", 0.3)
        cecilia.press("2")  # record your greeting
        assert heard(cecilia, system_prompts / "en" / "beep.wav", 0.2), "no beep"
        time.sleep(3)  # Cecilia speaks
        cecilia.press("#")
        assert heard(cecilia, system_prompts / "en" / "vm-greeting-saved.wav", 0.3), "not saved?"
        assert cecilia.request("BYE").status == 200
        saved = alaw_encode(load_prompt(greeting))
        assert len(saved) >= 8000 * 2, f"a greeting of {len(saved) / 8000:.1f} s"
        pieces = [alaw_encode(spoken)[i : i + 800] for i in range(0, 8000 * 30, 800)]
        assert any(piece in saved for piece in pieces), "the greeting is not Cecilia's voice"
        # She starts a new one but hangs up at the beep: the greeting she had stays.
        kept = greeting.read_bytes()
        response = cecilia.invite("*98", cecilia.offer())
        assert response.status == 200, response
        cecilia.learn(response.body)
        cecilia.clear()
        assert heard(cecilia, system_prompts / "en" / "vm-main-menu.wav", 0.3)
        cecilia.press("2")
        assert heard(cecilia, system_prompts / "en" / "beep.wav", 0.2), "no beep"
        time.sleep(0.7)  # the beep (0.4 s) is over: the switch is recording
        assert cecilia.request("BYE").status == 200
        time.sleep(0.5)
        assert greeting.read_bytes() == kept, "hanging up at the beep changed the greeting"
        response = anna.invite("1003", anna.offer())
        assert response.status == 200, response  # the switch answered for her box
        anna.learn(response.body)
        assert heard(anna, greeting, 1.0), "Anna did not hear Cecilia's greeting"
        assert not heard(anna, system_prompts / "en" / "vm-greeting-generic.wav", 0.3, wait=0.1)
        assert anna.request("BYE").status == 200
    finally:
        cecilia.close()
        anna.close()


def test_an_uploaded_personal_greeting_replaces_the_generic_one(
    paths_company: tuple[Server, int], system_prompts: Path
) -> None:
    server, _ = paths_company
    anna = user(server, "1001")  # nobody of 1002 has a phone registered
    try:
        response = anna.invite("1002", anna.offer())
        assert response.status == 200, response
        anna.learn(response.body)
        assert heard(anna, prompt(server, "bjorn-greeting"), 1.0), "not Björn's uploaded greeting"
        assert not heard(anna, system_prompts / "en" / "vm-greeting-generic.wav", 0.3, wait=0.1)
        assert anna.request("BYE").status == 200
    finally:
        anna.close()
