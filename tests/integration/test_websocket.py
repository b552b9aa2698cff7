"""SIP over WebSocket end to end (P2, U1, O2; RFC 7118) with a real `vaxel serve`: the web
process serves `/ws` and relays to the switch (web/sip_ws.py, transport/ws.py).

The client is the suite's scriptable phone on a real WebSocket (`websockets`), speaking
SIP as a browser does (tests/integration/websocket_sip.py); the other party is a
baresip softphone or a phone on UDP. What is checked is what a user would see: the
REGISTER's 200 after the digest challenge, the INVITE arriving over the WebSocket, the
audio heard both ways, a closed tab no longer rung, and the refusals of a cross-site
page, a wrong subprotocol and an oversized message, with the switch serving on.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.integration.audio import (
    RATE,
    alaw_codes,
    g711_levels,
    longest_exact_run,
    read_wav,
    rms,
    speech,
    synth,
    write_wav,
)
from tests.integration.audio_phone import AudioPhone
from tests.integration.baresip import Baresip
from tests.integration.conftest import DOMAIN, USERS
from tests.integration.peers import Server, SipSocket, options_request, rtp_ports, vaxel_cli
from tests.integration.phone import Phone, browser_sdp, sdp
from tests.integration.test_web_process import _healthy, _web_pid
from tests.integration.websocket_sip import WebSocketSip, over_websocket
from vaxel.rtp.g711 import alaw_encode
from vaxel.sip.message import Request, parse_message


@pytest.fixture(scope="module")
def server(provisioned: Path) -> Iterator[Server]:
    srv = Server(provisioned).start("--rtp-ports", rtp_ports())
    yield srv
    srv.stop()


def password(ext: str) -> str:
    return USERS[ext][1]


def registrations(data: Path) -> str:
    listing = vaxel_cli(data, "registrations", "--company", DOMAIN)
    assert listing.returncode == 0, listing.stderr
    return listing.stdout


def wait_listing(data: Path, present: str, wanted: bool, timeout: float = 10.0) -> None:
    """Wait until `present` is (or is no longer) in `vaxel registrations`: bindings that a
    flow took with it are stored behind the switch's back."""
    deadline = time.monotonic() + timeout
    while (present in registrations(data)) != wanted:
        assert time.monotonic() < deadline, registrations(data)
        time.sleep(0.1)


def browser_phone(server: Server, ext: str, **options: object) -> AudioPhone:
    return over_websocket(AudioPhone(server, ext, password(ext), DOMAIN, **options), server)


def answer_in_background(phone: Phone) -> tuple[threading.Thread, list[Request]]:
    """The phone rings (180) and answers (200) the next INVITE, takes the ACK and the BYE;
    the requests it got are kept in order."""
    seen: list[Request] = []

    def run() -> None:
        invite = phone.wait_request("INVITE", timeout=15)
        seen.append(invite)
        if isinstance(phone, AudioPhone):
            phone.learn(invite.body)
        phone.reply(invite, 180)
        body = phone.offer() if isinstance(phone, AudioPhone) else sdp()
        if b"UDP/TLS/RTP/SAVPF" in invite.body:  # a browser is offered WebRTC media (U1)
            body = browser_sdp()
        phone.reply(invite, 200, body)
        seen.append(phone.wait_request("ACK", timeout=10))
        bye = phone.wait_request("BYE", timeout=30)
        seen.append(bye)
        phone.reply(bye, 200)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, seen


def test_a_websocket_client_registers_with_digest_and_is_called_over_its_websocket(
    server: Server, provisioned: Path
) -> None:
    wrong = over_websocket(Phone(server, "1002", "not-the-password", DOMAIN), server)
    tab = browser_phone(server, "1002")
    desk = Phone(server, "1001", password("1001"), DOMAIN)
    try:
        assert wrong.register().status in (401, 403)  # the digest is the switch's
        assert tab.register().status == 200
        wait_listing(provisioned, f"ws:127.0.0.1:{tab.port}", True)
        # RFC 5626 §4.4.1 keep-alive: a double CRLF is answered with one.
        tab.sock.send(b"\r\n\r\n")
        assert tab.sock.recv(timeout=5) == b"\r\n"

        thread, seen = answer_in_background(tab)
        answer = desk.invite("1002", sdp())
        assert answer.status == 200, answer
        desk.request("BYE")
        thread.join(timeout=30)
        invite, ack, bye = seen
        # The INVITE came over the WebSocket: its top Via is the switch's over WS, and it
        # names the Contact the tab registered (at .invalid: nothing but the flow reaches it).
        assert invite.headers.get("Via", "").startswith("SIP/2.0/WS "), invite
        assert ".invalid" in str(invite.uri) and invite.uri.params.get("transport") == "ws"
        assert (invite.headers.get("Contact") or "").endswith(";transport=ws>")
        assert (ack.method, bye.method) == ("ACK", "BYE")
    finally:
        for phone in (wrong, tab, desk):
            phone.close()


def test_a_closed_websocket_is_no_longer_rung(server: Server, provisioned: Path) -> None:
    tab = browser_phone(server, "1003")
    desk = Phone(server, "1001", password("1001"), DOMAIN)
    try:
        assert tab.register().status == 200
        where = f"ws:127.0.0.1:{tab.port}"
        wait_listing(provisioned, where, True)
        tab.close()  # the tab closes: its WebSocket with it
        wait_listing(provisioned, where, False)  # RFC 5626 §4.4: the flow failed
        started = time.monotonic()
        answer = desk.invite("1003", sdp())
        assert answer.status == 480, answer  # nobody to ring, said at once
        assert time.monotonic() - started < 5
    finally:
        desk.close()


def test_a_web_process_that_dies_takes_its_websockets_flows_with_it(
    server: Server, provisioned: Path
) -> None:
    """The web process holds the WebSockets: when it dies they are gone, and the switch,
    told by the link closing, stops ringing them; a new web serves new ones."""
    tab = browser_phone(server, "1003")
    try:
        assert tab.register().status == 200
        where = f"ws:127.0.0.1:{tab.port}"
        wait_listing(provisioned, where, True)
        web = _web_pid(server)
        os.kill(web, signal.SIGKILL)
        wait_listing(provisioned, where, False)
    finally:
        tab.close()
    _web_pid(server, other_than=web)
    _healthy(server)
    again = browser_phone(server, "1003")
    try:
        assert again.register().status == 200
    finally:
        again.close()


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    folder = tmp_path_factory.mktemp("voices")
    tab = np.concatenate([
        speech(folder / "tab.wav", "Hello, this is a browser calling over a web socket."),
        synth(folder / "tab-noise.wav", 20, "pinknoise"),
    ])  # fmt: skip
    desk = np.concatenate([
        speech(folder / "desk.wav", "Hi, the desk phone hears you fine.", "en-gb"),
        synth(folder / "desk-sweep.wav", 30, "sine", "300-3000"),
    ])  # fmt: skip
    return {"tab": g711_levels(tab), "desk": g711_levels(desk)}


def test_a_call_from_a_websocket_client_to_baresip_carries_audio_both_ways(
    server: Server, tmp_path: Path, voices: dict[str, np.ndarray]
) -> None:
    """The browser's media is plain RTP here (WebRTC's comes later): the WebSocket carries
    the signalling, and the audio each side sends is what the other hears, code for code
    (both speak PCMA and the switch relays it as it is)."""
    source = write_wav(tmp_path / "desk.wav", voices["desk"])
    desk = Baresip(
        tmp_path / "desk", server, "1002", password("1002"), DOMAIN, audio_source=source,
        snd_path=tmp_path / "rec", audio_codecs="PCMA",
    ).start()  # fmt: skip
    tab = browser_phone(server, "1001", audio=voices["tab"])
    try:
        desk.register()
        event = desk.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
        assert event is not None and event["type"] == "REGISTER_OK", desk.log_text()
        assert tab.register().status == 200
        answer = tab.invite("1002", tab.offer())
        assert answer.status == 200, answer
        tab.learn(answer.body)
        established = desk.event({"CALL_ESTABLISHED", "CALL_CLOSED"}, timeout=10)
        assert established is not None and established["type"] == "CALL_ESTABLISHED"
        deadline = time.monotonic() + 20
        while len(tab.heard) < 3 * RATE or not _received(desk, 3.0):
            assert time.monotonic() < deadline, (len(tab.heard), desk.recorded("dec"))
            time.sleep(0.1)
        assert tab.request("BYE").status == 200
        assert desk.event({"CALL_CLOSED"}, timeout=10) is not None, desk.log_text()
        desk.stop()
        desk.wait_recordings_closed()
        (sent_by_desk, heard_by_desk), *_ = desk.recordings()
        heard_by_desk_codes = alaw_codes(read_wav(heard_by_desk))
        assert rms(read_wav(heard_by_desk)) > 500, "the desk phone heard silence"
        said_by_tab = np.frombuffer(alaw_encode(voices["tab"]), dtype=np.uint8)
        length, _, _ = longest_exact_run(said_by_tab, heard_by_desk_codes)
        assert length >= 2 * RATE, ("desk heard the tab", length)
        heard_by_tab = np.frombuffer(bytes(tab.heard), dtype=np.uint8)
        length, _, _ = longest_exact_run(alaw_codes(read_wav(sent_by_desk)), heard_by_tab)
        assert length >= 2 * RATE, ("the tab heard the desk", length)
    finally:
        tab.close()
        desk.stop()


def _received(phone: Baresip, seconds: float) -> bool:
    files = phone.recorded("dec")
    return bool(files) and files[-1].stat().st_size >= 44 + 2 * RATE * seconds


def test_refusals_end_one_connection_and_the_switch_serves_on(server: Server) -> None:
    """A page of another site (CSWSH) and a client without the `sip` subprotocol are
    refused at the handshake; a message past the cap closes its own connection (1009);
    a registered tab and SIP over UDP are served throughout."""
    tab = browser_phone(server, "1003")
    try:
        assert tab.register().status == 200
        for options in ({"origin": "https://evil.example"}, {"subprotocols": ["chat"]},
                        {"subprotocols": None}):  # fmt: skip
            with pytest.raises(InvalidStatus) as refused:
                WebSocketSip(server, **options).close()
            assert refused.value.response.status_code == 403, options
        same_site = WebSocketSip(server, origin=server.web)  # the web's own pages may
        same_site.send(options_request(same_site.port, transport="WS"))
        reply = same_site.recv(timeout=5)
        assert reply is not None and parse_message(reply).status == 200  # type: ignore[union-attr]
        same_site.close()

        huge = WebSocketSip(server)
        huge.connection.send("OPTIONS " + "x" * (1024 * 1024))
        with pytest.raises(ConnectionClosed) as closed:
            huge.connection.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        huge.close()

        assert tab.register().status == 200  # the tab's own WebSocket is still served
        with SipSocket(server) as udp:
            udp.send(options_request(udp.port))
            assert udp.recv(timeout=5) is not None
    finally:
        tab.close()
