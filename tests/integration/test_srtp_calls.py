"""O2, P5: SDES-SRTP calls through `vaxel serve` between real phones (RFC 4568, RFC 3711).

baresip phones with its srtp module (`;mediaenc=srtp-mand`: SRTP or no call) call each
other, and a plain pjsua2 phone (across a hold and resume too), through the switch on
loopback. What a user checks:
the other party is heard, bit for bit (the switch decrypts, relays and encrypts the very
A-law codes); what a tap on the loopback interface checks (tests/integration/capture.py):
the packets between the switch and an SRTP phone carry no stretch of the audio, while
those to the plain phone do. The company that requires SRTP also records its calls
(A6): the recording is made from the decrypted audio.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.integration.audio import (
    RATE,
    alaw_codes,
    correlation,
    g711_levels,
    longest_exact_run,
    read_wav,
    rms,
    speech,
    synth,
    write_wav,
)
from tests.integration.baresip import Baresip
from tests.integration.capture import Datagram, LoopbackCapture
from tests.integration.peers import Server, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone, close_all, hears, hears_voice
from tests.integration.test_pjsua_calls import voice
from vaxel.rtp.g711 import alaw_decode

SECURE, MIXED = "srtp.vaxel.test", "mixed.vaxel.test"
PASSWORDS = {"1001": "anna-secret-1", "1002": "bjorn-secret-2"}
USERS = "".join(
    f'  - {{ext: "{ext}", name: {name}, password: {PASSWORDS[ext]}}}\n'
    for ext, name in (("1001", "Anna"), ("1002", "Björn"))
)
DESCRIPTIONS = {
    SECURE: f"company: {{domain: {SECURE}, name: Secure AB}}\nusers:\n{USERS}"
    "media: {srtp: required}\n"
    "recording: {default: always, announce: false, format: stereo}\n",
    MIXED: f"company: {{domain: {MIXED}, name: Mixed AB}}\nusers:\n{USERS}",  # optional
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("srtp")
    for domain, description in DESCRIPTIONS.items():
        (tmp / f"{domain}.yaml").write_text(description)
        result = vaxel_cli(tmp / "data", "config", "apply", str(tmp / f"{domain}.yaml"))
        assert result.returncode == 0, result.stderr
    ports = rtp_ports()
    srv = Server(tmp / "data").start("--rtp-ports", ports)
    low, high = (int(p) for p in ports.split("-"))
    srv.rtp_range = range(low, high + 1)  # type: ignore[attr-defined]
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """What Anna and Björn say: speech, then noise or a sweep, at A-law levels (the call
    must not reach a file's end: baresip hangs up there)."""
    folder = tmp_path_factory.mktemp("srtp-audio")
    anna = np.concatenate([
        speech(folder / "anna-speech.wav", "Hello Björn, this call is encrypted."),
        synth(folder / "anna-noise.wav", 30, "pinknoise"),
    ])  # fmt: skip
    bjorn = np.concatenate([
        speech(folder / "bjorn-speech.wav", "Hi Anna, nobody else hears us.", "en-gb"),
        synth(folder / "bjorn-sweep.wav", 30, "sine", "300-3000"),
    ])  # fmt: skip
    return {
        "1001": write_wav(folder / "anna.wav", g711_levels(anna)),
        "1002": write_wav(folder / "bjorn.wav", g711_levels(bjorn)),
    }


@pytest.fixture
def phones(server: Server, tmp_path: Path) -> Iterator[Callable[..., Baresip]]:
    started: list[Baresip] = []

    def start(ext: str, domain: str, **options: object) -> Baresip:
        folder = tmp_path / ext  # short: baresip's sndfile cuts longer paths of its files
        phone = Baresip(
            folder, server, ext, PASSWORDS[ext], domain, snd_path=folder / "rec",
            audio_codecs="PCMA", mediaenc="srtp-mand", **options,
        )  # type: ignore[arg-type]  # fmt: skip
        started.append(phone)
        phone.start()
        phone.register()
        event = phone.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
        assert event is not None and event["type"] == "REGISTER_OK", phone.log_text()
        return phone

    yield start
    for phone in started:
        phone.stop()


@pytest.fixture
def tap(server: Server) -> Iterator[LoopbackCapture]:
    """The loopback's UDP to and from the switch's RTP ports, while the test runs."""
    ports = server.rtp_range  # type: ignore[attr-defined]
    try:
        capture = LoopbackCapture(lambda s, d: s in ports or d in ports)
    except PermissionError:
        pytest.skip("capturing on loopback needs root (CAP_NET_RAW)")
    capture.start()
    yield capture
    capture.stop()


# -- what the phones and the wire show ------------------------------------------------------


def wait_received(phone: Baresip, seconds: float, timeout: float = 20.0) -> None:
    """Until the phone has received `seconds` of audio (its sndfile recording grows)."""
    deadline = time.monotonic() + timeout
    while True:
        files = phone.recorded("dec")
        size = files[-1].stat().st_size if files else 0
        if size >= 44 + 2 * RATE * seconds:
            return
        assert time.monotonic() < deadline, f"{phone.user} received {size} B\n{phone.log_text()}"
        time.sleep(0.1)


def recording(phone: Baresip) -> tuple[np.ndarray, np.ndarray]:
    """(sent, received) audio of the phone's only call, once it is stopped."""
    phone.wait_recordings_closed()
    (pair,) = phone.recordings()
    sent, received = (read_wav(path) for path in pair)
    return sent, received


def rtp_ports_of(phone: Baresip) -> range:
    line = next(
        line for line in (phone.folder / "config").read_text().splitlines()
        if line.startswith("rtp_ports ")
    )  # fmt: skip
    low, high = (int(p) for p in line.split()[1].split("-"))
    return range(low, high + 1)


def flow(datagrams: list[Datagram], *, to: range | None = None, since: range | None = None):  # type: ignore[no-untyped-def]
    """The RTP packets of PCMA audio sent to ports `to` or from ports `since` (not RTCP,
    not telephone-events, not baresip's keep-alives)."""
    return [
        d.payload for d in datagrams
        if (to is None or d.destination[1] in to) and (since is None or d.source[1] in since)
        and len(d.payload) > 12 and d.payload[0] & 0xC0 == 0x80 and d.payload[1] & 0x7F == 8
    ]  # fmt: skip


def wire_codes(packets: list[bytes]) -> np.ndarray:
    """The 160 octets after each packet's 12-octet header, as if they were A-law."""
    return np.frombuffer(b"".join(p[12:172] for p in packets), np.uint8)


def assert_not_plain(packets: list[bytes], said: np.ndarray, who: str) -> None:
    """The packets carry no 20 ms of `said` (A-law), and decoded as A-law do not sound
    like it; each has an SRTP tag (4 or 10 octets) after its 160 octets of payload."""
    assert len(packets) >= 100, f"{who}: only {len(packets)} packets on the wire"
    assert {len(p) - 172 for p in packets} <= {4, 10}, {len(p) for p in packets}
    codes = wire_codes(packets)
    run, _, _ = longest_exact_run(alaw_codes(said), codes)
    assert run < 160, f"{who}: {run} samples of the audio in the clear"
    coefficient, _, _ = correlation(said.astype(np.int16), alaw_decode(codes.tobytes()))
    assert abs(coefficient) < 0.2, (who, coefficient)


def assert_plain(packets: list[bytes], said: np.ndarray, who: str) -> None:
    """The control: the same check finds the audio where it is plain RTP."""
    run, _, _ = longest_exact_run(alaw_codes(said), wire_codes(packets))
    assert run >= RATE, f"{who}: the tap did not see plain audio ({run} samples)"


# -- the tests ----------------------------------------------------------------------------


def test_srtp_phones_talk_encrypted_on_both_legs_and_the_call_is_recorded(
    server: Server,
    phones: Callable[..., Baresip],
    sources: dict[str, Path],
    tap: LoopbackCapture,
) -> None:
    anna = phones("1001", SECURE, audio_source=sources["1001"])
    bjorn = phones("1002", SECURE, audio_source=sources["1002"])
    anna.dial(f"sip:1002@{SECURE}")
    for phone in (anna, bjorn):
        event = phone.event({"CALL_ESTABLISHED", "CALL_CLOSED"}, timeout=10)
        assert event is not None and event["type"] == "CALL_ESTABLISHED", phone.log_text()
    wait_received(anna, 3.0)
    wait_received(bjorn, 3.0)
    anna.hangup()
    for phone in (anna, bjorn):
        assert phone.event({"CALL_CLOSED"}, timeout=10) is not None, phone.log_text()
    datagrams = tap.stop()
    anna.stop(), bjorn.stop()
    for phone in (anna, bjorn):
        assert "RTP/SAVP" in phone.log_text() or "srtp" in phone.log_text().lower()

    said = {"1001": recording(anna)[0], "1002": recording(bjorn)[0]}
    for sender, receiver in ((anna, bjorn), (bjorn, anna)):
        _, received = recording(receiver)
        assert rms(received) > 500, f"{receiver.user} heard silence"
        # Decrypted, relayed and encrypted again: the very A-law codes arrive.
        sent = said[sender.user]
        length, _, _ = longest_exact_run(alaw_codes(sent), alaw_codes(received))
        assert length >= 2 * RATE, (sender.user, receiver.user, length)
    # On the wire, neither leg carries the audio in the clear, either way.
    for phone in (anna, bjorn):
        ports = rtp_ports_of(phone)
        other = "1002" if phone is anna else "1001"
        assert_not_plain(flow(datagrams, since=ports), said[phone.user], f"{phone.user} sends")
        assert_not_plain(flow(datagrams, to=ports), said[other], f"to {phone.user}")
    # A6: the switch recorded the call from what it decrypted (Anna left, Björn right).
    files = list((server.data / "recordings" / SECURE).glob("*/*.wav"))
    deadline = time.monotonic() + 10
    while not files and time.monotonic() < deadline:
        time.sleep(0.1)
        files = list((server.data / "recordings" / SECURE).glob("*/*.wav"))
    (path,) = files
    with wave.open(str(path)) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), np.int16)
        assert wav.getnchannels() == 2
    left = frames[0::2]
    coefficient, _, overlap = correlation(said["1001"], left)
    assert coefficient > 0.99 and overlap >= 2 * RATE, (coefficient, overlap)


def test_plain_offers_get_488_where_srtp_is_required(server: Server) -> None:
    phone = PjPhone(server.address, "1001", PASSWORDS["1001"], SECURE)
    try:
        phone.registered()
        call = phone.call(f"sip:1002@{SECURE}")
        state = phone.state(call, "DISCONNECTED")
        assert state["code"] == 488, state
    finally:
        close_all([phone])


def test_an_srtp_phone_and_a_plain_phone_hear_each_other_also_after_a_hold(
    server: Server,
    phones: Callable[..., Baresip],
    sources: dict[str, Path],
    tap: LoopbackCapture,
    system_prompts: Path,
) -> None:
    anna = phones("1001", MIXED, audio_source=sources["1001"])  # SRTP only
    bjorn = PjPhone(server.address, "1002", PASSWORDS["1002"], MIXED)  # plain RTP
    try:
        bjorn.registered()
        anna.dial(f"sip:1002@{MIXED}")
        ringing = bjorn.incoming()
        bjorn.answer(ringing["call"])
        call = int(ringing["call"])
        bjorn.state(call, "CONFIRMED")
        event = anna.event({"CALL_ESTABLISHED", "CALL_CLOSED"}, timeout=10)
        assert event is not None and event["type"] == "CALL_ESTABLISHED", anna.log_text()
        said_bjorn = voice(8, 7, 410)
        bjorn.play(call, said_bjorn)
        anna_said = read_wav(sources["1001"])
        assert hears_voice(bjorn, call, anna_said, 2 * RATE) >= 2 * RATE, "Björn heard no one"
        wait_received(anna, 3.0)
        # Anna holds (an RTP/SAVP re-INVITE, answered with the same keys): Björn hears
        # music; she resumes, and Björn hears her again through the same SRTP contexts.
        assert anna.hold()["ok"], anna.log_text()
        bjorn.expect("media_state", call=call, status="remote_hold")
        assert hears(bjorn, call, system_prompts / "sv" / "music.wav", 1.0), "no music on hold"
        assert anna.resume()["ok"], anna.log_text()
        bjorn.expect("media_state", call=call, status="active")
        bjorn.clear(call)
        assert hears_voice(bjorn, call, anna_said, RATE) >= RATE, "no voice after the resume"
        anna.hangup()
        assert anna.event({"CALL_CLOSED"}, timeout=10) is not None, anna.log_text()
        datagrams = tap.stop()
        anna.stop()
    finally:
        close_all([bjorn])
    sent, received = recording(anna)
    length, _, _ = longest_exact_run(alaw_codes(said_bjorn), alaw_codes(received))
    assert length >= RATE, f"Anna heard {length} samples of Björn"
    ports = rtp_ports_of(anna)
    assert_not_plain(flow(datagrams, since=ports), sent, "Anna sends")
    assert_not_plain(flow(datagrams, to=ports), said_bjorn, "to Anna")
    # Björn's leg is plain RTP (the company's SRTP is optional): the same tap hears Anna.
    switch: range = server.rtp_range  # type: ignore[attr-defined]
    to_bjorn = [d for d in datagrams if d.source[1] in switch and d.destination[1] not in ports]
    assert_plain(flow(to_bjorn), sent, "to Björn")
