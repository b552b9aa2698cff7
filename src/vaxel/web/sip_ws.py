"""SIP over WebSocket, the web's half (P2, U1, O2; RFC 7118): the endpoint `/ws`.

A browser softphone has no socket to send SIP on but a WebSocket. It connects to `/ws`
of the web's HTTP (later HTTPS) listener with the subprotocol `sip`; every WebSocket
message carries one SIP message (RFC 7118 §5), text or binary. This process does not
read SIP: it relays each message to the switch over the link (web/link.py) with the
connection's id, and the switch's messages back to that connection; transport/ws.py
is the switch's half. The switch authenticates what arrives with SIP digest, as over
UDP or TCP: no web login is needed, and none is taken from a cookie.

What is refused before a connection is accepted (HTTP 403), so nothing reaches the
switch from it:

- a handshake that does not offer the `sip` subprotocol (RFC 7118 §4);
- a handshake with an `Origin` of another site (O2: a page elsewhere must not use a
  visitor's browser to reach the switch: Cross-Site WebSocket Hijacking). No `Origin`
  at all is a client that is not a browser (a desk phone, a script), and is served;
- a connection over `MAX_CONNECTIONS` in all, or over `MAX_PER_SOURCE` from one address.

A message over `MAX_FRAME` bytes closes its connection (1009); uvicorn's `ws_max_size`
refuses larger ones before they are read whole. A client that does not read what the
switch sends is closed (1013) once `QUEUE_LIMIT` messages wait for it; one that floods
is read no faster than the link to the switch carries its messages away. A client that
vanishes without closing (a laptop put to sleep) is found by uvicorn's keep-alive pings
(20 s, then 20 s for the pong) and closed: the switch then stops using its flow.

The link messages: `("sip.open", id, host, port, secure)`, `("sip.in", id, data)`,
`("sip.closed", id)` to the switch; `("sip.out", id, data)` and `("sip.close", id)` back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from vaxel.sip.message import MAX_MESSAGE_SIZE
from vaxel.web.events import same_origin

log = logging.getLogger(__name__)

router = APIRouter(tags=["sip"])

PATH = "/ws"
SUBPROTOCOL = "sip"
MAX_CONNECTIONS = 10000
#: Connections from one IP address: a browser keeps one per tab, an office behind one NAT
#: a few dozen; beyond this one host is taking what every other device needs.
MAX_PER_SOURCE = 64
MAX_FRAME = MAX_MESSAGE_SIZE  # bytes of one SIP message, as over UDP and TCP
QUEUE_LIMIT = 256  # messages from the switch waiting for one client

# Close codes (RFC 6455 §7.4.1).
NORMAL = 1000
POLICY = 1008
TOO_BIG = 1009
UNAVAILABLE = 1011
TRY_AGAIN = 1013


@dataclass(eq=False)
class Connection:
    """One SIP WebSocket as the relay knows it; `outgoing` holds what the switch sent
    (None: the switch closes it)."""

    id: int
    host: str
    port: int
    outgoing: asyncio.Queue[bytes | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LIMIT)
    )
    overflowed: bool = False
    ending: bool = False  # the switch closes it, or it fell too far behind


class SipRelay:
    """The SIP WebSockets of this web process, relayed to the switch through `send` (the
    link's `WebEnd.send`). No I/O of its own: the endpoint feeds it and drains each
    connection's queue."""

    def __init__(
        self,
        send: Callable[[object], None],
        *,
        drain: Callable[[], Awaitable[None]] | None = None,
        max_connections: int = MAX_CONNECTIONS,
        max_per_source: int = MAX_PER_SOURCE,
    ) -> None:
        self.send = send
        # Waits while the link to the switch has much unsent (StreamWriter.drain): a client
        # that floods is then read no faster than the switch takes its messages.
        self.drain = drain
        self.max_connections = max_connections
        self.max_per_source = max_per_source
        self.connections: dict[int, Connection] = {}
        self.per_host: dict[str, int] = {}
        self._ids = itertools.count(1)

    def open(self, host: str, port: int, secure: bool = False) -> Connection | None:
        """A new connection from `host:port`, told to the switch; None over a cap."""
        if (
            len(self.connections) >= self.max_connections
            or self.per_host.get(host, 0) >= self.max_per_source
        ):
            return None
        connection = Connection(next(self._ids), host, port)
        self.connections[connection.id] = connection
        self.per_host[host] = self.per_host.get(host, 0) + 1
        self.send(("sip.open", connection.id, host, port, secure))
        return connection

    def received(self, connection: Connection, data: bytes) -> None:
        if connection.id in self.connections:
            self.send(("sip.in", connection.id, data))

    def closed(self, connection: Connection) -> None:
        """The WebSocket is gone (either side closed it): the switch stops using it."""
        if self.connections.pop(connection.id, None) is None:
            return
        left = self.per_host.get(connection.host, 1) - 1
        if left > 0:
            self.per_host[connection.host] = left
        else:
            self.per_host.pop(connection.host, None)
        self.send(("sip.closed", connection.id))

    def from_switch(self, message: tuple[object, ...]) -> None:
        """`("sip.out", id, data)` or `("sip.close", id)` from the switch."""
        kind, number = message[0], message[1]
        connection = self.connections.get(number) if isinstance(number, int) else None
        if connection is None or connection.ending:
            return  # closed meanwhile (the switch hears of it from `closed`), or closing
        if kind == "sip.out" and isinstance(message[2], bytes):
            try:
                connection.outgoing.put_nowait(message[2])
            except asyncio.QueueFull:
                connection.overflowed = True  # the endpoint closes it at once (1013)
                _end(connection, drop=True)
        elif kind == "sip.close":
            _end(connection, drop=False)


def _end(connection: Connection, *, drop: bool) -> None:
    """Make the endpoint's sender end the connection with a None: after what is queued,
    or (`drop`: the client does not read) at once."""
    connection.ending = True
    queue = connection.outgoing
    if drop:
        while not queue.empty():
            queue.get_nowait()
    elif queue.full():
        queue.get_nowait()  # a client that far behind loses the oldest message
    queue.put_nowait(None)


def install(app: object, relay: SipRelay | None) -> None:
    """Add `/ws` to the app (the relay None: no switch to relay to; connections refused)."""
    app.state.sip_relay = relay  # type: ignore[attr-defined]
    app.include_router(router)  # type: ignore[attr-defined]


def refusal(websocket: WebSocket, relay: SipRelay | None) -> str | None:
    """Why this handshake is refused, or None to accept it."""
    if relay is None:
        return "no switch to relay SIP to"
    if SUBPROTOCOL not in websocket.scope.get("subprotocols", ()):
        return 'the subprotocol must be "sip" (RFC 7118)'
    origin = websocket.headers.get("origin")
    if origin is not None and not same_origin(origin, websocket.headers.get("host", "")):
        return "cross-site WebSocket refused"
    return None


@router.websocket(PATH)
async def sip_websocket(websocket: WebSocket) -> None:
    relay: SipRelay | None = websocket.app.state.sip_relay
    why = refusal(websocket, relay)
    client = websocket.client
    if why is not None or relay is None or client is None:
        log.debug("SIP WebSocket refused: %s", why)
        await websocket.close(POLICY, why)  # before accept: HTTP 403
        return
    connection = relay.open(client.host, client.port, websocket.url.scheme == "wss")
    if connection is None:
        await websocket.close(TRY_AGAIN, "too many connections")
        return
    try:
        await websocket.accept(subprotocol=SUBPROTOCOL)
        ending = await _relay(websocket, relay, connection)
    except (WebSocketDisconnect, RuntimeError, OSError):
        ending = None
    finally:
        relay.closed(connection)
    if ending is not None:
        with contextlib.suppress(Exception):
            await websocket.close(*ending)


async def _relay(
    websocket: WebSocket, relay: SipRelay, connection: Connection
) -> tuple[int, str] | None:
    """Carry messages both ways until either side ends; how to close (None: it is closed)."""
    ending: list[tuple[int, str]] = []

    async def to_client() -> None:
        queue = connection.outgoing
        while (data := await queue.get()) is not None:
            try:
                await websocket.send_text(data.decode("utf-8"))
            except UnicodeDecodeError:
                await websocket.send_bytes(data)
        if connection.overflowed:
            ending.append((TRY_AGAIN, "too slow: the client does not read"))
        else:
            ending.append((NORMAL, "closed by the switch"))

    async def from_client() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                data = (message.get("text") or "").encode("utf-8")
            if len(data) > MAX_FRAME:
                ending.append((TOO_BIG, f"a SIP message is at most {MAX_FRAME} bytes"))
                return
            relay.received(connection, data)
            if relay.drain is not None:
                await relay.drain()

    tasks = [asyncio.ensure_future(work()) for work in (to_client, from_client)]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return ending[0] if ending else None
