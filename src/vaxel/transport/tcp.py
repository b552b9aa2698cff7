"""SIP over TCP (P2): Content-Length framing, CRLF keep-alives (RFC 5626 §4.4.1)."""

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


class _Connection(asyncio.Protocol):
    def __init__(self, server: TcpTransport) -> None:
        self._server = server
        self._framer = StreamFramer(server.max_message_size)
        self._transport: asyncio.Transport | None = None
        self.source: Source | None = None
        self.last_active = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        if len(self._server.connections) >= self._server.max_connections:
            transport.abort()  # type: ignore[attr-defined]
            return
        host, port = transport.get_extra_info("peername")[:2]
        self.source = Source("TCP", host, port)
        self.last_active = self._server.loop_time()
        self._server.connections[(host, port)] = self

    def connection_lost(self, exc: Exception | None) -> None:
        if self.source is not None:
            self._server.connections.pop((self.source.host, self.source.port), None)

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None and self.source is not None
        self.last_active = self._server.loop_time()
        self._framer.feed(data)
        while True:
            try:
                frame = self._framer.next()
            except RemoteProtocolError as exc:
                log.debug("closing %s: %s", self.source, exc.reason)
                self._transport.abort()
                return
            if frame is None:
                return
            if frame == PING:
                self._transport.write(PONG)
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
        self._transport.write(data)
        return True


class TcpTransport:
    """A listening TCP socket; answers go back over the connection they came on."""

    def __init__(
        self,
        receiver: Receiver,
        max_message_size: int = MAX_MESSAGE_SIZE,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.receiver = receiver
        self.max_message_size = max_message_size
        self.max_connections = max_connections
        self.connections: dict[tuple[str, int], _Connection] = {}
        self._server: asyncio.Server | None = None
        self.local: Local = Local("TCP", "", 0)

    @classmethod
    async def listen(cls, host: str, port: int, receiver: Receiver, **options: int) -> TcpTransport:
        self = cls(receiver, **options)
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._server = await loop.create_server(
            lambda: _Connection(self), host, port, family=family, reuse_address=True
        )
        sockname = self._server.sockets[0].getsockname()
        self.local = Local("TCP", sockname[0], sockname[1])
        return self

    @staticmethod
    def loop_time() -> float:
        return asyncio.get_running_loop().time()

    def close_idle(self, idle: float = IDLE_TIMEOUT) -> int:
        """Close connections silent for `idle` seconds; call it now and then."""
        cutoff = self.loop_time() - idle
        stale = [c for c in self.connections.values() if c.last_active < cutoff]
        for connection in stale:
            if connection._transport is not None:
                connection._transport.abort()
        return len(stale)

    def send(self, data: bytes, destination: Source) -> bool:
        connection = self.connections.get((destination.host, destination.port))
        return connection is not None and connection.write(data)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections.values()):
            if connection._transport is not None:
                connection._transport.abort()
