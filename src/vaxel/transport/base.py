"""What every transport shares (P2): where a message came from, and how to answer it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

#: Transports whose every message arrives whole, not cut from a stream.
WHOLE_MESSAGES = ("UDP", "WS", "WSS")


@dataclass(frozen=True, slots=True)
class Source:
    """The far end of a message as the socket saw it (not as the message claims).

    Responses go back here (RFC 3581 rport/received), never to a host
    name taken from the message.
    """

    transport: str  # "UDP", "TCP", "TLS", "WS" or "WSS" (a WebSocket: the client's address)
    host: str
    port: int

    @property
    def reliable(self) -> bool:
        return self.transport != "UDP"

    @property
    def stream(self) -> bool:
        """Are messages cut from a byte stream by Content-Length (TCP), rather than
        arriving whole (a UDP datagram; a WebSocket message, RFC 7118 §5, where
        Content-Length may be left out)?"""
        return self.transport not in WHOLE_MESSAGES

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport.lower()}:{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Backlog:
    """What the kernel says of a socket's receive queue (Linux `SO_MEMINFO`)."""

    queued: int  # bytes charged for the datagrams waiting
    capacity: int  # the receive buffer's size


@dataclass(frozen=True, slots=True)
class Local:
    """The local address a transport listens on, for Via and Contact."""

    transport: str
    host: str
    port: int

    @property
    def host_port(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class Sender(Protocol):
    def send(self, data: bytes, destination: Source) -> bool:
        """Write `data` towards `destination`; False when it could not be sent."""
        ...


# A transport hands every framed message to one callback.
Receiver = Callable[[bytes, Source, Local], None]
