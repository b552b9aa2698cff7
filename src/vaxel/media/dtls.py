"""DTLS-SRTP with browsers (U1, O2; RFC 5764, RFC 8827): the handshake that keys a WebRTC
leg's SRTP, over pyOpenSSL's DTLS on memory buffers.

The switch has one certificate for all its WebRTC legs, made when the first is needed
(an ECDSA P-256 key, self-signed: WebRTC trusts a certificate by the fingerprint the
SDP carries, RFC 8122, not by a chain), and `fingerprint` is what our SDP says. Each
leg has its own `DtlsHandshake`: datagrams from the browser go in, datagrams to send
come out; nothing here touches a socket or a clock, so the endpoint decides where
they go and when a retransmission is due (`timeout`).

When the handshake is done, the browser's certificate must have the fingerprint its
SDP announced, else the leg gets no keys at all (a man in the middle of the media
path cannot key the call). The SRTP profile is `SRTP_AES128_CM_SHA1_80`, the one
every browser offers; the keys are exported from the DTLS session (RFC 5764 §4.2)
and handed out as the two `Crypto` values `media/srtp.py` takes: ours to protect
what we send, the browser's to unprotect what it sends.
"""

from __future__ import annotations

import datetime
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from OpenSSL import SSL

from vaxel.sip.sdp import Crypto

PROFILE = b"SRTP_AES128_CM_SHA1_80"
SUITE = "AES_CM_128_HMAC_SHA1_80"  # the same profile, as media/srtp.py names it
_KEY, _SALT = 16, 14
_LABEL = b"EXTRACTOR-dtls_srtp"  # RFC 5764 §4.2
DTLS1_2 = 0xFEFD
MTU = 1200  # below any path's MTU: a handshake flight is never fragmented by IP
VALID_DAYS = 30  # browsers ignore the dates; a restart makes a new one anyway


class DtlsError(Exception):
    """The handshake failed, or the browser's certificate is not the one its SDP named."""


def _format(digest: bytes) -> str:
    return "sha-256 " + ":".join(f"{octet:02X}" for octet in digest)


class DtlsCertificate:
    """The switch's DTLS certificate and the context every leg's handshake starts from."""

    def __init__(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vaxel")])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .sign(key, hashes.SHA256())
        )
        self.fingerprint = _format(certificate.fingerprint(hashes.SHA256()))
        context = SSL.Context(SSL.DTLS_METHOD)
        # DTLS 1.0 is refused: OpenSSL's numbering of DTLS versions (0xFEFD is 1.2).
        context.set_min_proto_version(DTLS1_2)
        context.use_certificate(certificate)
        context.use_privatekey(key)
        # Ask for the browser's certificate and take any: its fingerprint is checked
        # against the SDP's once the handshake is done.
        context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, _any_certificate)
        context.set_tlsext_use_srtp(PROFILE)
        context.set_options(SSL.OP_NO_QUERY_MTU)
        self.context = context


def _any_certificate(
    connection: SSL.Connection, certificate: object, error: int, depth: int, ok: int
) -> bool:
    return True


_shared: DtlsCertificate | None = None
_lock = threading.Lock()


def certificate() -> DtlsCertificate:
    """The switch's certificate, made on first use (some milliseconds, once)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = DtlsCertificate()
        return _shared


class DtlsHandshake:
    """One leg's DTLS association: as the server (we wait for the ClientHello) or the
    client (`start` makes it)."""

    __slots__ = ("_connection", "_started", "done", "expected", "keys", "server")

    def __init__(self, shared: DtlsCertificate, *, server: bool) -> None:
        self._connection = SSL.Connection(shared.context, None)
        self._connection.set_ciphertext_mtu(MTU)
        if server:
            self._connection.set_accept_state()
        else:
            self._connection.set_connect_state()
        self.server = server
        self._started = False
        self.done = False
        self.expected: str | None = None  # the browser's fingerprint, once its SDP is known
        # (what we protect with, what we unprotect with) once done and checked
        self.keys: tuple[Crypto, Crypto] | None = None

    def start(self) -> list[bytes]:
        """The client's first flight (the ClientHello); nothing for a server."""
        if self.server or self._started:
            return []
        self._started = True
        return self._advance()

    def receive(self, datagram: bytes) -> list[bytes]:
        """A DTLS datagram from the browser: what to send back (maybe nothing). Raises
        DtlsError when the handshake fails."""
        self._started = True
        try:
            self._connection.bio_write(datagram)
        except SSL.Error as error:
            raise DtlsError(str(error)) from None
        if self.done:
            self._drain_records()  # a retransmitted Finished, an alert: nothing to do
            return self._outgoing()
        return self._advance()

    def timeout(self) -> float | None:
        """Seconds until a retransmission is due while the handshake runs, else None."""
        if self.done or not self._started:
            return None
        return self._connection.DTLSv1_get_timeout()

    def retransmit(self) -> list[bytes]:
        """The last flight again, if its timer ran out (call when `timeout` said so)."""
        if self.done or not self._started:
            return []
        self._connection.DTLSv1_handle_timeout()
        return self._outgoing()

    def check(self, fingerprint: str) -> None:
        """The fingerprint the browser's SDP names; the keys are given out only once the
        handshake is done with a certificate that has it."""
        self.expected = fingerprint  # as the SDP layer writes it: "sha-256 AB:CD:..."
        self._key()

    def _advance(self) -> list[bytes]:
        try:
            self._connection.do_handshake()
        except SSL.WantReadError:
            return self._outgoing()
        except SSL.Error as error:
            raise DtlsError(str(error) or "handshake failed") from None
        self.done = True
        out = self._outgoing()
        self._key()
        return out

    def _key(self) -> None:
        if not self.done or self.keys is not None or self.expected is None:
            return
        peer = self._connection.get_peer_certificate(as_cryptography=True)
        if peer is None or _format(peer.fingerprint(hashes.SHA256())) != self.expected:
            raise DtlsError("the browser's certificate is not the one its SDP names")
        if self._connection.get_selected_srtp_profile() != PROFILE:
            raise DtlsError("no SRTP profile agreed")
        material = self._connection.export_keying_material(_LABEL, 2 * (_KEY + _SALT))
        client_key, server_key = material[:_KEY], material[_KEY : 2 * _KEY]
        client_salt = material[2 * _KEY : 2 * _KEY + _SALT]
        server_salt = material[2 * _KEY + _SALT :]
        client = Crypto(1, SUITE, client_key + client_salt)
        server = Crypto(1, SUITE, server_key + server_salt)
        self.keys = (server, client) if self.server else (client, server)

    def _drain_records(self) -> None:
        try:
            while self._connection.recv(2048):
                pass
        except (SSL.WantReadError, SSL.ZeroReturnError):
            pass
        except SSL.Error:
            pass  # an alert or garbage after the handshake: the keys stay as they are

    def _outgoing(self) -> list[bytes]:
        """What OpenSSL wrote for the browser: a flight's records in one datagram (DTLS
        allows several records per datagram, RFC 6347 §4.1.1)."""
        try:
            data = self._connection.bio_read(65536)
        except SSL.WantReadError:
            return []
        return [data] if data else []
