"""A company's main number end to end with real softphones (S1-S6, S8, P6, U8).

The company of test_main_number.py, described in YAML (prompts spoken by
espeak-ng at `vaxel config apply`), but every phone is a baresip softphone:
the carrier's side of an inbound call is a baresip listening on the trunk's
address (the switch knows its trunk by host:port), with an account that does
not register and sends to the switch; the members 1001-1003 are baresip
phones registered with the company's domain.

Only where baresip cannot show what we check does a Python phone stand in: the
carrier's side of a call out, which must show the INVITE as it left the trunk.

What a phone heard is read from its sndfile recording (`dump-*-dec.wav`):
the switch sends a prompt's A-law codes as they are, and every phone here
speaks PCMA, so what a caller hears is compared code for code with the
prompt file, and what one phone hears of another with what the other sent.
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
    WORKDAYS,
    Mailbox,
    company,
    wait_mail,
    wait_messages,
)
from tests.integration.audio import (
    RATE,
    Samples,
    alaw_codes,
    correlation,
    g711_levels,
    longest_exact_run,
    synth,
    write_wav,
)
from tests.integration.audio_phone import AudioPhone
from tests.integration.baresip import Baresip, established
from tests.integration.peers import Server, rtp_ports, vaxel_cli
from vaxel.media.player import load_prompt
from vaxel.rtp.inband import generate

CALLER = "+46701740605"  # the outside caller, and the number 1001 calls out to
RING = 5  # the sales group rings each member this long, one after the other (see acme.py)


# -- the company and its switch -----------------------------------------------------------


@pytest.fixture(scope="module")
def open_company(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]
) -> Iterator[tuple[Server, int]]:
    data, trunk = company(tmp_path_factory.mktemp("acme"), ALWAYS, smtp[0])
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, trunk
    server.stop()


def prompt(server: Server, name: str) -> Path:
    return server.data / "prompts" / DOMAIN / f"{name}.wav"


# -- audio ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """What the phones play (A-law levels, so codes compare exactly): the caller pink
    noise, Cecilia a sweep; a minute long (baresip hangs up at the file's end)."""
    folder = tmp_path_factory.mktemp("sources")
    noise = synth(folder / "noise-raw.wav", 60, "pinknoise")
    sweep = synth(folder / "sweep-raw.wav", 60, "sine", "300-3000")
    return {
        "caller": write_wav(folder / "caller.wav", g711_levels(noise)),
        "1003": write_wav(folder / "cecilia.wav", g711_levels(sweep)),
    }


def spoken_message(folder: Path) -> Path:
    """What the caller says to the voicemail: 2.5 s of a chirp in noise, at A-law levels."""
    t = np.arange(int(2.5 * RATE)) / RATE
    rng = np.random.default_rng(7)
    voice = 3000 * np.sin(2 * np.pi * (300 + 400 * t) * t) + rng.normal(0, 800, t.size)
    return write_wav(folder / "voice.wav", g711_levels(voice.astype(np.int16)))


def recorded(path: Path | None) -> Samples:
    """The samples of a sndfile recording, also while the call still runs (its header's
    sizes are written only at the end): everything after the data chunk's header."""
    raw = path.read_bytes() if path is not None else b""
    if raw.find(b"data") < 0:
        return np.zeros(0, np.int16)
    start = raw.find(b"data") + 8
    body = raw[start : start + (len(raw) - start) // 2 * 2]
    return np.frombuffer(body, "<i2").astype(np.int16)


def latest(phone: Baresip, kind: str) -> Path | None:
    files = phone.recorded(kind)
    return files[-1] if files else None


def heard(phone: Baresip) -> Samples:
    """What the phone received in its latest call (nothing before its first audio)."""
    return recorded(latest(phone, "dec"))


def sent(phone: Baresip) -> Samples:
    return recorded(latest(phone, "enc"))


def exact(original: Samples, received: Samples) -> int:
    """The longest run (samples) of `received` that is code for code a run of `original`."""
    return longest_exact_run(alaw_codes(original), alaw_codes(received))[0]


def wait_heard(phone: Baresip, original: Samples, samples: int, timeout: float = 10.0) -> int:
    """Wait until the phone has heard `samples` of `original` exactly; the run's length."""
    deadline = time.monotonic() + timeout
    while True:
        run = exact(original, heard(phone))
        if run >= samples or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


# -- phones --------------------------------------------------------------------------------


class Phones:
    """Start baresip phones for one test; all are stopped (and unregister) at its end."""

    def __init__(self, server: Server, trunk: int, folder: Path) -> None:
        self.server, self.trunk, self.folder = server, trunk, folder
        self.started: list[Baresip] = []

    def _start(self, phone: Baresip) -> Baresip:
        self.started.append(phone)
        return phone.start()

    def member(self, ext: str, **options: object) -> Baresip:
        """A registered member phone (PCMA); `answermode="manual"` lets it ring."""
        folder = self.folder / ext
        phone = Baresip(
            folder, self.server, ext, PASSWORDS[ext], DOMAIN, snd_path=folder / "rec",
            audio_codecs="PCMA", **options,
        )  # type: ignore[arg-type]  # fmt: skip
        self._start(phone)
        phone.register()
        event = phone.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
        assert event is not None and event["type"] == "REGISTER_OK", phone.log_text()
        return phone

    def carrier(self, source: Path) -> Baresip:
        """The carrier's side: listens on the trunk's address, does not register, sends
        every request to the switch, plays `source`."""
        folder = self.folder / "carrier"
        account = (
            f"<sip:{CALLER}@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMA"
            f';outbound="sip:{self.server.address}"'
        )
        phone = Baresip(
            folder, self.server, CALLER, "", "127.0.0.1", audio_source=source,
            snd_path=folder / "rec", sip_port=self.trunk, account=account,
        )  # fmt: skip
        self._start(phone)
        assert phone.request("uanew", account)["ok"], phone.log_text()
        return phone

    def stop(self) -> None:
        for phone in self.started:
            phone.stop()


@pytest.fixture
def phones(open_company: tuple[Server, int], tmp_path: Path) -> Iterator[Phones]:
    server, trunk = open_company
    made = Phones(server, trunk, tmp_path)
    yield made
    made.stop()


def closed(*phones: Baresip, timeout: float = 10.0) -> dict[str, object]:
    """Wait until the call ended on every phone and each closed its recordings; the last
    phone's CALL_CLOSED event."""
    event: dict[str, object] | None = None
    for phone in phones:
        event = phone.event({"CALL_CLOSED"}, timeout=timeout)
        assert event is not None, phone.log_text()
        phone.wait_recordings_closed()
    assert event is not None
    return event


def watch(
    phones: dict[str, Baresip], until: set[tuple[str, str]], timeout: float
) -> dict[tuple[str, str], float]:
    """Watch several phones at once (each socket is read every few tens of ms, so the
    times are when the events came, give or take that) until every (phone, event type)
    of `until` came; returns when each first came, keyed (phone, type), in order."""
    seen: dict[tuple[str, str], float] = {}
    wanted = {kind for _, kind in until}
    deadline = time.monotonic() + timeout
    while not until <= seen.keys():
        assert time.monotonic() < deadline, f"waited for {until}; saw {seen}"
        for name, phone in phones.items():
            event = phone.event(wanted, timeout=0.02)
            if event is not None:
                seen.setdefault((name, str(event["type"])), time.monotonic())
    return seen


def call_main(caller: Baresip, server: Server) -> None:
    """The carrier's caller rings the main number and waits for the menu to begin."""
    caller.dial(f"sip:{MAIN}@{server.address}")
    established(caller)
    menu = load_prompt(prompt(server, "menu"))
    assert wait_heard(caller, menu, RATE // 2) >= RATE // 2, "the menu did not begin"


def press(phone: Baresip, key: str) -> None:
    """A key as RFC 4733 telephone-events (baresip sends them while the key is down)."""
    assert phone.send_digit(key)["ok"]
    time.sleep(0.2)
    phone.send_digit("")


# -- the tests -----------------------------------------------------------------------------


def test_welcome_menu_and_the_sequential_sales_group(
    phones: Phones, sources: dict[str, Path]
) -> None:
    server = phones.server
    bjorn = phones.member("1002", answermode="manual")
    cecilia = phones.member("1003", answermode="manual", audio_source=sources["1003"])
    caller = phones.carrier(sources["caller"])
    welcome = load_prompt(prompt(server, "welcome"))
    menu = load_prompt(prompt(server, "menu"))

    call_main(caller, server)
    press(caller, "1")  # sales: Björn first, for the group's ring time, then Cecilia
    members = {"1002": bjorn, "1003": cecilia}
    seen = watch(members, {("1002", "CALL_INCOMING"), ("1002", "CALL_CLOSED"),
                           ("1003", "CALL_INCOMING")}, timeout=RING + 8)  # fmt: skip
    assert next(iter(seen)) == ("1002", "CALL_INCOMING"), seen  # Björn alone first
    rang = seen["1003", "CALL_INCOMING"] - seen["1002", "CALL_INCOMING"]
    assert RING - 0.5 <= rang <= RING + 1.0, seen  # ... for the group's ring time
    # His phone stops ringing (CANCEL) as Cecilia's starts.
    assert abs(seen["1002", "CALL_CLOSED"] - seen["1003", "CALL_INCOMING"]) < 0.3, seen
    assert "Call established" not in bjorn.log_text()
    incoming = [e for e in cecilia.events if e["type"] == "CALL_INCOMING"]
    # The caller's number, as sip:+46701740605@invalid (the switch's host for outsiders).
    assert str(incoming[0]["peeruri"]).startswith(f"sip:{CALLER}@"), incoming

    cecilia.accept()
    established(cecilia)
    voice = load_prompt(sources["1003"])
    assert wait_heard(caller, voice, 2 * RATE) >= 2 * RATE, "Cecilia unheard"
    deadline = time.monotonic() + 10
    while exact(sent(caller), heard(cecilia)) < 2 * RATE:
        assert time.monotonic() < deadline, "the caller unheard"
        time.sleep(0.1)
    caller.hangup()
    closed(caller, cecilia)

    # The caller heard the welcome, then the menu, code for code.
    received = heard(caller)
    coefficient, lag, overlap = correlation(welcome, received)
    assert coefficient > 0.99 and overlap == len(welcome), (coefficient, lag, overlap)
    assert exact(welcome, received) >= 0.8 * len(welcome)
    assert exact(menu, received) >= 0.3 * RATE  # cut short by the key
    # ... then Cecilia, and she heard the caller: the switch relays the codes as sent.
    assert exact(load_prompt(sources["1003"]), received) >= 1.5 * RATE, "Cecilia unheard"
    assert exact(sent(caller), heard(cecilia)) >= 1.5 * RATE, "the caller unheard"


def test_parallel_support_group_rings_both_at_once(
    phones: Phones, sources: dict[str, Path]
) -> None:
    server = phones.server
    bjorn = phones.member("1002", answermode="manual")
    cecilia = phones.member("1003", answermode="manual", audio_source=sources["1003"])
    caller = phones.carrier(sources["caller"])
    call_main(caller, server)
    press(caller, "3")  # support: everybody at once
    members = {"1002": bjorn, "1003": cecilia}
    seen = watch(members, {("1002", "CALL_INCOMING"), ("1003", "CALL_INCOMING")}, timeout=5)
    first, second = seen.values()
    assert second - first < 0.3, seen  # at once, not one after the other
    time.sleep(1)
    cecilia.accept()
    established(cecilia)
    cancelled = closed(bjorn, timeout=5)
    assert cancelled["param"] == "Connection reset by peer", cancelled  # a CANCEL
    assert "Call established" not in bjorn.log_text()
    assert wait_heard(caller, load_prompt(sources["1003"]), RATE) >= RATE, "Cecilia unheard"
    caller.hangup()
    closed(caller, cecilia)
    assert exact(load_prompt(sources["1003"]), heard(caller)) >= RATE, "Cecilia unheard"


def test_nobody_logged_in_overflows_to_the_reception_box(
    phones: Phones, sources: dict[str, Path], system_prompts: Path
) -> None:
    server = phones.server
    bjorn = phones.member("1002", answermode="manual")
    cecilia = phones.member("1003", answermode="manual")
    caller = phones.carrier(sources["caller"])
    try:
        bjorn.dial(f"sip:*46@{DOMAIN}")  # Björn logs out from his phone: "thank you", bye
        established(bjorn)
        closed(bjorn)
        result = vaxel_cli(server.data, "group", "logout", "--company", DOMAIN,
                           "--group", "support", "--ext", "1003")  # fmt: skip
        assert result.returncode == 0, result.stderr
        call_main(caller, server)
        press(caller, "3")
        # Nobody to ring: straight to the reception box's greeting.
        greeting = load_prompt(system_prompts / "en" / "vm-greeting-shared.wav")
        assert wait_heard(caller, greeting, RATE) >= RATE, "no voicemail greeting"
        caller.hangup()
        closed(caller)
        # The greeting plays after the group found nobody: a ring would have come by now.
        for phone in (bjorn, cecilia):
            rang = phone.event({"CALL_INCOMING"}, timeout=0.5)
            assert rang is None, f"{phone.user} was rung: {rang}"
    finally:
        for ext in ("1002", "1003"):
            vaxel_cli(server.data, "group", "login", "--company", DOMAIN, "--group", "support",
                      "--ext", ext)  # fmt: skip


def test_in_band_tones_route_the_menu(phones: Phones, tmp_path: Path) -> None:
    """baresip plays a WAV with the tone of key 2 in it, during the menu (it offers
    telephone-events but sends none: the switch listens to the audio)."""
    server = phones.server
    cecilia = phones.member("1003", answermode="manual")
    tones = np.concatenate(
        [np.zeros(3 * RATE, np.int16), generate("2", 120), np.zeros(60 * RATE, np.int16)]
    )
    caller = phones.carrier(write_wav(tmp_path / "key-2.wav", tones))
    caller.dial(f"sip:{MAIN}@{server.address}")
    established(caller)
    ringing = cecilia.event({"CALL_INCOMING"}, timeout=10)
    assert ringing is not None, "key 2 (an in-band tone) did not reach Cecilia"
    assert str(ringing["peeruri"]).startswith(f"sip:{CALLER}@"), ringing
    caller.hangup()
    closed(caller, cecilia)
    assert "send DTMF" not in caller.log_text()  # no telephone-event left the caller


def test_calling_out_through_the_trunk_and_premium_refused(phones: Phones) -> None:
    server, trunk = phones.server, phones.trunk
    anna = phones.member("1001")
    # The carrier's side, bound at the trunk's address, shows us the INVITE as it left.
    far_end = AudioPhone(server, CALLER, "", "127.0.0.1", port=trunk)
    try:
        anna.dial(f"sip:070-1740605@{DOMAIN}")  # as a phone sends 070-174 06 05
        invite = far_end.wait_request("INVITE", timeout=10)
        far_end.learn(invite.body)
        far_end.reply(invite, 180)
        far_end.reply(invite, 200, far_end.offer())
        far_end.wait_request("ACK")
        established(anna)
        assert invite.uri.user == CALLER, invite.uri  # E.164
        assert invite.from_.uri.user == "+46812345601", invite.from_  # Anna's direct number
        anna.hangup()
        bye = far_end.wait_request("BYE")
        far_end.reply(bye, 200)
        closed(anna)

        anna.dial(f"sip:0900-1234567@{DOMAIN}")  # premium rate
        refused = closed(anna)
        assert str(refused["param"]).startswith("403"), refused
        with pytest.raises(AssertionError):
            far_end.wait_request("INVITE", timeout=0.5)
    finally:
        far_end.close()


# -- closed -----------------------------------------------------------------------------


@pytest.fixture
def closed_company(
    tmp_path: Path, smtp: tuple[int, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], tuple[Server, Phones]]]:
    """Start a server whose opening-hours clock starts at `instant`, and its phones."""
    started: list[tuple[Server, Phones]] = []

    def start(instant: str) -> tuple[Server, Phones]:
        data, trunk = company(tmp_path, WORKDAYS, smtp[0])
        monkeypatch.setenv("VAXEL_SCHEDULE_NOW", instant)
        server = Server(data).start("--rtp-ports", rtp_ports())
        made = Phones(server, trunk, tmp_path)
        started.append((server, made))
        return server, made

    yield start
    for server, made in started:
        made.stop()
        server.stop()


def test_closed_on_midsommarafton_a_message_is_left_mailed_and_lit(
    closed_company: Callable[[str], tuple[Server, Phones]],
    smtp: tuple[int, Mailbox],
    system_prompts: Path,
    tmp_path: Path,
) -> None:
    server, phones = closed_company("2027-06-25T10:00+02:00")  # a Friday, 10:00, but eve
    # Anna listens to the reception box: her baresip watches it (mwi module, RFC 3842).
    anna = phones.member("1001", modules=("mwi.so",))
    lamp = anna.event({"MWI_NOTIFY"}, timeout=5)
    assert lamp is not None, anna.log_text()
    assert "Messages-Waiting: no" in str(lamp["param"]), lamp

    closed_prompt = load_prompt(prompt(server, "closed"))
    greeting = load_prompt(system_prompts / "en" / "vm-greeting-shared.wav")
    beep = load_prompt(system_prompts / "en" / "beep.wav")
    message = load_prompt(spoken_message(tmp_path))
    padding = np.zeros(60 * RATE, np.int16)  # baresip hangs up at a file's end
    quiet = write_wav(tmp_path / "quiet.wav", padding)
    speaks = write_wav(tmp_path / "message.wav", np.concatenate([message, padding]))
    caller = phones.carrier(quiet)  # silent while the prompts play
    sent_before = len(smtp[1].messages)

    caller.dial(f"sip:{MAIN}@{server.address}")
    established(caller)
    assert wait_heard(caller, closed_prompt, RATE) >= RATE, "the caller did not hear 'closed'"
    assert wait_heard(caller, greeting, 4 * RATE) >= 4 * RATE, "no voicemail greeting"
    # A beep is a pure tone, too regular for `exact`: its codes are looked for as they are.
    tone = alaw_codes(beep[: len(beep) // 2]).tobytes()
    deadline = time.monotonic() + 10
    while tone not in alaw_codes(heard(caller)).tobytes():
        assert time.monotonic() < deadline, "no beep"
        time.sleep(0.1)
    caller.play(speaks)  # after the tone, the caller speaks
    deadline = time.monotonic() + 15
    while exact(message, sent(caller)) < len(message) - RATE // 50:  # all sent, but a frame
        assert time.monotonic() < deadline, "the caller's phone did not send the message"
        time.sleep(0.1)
    press(caller, "#")  # done: "goodbye", and the switch hangs up
    closed(caller, timeout=10)

    messages = wait_messages(server.data, "reception", 1)  # stored once the file is closed
    assert len(messages) == 1, messages
    assert messages[0].caller == CALLER
    stored = load_prompt(messages[0].path)
    assert exact(message, stored) >= 0.9 * len(message), "not the message the caller played"

    mail = message_from_bytes(wait_mail(smtp[1], sent_before + 1))
    assert CALLER in mail["Subject"]
    (attachment,) = [part for part in mail.walk() if part.get_content_type() == "audio/wav"]
    assert attachment.get_payload(decode=True) == messages[0].path.read_bytes()

    lamp = anna.event({"MWI_NOTIFY"}, timeout=5)  # the lamp goes on
    assert lamp is not None, anna.log_text()
    assert "Messages-Waiting: yes" in str(lamp["param"]), lamp
    assert "Voice-Message: 1/0" in str(lamp["param"]), lamp


def test_closed_at_night_on_a_weekday_goes_to_voicemail(
    closed_company: Callable[[str], tuple[Server, Phones]],
    sources: dict[str, Path],
    system_prompts: Path,
) -> None:
    server, phones = closed_company("2027-06-23T03:00+02:00")  # a Wednesday, 03:00
    caller = phones.carrier(sources["caller"])
    caller.dial(f"sip:{MAIN}@{server.address}")
    established(caller)
    assert wait_heard(caller, load_prompt(prompt(server, "closed")), RATE) >= RATE
    greeting = load_prompt(system_prompts / "en" / "vm-greeting-shared.wav")
    assert wait_heard(caller, greeting, RATE) >= RATE, "no voicemail greeting"
    welcome = load_prompt(prompt(server, "welcome"))
    assert exact(welcome, heard(caller)) < 0.1 * RATE, "the welcome played while closed"
    caller.hangup()
    closed(caller)
