"""U1, O2: the DTLS-SRTP handshake (RFC 5764): keys only for the certificate the SDP named."""

from __future__ import annotations

import pytest

from vaxel.media.dtls import DtlsCertificate, DtlsError, DtlsHandshake, certificate


def run(server: DtlsHandshake, client: DtlsHandshake) -> None:
    to_server = client.start()
    for _ in range(10):
        to_client = [out for datagram in to_server for out in server.receive(datagram)]
        to_server = [out for datagram in to_client for out in client.receive(datagram)]
        if server.done and client.done:
            return
    raise AssertionError("the handshake did not finish")


def test_both_sides_get_the_same_keys_crosswise() -> None:
    ours, browsers = certificate(), DtlsCertificate()
    server, client = DtlsHandshake(ours, server=True), DtlsHandshake(browsers, server=False)
    server.check(browsers.fingerprint)
    client.check(ours.fingerprint)
    run(server, client)
    assert server.keys is not None and client.keys is not None
    (server_out, server_in), (client_out, client_in) = server.keys, client.keys
    assert server_out.key == client_in.key and server_in.key == client_out.key
    assert server_out.key != server_in.key and len(server_out.key) == 30  # key + salt
    assert server_out.suite == "AES_CM_128_HMAC_SHA1_80"


def test_keys_wait_for_the_fingerprint_of_the_sdp() -> None:
    """When the switch offered, the browser's answer (its fingerprint) may come after the
    handshake: no keys until it does."""
    browsers = DtlsCertificate()
    server = DtlsHandshake(certificate(), server=True)
    client = DtlsHandshake(browsers, server=False)
    run(server, client)
    assert server.done and server.keys is None
    server.check(browsers.fingerprint)
    assert server.keys is not None


def test_a_certificate_other_than_the_sdps_gets_no_keys() -> None:
    server = DtlsHandshake(certificate(), server=True)
    server.check(DtlsCertificate().fingerprint)  # what the SDP said
    client = DtlsHandshake(DtlsCertificate(), server=False)  # a man in the middle's
    with pytest.raises(DtlsError, match="not the one its SDP names"):
        run(server, client)
    assert server.keys is None


def test_garbage_is_dropped_and_the_handshake_still_works() -> None:
    """DTLS discards records it cannot read (RFC 6347 §4.1.2.7): a stranger's datagram
    neither answers nor breaks the browser's handshake."""
    browsers = DtlsCertificate()
    server = DtlsHandshake(certificate(), server=True)
    server.check(browsers.fingerprint)
    assert server.receive(b"\x16\xfe\xfd" + b"\x00" * 60) == []
    run(server, DtlsHandshake(browsers, server=False))
    assert server.keys is not None
