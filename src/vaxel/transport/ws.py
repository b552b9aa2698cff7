"""SIP over WebSocket, the switch's half (P2, U1; RFC 7118): the flows the web relays.

The web process serves the WebSockets (web/sip_ws.py) and relays each SIP message over
the link (web/link.py) with its connection's id; here each connection becomes a flow the
switch reads and writes like a TCP connection. Its `Source` is ("WS", or "WSS" over
HTTPS) and the client's address as the web saw it: unique per connection, so a
device's registration keeps the Source its REGISTER came from and requests to the
device go back over that WebSocket (a browser has no address to send to otherwise).

One WebSocket message is one SIP message (RFC 7118 §5): no framing by Content-Length. A
CRLF keep-alive (RFC 5626 §4.4.1: "\\r\\n\\r\\n") is answered with "\\r\\n", as over TCP.

When a WebSocket closes, or the link to the web does (the web process ended and its
WebSockets with it), `closed` is told each flow's Source: the switch stops using it
(RFC 5626 §4.4: a flow that failed), since a WebSocket that closed never comes back.

No I/O of its own: `handle` takes the web's messages, `send` returns the switch's to the
link through `attach`'s writer. That keeps it testable in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from vaxel.transport.base import Local, Receiver, Source

log = logging.getLogger(__name__)

PING = b"\r\n\r\n"
PONG = b"\r\n"

# Writes a message to the web over the link; False when it cannot (the web is gone).
LinkWriter = Callable[[object], bool]


class WsTransport:
    """The SIP WebSockets the web relays, as flows the switch sends on by Source."""

    def __init__(
        self,
        receiver: Receiver,
        local: Local,
        closed: Callable[[Source], None] | None = None,
        secure_local: Local | None = None,
    ) -> None:
        self.receiver = receiver
        self.local = local  # our address for Via and Contact: the web's listener
        self.secure_local = secure_local  # the same over HTTPS, when it is served
        self.closed = closed  # a flow failed: the registrar and the calls stop using it
        self.write: LinkWriter | None = None
        self.by_source: dict[tuple[str, int], int] = {}  # (host, port) -> connection id
        self.sources: dict[int, Source] = {}  # connection id -> its Source

    def attach(self, write: LinkWriter) -> None:
        """Where the switch's messages go: the link to the web process."""
        self.write = write

    # -- from the web ---------------------------------------------------------------------

    def handle(self, message: tuple[Any, ...]) -> None:
        """A `sip.open`, `sip.in` or `sip.closed` from the web (web/link.py)."""
        kind = message[0]
        if kind == "sip.in":
            self.received(message[1], message[2])
        elif kind == "sip.open":
            self.opened(message[1], message[2], message[3], bool(message[4]))
        elif kind == "sip.closed":
            self.ended(message[1])

    def opened(self, number: int, host: str, port: int, secure: bool = False) -> None:
        source = Source("WSS" if secure else "WS", host, port)
        previous = self.by_source.get((host, port))
        if previous is not None:  # the web never reuses an open address; be safe anyway
            self.ended(previous)
        self.by_source[(host, port)] = number
        self.sources[number] = source

    def received(self, number: int, data: bytes) -> None:
        source = self.sources.get(number)
        if source is None:
            return  # a message of a connection that has closed
        if data == PING:
            self._write(number, PONG)
            return
        if data == PONG or not data.strip(b"\r\n"):
            return
        local = self.secure_local if source.transport == "WSS" and self.secure_local else self.local
        try:
            self.receiver(data, source, local)
        except Exception:  # the switch keeps serving whatever one message does
            log.exception("error handling a message from %s", source)

    def ended(self, number: int) -> None:
        source = self.sources.pop(number, None)
        if source is None:
            return
        self.by_source.pop((source.host, source.port), None)
        if self.closed is not None:
            try:
                self.closed(source)
            except Exception:
                log.exception("error ending the flow %s", source)

    def lost(self) -> None:
        """The link to the web closed: every WebSocket it carried is gone."""
        for number in list(self.sources):
            self.ended(number)

    # -- to the web -----------------------------------------------------------------------

    def send(self, data: bytes, destination: Source) -> bool:
        number = self.by_source.get((destination.host, destination.port))
        if number is None or self.sources[number].transport != destination.transport:
            return False  # that WebSocket has closed: the flow failed
        return self._write(number, data)

    def close(self, destination: Source) -> None:
        """Close one flow's WebSocket (the web tells us once it is closed)."""
        number = self.by_source.get((destination.host, destination.port))
        if number is not None and self.write is not None:
            self.write(("sip.close", number))

    def _write(self, number: int, data: bytes) -> bool:
        return self.write is not None and self.write(("sip.out", number, data))

    def __len__(self) -> int:
        return len(self.sources)
