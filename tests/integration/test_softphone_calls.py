"""P3/P4/P5: real softphone calls through the B2BUA, checked as a user would.

baresip phones register with digest auth, call each other through `vaxel serve`
on loopback and record what they send and receive (sndfile). One server serves
the module; every test starts its own phones, so their recordings are theirs.

Where baresip 1.0.0 cannot show something itself, a bare-socket SIP device
(`RawPhone`) does: baresip logs no CANCEL's Reason header, and its sndfile
recording of received audio stops at a hold and never resumes, although RTP
reaches it again after the resume (telephone-events still come through). It
does so in a direct baresip-to-baresip call too, without Vaxel in between.
"""

from __future__ import annotations

import re
import secrets
import select
import socket
import threading
import time
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
from tests.integration.peers import Server, rtp_ports, vaxel_cli
from tests.integration.sipclient import RegisterClient
from vaxel.rtp.g711 import alaw_decode
from vaxel.rtp.packet import parse_header
from vaxel.sip.message import Request, make_response, parse_message

DOMAIN = "softphones.vaxel.test"
USERS = {
    "1001": ("Anna Svensson", "anna-secret-1"),
    "1002": ("Björn Karlsson", "bjorn-secret-2"),
}
ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"'


# -- the switch ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("vaxel-softphones")
    result = vaxel_cli(folder, "company", "add", DOMAIN, "--name", "Softphone AB")
    assert result.returncode == 0, result.stderr
    for ext, (name, password) in USERS.items():
        result = vaxel_cli(
            folder, "user", "add", "--company", DOMAIN, "--ext", ext, "--name", name,
            "--password", password,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def server(data: Path) -> Iterator[Server]:
    srv = Server(data).start("--rtp-ports", rtp_ports())
    yield srv
    srv.stop()


def call_records(data: Path) -> list[dict[str, str]]:
    """`vaxel calls --company DOMAIN` as rows keyed by its column titles, newest first."""
    result = vaxel_cli(data, "calls", "--company", DOMAIN)
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.rstrip("\n").splitlines()
    titles = re.findall(r"\S+(?: \S+)*", header)
    starts = [header.index(title) for title in titles]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    return [
        {title: line[a:b].strip() for title, (a, b) in zip(titles, bounds, strict=True)}
        for line in lines
    ]


def new_record(data: Path, before: int) -> dict[str, str]:
    """The newest call record, once there are more than `before` (they are written behind)."""
    deadline = time.monotonic() + 10
    while True:
        rows = call_records(data)
        if len(rows) > before or time.monotonic() > deadline:
            assert len(rows) > before, rows
            return rows[0]
        time.sleep(0.2)


def assert_answered(record: dict[str, str], hangup: str) -> None:
    assert record["FROM"] == "1001 (Anna Svensson)", record
    assert record["TO"] == "1002", record
    assert record["ANSWERED BY"] == "1002", record
    assert record["DISPOSITION"] == "answered", record
    assert record["HANGUP"] == hangup, record
    assert record["CAUSE"] == "200 Normal clearing", record


# -- audio the phones play ------------------------------------------------------------


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """What 1001 and 1002 say: espeak-ng speech, then noise or a sweep (the call must not
    reach the file's end: baresip hangs up there), snapped to A-law levels."""
    folder = tmp_path_factory.mktemp("audio")
    anna = np.concatenate([
        speech(folder / "anna-speech.wav", "Hello Björn, this is Anna calling through Vaxel."),
        synth(folder / "anna-noise.wav", 30, "pinknoise"),
    ])  # fmt: skip
    bjorn = np.concatenate([
        speech(folder / "bjorn-speech.wav", "Hi Anna, Björn here. I hear you fine.", "en-gb"),
        synth(folder / "bjorn-sweep.wav", 30, "sine", "300-3000"),
    ])  # fmt: skip
    return {
        "1001": write_wav(folder / "anna.wav", g711_levels(anna)),
        "1002": write_wav(folder / "bjorn.wav", g711_levels(bjorn)),
    }


# -- phones ---------------------------------------------------------------------------

PhoneFactory = Callable[..., Baresip]


@pytest.fixture
def phones(server: Server, tmp_path: Path) -> Iterator[PhoneFactory]:
    """Start and register baresip phones; all are stopped (and so unregister) afterwards."""
    started: list[Baresip] = []

    def start(ext: str, name: str | None = None, **options: object) -> Baresip:
        folder = tmp_path / (name or ext)
        phone = Baresip(
            folder, server, ext, USERS[ext][1], DOMAIN, snd_path=folder / "rec", **options
        )  # type: ignore[arg-type]
        started.append(phone)
        phone.start()
        phone.register()
        event = phone.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
        assert event is not None and event["type"] == "REGISTER_OK", phone.log_text()
        return phone

    yield start
    for phone in started:
        phone.stop()


class RawPhone:
    """A SIP device on a bare UDP socket, registered with digest auth.

    It rings (180) on a new INVITE and answers it at once when `answer` is set,
    answers re-INVITEs by mirroring the offered direction, takes CANCEL (487) and
    BYE, and keeps every request it got and every RTP packet that reached its
    PCMA media port, with the time each arrived.
    """

    def __init__(self, server: Server, ext: str, *, answer: bool) -> None:
        self.client = RegisterClient(server, ext, USERS[ext][1], DOMAIN)
        self.answer = answer
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.requests: list[tuple[float, Request]] = []
        self.packets: list[tuple[float, bytes]] = []
        self.tag = secrets.token_hex(4)
        self.version = 0
        self._invite: Request | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def register(self) -> RawPhone:
        response = self.client.register(contact=self.client.contact())
        assert response.status == 200, response
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(timeout=5)
            self.client.register(contact=self.client.contact(), expires=0)
        self.client.close()
        self.rtp.close()

    def request(self, method: str, timeout: float = 5.0, after: int = 0) -> tuple[float, Request]:
        """Wait for the first `method` request beyond the first `after` requests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for arrived, request in self.requests[after:]:
                if request.method == method:
                    return arrived, request
            time.sleep(0.02)
        got = [request.method for _, request in self.requests]
        raise AssertionError(f"no {method} after #{after}; got {got}")

    # -- the device -------------------------------------------------------------------

    def _run(self) -> None:
        sip = self.client.sock.sock
        while not self._stop.is_set():
            ready, _, _ = select.select([sip, self.rtp], [], [], 0.05)
            for sock in ready:
                try:
                    datagram, source = sock.recvfrom(65535)
                except OSError:
                    continue
                if sock is self.rtp:
                    self.packets.append((time.monotonic(), datagram))
                    continue
                message = parse_message(datagram)
                if isinstance(message, Request):
                    self.requests.append((time.monotonic(), message))
                    for response in self._respond(message):
                        sip.sendto(response, source)

    def _respond(self, request: Request) -> list[bytes]:
        method = request.method
        if method == "ACK":
            return []
        if method == "INVITE" and request.to.tag is None:
            self._invite = request
            ringing = make_response(request, 180, to_tag=self.tag)
            ringing.headers.add("Contact", self.client.contact())
            if not self.answer:
                return [bytes(ringing)]
            return [bytes(ringing), self._ok(request, "sendrecv")]
        if method == "INVITE":
            offered = re.search(rb"a=(sendrecv|sendonly|recvonly|inactive)", request.body)
            mirror = {b"sendonly": "recvonly", b"recvonly": "sendonly", b"inactive": "inactive"}
            return [self._ok(request, mirror.get(offered.group(1) if offered else b"", "sendrecv"))]
        if method == "CANCEL" and self._invite is not None:
            terminated = make_response(self._invite, 487, to_tag=self.tag)
            return [bytes(make_response(request, 200)), bytes(terminated)]
        return [bytes(make_response(request, 200))]

    def _ok(self, request: Request, direction: str) -> bytes:
        self.version += 1
        port = self.rtp.getsockname()[1]
        response = make_response(request, 200, to_tag=self.tag)
        response.headers.add("Contact", self.client.contact())
        response.headers.add("Content-Type", "application/sdp")
        response.body = (
            f"v=0\r\no=raw 1 {self.version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
            f"t=0 0\r\nm=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
            f"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na={direction}\r\n"
        ).encode()
        return bytes(response)

    def audio(self, since: float = 0.0) -> np.ndarray:
        """The PCMA audio of the packets that arrived after `since` (clock: time.monotonic)."""
        payloads = []
        for arrived, packet in self.packets:
            header = parse_header(packet)
            if header is not None and arrived >= since and header[0] == 8:
                payloads.append(packet[header[5] :])
        return alaw_decode(b"".join(payloads))


@pytest.fixture
def raw_phones(server: Server) -> Iterator[Callable[..., RawPhone]]:
    made: list[RawPhone] = []

    def make(ext: str, *, answer: bool) -> RawPhone:
        phone = RawPhone(server, ext, answer=answer)
        made.append(phone)
        return phone.register()

    yield make
    for phone in made:
        phone.close()


# -- helpers for calls between baresip phones ----------------------------------------------


def call(caller: Baresip, callee: Baresip) -> None:
    """`caller` dials 1002 and `callee` (auto answer) picks up."""
    caller.dial(f"sip:{callee.user}@{DOMAIN}")
    for phone in (caller, callee):
        event = phone.event({"CALL_ESTABLISHED", "CALL_CLOSED"}, timeout=10)
        assert event is not None and event["type"] == "CALL_ESTABLISHED", (
            event, phone.log_text()
        )  # fmt: skip


def hang_up(by: Baresip, other: Baresip) -> None:
    by.hangup()
    for phone in (by, other):
        assert phone.event({"CALL_CLOSED"}, timeout=10) is not None, phone.log_text()


def wait_received(*phones: Baresip, seconds: float, timeout: float = 15.0) -> None:
    """Wait until each phone has received `seconds` of audio in its call: the size of its
    sndfile recording of received audio, as it grows (its content is read once closed)."""
    deadline = time.monotonic() + timeout
    for phone in phones:
        while True:
            files = phone.recorded("dec")
            size = files[-1].stat().st_size if files else 0
            if size >= 44 + 2 * RATE * seconds:
                break
            assert time.monotonic() < deadline, f"{phone.user} received {size} bytes"
            time.sleep(0.1)


def recording(phone: Baresip) -> tuple[np.ndarray, np.ndarray]:
    """(sent, received) audio of the phone's only call; the phone must be stopped first
    (sndfile completes the WAV headers when the call's audio stops)."""
    phone.wait_recordings_closed()
    (pair,) = phone.recordings()
    sent, received = (read_wav(path) for path in pair)
    return sent, received


# -- the tests ----------------------------------------------------------------------------


def test_forked_call_rings_every_phone_and_cancels_the_others_as_completed_elsewhere(
    phones: PhoneFactory,
    raw_phones: Callable[..., RawPhone],
    sources: dict[str, Path],
    data: Path,
) -> None:
    before = len(call_records(data))
    desk = phones("1002", "desk", answermode="manual", audio_source=sources["1002"])
    mobile = phones("1002", "mobile", answermode="manual", audio_source=sources["1002"])
    third = raw_phones("1002", answer=False)  # a device that shows us the CANCEL itself
    anna = phones("1001", audio_source=sources["1001"])

    anna.dial(f"sip:1002@{DOMAIN}")
    for phone in (desk, mobile):
        event = phone.event({"CALL_INCOMING"}, timeout=10)
        assert event is not None, phone.log_text()
        assert event["peeruri"] == f"sip:1001@{DOMAIN}", event
        assert event["peerdisplayname"] == "Anna Svensson", event
    third.request("INVITE")
    assert anna.event({"CALL_RINGING"}, timeout=5) is not None, anna.log_text()

    desk.accept()
    for phone in (desk, anna):
        event = phone.event({"CALL_ESTABLISHED", "CALL_CLOSED"}, timeout=10)
        assert event is not None and event["type"] == "CALL_ESTABLISHED", (event, phone.log_text())
    closed = mobile.event({"CALL_CLOSED"}, timeout=10)
    assert closed is not None, mobile.log_text()
    # baresip reports a CANCEL as the peer resetting the session; it logs no Reason.
    assert closed["param"] == "Connection reset by peer", closed
    assert "Call established" not in mobile.log_text()
    _, cancel = third.request("CANCEL")
    assert cancel.headers.get("Reason") == ELSEWHERE, bytes(cancel)
    third.request("ACK")  # the switch acknowledges the device's 487

    for phone in (desk, anna):
        assert phone.event({"CALL_RTPESTAB"}, timeout=5) is not None, phone.log_text()
    hang_up(desk, anna)
    assert_answered(new_record(data, before), hangup="callee")


def test_pcma_audio_arrives_bit_exact_both_ways(
    phones: PhoneFactory, sources: dict[str, Path], data: Path
) -> None:
    before = len(call_records(data))
    anna = phones("1001", audio_source=sources["1001"], audio_codecs="PCMA")
    bjorn = phones("1002", audio_source=sources["1002"], audio_codecs="PCMA")
    call(anna, bjorn)
    wait_received(anna, bjorn, seconds=2.5)
    hang_up(anna, bjorn)
    for phone in (anna, bjorn):
        phone.stop()
        assert "audio: Set audio decoder: PCMA" in phone.log_text()
        assert "audio: Set audio encoder: PCMA" in phone.log_text()

    for sender, receiver in ((anna, bjorn), (bjorn, anna)):
        sent, _ = recording(sender)
        _, received = recording(receiver)
        assert rms(received) > 500, f"{receiver.user} heard silence"
        # The switch only relays PCMA here: what arrives must be the very codes sent.
        # baresip's G.711 decoder has no concealment (and no plc module is loaded): a
        # lost packet would leave a gap, not made-up audio, and its jitter buffer
        # only delays. On loopback nothing is lost, so the run is the whole call.
        length, at_received, at_sent = longest_exact_run(alaw_codes(sent), alaw_codes(received))
        assert length >= 2 * RATE, (sender.user, receiver.user, length, at_received, at_sent)
    assert_answered(new_record(data, before), hangup="caller")


def test_pcma_to_pcmu_is_transcoded(
    phones: PhoneFactory, sources: dict[str, Path], data: Path
) -> None:
    before = len(call_records(data))
    anna = phones("1001", audio_source=sources["1001"], audio_codecs="PCMA")
    bjorn = phones("1002", audio_source=sources["1002"], audio_codecs="PCMU")
    call(anna, bjorn)
    wait_received(anna, bjorn, seconds=2.5)
    hang_up(bjorn, anna)
    anna.stop()
    bjorn.stop()
    assert "audio: Set audio decoder: PCMA" in anna.log_text()
    assert "audio: Set audio decoder: PCMU" in bjorn.log_text()
    assert "audio: Set audio encoder: PCMU" in bjorn.log_text()

    for sender, receiver in ((anna, bjorn), (bjorn, anna)):
        sent, _ = recording(sender)
        _, received = recording(receiver)
        coefficient, lag, overlap = correlation(sent, received)
        assert overlap >= 2 * RATE, (sender.user, receiver.user, lag, overlap)
        assert coefficient >= 0.99, (sender.user, receiver.user, coefficient, lag)
    assert_answered(new_record(data, before), hangup="callee")


def test_dtmf_digits_reach_the_callee_in_order(
    phones: PhoneFactory, sources: dict[str, Path], data: Path
) -> None:
    before = len(call_records(data))
    # baresip sends telephone-events from its audio source's clock: it needs a source.
    anna = phones("1001", audio_source=sources["1001"])
    bjorn = phones("1002", audio_source=sources["1002"])
    call(anna, bjorn)
    assert bjorn.event({"CALL_RTPESTAB"}, timeout=5) is not None, bjorn.log_text()
    for digit in "15#":
        assert anna.send_digit(digit)["ok"]
        time.sleep(0.25)
    anna.send_digit("")  # releases the last key
    for _ in "15#":
        assert bjorn.event({"CALL_DTMF_START"}, timeout=5) is not None, bjorn.log_text()
    time.sleep(0.3)
    hang_up(anna, bjorn)
    digits = [event["param"] for event in bjorn.events if event["type"] == "CALL_DTMF_START"]
    assert digits == ["1", "5", "#"], digits  # in order, each key once
    assert_answered(new_record(data, before), hangup="caller")


def test_hold_and_resume(
    phones: PhoneFactory,
    raw_phones: Callable[..., RawPhone],
    sources: dict[str, Path],
    data: Path,
) -> None:
    before = len(call_records(data))
    # 1002 is a RawPhone: baresip records no received audio after a hold (see above).
    bjorn = raw_phones("1002", answer=True)
    anna = phones("1001", audio_source=sources["1001"], audio_codecs="PCMA")
    anna.dial(f"sip:1002@{DOMAIN}")
    event = anna.event({"CALL_ESTABLISHED", "CALL_CLOSED"}, timeout=10)
    assert event is not None and event["type"] == "CALL_ESTABLISHED", (event, anna.log_text())
    deadline = time.monotonic() + 10
    while rms(bjorn.audio()) <= 500:
        assert time.monotonic() < deadline, "no audio before the hold"
        time.sleep(0.1)

    requests = len(bjorn.requests)
    assert anna.hold()["ok"]
    _, hold = bjorn.request("INVITE", after=requests)
    assert b"a=sendonly" in hold.body, hold.body  # the switch told 1002 it is held
    time.sleep(1.5)

    requests = len(bjorn.requests)
    assert anna.resume()["ok"]
    resumed_at, resume = bjorn.request("INVITE", after=requests)
    assert b"a=sendrecv" in resume.body, resume.body
    deadline = time.monotonic() + 10
    while len(heard := bjorn.audio(since=resumed_at)) < 1.5 * RATE:
        assert time.monotonic() < deadline, f"only {len(heard)} samples after the resume"
        time.sleep(0.1)
    assert rms(heard[-RATE:]) > 500, "silence after the resume"
    assert not [e for e in anna.pending if e["type"] == "CALL_CLOSED"], anna.events
    assert "ESTABLISHED" in str(anna.request("listcalls")["data"]).upper()

    anna.hangup()
    assert anna.event({"CALL_CLOSED"}, timeout=10) is not None
    bjorn.request("BYE")
    assert_answered(new_record(data, before), hangup="caller")


def test_hold_and_resume_between_two_baresip_phones(
    phones: PhoneFactory, sources: dict[str, Path], data: Path
) -> None:
    """The same with baresip as 1002: it cannot record audio after a hold, but a key
    pressed after the resume travels the same RTP path and reaches it."""
    before = len(call_records(data))
    anna = phones("1001", audio_source=sources["1001"])
    bjorn = phones("1002", audio_source=sources["1002"])
    call(anna, bjorn)
    assert bjorn.event({"CALL_RTPESTAB"}, timeout=5) is not None, bjorn.log_text()
    assert anna.hold()["ok"]
    time.sleep(1)
    assert anna.resume()["ok"]
    for _ in ("hold", "resume"):  # the switch re-INVITEs 1002 both times
        event = bjorn.event({"CALL_REMOTE_SDP"}, timeout=5)
        assert event is not None and event["param"] == "offer", bjorn.log_text()
    time.sleep(0.5)
    assert anna.send_digit("7")["ok"]
    time.sleep(0.2)
    anna.send_digit("")
    event = bjorn.event({"CALL_DTMF_START"}, timeout=5)
    assert event is not None and event["param"] == "7", bjorn.log_text()
    for phone in (anna, bjorn):
        assert not [e for e in phone.pending if e["type"] == "CALL_CLOSED"], phone.events
        assert "ESTABLISHED" in str(phone.request("listcalls")["data"]).upper()
    hang_up(anna, bjorn)
    assert_answered(new_record(data, before), hangup="caller")
