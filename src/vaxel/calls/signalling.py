"""Sending SIP (P2): the transports the switch writes to, and the transaction layer's I/O half.

`Outbox` knows the switch's own addresses (for Via and Contact) and writes
bytes to the right transport; replies go to where a message came from,
never to a host named in it. `Signalling` is what the transaction users
(the B2BUA's legs, message-waiting subscriptions, trunk registrations)
send through: it starts client transactions, answers server ones, carries
out the transaction layer's `Send`s and hands every keyed event to the
owner of its transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from vaxel.sip.events import (
    AckReceived,
    CancelReceived,
    Event,
    RequestReceived,
    ResponseReceived,
    Send,
    TransactionKey,
    TransactionTerminated,
    TransactionTimeout,
    TransportError,
)
from vaxel.sip.message import Request, Response
from vaxel.sip.sdp import redact_keys
from vaxel.sip.transaction import TransactionLayer, new_branch
from vaxel.transport.base import Local, Sender, Source

log = logging.getLogger(__name__)
# Every message in and out, when an operator asks for it (VAXEL_SIP_TRACE=1).
trace = logging.getLogger("vaxel.sip.trace")

SERVER = "Vaxel"

Owner = Callable[[Event], None]


class TransactionUser(Protocol):
    """Who serves what arrives (the switch's method dispatch)."""

    def request(self, request: Request, key: TransactionKey, source: Source) -> None:
        """A new request opened server transaction `key`."""

    def cancelled(self, event: CancelReceived) -> None:
        """A CANCEL arrived (already answered 200 or 481)."""

    def acknowledged(self, event: AckReceived) -> None:
        """The ACK of a 2xx arrived."""


class Outbox:
    """The transports the switch listens on and writes to, by name ("UDP", "TCP", "TLS",
    "WS").

    Via names the transport (SIP/2.0/TLS; RFC 7118 §5.2: `SIP/2.0/WS`); Contact says
    `;transport=tcp`, `tls` or `ws` so that the far end's in-dialog requests come back over
    the same kind of flow, at the address it is served on (for WebSockets, the web's HTTP
    listener).
    """

    def __init__(self) -> None:
        self.senders: dict[str, Sender] = {}
        self.locals: dict[str, Local] = {}  # our address per transport, for Via and Contact
        self.tracing = trace.isEnabledFor(logging.DEBUG)  # decided once: a hot path

    def add(self, sender: Sender, local: Local) -> None:
        """A transport is listening: messages for its kind of source go out through it."""
        self.senders[local.transport] = sender
        self.locals[local.transport] = local

    def send(self, data: bytes, destination: Source) -> bool:
        if self.tracing:
            trace.debug("to %s:\n%s", destination, redact_keys(data.decode("utf-8", "replace")))
        sender = self.senders.get(destination.transport)
        if sender is None or not sender.send(data, destination):
            log.debug("could not send %d bytes to %s", len(data), destination)
            return False
        return True

    def write(self, message: Request | Response, destination: Source) -> bool:
        return self.send(bytes(message), destination)

    def _local(self, transport: str) -> Local:
        """Our address on `transport`; on one not served here (a TLS trunk without `--tls`)
        any other: the message is never sent (no sender), its transaction fails at once."""
        local = self.locals.get(transport)
        return local if local is not None else next(iter(self.locals.values()))

    def via(self, transport: str) -> str:
        local = self._local(transport)
        return f"SIP/2.0/{transport} {local.host_port};branch={new_branch()};rport"

    def contact(self, transport: str, sips: bool = False) -> str:
        """Our Contact on `transport`; in a sips: dialog (over TLS) a sips: URI."""
        local = self._local(transport)
        if sips and transport == "TLS":
            return f"<sips:vaxel@{local.host_port}>"
        suffix = "" if transport == "UDP" else f";transport={transport.lower()}"
        return f"<sip:vaxel@{local.host_port}{suffix}>"

    def is_local(self, source: Source) -> bool:
        """Is `source` one of the switch's own sockets (a request that looped back)?"""
        local = self.locals.get(source.transport)
        return local is not None and (local.host, local.port) == (source.host, source.port)


class Signalling:
    """Transactions as the switch's transaction users see them: send, answer, get told."""

    def __init__(
        self, transactions: TransactionLayer, outbox: Outbox, clock: Callable[[], float]
    ) -> None:
        self.transactions = transactions
        self.outbox = outbox
        self.clock = clock
        self._owners: dict[TransactionKey, Owner] = {}

    def own(self, key: TransactionKey, owner: Owner) -> None:
        """Send `key`'s later events (its end, a timeout) to `owner`."""
        self._owners[key] = owner

    def execute(
        self, events: list[Event], tu: TransactionUser | None = None, source: Source | None = None
    ) -> None:
        """Write what the layer asked to send; give keyed events to their owners.

        What only a received request produces (a new request, a CANCEL, the ACK
        of a 2xx) goes to `tu`, with the request's `source`.
        """
        for event in events:
            if isinstance(event, Send):
                assert isinstance(event.peer, Source)
                self.outbox.write(event.message, event.peer)
            elif isinstance(event, (ResponseReceived, TransactionTimeout, TransportError)):
                owner = self._owners.get(event.key)
                if owner is not None:
                    owner(event)
            elif isinstance(event, TransactionTerminated):
                owner = self._owners.pop(event.key, None)
                if owner is not None:
                    owner(event)
            elif tu is not None:
                if isinstance(event, RequestReceived):
                    if source is not None:
                        tu.request(event.request, event.key, source)
                elif isinstance(event, CancelReceived):
                    tu.cancelled(event)
                elif isinstance(event, AckReceived):
                    tu.acknowledged(event)

    # -- what the transaction users do ------------------------------------------------------

    def respond(self, key: TransactionKey, response: Response) -> None:
        if "Server" not in response.headers:
            response.headers.add("Server", SERVER)
        self.execute(self.transactions.respond(key, response, self.clock()))

    def send_request(self, request: Request, destination: Source, owner: Owner) -> TransactionKey:
        """Start a client transaction towards `destination`; `owner` gets its events."""
        request.headers.insert("Via", self.outbox.via(destination.transport))
        request.headers.add("User-Agent", SERVER)
        request.invalidate()
        now = self.clock()
        key, events = self.transactions.send_request(
            request, now, reliable=destination.reliable, peer=destination
        )
        self._owners[key] = owner
        for event in events:
            if isinstance(event, Send) and not self.outbox.write(event.message, destination):
                # No route to the device (its TCP flow is gone): fail now, not at Timer B.
                self.execute(self.transactions.transport_error(key, now))
                break
        return key

    def send_ack(self, ack: Request, destination: Source) -> None:
        """The ACK of a 2xx is its own transaction-less request (§13.2.2.4)."""
        ack.headers.insert("Via", self.outbox.via(destination.transport))
        ack.invalidate()
        self.outbox.write(ack, destination)

    def cancel(self, key: TransactionKey, reason: str | None) -> None:
        self.execute(self.transactions.cancel(key, self.clock(), reason=reason))

    def contact(self, transport: str, sips: bool = False) -> str:
        return self.outbox.contact(transport, sips)

    def drive_timers(self) -> None:
        """Fire due transaction timers (retransmissions, timeouts, clean-up)."""
        self.execute(self.transactions.timeout(self.clock()))
