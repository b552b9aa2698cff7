"""P2, O2: SIP over TLS on a real `vaxel serve --tls`: the self-signed certificate it makes
and announces, SIP and keep-alives over TLS, a client that sends garbage, certificates
reloaded without a restart (SIGHUP, or the files changing), and real phones: baresip
registered over TLS in a call with a phone on UDP, audio both ways; a phone that trusts
another CA (pjsua2, which verifies the server; baresip 1.0 does not) refuses the switch;
a sips: phone (pjsua2) called over TLS, whose sips: call to a phone on UDP is refused;
a carrier on a TLS trunk (pjsua2 with a certificate) reached only when its certificate
checks out against the trunk's ca_file.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import signal
import socket
import ssl
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509

from tests.integration.audio import RATE, read_wav
from tests.integration.baresip import Baresip, established
from tests.integration.conftest import DOMAIN, USERS
from tests.integration.peers import Server, free_port, options_request, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone
from tests.integration.tone_rooms import sine_sources
from tests.rtp.test_mixer import level_at
from vaxel.transport.certificates import fingerprint, self_signed


def tls_port(server: Server) -> int:
    match = re.search(r"vaxel: SIP on .* and tls:127\.0\.0\.1:(\d+)", server.output)
    assert match is not None, server.output
    return int(match.group(1))


def connect(port: int, cafile: Path | None = None) -> ssl.SSLSocket:
    """A TLS client: verifying the switch against `cafile`, or not verifying at all."""
    if cafile is None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=str(cafile))
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def seen_fingerprint(port: int) -> str:
    with connect(port) as sock:
        der = sock.getpeercert(binary_form=True)
    assert der is not None
    return hashlib.sha256(der).digest().hex(":").upper()


def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def read_reply(sock: ssl.SSLSocket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


@pytest.fixture(scope="module")
def tls_server(provisioned: Path) -> Iterator[Server]:
    srv = Server(provisioned).start("--tls", "127.0.0.1:0", "--rtp-ports", rtp_ports())
    yield srv
    srv.stop()


def test_serve_tls_makes_announces_and_serves_a_self_signed_certificate(
    tls_server: Server, provisioned: Path
) -> None:
    certificate, key = provisioned / "tls" / "certificate.pem", provisioned / "tls" / "key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert f"self-signed TLS certificate made now: {certificate}" in tls_server.output
    assert f"SHA-256 fingerprint {fingerprint(certificate)}" in tls_server.output
    names = x509.load_pem_x509_certificate(certificate.read_bytes()).extensions
    san = names.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [DOMAIN]  # the company's SIP domain
    port = tls_port(tls_server)
    assert seen_fingerprint(port) == fingerprint(certificate)
    with connect(port, cafile=certificate) as sock:  # it verifies for 127.0.0.1 (its SAN)
        sock.sendall(b"\r\n\r\n")
        assert sock.recv(2) == b"\r\n"  # RFC 5626 keep-alive pong
        sock.sendall(options_request(sock.getsockname()[1], transport="TLS"))
        reply = read_reply(sock)
        assert reply.startswith(b"SIP/2.0 200"), reply
        assert f"SIP/2.0/TLS 127.0.0.1:{sock.getsockname()[1]};".encode() in reply
        assert sock.version() in ("TLSv1.2", "TLSv1.3")


def test_a_client_sending_garbage_instead_of_a_client_hello_breaks_nothing(
    tls_server: Server,
) -> None:
    port = tls_port(tls_server)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as garbage:
        garbage.sendall(options_request(garbage.getsockname()[1], transport="TCP"))
        garbage.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            assert garbage.recv(65536)[:1] in (b"", b"\x15")  # closed, or a TLS alert
    with connect(port) as sock:
        sock.sendall(options_request(sock.getsockname()[1], transport="TLS"))
        assert read_reply(sock).startswith(b"SIP/2.0 200")
    assert tls_server.alive()


def test_certificates_reload_on_sighup_and_when_the_files_change(
    provisioned: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New connections get the new certificate; a file that does not load is refused with a
    log line and the certificate in use stays."""
    first = self_signed(tmp_path / "first", ["127.0.0.1"])[:2]
    second = self_signed(tmp_path / "second", ["127.0.0.1"])[:2]
    third = self_signed(tmp_path / "third", ["127.0.0.1"])[:2]
    live = tmp_path / "live"
    live.mkdir()
    cert, key = live / "cert.pem", live / "key.pem"
    shutil.copy(first[0], cert)
    shutil.copy(first[1], key)
    monkeypatch.setenv("VAXEL_TLS_CHECK_INTERVAL", "3600")  # SIGHUP first
    server = Server(provisioned).start(
        "--tls", "127.0.0.1:0", "--cert", str(cert), "--key", str(key), "--http", "off"
    )
    try:
        assert server.process is not None
        port = tls_port(server)
        assert "made now" not in server.output
        assert seen_fingerprint(port) == fingerprint(first[0])
        held = connect(port)  # a connection made before the change keeps going
        shutil.copy(second[0], cert)
        shutil.copy(second[1], key)
        server.process.send_signal(signal.SIGHUP)
        until(lambda: seen_fingerprint(port) == fingerprint(second[0]))
        held.sendall(options_request(held.getsockname()[1], transport="TLS"))
        assert read_reply(held).startswith(b"SIP/2.0 200")
        held.close()
        # A bad file: refused, the certificate in use stays, the switch keeps serving.
        cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        server.process.send_signal(signal.SIGHUP)
        with connect(port) as sock:
            sock.sendall(options_request(sock.getsockname()[1], transport="TLS"))
            assert read_reply(sock).startswith(b"SIP/2.0 200")
        assert seen_fingerprint(port) == fingerprint(second[0])
    finally:
        server.stop()
    assert "TLS certificate not reloaded (SIGHUP), the old one kept" in server.output
    assert "TLS certificate reloaded (SIGHUP)" in server.output

    # The files changing is seen without a signal.
    monkeypatch.setenv("VAXEL_TLS_CHECK_INTERVAL", "0.2")
    shutil.copy(second[0], cert)
    server = Server(provisioned).start(
        "--tls", "127.0.0.1:0", "--cert", str(cert), "--key", str(key), "--http", "off"
    )
    try:
        port = tls_port(server)
        assert seen_fingerprint(port) == fingerprint(second[0])
        shutil.copy(third[1], key)
        shutil.copy(third[0], cert)
        until(lambda: seen_fingerprint(port) == fingerprint(third[0]))
    finally:
        server.stop()


# -- real phones --------------------------------------------------------------------------

HEARD = 800.0  # amplitude of a tone that is heard (each is sent at 4000)
SILENT = 150.0


def tls_phone(folder: Path, server: Server, ext: str, **options: object) -> Baresip:
    """A baresip registered over its own TLS transport, trusting the switch's certificate."""
    port, password = tls_port(server), USERS[ext][1]
    account = (
        f"<sip:{ext}@{DOMAIN};transport=tls>;auth_pass={password};answermode=auto;regint=300"
        f';audio_codecs=PCMA;outbound="sip:127.0.0.1:{port};transport=tls"'
    )
    cafile = server.data / "tls" / "certificate.pem"
    return Baresip(
        folder, server, ext, password, DOMAIN, account=account,
        config=(f"sip_cafile {cafile}",), **options,  # type: ignore[arg-type]
    )  # fmt: skip


def registered(phone: Baresip) -> None:
    phone.register()
    event = phone.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
    assert event is not None and event["type"] == "REGISTER_OK", (event, phone.log_text())


def heard(phone: Baresip, frequency: float) -> float:
    """How loud `frequency` is in the last two seconds the phone received."""
    audio = read_wav(phone.recorded("dec")[-1]).astype(float)
    assert len(audio) > 3 * RATE, len(audio)
    return level_at(audio[-2 * RATE :], frequency)


def test_baresip_over_tls_talks_with_a_phone_on_udp_both_ways(
    tls_server: Server, provisioned: Path, tmp_path: Path
) -> None:
    """1001 registers over TLS; 1002 (on UDP) calls it, so the INVITE goes back over 1001's
    TLS flow; each hears the other's tone. Then 1001 calls 1002 from its TLS flow."""
    tones = sine_sources(tmp_path, {"1001": 350.0, "1002": 650.0})
    secure = tls_phone(
        tmp_path / "1001", tls_server, "1001", audio_source=tones["1001"],
        snd_path=tmp_path / "1001" / "rec",
    )  # fmt: skip
    plain = Baresip(
        tmp_path / "1002", tls_server, "1002", USERS["1002"][1], DOMAIN,
        audio_source=tones["1002"], audio_codecs="PCMA", snd_path=tmp_path / "1002" / "rec",
    )  # fmt: skip
    try:
        for phone in (secure, plain):
            phone.start()
            registered(phone)
        assert "{0/TLS/v4} 200 OK (Vaxel) [1 binding]" in secure.log_text()
        listing = vaxel_cli(provisioned, "registrations", "--company", DOMAIN).stdout
        assert re.search(r"tls:127\.0\.0\.1:\d+", listing), listing
        for caller, callee in ((plain, secure), (secure, plain)):
            caller.dial(f"sip:{callee.user}@{DOMAIN}")
            established(caller, callee)
            for phone in (caller, callee):
                assert phone.event({"CALL_RTPESTAB"}, timeout=10) is not None, phone.log_text()
            deadline = time.monotonic() + 20
            while not all(
                p.recorded("dec") and p.recorded("dec")[-1].stat().st_size > 44 + 2 * 4 * RATE
                for p in (secure, plain)
            ):
                assert time.monotonic() < deadline, "no audio"
                time.sleep(0.1)
            caller.hangup()
            for phone in (caller, callee):
                assert phone.event({"CALL_CLOSED"}, timeout=10) is not None, phone.log_text()
            for phone in (secure, plain):
                phone.wait_recordings_closed()
            assert heard(secure, 650.0) > HEARD and heard(secure, 350.0) < SILENT
            assert heard(plain, 350.0) > HEARD and heard(plain, 650.0) < SILENT
    finally:
        for phone in (secure, plain):
            phone.stop()
    assert tls_server.alive()


def test_a_phone_that_trusts_another_ca_refuses_the_switch(
    tls_server: Server, tmp_path: Path
) -> None:
    """pjsua2 verifies the server's certificate: against another CA its REGISTER never
    leaves (the handshake fails); against the switch's own certificate it registers. The
    switch goes on serving either way."""
    other = self_signed(tmp_path / "other-ca", ["127.0.0.1"])[0]
    proxy = f"127.0.0.1:{tls_port(tls_server)}"
    phone = PjPhone(proxy, "1003", USERS["1003"][1], DOMAIN, transport="tls", cafile=str(other))
    try:
        state = phone.expect("reg_state", timeout=20)
        assert state["code"] != 200 and not state["active"], state
    finally:
        phone.close()
    trusted = str(tls_server.data / "tls" / "certificate.pem")
    phone = PjPhone(proxy, "1003", USERS["1003"][1], DOMAIN, transport="tls", cafile=trusted)
    try:
        phone.registered(timeout=20)
    finally:
        phone.close()
    assert tls_server.alive()


def test_a_sips_phone_is_called_over_tls_and_its_sips_calls_never_go_out_in_the_clear(
    tls_server: Server, tmp_path: Path
) -> None:
    """pjsua2 registers a sips: account over TLS (baresip 1.0 has no sips:). A call to it
    from a phone on UDP reaches it over its TLS flow, at its sips: Contact, with the
    switch's sips: Contact; its own call to sips:1002, a phone only on UDP, is refused
    with 480 (RFC 5630) and that phone never rings."""
    proxy, cafile = f"127.0.0.1:{tls_port(tls_server)}", tls_server.data / "tls" / "certificate.pem"
    secure = PjPhone(
        proxy, "1003", USERS["1003"][1], DOMAIN, transport="tls", cafile=str(cafile), sips=True
    )
    plain = Baresip(tmp_path / "1002", tls_server, "1002", USERS["1002"][1], DOMAIN)
    try:
        secure.registered(timeout=20)
        plain.start()
        registered(plain)
        plain.dial(f"sip:1003@{DOMAIN}")
        incoming = secure.incoming(timeout=15)
        invite = incoming["message"]
        assert invite.startswith("INVITE sips:1003@127.0.0.1:"), invite
        assert "\r\nVia: SIP/2.0/TLS " in invite and "\r\nContact: <sips:vaxel@" in invite
        secure.answer(incoming["call"])
        established(plain)
        plain.hangup()
        assert plain.event({"CALL_CLOSED"}, timeout=10) is not None, plain.log_text()

        secure.call(f"sips:1002@{DOMAIN}")
        assert secure.received("SIP/2.0 480", "CSeq: \\d+ INVITE", timeout=15), secure.log_text()
        assert plain.event({"CALL_INCOMING"}, timeout=1) is None
    finally:
        secure.close()
        plain.stop()


TRUNKED = """
company: {{domain: trunked-tls.vaxel.test, name: Trunked TLS AB, language: en}}
users:
  - {{ext: "1001", name: Anna Svensson, password: anna-secret-1}}
trunks:
  carrier: {{host: 127.0.0.1, port: {port}, transport: tls, ca_file: "{ca}"}}
outbound: {{max_concurrent_calls: 1}}
"""


def test_a_call_out_over_a_tls_trunk_reaches_a_carrier_whose_certificate_checks_out(
    tmp_path: Path,
) -> None:
    carrier_cert, carrier_key, _ = self_signed(tmp_path / "carrier", ["127.0.0.1"])
    other = self_signed(tmp_path / "other", ["127.0.0.1"])[0]
    port = free_port()
    data = tmp_path / "data"

    def apply(ca: Path) -> None:
        (tmp_path / "company.yaml").write_text(TRUNKED.format(port=port, ca=ca))
        result = vaxel_cli(data, "config", "apply", str(tmp_path / "company.yaml"))
        assert result.returncode == 0, result.stderr

    apply(carrier_cert)
    server = Server(data).start("--tls", "127.0.0.1:0", "--rtp-ports", rtp_ports())
    carrier = PjPhone(
        server.address, "+46701740605", "", "carrier.test", port=port, register=False,
        transport="tls", certfile=str(carrier_cert), keyfile=str(carrier_key), name="carrier",
    )  # fmt: skip
    anna = PjPhone(
        server.address, "1001", "anna-secret-1", "trunked-tls.vaxel.test", register=False
    )
    try:
        call = anna.call("070-1740605")
        incoming = carrier.incoming(timeout=15)
        invite = incoming["message"]
        assert invite.startswith("INVITE sip:+46701740605@127.0.0.1"), invite
        assert "\r\nVia: SIP/2.0/TLS " in invite and ";transport=tls>" in invite
        carrier.answer(incoming["call"])
        anna.state(call, "CONFIRMED")
        anna.hangup(call)
        carrier.state(incoming["call"], "DISCONNECTED")

        apply(other)  # now the carrier's certificate is not the one trusted
        # The connection made before is kept (it was checked when it was made): close it.
        carrier.close()
        carrier = PjPhone(
            server.address, "+46701740605", "", "carrier.test", port=port, register=False,
            transport="tls", certfile=str(carrier_cert), keyfile=str(carrier_key),
            name="carrier",
        )  # fmt: skip
        call = anna.call("070-1740605")
        assert carrier.event("incoming", timeout=5) is None
        anna.hangup(call)
    finally:
        anna.close()
        carrier.close()
        server.stop()
    assert f"TLS connection to tls:127.0.0.1:{port} failed" in server.output
    assert "CERTIFICATE_VERIFY_FAILED" in server.output
