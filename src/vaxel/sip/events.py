"""Events the transaction layer hands to the I/O code and the transaction user (P2).

Frozen dataclasses, the way h11 reports what happened: the caller loops
over the list it gets back, writes every `Send` to the network and gives
the rest to the TU (the UA core, a B2BUA leg, the registrar).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from vaxel.sip.message import Request, Response

# __init__s (and TransactionKey's __eq__ and __hash__: it keys the transaction tables) are
# written out: mypyc compiles them, not the dataclass-generated ones.


@dataclass(frozen=True, slots=True)
class TransactionKey:
    """Names one transaction (RFC 3261 §17.1.3 for clients, §17.2.3 for servers).

    `branch` is the top Via branch, or for RFC 2543 peers without a magic
    cookie a digest of the fields §17.2.3 compares instead. `method` is the
    CSeq method, INVITE for the ACK of a non-2xx.
    """

    role: Literal["client", "server"]
    branch: str
    method: str
    sent_by: str = ""

    def __init__(
        self, role: Literal["client", "server"], branch: str, method: str, sent_by: str = ""
    ) -> None:
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "branch", branch)
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "sent_by", sent_by)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return (
            self.role == other.role
            and self.branch == other.branch
            and self.method == other.method
            and self.sent_by == other.sent_by
        )

    def __hash__(self) -> int:
        return hash((self.role, self.branch, self.method, self.sent_by))


class Event:
    """Base class of every transaction-layer event."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Send(Event):
    """Write `message` to `peer` (the opaque address the I/O layer gave us)."""

    message: Request | Response
    peer: Any  # the I/O layer's opaque address

    def __init__(self, message: Request | Response, peer: Any) -> None:
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "peer", peer)


@dataclass(frozen=True, slots=True)
class RequestReceived(Event):
    """A new request created server transaction `key`; answer it with `respond()`."""

    request: Request
    key: TransactionKey

    def __init__(self, request: Request, key: TransactionKey) -> None:
        object.__setattr__(self, "request", request)
        object.__setattr__(self, "key", key)


@dataclass(frozen=True, slots=True)
class CancelReceived(Event):
    """A CANCEL arrived; the layer has already answered it (200, or 481 when
    `invite_key` is None). The TU should end the request `invite_key` (487)."""

    cancel: Request
    invite_key: TransactionKey | None

    def __init__(self, cancel: Request, invite_key: TransactionKey | None) -> None:
        object.__setattr__(self, "cancel", cancel)
        object.__setattr__(self, "invite_key", invite_key)


@dataclass(frozen=True, slots=True)
class AckReceived(Event):
    """An ACK that is not part of a non-2xx INVITE transaction: the ACK of a
    2xx, for the dialog layer. `invite_key` is set when it still matched an
    INVITE server transaction in the Accepted state (RFC 6026)."""

    ack: Request
    invite_key: TransactionKey | None
    peer: Any  # the I/O layer's opaque address

    def __init__(self, ack: Request, invite_key: TransactionKey | None, peer: Any) -> None:
        object.__setattr__(self, "ack", ack)
        object.__setattr__(self, "invite_key", invite_key)
        object.__setattr__(self, "peer", peer)


@dataclass(frozen=True, slots=True)
class ResponseReceived(Event):
    """A response for client transaction `key` that the TU must see."""

    response: Response
    key: TransactionKey

    def __init__(self, response: Response, key: TransactionKey) -> None:
        object.__setattr__(self, "response", response)
        object.__setattr__(self, "key", key)


@dataclass(frozen=True, slots=True)
class StrayResponse(Event):
    """A response no client transaction matches. The TU acknowledges 2xx
    retransmissions to INVITE with it (RFC 3261 §13.2.2.4) and drops the rest."""

    response: Response
    peer: Any  # the I/O layer's opaque address

    def __init__(self, response: Response, peer: Any) -> None:
        object.__setattr__(self, "response", response)
        object.__setattr__(self, "peer", peer)


@dataclass(frozen=True, slots=True)
class TransactionTimeout(Event):
    """Timer B, F or H fired: for a client transaction the TU treats it as a 408."""

    key: TransactionKey

    def __init__(self, key: TransactionKey) -> None:
        object.__setattr__(self, "key", key)


@dataclass(frozen=True, slots=True)
class TransportError(Event):
    """The I/O layer reported that it could not send for transaction `key` (§17.1.4)."""

    key: TransactionKey

    def __init__(self, key: TransactionKey) -> None:
        object.__setattr__(self, "key", key)


@dataclass(frozen=True, slots=True)
class TransactionTerminated(Event):
    """Transaction `key` reached Terminated and is forgotten: clean up what refers to it."""

    key: TransactionKey

    def __init__(self, key: TransactionKey) -> None:
        object.__setattr__(self, "key", key)
