"""Events the transaction layer hands to the I/O code and the transaction user.

Frozen dataclasses, the way h11 reports what happened: the caller loops
over the list it gets back, writes every `Send` to the network and gives
the rest to the TU (the UA core, a B2BUA leg, the registrar).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from vaxel.sip.message import Request, Response


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


class Event:
    """Base class of every transaction-layer event."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Send(Event):
    """Write `message` to `peer` (the opaque address the I/O layer gave us)."""

    message: Request | Response
    peer: Any  # the I/O layer's opaque address


@dataclass(frozen=True, slots=True)
class RequestReceived(Event):
    """A new request created server transaction `key`; answer it with `respond()`."""

    request: Request
    key: TransactionKey


@dataclass(frozen=True, slots=True)
class CancelReceived(Event):
    """A CANCEL arrived; the layer has already answered it (200, or 481 when
    `invite_key` is None). The TU should end the request `invite_key` (487)."""

    cancel: Request
    invite_key: TransactionKey | None


@dataclass(frozen=True, slots=True)
class AckReceived(Event):
    """An ACK that is not part of a non-2xx INVITE transaction: the ACK of a
    2xx, for the dialog layer. `invite_key` is set when it still matched an
    INVITE server transaction in the Accepted state (RFC 6026)."""

    ack: Request
    invite_key: TransactionKey | None
    peer: Any  # the I/O layer's opaque address


@dataclass(frozen=True, slots=True)
class ResponseReceived(Event):
    """A response for client transaction `key` that the TU must see."""

    response: Response
    key: TransactionKey


@dataclass(frozen=True, slots=True)
class StrayResponse(Event):
    """A response no client transaction matches. The TU acknowledges 2xx
    retransmissions to INVITE with it (RFC 3261 §13.2.2.4) and drops the rest."""

    response: Response
    peer: Any  # the I/O layer's opaque address


@dataclass(frozen=True, slots=True)
class TransactionTimeout(Event):
    """Timer B, F or H fired: for a client transaction the TU treats it as a 408."""

    key: TransactionKey


@dataclass(frozen=True, slots=True)
class TransportError(Event):
    """The I/O layer reported that it could not send for transaction `key` (§17.1.4)."""

    key: TransactionKey


@dataclass(frozen=True, slots=True)
class TransactionTerminated(Event):
    """Transaction `key` reached Terminated and is forgotten: clean up what refers to it."""

    key: TransactionKey
