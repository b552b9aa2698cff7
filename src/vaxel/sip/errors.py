"""Protocol errors (P2), split by who is at fault (the shape of h11's errors)."""

from __future__ import annotations


class SipError(Exception):
    """Base class of every SIP protocol error."""


class RemoteProtocolError(SipError):
    """The peer sent something we cannot accept.

    `status` is the response to send back when the message was a request
    (400, 416, 420, 505 ...); `headers` are extra headers that response
    needs, such as Unsupported for a 420.
    """

    def __init__(
        self, reason: str, status: int = 400, headers: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.headers = headers or []


class LocalProtocolError(SipError):
    """We were asked to do something the protocol forbids."""
