"""SIP over TLS (P2, O2): the TCP transport with TLS between the socket and the framing.

Framing, CRLF keep-alives and the connection caps are transport/tcp.py's:
a connection counts against the caps from its accept on, so a host that
opens connections and never finishes a handshake is held by the same caps
as one that never speaks. TLS runs on memory buffers (`ssl.SSLObject`), in
the loop's own callbacks: the same on asyncio and uvloop, and nothing ever
waits on a peer. A handshake that fails (garbage instead of a ClientHello,
a version or cipher refused) closes its connection; one that has not
finished `handshake_timeout` seconds after the connect is aborted. No client
certificate is asked for: devices prove who they are with SIP digest, as
over UDP and TCP.

The context (`server_context`) takes TLS 1.2 and later only, with cipher
suites that keep forward secrecy (no static RSA key exchange, no 3DES, RC4,
MD5 or anonymous suites). `TlsTransport.context` is read at each accept, so
a new certificate (`use`) reaches the next connection while those already
open keep theirs.

The switch opens connections itself only to whom `dialer` names (the TLS
trunks of the companies' descriptions, P6), never to an address taken from
a message: what is sent meanwhile waits for the handshake, in which the
peer's certificate is checked (`client_context`); a refused one is logged
and what waited is dropped (its transaction times out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from pathlib import Path

from vaxel.sip.message import MAX_MESSAGE_SIZE
from vaxel.transport.base import Receiver, Source
from vaxel.transport.tcp import MAX_CONNECTIONS, MAX_PER_SOURCE, Connection, TcpTransport

log = logging.getLogger(__name__)

#: Seconds a client has from its connect to a finished handshake.
HANDSHAKE_TIMEOUT = 10.0
#: TLS 1.2 suites: key exchange with forward secrecy, AES-GCM and ChaCha20 first, then
#: AES-CBC for older phones; no static RSA, DSS, anonymous, NULL, 3DES, RC4 or MD5.
#: (TLS 1.3 suites are all strong and set apart by OpenSSL.)
CIPHERS = (
    "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:ECDHE+AES"
    ":!aNULL:!eNULL:!MD5:!DSS:!3DES:!RC4:!kRSA"
)
_READ = 65536


def server_context(certificate: Path, key: Path) -> ssl.SSLContext:
    """A server context for `certificate` (PEM, its chain after it) and its `key`.

    Raises `ssl.SSLError` or `OSError` when the files cannot be read or do not match:
    the caller keeps what it had.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.options |= ssl.OP_NO_RENEGOTIATION
    context.verify_mode = ssl.CERT_NONE  # devices authenticate with SIP digest
    context.load_cert_chain(certificate, key)
    return context


def client_context(cafile: str | None = None) -> ssl.SSLContext:
    """A client context that checks the peer's certificate and name against the system's
    CAs, or those in `cafile` (PEM). Raises `ssl.SSLError` or `OSError` for a bad file."""
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(CIPHERS)
    return context


#: Given an address the switch has no connection to: the client context and the name its
#: certificate must show, when the switch may connect there itself (a TLS trunk); else None.
Dialer = Callable[[str, int], "tuple[ssl.SSLContext, str] | None"]


class TlsConnection(Connection):
    """A TCP connection with TLS on memory buffers between its socket and its framing."""

    def __init__(
        self,
        server: TlsTransport,
        client: tuple[ssl.SSLContext, str] | None = None,
        key: tuple[str, int] | None = None,
    ) -> None:
        super().__init__(server)
        self._tls_server = server
        self._client = client  # a connection the switch opened: its context and peer's name
        self.key = key
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls: ssl.SSLObject | None = None
        self._secure = False  # the handshake is done
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.source is None:
            return  # refused over a cap
        server = self._tls_server
        if self._client is None:
            self._tls = server.context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        else:
            context, name = self._client
            self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=name)
            with contextlib.suppress(ssl.SSLWantReadError):
                self._tls.do_handshake()  # writes the ClientHello
            self._flush()
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(server.handshake_timeout, self._stalled)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if self._client is not None and not self._secure and self.source is not None:
            self._tls_server.waiting.pop((self.source.host, self.source.port), None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        tls = self._tls
        if tls is None or self._transport is None or self.source is None:
            return  # refused over a cap, or already lost
        self.last_active = self._server.loop_time()
        self._incoming.write(data)
        if not self._secure:
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                return
            except (ssl.SSLError, OSError) as exc:
                self._flush()  # the alert, if OpenSSL wrote one
                self._failed(exc)
                return
            self._secure = True
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._flush()
            if self._client is not None and self.source is not None:
                source = self.source
                for waiting in self._tls_server.waiting.pop((source.host, source.port), []):
                    self.send_bytes(waiting)
        plain: list[bytes] = []
        closed = False
        while True:
            try:
                chunk = tls.read(_READ)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:  # the peer's close_notify
                closed = True
                break
            except (ssl.SSLError, OSError) as exc:
                log.debug("closing %s: %s", self.source, exc)
                self.abort()
                return
            if not chunk:
                closed = True
                break
            plain.append(chunk)
        self._flush()  # TLS 1.3 tickets and key updates
        if plain:
            self.received(b"".join(plain))
        if closed and self._transport is not None:
            self._transport.close()

    def send_bytes(self, data: bytes) -> bool:
        if not self._secure or self._tls is None:
            return False
        try:
            self._tls.write(data)
        except (ssl.SSLError, OSError):
            return False
        self._flush()
        return True

    def _flush(self) -> None:
        out = self._outgoing.read()
        if out and self._transport is not None and not self._transport.is_closing():
            self._transport.write(out)

    def _failed(self, exc: object) -> None:
        self._tls_server.handshakes_failed += 1
        if self._client is not None:  # ours: a carrier whose certificate we refused, say
            log.warning("TLS connection to %s failed: %s", self.source, exc)
        else:
            log.debug("TLS handshake with %s failed: %s", self.source, exc)
        if self._transport is not None:
            self._transport.close()  # after the alert

    def _stalled(self) -> None:
        self._deadline = None
        if not self._secure:
            self._failed("no handshake in time")
            self.abort()


class TlsTransport(TcpTransport):
    """A listening TLS socket; answers go back over the connection they came on."""

    name = "TLS"
    connection = TlsConnection  # type: ignore[assignment]  # it takes a TlsTransport

    def __init__(
        self,
        receiver: Receiver,
        context: ssl.SSLContext,
        max_message_size: int = MAX_MESSAGE_SIZE,
        max_connections: int = MAX_CONNECTIONS,
        max_per_source: int = MAX_PER_SOURCE,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
    ) -> None:
        super().__init__(receiver, max_message_size, max_connections, max_per_source)
        self.context = context
        self.handshake_timeout = handshake_timeout
        self.handshakes_failed = 0
        self.dialer: Dialer | None = None  # whom the switch may connect to itself
        self.waiting: dict[tuple[str, int], list[bytes]] = {}  # sent before the handshake
        self._dialling: set[asyncio.Task[None]] = set()

    @classmethod
    async def listen_tls(
        cls,
        host: str,
        port: int,
        receiver: Receiver,
        context: ssl.SSLContext,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        **options: int,
    ) -> TlsTransport:
        self = cls(receiver, context, handshake_timeout=handshake_timeout, **options)
        await self.start(host, port)
        return self

    def use(self, context: ssl.SSLContext) -> None:
        """Serve new connections with `context` (a reloaded certificate)."""
        self.context = context

    def send(self, data: bytes, destination: Source) -> bool:
        if super().send(data, destination):
            return True
        key = (destination.host, destination.port)
        waiting = self.waiting.get(key)
        if waiting is not None:  # a connection of ours on its way
            waiting.append(data)
            return True
        target = self.dialer(*key) if self.dialer is not None else None
        if target is None or key in self.connections:
            return False
        self.waiting[key] = [data]
        task = asyncio.get_running_loop().create_task(self._dial(key, target))
        self._dialling.add(task)
        task.add_done_callback(self._dialling.discard)
        return True

    async def _dial(self, key: tuple[str, int], target: tuple[ssl.SSLContext, str]) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: TlsConnection(self, target, key), *key),
                self.handshake_timeout,
            )
        except (TimeoutError, OSError) as exc:
            log.warning("could not connect to tls:%s:%s: %s", key[0], key[1], exc)
            self.waiting.pop(key, None)

    def close(self) -> None:
        super().close()
        for task in list(self._dialling):
            task.cancel()
