"""P2, U1: the web, the API and SIP over secure WebSocket on `vaxel serve --https`, with the
TLS certificate: the API answers over HTTPS (its certificate checks out against the one
the switch made), a client registers over wss:// with digest and is called over that
same secure WebSocket (Via SIP/2.0/WSS, Contact ;transport=wss)."""

from __future__ import annotations

import re
import secrets
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import DOMAIN
from tests.integration.peers import Server, rtp_ports
from tests.integration.phone import Phone, sdp
from tests.integration.test_websocket import answer_in_background, password
from tests.integration.websocket_sip import WebSocketSip


@pytest.fixture(scope="module")
def secure_server(provisioned: Path) -> Iterator[Server]:
    srv = Server(provisioned).start(
        "--tls", "127.0.0.1:0", "--https", "127.0.0.1:0", "--rtp-ports", rtp_ports()
    )
    yield srv
    srv.stop()


def https_address(server: Server) -> str:
    match = re.search(r"vaxel: web and API also on (https://127\.0\.0\.1:\d+)", server.output)
    assert match is not None, server.output
    return match.group(1)


def trusted(server: Server) -> ssl.SSLContext:
    """A client that trusts the switch's own (self-signed) certificate, and checks it."""
    return ssl.create_default_context(cafile=str(server.data / "tls" / "certificate.pem"))


def test_the_api_answers_over_https(secure_server: Server) -> None:
    with httpx.Client(base_url=https_address(secure_server), verify=trusted(secure_server),
                      timeout=30) as web:  # fmt: skip
        answer = web.get("/api/v1/health")
    assert answer.status_code == 200, answer.text


def test_a_client_registers_over_wss_and_is_called_over_it(secure_server: Server) -> None:
    url = https_address(secure_server).replace("https://", "wss://", 1) + "/ws"
    tab = Phone(secure_server, "1002", password("1002"), DOMAIN)
    tab.sock.close()
    tab.sock = WebSocketSip(secure_server, url=url, ssl=trusted(secure_server))  # type: ignore[assignment]
    tab.port = tab.sock.port
    tab.transport = "WSS"
    tab.contact = f"<sip:1002@{secrets.token_hex(5)}.invalid;transport=wss>"
    desk = Phone(secure_server, "1001", password("1001"), DOMAIN)
    try:
        assert tab.register().status == 200
        thread, seen = answer_in_background(tab)
        answer = desk.invite("1002", sdp())
        assert answer.status == 200, answer
        desk.request("BYE")
        thread.join(timeout=30)
        invite = seen[0]
        assert invite.headers.get("Via", "").startswith("SIP/2.0/WSS "), invite
        assert (invite.headers.get("Contact") or "").endswith(";transport=wss>")
    finally:
        for phone in (tab, desk):
            phone.close()
