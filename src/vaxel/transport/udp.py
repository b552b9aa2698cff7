"""SIP over UDP (P2): one datagram is one message."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from typing import Any

from vaxel.transport.base import Backlog, Local, Receiver, Source

log = logging.getLogger(__name__)

MAX_DATAGRAM = 65535
# Linux (4.12+) reports a socket's memory counters with this option: nine u32,
# the first two the receive queue's charged bytes and the receive buffer's size.
SO_MEMINFO = getattr(socket, "SO_MEMINFO", 55)
_MEMINFO = struct.Struct("9I")


class UdpTransport(asyncio.DatagramProtocol):
    """A UDP socket that hands each datagram to the switch and sends its answers."""

    def __init__(self, receiver: Receiver) -> None:
        self._receiver = receiver
        self._transport: asyncio.DatagramTransport | None = None
        self._socket: Any = None
        self.local: Local | None = None

    @classmethod
    async def listen(cls, host: str, port: int, receiver: Receiver) -> UdpTransport:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: cls(receiver), local_addr=(host, port), family=family
        )
        protocol._bind(transport)  # uvloop may call connection_made later
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._bind(transport)  # type: ignore[arg-type]

    def _bind(self, transport: asyncio.DatagramTransport) -> None:
        if self._transport is transport:
            return
        self._transport = transport
        sock = self._socket = transport.get_extra_info("socket")
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, option, 4 * 1024 * 1024)
        host, port = transport.get_extra_info("sockname")[:2]
        self.local = Local("UDP", host, port)

    def datagram_received(self, data: bytes, addr: tuple) -> None:  # type: ignore[type-arg]
        assert self.local is not None
        if not data.strip(b"\r\n\x00 "):
            return  # a NAT keep-alive: nothing to answer (RFC 5626 §4.4.2 uses STUN)
        try:
            self._receiver(data, Source("UDP", addr[0], addr[1]), self.local)
        except Exception:  # the switch must keep serving whatever one datagram does
            log.exception("error handling a datagram from %s:%s", addr[0], addr[1])

    def backlog(self) -> Backlog | None:
        """How much waits in the receive queue (None where the kernel does not say)."""
        if self._socket is None:
            return None
        try:
            raw = self._socket.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, _MEMINFO.size)
        except (OSError, ValueError):
            return None
        queued, capacity = _MEMINFO.unpack_from(raw)[:2]
        return Backlog(queued, capacity)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)

    def send(self, data: bytes, destination: Source) -> bool:
        if self._transport is None or self._transport.is_closing():
            return False
        self._transport.sendto(data, (destination.host, destination.port))
        return True

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
