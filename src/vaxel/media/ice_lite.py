"""The switch's side of ICE for browsers: an ICE-lite agent (U1, O2; RFC 8445 §2.5, §7.3).

A lite agent gathers one host candidate (the leg's media port, in its SDP) and
never sends a check of its own: it answers the browser's connectivity checks, STUN
Binding requests (RFC 8489) that carry `USERNAME` "our-ufrag:their-ufrag" and a
`MESSAGE-INTEGRITY` keyed with our ICE password. The browser, always the controlling
agent against a lite one, nominates a pair with `USE-CANDIDATE`; that pair's address
is where the call's media then goes, and the only one it is taken from. Later checks
(the browser's consent freshness every few seconds, RFC 7675) are answered too, and
a nomination from another address (the browser moved networks, an ICE restart with
the same credentials) moves the media there.

A request that fails integrity, names another ufrag or is not a Binding request is
dropped without an answer: nobody who merely learns the port gets a reflection of
their packets or moves the call. STUN parsing and the message integrity are aioice's
(`aioice.stun`): this module decides, the caller sends.
"""

from __future__ import annotations

from aioice import stun


class Check:
    """A Binding request answered: the response to send back to its source, and whether
    it nominated that source (USE-CANDIDATE)."""

    __slots__ = ("nominated", "response")

    def __init__(self, response: bytes, nominated: bool) -> None:
        self.response = response
        self.nominated = nominated


class IceLite:
    """Our ICE credentials on one leg, checking the browser's Binding requests."""

    __slots__ = ("_prefix", "_pwd")

    def __init__(self, ufrag: str, pwd: str) -> None:
        self._prefix = f"{ufrag}:"
        self._pwd = pwd.encode()

    def check(self, data: bytes, source: tuple[str, int]) -> Check | None:
        """Answer a datagram that may be a connectivity check from `source`; None when it
        is not a valid one of ours (dropped unanswered)."""
        try:
            request = stun.parse_message(data)
        except (ValueError, KeyError, IndexError):
            return None
        if (
            request.message_method != stun.Method.BINDING
            or request.message_class != stun.Class.REQUEST
        ):
            return None
        username = request.attributes.get("USERNAME")
        if not isinstance(username, str) or not username.startswith(self._prefix):
            return None
        if not request.check_message_integrity(self._pwd):
            return None
        if "ICE-CONTROLLING" not in request.attributes:
            return None  # against a lite agent the browser controls (RFC 8445 §6.1.1)
        response = stun.Message(
            message_method=stun.Method.BINDING,
            message_class=stun.Class.RESPONSE,
            transaction_id=request.transaction_id,
        )
        response.attributes["XOR-MAPPED-ADDRESS"] = (source[0], source[1])
        response.add_message_integrity(self._pwd)
        return Check(bytes(response), "USE-CANDIDATE" in request.attributes)
