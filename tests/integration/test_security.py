"""O2 security against a running switch: injected media, lockout by a forged or guessing
source, digest guessing with sipvicious, malformed requests over TCP.

Each test that fails authentication on purpose gets a switch of its own: the limiter's
state is the point of the test and must not leak into the next one.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.audio_phone import AudioPhone
from tests.integration.conftest import DOMAIN, USERS, provision
from tests.integration.peers import Server, SipSocket, free_port, options_request, rtp_ports
from tests.integration.phone import Phone, sdp
from tests.vectors import load_vector
from vaxel.rtp.packet import build
from vaxel.sip.digest import DigestClient
from vaxel.sip.message import Response, parse_message

BIN = Path(sys.executable).parent
PASSWORD = {ext: password for ext, (_name, password) in USERS.items()}


@pytest.fixture
def switch(tmp_path: Path) -> Iterator[Server]:
    """A switch of its own, with media."""
    provision(tmp_path)
    server = Server(tmp_path).start("--rtp-ports", rtp_ports())
    yield server
    server.stop()


def _answer_in_background(callee: Phone, body: str = sdp(41000)) -> threading.Thread:
    def run() -> None:
        invite = callee.wait_request("INVITE", timeout=10)
        if isinstance(callee, AudioPhone):
            callee.learn(invite.body)
        callee.reply(invite, 200, body)
        callee.wait_request("ACK")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _call(caller: Phone, callee: Phone) -> Response:
    """`caller` calls `callee`, who answers; the call is hung up again."""
    thread = _answer_in_background(callee)
    response = caller.invite(callee.user, sdp(40000))
    thread.join(10)
    if response.status == 200:
        assert caller.request("BYE").status == 200
    return response


# -- P5/O2: media from a stranger is not relayed ---------------------------------------------

NOISE = b"\x2a" * 160  # A-law the parties never send (their silence is 0xd5)


def test_rtp_sprayed_at_a_call_is_not_relayed(switch: Server) -> None:
    caller = AudioPhone(switch, "1001", PASSWORD["1001"], DOMAIN)
    callee = AudioPhone(switch, "1002", PASSWORD["1002"], DOMAIN)
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger.bind(("127.0.0.1", 0))
    try:
        assert callee.register().status == 200
        thread = _answer_in_background(callee, callee.offer())
        response = caller.invite("1002", caller.offer())
        thread.join(10)
        assert response.status == 200
        caller.learn(response.body)
        assert caller.remote_rtp is not None and callee.remote_rtp is not None

        def heard() -> int:
            return len(callee.heard) + len(caller.heard)

        # Both streams latched: each party hears the other.
        deadline = time.monotonic() + 5
        while not (callee.heard and caller.heard):
            assert time.monotonic() < deadline, "no media between the parties"
            time.sleep(0.02)
        # The stranger sprays both of the switch's media ports for a while.
        for seq in range(150):
            for port in (caller.remote_rtp, callee.remote_rtp):
                stranger.sendto(build(8, seq, 160 * seq, 0x5EED, NOISE), port)
            time.sleep(0.01)
        # Media sent after the spray is heard: everything sprayed was handled before it.
        target = heard() + 2 * 160 * 25
        deadline = time.monotonic() + 5
        while heard() < target:
            assert time.monotonic() < deadline, "the parties stopped hearing each other"
            time.sleep(0.02)
        assert NOISE[:40] not in bytes(callee.heard), "the callee heard injected audio"
        assert NOISE[:40] not in bytes(caller.heard), "the caller heard injected audio"
        assert caller.request("BYE").status == 200
    finally:
        callee.register(expires=0)
        stranger.close()
        caller.close()
        callee.close()


# -- O2: a flood of wrong passwords from a phone's own address does not lock it out ----------


def _register_bytes(port: int, user: str, cseq: int, call_id: str, auth: str = "") -> bytes:
    lines = [
        f"REGISTER sip:{DOMAIN} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{secrets.token_hex(6)};rport",
        f"From: <sip:{user}@{DOMAIN}>;tag={secrets.token_hex(4)}",
        f"To: <sip:{user}@{DOMAIN}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        "Max-Forwards: 70",
        f"Contact: <sip:{user}@127.0.0.1:{port}>",
        *([f"Authorization: {auth}"] if auth else []),
        "Content-Length: 0",
        "",
        "",
    ]
    return "\r\n".join(lines).encode()


def _response(data: bytes | None) -> Response | None:
    if data is None:
        return None
    message = parse_message(data)
    assert isinstance(message, Response)
    return message


class _Bound:
    """A raw UDP socket on any loopback address (127.0.0.2 is "another network")."""

    def __init__(self, server: Server, host: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.server = (server.host, server.port)

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def recv(self, timeout: float = 3.0) -> bytes | None:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65535)
        except TimeoutError:
            return None

    def close(self) -> None:
        self.sock.close()


def _flood(
    through: SipSocket, user: str, count: int, nonces: SipSocket | _Bound | None = None
) -> list[int | None]:
    """`count` REGISTERs for `user` with wrong passwords, sent from `through`'s address.

    Each answers a fresh challenge fetched by `nonces` (by default `through` itself: an
    attacker that receives at the phone's very address). Every answer that comes back to
    `through` is read, so the phone finds none of them later. Returns the statuses, ending
    with None if the switch stopped answering.
    """
    nonces = nonces or through
    statuses: list[int | None] = []
    for _ in range(count):
        call_id = f"{secrets.token_hex(8)}@flood"
        nonces.send(_register_bytes(nonces.port, user, 1, call_id))
        challenge = _response(nonces.recv())
        if challenge is None:  # silenced
            return [*statuses, None]
        assert challenge.status == 401
        auth = DigestClient().authorization(
            DigestClient.choose_challenge(challenge.headers.get_all("WWW-Authenticate")),
            method="REGISTER", uri=f"sip:{DOMAIN}", username=user, password="wrong-guess",
        )  # fmt: skip
        through.send(_register_bytes(through.port, user, 2, call_id, auth))
        answer = _response(through.recv())
        if answer is None:  # silenced
            return [*statuses, None]
        statuses.append(answer.status)
    return statuses


def test_wrong_passwords_from_the_phones_own_address_do_not_lock_it_out(switch: Server) -> None:
    """Someone at the phone's very host and port (it reads the challenges there) sends 60
    wrong passwords for 1001: the phone still registers and calls; that someone, at any
    other port of the host, is refused even with the right password."""
    phone = Phone(switch, "1001", PASSWORD["1001"], DOMAIN)
    callee = Phone(switch, "1002", PASSWORD["1002"], DOMAIN)
    guesser = Phone(switch, "1001", PASSWORD["1001"], DOMAIN)  # the same host, another port
    try:
        assert callee.register().status == 200
        assert phone.register().status == 200
        assert set(_flood(phone.sock, "1001", 60)) == {401}  # each checked, each wrong
        assert phone.register().status == 200
        assert _call(phone, callee).status == 200
        # The flood did block 1001 for the rest of the host: guessing there is over.
        assert guesser.register().status == 401
    finally:
        for p in (phone, callee, guesser):
            p.close()


def test_forged_wrong_passwords_with_nonces_from_elsewhere_count_for_nothing(
    switch: Server,
) -> None:
    """A forger off the phone's path cannot read the phone's challenges: it fetches nonces at
    its own address (127.0.0.2) and sends wrong passwords as if from the phone, before the
    phone ever registered. Nothing counts; the phone registers and calls."""
    phone = Phone(switch, "1001", PASSWORD["1001"], DOMAIN)
    callee = Phone(switch, "1002", PASSWORD["1002"], DOMAIN)
    forger = _Bound(switch, "127.0.0.2")
    try:
        assert callee.register().status == 200
        assert set(_flood(phone.sock, "1001", 60, nonces=forger)) == {401}
        assert phone.register().status == 200
        assert _call(phone, callee).status == 200
    finally:
        forger.close()
        phone.close()
        callee.close()


# -- O2: svcrack is stopped, and does not take the phones of its host down with it ----------


def test_svcrack_is_stopped_and_phones_at_its_host_keep_working(
    switch: Server, tmp_path: Path
) -> None:
    phone = Phone(switch, "1001", PASSWORD["1001"], DOMAIN)
    callee = Phone(switch, "1002", PASSWORD["1002"], DOMAIN)
    try:
        assert callee.register().status == 200
        assert phone.register().status == 200
        dictionary = tmp_path / "dict.txt"
        guesses = [f"guess-{i:03d}" for i in range(80)]
        guesses.insert(60, PASSWORD["1001"])  # the right one, late
        dictionary.write_text("\n".join(guesses) + "\n")
        result = subprocess.run(
            [
                str(BIN / "sipvicious_svcrack"), "-u", "1001", "-d", str(dictionary),
                "--domain", DOMAIN, "-b", "127.0.0.1", "-x", "127.0.0.1", "-P", str(free_port()),
                "-p", str(switch.port), "--maximumtime", "8", "127.0.0.1",
            ],
            capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        output = result.stdout + result.stderr
        assert PASSWORD["1001"] not in output, output
        # The phones of the guesser's host (an office behind one NAT) are not locked out.
        assert phone.register().status == 200
        assert _call(phone, callee).status == 200
    finally:
        phone.close()
        callee.close()


# -- P2: a malformed request over TCP is answered, and the connection stays ----------------


def test_a_malformed_request_over_tcp_gets_400_on_a_connection_that_stays(
    switch: Server,
) -> None:
    trailing_spaces = load_vector("rfc4475", "trws.dat")  # RFC 4475 §3.1.2.10
    with SipSocket(switch, "tcp") as sock:
        sock.send(trailing_spaces)
        reply = sock.recv()
        assert reply is not None and reply.startswith(b"SIP/2.0 400 "), reply
        sock.send(options_request(sock.port, transport="TCP"))
        reply = sock.recv()
        assert reply is not None and reply.startswith(b"SIP/2.0 200 "), reply
