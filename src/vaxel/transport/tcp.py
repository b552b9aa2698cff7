"""SIP over TCP: messages framed by Content-Length, CRLF keep-alives (RFC 5626 §4.4.1) (P2, O2).

A connection is closed only when its stream can no longer be framed (no
or a bad Content-Length, oversize): a well-framed but malformed request is
handed on like any other and answered (400) on the connection.

Connections are capped twice (O2): `MAX_CONNECTIONS` in all, so the
switch's file descriptors last, and `MAX_PER_SOURCE` from any one IP
address, so one host cannot take them all and keep every other device out.
A connection over either cap is closed at once.

SIP over TLS (transport/tls.py) is this transport with TLS between the
socket and the framing: the caps, framing and keep-alives here serve both,
and a TLS connection counts against the caps from its accept on.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.message import MAX_MESSAGE_SIZE, StreamFramer
from vaxel.transport.base import Local, Receiver, Source

log = logging.getLogger(__name__)

PING = b"\r\n\r\n"
PONG = b"\r\n"
IDLE_TIMEOUT = 600.0  # a registered device keeps its flow alive far more often (RFC 5626)
MAX_CONNECTIONS = 20000
#: Connections from one IP address: a phone keeps one flow (RFC 5626), an office behind
#: one NAT a few dozen; beyond this a host is hoarding the connections every device needs.
MAX_PER_SOURCE = 64


class Connection(asyncio.Protocol):
    """One connection (accepted, or opened by the switch to a TLS trunk): counted against
    the caps, framed, answered on.

    `data_received` takes the socket's bytes; `received` frames SIP's and
    `send_bytes` writes them (TLS overrides the first and the last).
    """

    def __init__(self, server: TcpTransport) -> None:
        self._server = server
        self._framer = StreamFramer(server.max_message_size)
        self._transport: asyncio.Transport | None = None
        self.source: Source | None = None
        self.last_active = 0.0
        # The address a connection the switch opened is known by (the trunk's, as
        # configured); None: the peer's as the socket says (an accepted connection).
        self.key: tuple[str, int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        server = self._server
        host, port = self.key or transport.get_extra_info("peername")[:2]
        if (
            len(server.connections) >= server.max_connections
            or server.per_host.get(host, 0) >= server.max_per_source
        ):
            transport.abort()  # type: ignore[attr-defined]
            return
        self.source = Source(server.name, host, port)
        self.last_active = server.loop_time()
        server.connections[(host, port)] = self
        server.per_host[host] = server.per_host.get(host, 0) + 1

    def connection_lost(self, exc: Exception | None) -> None:
        source = self.source
        if source is None:
            return  # refused over a cap: never counted
        self.source = None
        server = self._server
        server.connections.pop((source.host, source.port), None)
        left = server.per_host.get(source.host, 1) - 1
        if left > 0:
            server.per_host[source.host] = left
        else:
            server.per_host.pop(source.host, None)

    def data_received(self, data: bytes) -> None:
        if self._transport is None or self.source is None:
            return  # refused over a cap, or already lost
        self.last_active = self._server.loop_time()
        self.received(data)

    def received(self, data: bytes) -> None:
        """Frame SIP's bytes and hand each message on."""
        assert self._transport is not None and self.source is not None
        self._framer.feed(data)
        while True:
            try:
                frame = self._framer.next()
            except RemoteProtocolError as exc:  # framing lost: nothing more can be read
                log.debug("closing %s: %s", self.source, exc.reason)
                self._transport.abort()
                return
            if frame is None:
                return
            if frame == PING:
                self.send_bytes(PONG)
            elif frame == PONG:
                continue
            else:
                try:
                    self._server.receiver(frame, self.source, self._server.local)
                except Exception:
                    log.exception("error handling a message from %s", self.source)

    def write(self, data: bytes) -> bool:
        if self._transport is None or self._transport.is_closing():
            return False
        return self.send_bytes(data)

    def send_bytes(self, data: bytes) -> bool:
        assert self._transport is not None
        self._transport.write(data)
        return True

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


class TcpTransport:
    """A listening TCP socket; answers go back over the connection they came on."""

    name = "TCP"  # `Source.transport` of what arrives here
    connection = Connection  # the protocol of each accepted connection

    def __init__(
        self,
        receiver: Receiver,
        max_message_size: int = MAX_MESSAGE_SIZE,
        max_connections: int = MAX_CONNECTIONS,
        max_per_source: int = MAX_PER_SOURCE,
    ) -> None:
        self.receiver = receiver
        self.max_message_size = max_message_size
        self.max_connections = max_connections
        self.max_per_source = max_per_source
        self.connections: dict[tuple[str, int], Connection] = {}
        self.per_host: dict[str, int] = {}  # open connections per source IP address
        self._server: asyncio.Server | None = None
        self.local: Local = Local(self.name, "", 0)

    @classmethod
    async def listen(cls, host: str, port: int, receiver: Receiver, **options: int) -> TcpTransport:
        self = cls(receiver, **options)
        await self.start(host, port)
        return self

    async def start(self, host: str, port: int) -> None:
        """Listen on `host`:`port` (0: a free port)."""
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._server = await loop.create_server(
            lambda: self.connection(self), host, port, family=family, reuse_address=True
        )
        sockname = self._server.sockets[0].getsockname()
        self.local = Local(self.name, sockname[0], sockname[1])

    @staticmethod
    def loop_time() -> float:
        return asyncio.get_running_loop().time()

    def close_idle(self, idle: float = IDLE_TIMEOUT) -> int:
        """Close connections silent for `idle` seconds; call it now and then."""
        cutoff = self.loop_time() - idle
        stale = [c for c in self.connections.values() if c.last_active < cutoff]
        for connection in stale:
            connection.abort()
        return len(stale)

    def send(self, data: bytes, destination: Source) -> bool:
        connection = self.connections.get((destination.host, destination.port))
        return connection is not None and connection.write(data)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections.values()):
            connection.abort()
