"""What happens to every SIP message a transport framed, before any feature sees it (P2, O2).

A known retransmission is answered from memory; anything else is parsed,
its top Via stamped with where it really came from (RFC 3581), validated
(a malformed request gets the status the RFC prescribes, when it can be
answered at all), challenged statelessly when it carries no credentials,
turned away with 503 when the switch is overloaded and it would start a
new call, and otherwise handed to the transaction layer, whose new
requests go to the switch's method dispatch. Nothing a peer sends stops
the switch.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable
from ipaddress import ip_address

from vaxel.calls.auth import Authenticator
from vaxel.calls.overload import RETRY_AFTER
from vaxel.calls.signalling import SERVER, Signalling, TransactionUser, trace
from vaxel.sip.dialog import new_tag
from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.events import RequestReceived, TransactionKey
from vaxel.sip.headers import canonical_name
from vaxel.sip.message import REASONS, Headers, Request, Response, make_response, parse_message
from vaxel.sip.sdp import redact_keys
from vaxel.sip.uri import SipURI
from vaxel.sip.validate import check_request
from vaxel.transport.base import Local, Source

log = logging.getLogger(__name__)

# What the switch serves, as OPTIONS and 405 say and validation enforces. Only option tags
# that work are listed: session timers (RFC 4028), Replaces (RFC 3891: attended transfer,
# a call taken over by another phone of the same user).
ALLOW = (
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, SUBSCRIBE, NOTIFY, REFER, MESSAGE"
)
ACCEPT = "application/sdp"
SUPPORTED = frozenset({"timer", "replaces"})
KNOWN_METHODS = frozenset(
    {
        "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE",
        "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE",
    }
)  # fmt: skip
# Datagrams remembered to know their retransmissions by their bytes: about 10 s
# of requests at 500 calls/s, which covers a client's retransmissions at 0.5,
# 1.5, 3.5 and 7.5 s (RFC 3261 Timers A and E). Bounded by their bytes too: at a
# kilobyte or two a request the count binds first, while 64 KB datagrams (a
# flood of the largest UDP allows) cannot make the memo a gigabyte.
REPEAT_MEMO = 16384
REPEAT_MEMO_BYTES = 32 * 1024 * 1024
_REQUEST_START = re.compile(rb"^[!-~]+ .+ SIP/[0-9]+\.[0-9]+\s*$", re.I)

Answered = TransactionKey | bytes  # a request's server transaction, or the stateless answer


class Inbound:
    """Receives framed messages from the transports: the switch's input pipeline."""

    def __init__(
        self,
        signalling: Signalling,
        authenticator: Authenticator,
        dispatch: TransactionUser,
        *,
        is_carrier: Callable[[Source], bool],
    ) -> None:
        self.signalling = signalling
        self.transactions = signalling.transactions
        self.outbox = signalling.outbox
        self.clock = signalling.clock
        self.authenticator = authenticator
        self.dispatch = dispatch
        self.is_carrier = is_carrier  # a carrier's trunk is known by its address, not by a password
        # datagram -> (source host, port, its server transaction or the answer to repeat)
        self._repeats: OrderedDict[bytes, tuple[str, int, Answered]] = OrderedDict()
        self._repeat_bytes = 0  # the datagrams' size in the memo
        self.tracing = trace.isEnabledFor(logging.DEBUG)  # decided once: a hot path
        # Set while the switch is behind (calls/overload.py): new calls get 503.
        self.shedding = False
        self.shed = 0  # calls turned away so far

    def receive(self, data: bytes, source: Source, local: Local) -> None:
        """Handle one framed message from `source` (the transports' callback)."""
        if self.tracing:
            trace.debug("from %s:\n%s", source, redact_keys(data.decode("utf-8", "replace")))
        if not source.reliable:
            seen = self._repeats.get(data)
            if seen is not None and self._repeated(seen, source):
                return
        try:
            message = parse_message(data, stream=source.stream)
        except RemoteProtocolError as exc:
            self._reject_unparsed(data, source, exc)
            return
        now = self.clock()
        if isinstance(message, Response):
            self.signalling.execute(
                self.transactions.receive(message, now, reliable=source.reliable, peer=source)
            )
            return
        if self.authenticator.limiter.silenced(source.host, source.port, now):
            return  # a source that keeps failing authentication gets silence (svcrack)
        try:
            _stamp_via(message, source)
            check_request(message, supported=SUPPORTED, methods=KNOWN_METHODS, allow=ALLOW)
        except RemoteProtocolError as exc:
            if message.method != "ACK":
                self._send_error(message, source, exc)
            return
        if self.shedding and _new_call(message):
            refusal = self._turn_away(message, source)
            if not source.reliable:
                self._remember(data, source, refusal)
            return
        answer = self._challenged_statelessly(message, source, now)
        if answer is not None:
            if not source.reliable:
                self._remember(data, source, answer)
            return
        events = self.transactions.receive(message, now, reliable=source.reliable, peer=source)
        if not source.reliable and message.method != "ACK":
            for event in events:
                if isinstance(event, RequestReceived):
                    self._remember(data, source, event.key)
                    break
        self.signalling.execute(events, self.dispatch, source)

    # -- retransmissions -----------------------------------------------------------------

    def _remember(self, data: bytes, source: Source, what: Answered) -> None:
        repeats = self._repeats
        if data not in repeats:
            self._repeat_bytes += len(data)
        repeats[data] = (source.host, source.port, what)
        while len(repeats) > REPEAT_MEMO or self._repeat_bytes > REPEAT_MEMO_BYTES:
            oldest, _ = repeats.popitem(last=False)
            self._repeat_bytes -= len(oldest)

    def _repeated(self, seen: tuple[str, int, Answered], source: Source) -> bool:
        """Answer a datagram that came before, without parsing it again.

        Under load, a client's retransmissions are the first thing to pile
        up; answered from memory they cost a dictionary lookup instead of a
        parse, so a burst cannot turn into a retransmission spiral. A request
        is a retransmission when its bytes are the same from the same address
        (stricter than RFC 3261 §17.2.3's matching, which still runs for the
        rest); its transaction resends its last response, as for any other.
        """
        host, port, what = seen
        if host != source.host or port != source.port:
            return False
        if isinstance(what, bytes):
            self.outbox.send(what, source)
            return True
        events = self.transactions.repeat(what, self.clock())
        if events is None:
            return False  # its transaction is over: a new request after all
        self.signalling.execute(events)
        return True

    # -- answered here, without a transaction -------------------------------------------

    def _challenged_statelessly(self, request: Request, source: Source, now: float) -> bytes | None:
        """Challenge a REGISTER or INVITE that carries no credentials, without a transaction.

        Half of all requests are these first attempts; answering them as
        Kamailio's sl module does keeps them out of the transaction table for
        Timer J's 32 s. The caller remembers the answer with the request's
        bytes, so a retransmission gets the very same bytes again (it looks to
        the client like a retransmitted response, not a new challenge). Returns
        what was sent, or None when the request is not one to challenge here.
        """
        if request.method == "REGISTER":
            realm, header, proxy = domain_of(request), "Authorization", False
        elif request.method == "INVITE":
            realm, header, proxy = caller_domain(request), "Proxy-Authorization", True
        else:
            return None
        if realm is None or header in request.headers or request.to.tag is not None:
            return None  # in-dialog requests are matched by their dialog, not challenged
        if self.is_carrier(source):
            return None
        response = self.authenticator.challenge(request, realm, source, now, proxy=proxy)
        response.headers.add("Server", SERVER)
        data = bytes(response)
        self.outbox.send(data, source)
        return data

    def _turn_away(self, request: Request, source: Source) -> bytes:
        """503 with Retry-After, statelessly (RFC 3261 §21.5.4): the switch is overloaded."""
        response = make_response(request, 503, "Service Unavailable (overloaded)", to_tag=new_tag())
        response.headers.add("Retry-After", str(RETRY_AFTER))
        response.headers.add("Server", SERVER)
        data = bytes(response)
        self.outbox.send(data, source)
        self.shed += 1
        return data

    def _send_error(self, request: Request, source: Source, exc: RemoteProtocolError) -> None:
        response = make_response(request, exc.status, _reason(exc))
        for name, value in exc.headers:
            response.headers.add(name, value)
        response.headers.add("Server", SERVER)
        self.outbox.write(response, source)

    def _reject_unparsed(self, data: bytes, source: Source, exc: RemoteProtocolError) -> None:
        """Answer a request we could not parse, if its head says enough to do so.

        The answer copies the raw Via, From, To, Call-ID and CSeq lines; a
        message without a request line or a Via is dropped (§8.2, §18.2.1).
        """
        head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        lines = head.split(b"\n")
        if not _REQUEST_START.match(lines[0]):
            log.debug("dropped unparseable message from %s: %s", source, exc.reason)
            return
        headers = Headers()
        for raw in lines[1:]:
            name, colon, value = raw.decode("utf-8", "replace").partition(":")
            if colon and canonical_name(name.strip()) in ("Via", "From", "To", "Call-ID", "CSeq"):
                headers.add(name.strip(), value.strip())
        if "Via" not in headers:
            log.debug("dropped unparseable request without Via from %s", source)
            return
        response = Response(exc.status, _reason(exc), headers)
        response.headers.add("Server", SERVER)
        self.outbox.write(response, source)


def _new_call(request: Request) -> bool:
    """An INVITE that starts a call and has not been challenged yet: what overload
    control turns away (a call already past its 407 is let through)."""
    return (
        request.method == "INVITE"
        and request.to.tag is None
        and "Proxy-Authorization" not in request.headers
    )


def _stamp_via(request: Request, source: Source) -> None:
    """Record where the request really came from in its top Via (RFC 3581 §4)."""
    via = request.via
    changed = False
    if via.host.strip("[]") != source.host:
        via.params.set("received", source.host)
        changed = True
    if "rport" in via.params:
        via.params.set("rport", str(source.port))
        changed = True
    if not changed:
        return
    first = request.headers.get("Via") or ""
    if "," not in first:  # the usual case: one Via per field
        request.headers.set_first("Via", str(via))  # the cached Via is this object
        return
    values = request.headers.values("Via")
    values[0] = str(via)
    request.headers.remove("Via")
    for value in values:
        request.headers.add("Via", value)
    request.invalidate()


def _reason(exc: RemoteProtocolError) -> str:
    base = REASONS.get(exc.status, "Error")
    detail = exc.reason.replace("\r", " ").replace("\n", " ")[:100]
    return f"{base} ({detail})" if detail else base


def is_ip(host: str) -> bool:
    if not host or not (host[-1].isdigit() or host[-1] == "]" or ":" in host):
        return False  # a domain name ends in a letter (its top-level label)
    try:
        ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def domain_of(request: Request) -> str | None:
    """The company domain a REGISTER is for: the Request-URI's, else the To URI's."""
    for uri in (request.uri, request.to.uri):
        if isinstance(uri, SipURI) and uri.host and not is_ip(uri.host):
            return uri.host.lower()
    return None


def caller_domain(request: Request) -> str | None:
    """The company domain an INVITE's caller claims (From), to authenticate them in."""
    uri = request.from_.uri
    if isinstance(uri, SipURI) and uri.host and not is_ip(uri.host):
        return uri.host.lower()
    return domain_of(request)
