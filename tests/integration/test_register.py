"""P3 registrar, driven by SIPp over real UDP and TCP on loopback."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.conftest import DOMAIN, USERS
from tests.integration.peers import Server, SipSocket, free_port, options_request, sipp, vaxel_cli


def _password(ext: str) -> str:
    return USERS[ext][1]


def test_register_challenge_then_ok(server: Server) -> None:
    result = sipp(server, "register_auth.xml", user="1001", password=_password("1001"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_register_over_tcp(server: Server) -> None:
    result = sipp(
        server, "register_auth.xml", user="1003", password=_password("1003"), transport="t1"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_wrong_password_is_rejected(server: Server) -> None:
    result = sipp(server, "register_auth.xml", user="1001", password="not-the-password")
    assert result.returncode != 0
    assert "401" in result.stdout + result.stderr or "Unexpected" in result.stdout + result.stderr


def test_three_devices_for_one_user(server: Server, provisioned: Path) -> None:
    ports = [str(free_port()) for _ in range(3)]
    for port in ports:
        result = sipp(
            server, "register_auth.xml", user="1002", password=_password("1002"),
            keys={"devport": port},
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
    # The 200 to a query lists all three bindings.
    expect = "".join(f"(?=[^\\0]*127.0.0.1:{p})" for p in ports)
    result = sipp(
        server, "register_query.xml", user="1002", password=_password("1002"),
        keys={"expect": expect},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    listing = vaxel_cli(provisioned, "registrations", "--company", DOMAIN)
    assert listing.returncode == 0, listing.stderr
    for port in ports:
        assert f"127.0.0.1:{port}" in listing.stdout


def test_options_answered_with_capabilities(server: Server) -> None:
    with SipSocket(server) as sock:
        sock.send(options_request(sock.port))
        reply = sock.recv()
    assert reply is not None and reply.startswith(b"SIP/2.0 200")
    assert re.search(rb"\r\nAllow: [^\r]*REGISTER", reply)
    assert b"\r\nAccept: application/sdp" in reply
    assert b"\r\nSupported:" in reply
