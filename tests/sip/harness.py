"""An in-memory client/server pair for the transaction layer.

Two `TransactionLayer`s joined by a `Network` that serializes every
message to bytes and parses it again on arrival, so tests see exactly
what would go on the wire. The network can drop, duplicate and delay
messages; the clock is fake and only moves when a test advances it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

from vaxel.sip.events import Event, Send, TransactionKey
from vaxel.sip.message import Request, Response, parse_message
from vaxel.sip.transaction import TransactionLayer

CLIENT = "client"
SERVER = "server"
# Documentation addresses (RFC 5737): names on the in-memory wire, never dialled.
ADDRESSES = {CLIENT: "192.0.2.10:5060", SERVER: "192.0.2.20:5060"}


@dataclass(frozen=True, slots=True)
class Wire:
    """One transmission: when, who to whom, the bytes, and whether the network dropped it."""

    time: float
    src: str
    dst: str
    data: bytes
    dropped: bool = False

    @property
    def first_line(self) -> str:
        return self.data.split(b"\r\n", 1)[0].decode()


Rule = Callable[[Wire], bool]


class Endpoint:
    """A transaction layer on the network plus the TU events it produced."""

    def __init__(self, name: str, network: Network, layer: TransactionLayer) -> None:
        self.name = name
        self.network = network
        self.layer = layer
        self.inbox: list[Event] = []

    @property
    def address(self) -> str:
        return ADDRESSES[self.name]

    @property
    def other(self) -> str:
        return SERVER if self.name == CLIENT else CLIENT

    def dispatch(self, events: list[Event]) -> list[Event]:
        """Put every Send on the wire and the rest in the inbox; return the rest."""
        kept = []
        for event in events:
            if isinstance(event, Send):
                self.network.transmit(self.name, str(event.peer), bytes(event.message))
            else:
                kept.append(event)
        self.inbox.extend(kept)
        return kept

    def send_request(self, request: Request) -> TransactionKey:
        key, events = self.layer.send_request(
            request, self.network.now, reliable=self.network.reliable, peer=self.other
        )
        self.dispatch(events)
        return key

    def send_stateless(self, message: Request | Response) -> None:
        """What the TU sends outside any transaction: the ACK of a 2xx."""
        self.network.transmit(self.name, self.other, bytes(message))

    def respond(self, key: TransactionKey, response: Response) -> list[Event]:
        return self.dispatch(self.layer.respond(key, response, self.network.now))

    def cancel(self, key: TransactionKey) -> list[Event]:
        return self.dispatch(self.layer.cancel(key, self.network.now))

    def take(self, kind: type[Event] | None = None) -> list[Event]:
        """Remove and return the inbox events (of one kind, when given)."""
        taken = [e for e in self.inbox if kind is None or isinstance(e, kind)]
        self.inbox = [e for e in self.inbox if e not in taken]
        return taken


class Network:
    """A fake clock and a lossy in-memory wire between a client and a server."""

    def __init__(
        self, *, reliable: bool = False, latency: float = 0.0, **layer_options: object
    ) -> None:
        self.now = 0.0
        self.reliable = reliable
        self.latency = latency
        self.log: list[Wire] = []
        self.drop: Rule = lambda wire: False
        self.duplicate: Rule = lambda wire: False
        self.delay: Callable[[Wire], float] = lambda wire: self.latency
        self._queue: list[tuple[float, int, Wire]] = []
        self._seq = 0
        self.client = Endpoint(CLIENT, self, TransactionLayer(**layer_options))  # type: ignore[arg-type]
        self.server = Endpoint(SERVER, self, TransactionLayer(**layer_options))  # type: ignore[arg-type]
        self.endpoints = {CLIENT: self.client, SERVER: self.server}

    def transmit(self, src: str, dst: str, data: bytes) -> None:
        wire = Wire(self.now, src, dst, data)
        if self.drop(wire):
            self.log.append(Wire(self.now, src, dst, data, dropped=True))
            return
        self.log.append(wire)
        copies = 2 if self.duplicate(wire) else 1
        for _ in range(copies):
            self._seq += 1
            heapq.heappush(self._queue, (self.now + self.delay(wire), self._seq, wire))

    def _next_time(self) -> float | None:
        times = [self._queue[0][0]] if self._queue else []
        for endpoint in self.endpoints.values():
            deadline = endpoint.layer.next_deadline()
            if deadline is not None:
                times.append(deadline)
        return min(times) if times else None

    def run(self, until: float) -> None:
        """Deliver messages and fire timers in time order up to `until`, then stop there."""
        while (when := self._next_time()) is not None and when <= until:
            self.now = max(self.now, when)
            while self._queue and self._queue[0][0] <= self.now:
                _, _, wire = heapq.heappop(self._queue)
                endpoint = self.endpoints[wire.dst]
                message = parse_message(wire.data)
                endpoint.dispatch(
                    endpoint.layer.receive(message, self.now, reliable=self.reliable, peer=wire.src)
                )
            for endpoint in self.endpoints.values():
                endpoint.dispatch(endpoint.layer.timeout(self.now))
        self.now = max(self.now, until)

    def flush(self) -> None:
        """Deliver what is due now, without moving the clock."""
        self.run(self.now)

    def advance(self, seconds: float) -> None:
        self.run(self.now + seconds)

    def sent(self, src: str, first_line: str) -> list[Wire]:
        """Transmissions from `src` whose start line begins with `first_line`."""
        return [w for w in self.log if w.src == src and w.first_line.startswith(first_line)]


def request_bytes(
    method: str,
    *,
    branch: str,
    cseq: int = 1,
    call_id: str = "a84b4c76e66710",
    from_tag: str = "1928301774",
    to_tag: str | None = None,
    uri: str = "sip:bob@biloxi.example.com",
    extra: str = "",
    src: str = CLIENT,
) -> bytes:
    """A request as a UA would write it (RFC 3261 §4 style), for byte-level tests."""
    to_param = f";tag={to_tag}" if to_tag else ""
    via_branch = f";branch={branch}" if branch else ""
    return (
        f"{method} {uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {ADDRESSES[src]}{via_branch}\r\n"
        "Max-Forwards: 70\r\n"
        f"To: Bob <sip:bob@biloxi.example.com>{to_param}\r\n"
        f"From: Alice <sip:alice@atlanta.example.com>;tag={from_tag}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"{extra}"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def request(method: str, **kwargs: object) -> Request:
    message = parse_message(request_bytes(method, **kwargs))  # type: ignore[arg-type]
    assert isinstance(message, Request)
    return message
