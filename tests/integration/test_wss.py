"""P2, U1: the web, the API and SIP over secure WebSocket on `vaxel serve --https`, with the
TLS certificate: the API answers over HTTPS (its certificate checks out against the one
the switch made), a client registers over wss:// with digest and is called over that
same secure WebSocket (Via SIP/2.0/WSS, Contact ;transport=wss)."""

from __future__ import annotations

import re
import secrets
import shutil
import signal
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import DOMAIN
from tests.integration.peers import Server, rtp_ports
from tests.integration.phone import Phone, sdp
from tests.integration.test_tls import seen_fingerprint, until
from tests.integration.test_websocket import answer_in_background, password
from tests.integration.websocket_sip import WebSocketSip
from vaxel.transport.certificates import fingerprint, self_signed


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


def test_the_https_certificate_reloads_on_sighup_and_when_the_files_change(
    provisioned: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web's HTTPS (and so wss) uses --tls's certificate files and reloads them as SIP
    over TLS does: on the switch's SIGHUP, and when the files change; a file that does not
    load leaves the certificate in use."""
    first, second, third = (self_signed(tmp_path / n, ["127.0.0.1"])[:2] for n in "abc")
    live = tmp_path / "live"
    live.mkdir()
    cert, key = live / "cert.pem", live / "key.pem"
    for source, target in zip(first, (cert, key), strict=True):
        shutil.copy(source, target)
    monkeypatch.setenv("VAXEL_TLS_CHECK_INTERVAL", "3600")  # SIGHUP first
    server = Server(provisioned).start(
        "--tls", "127.0.0.1:0", "--cert", str(cert), "--key", str(key),
        "--https", "127.0.0.1:0", "--rtp-ports", rtp_ports(),
    )  # fmt: skip
    port = int(https_address(server).rsplit(":", 1)[1])
    try:
        assert server.process is not None
        assert seen_fingerprint(port) == fingerprint(first[0])
        for source, target in zip(second, (cert, key), strict=True):
            shutil.copy(source, target)
        server.process.send_signal(signal.SIGHUP)
        until(lambda: seen_fingerprint(port) == fingerprint(second[0]))
        cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        server.process.send_signal(signal.SIGHUP)
        assert seen_fingerprint(port) == fingerprint(second[0])  # the old one stays
    finally:
        server.stop()
    assert "HTTPS certificate reloaded (SIGHUP)" in server.output
    assert "HTTPS certificate not reloaded (SIGHUP), the old one kept" in server.output

    monkeypatch.setenv("VAXEL_TLS_CHECK_INTERVAL", "0.2")  # now the files are looked at
    shutil.copy(second[0], cert)
    server = Server(provisioned).start(
        "--tls", "127.0.0.1:0", "--cert", str(cert), "--key", str(key),
        "--https", "127.0.0.1:0", "--rtp-ports", rtp_ports(),
    )  # fmt: skip
    port = int(https_address(server).rsplit(":", 1)[1])
    try:
        for source, target in zip(third, (cert, key), strict=True):
            shutil.copy(source, target)
        until(lambda: seen_fingerprint(port) == fingerprint(third[0]))
    finally:
        server.stop()
