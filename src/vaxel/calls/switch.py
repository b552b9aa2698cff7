"""The switch's SIP core: what happens to every message after a transport framed it.

Parse → stamp the top Via with received/rport (RFC 3581) → validate →
match a transaction (absorbing retransmissions) → dispatch by method.
A malformed message gets the status the RFC prescribes when it can be
answered at all, and is dropped otherwise; nothing a peer sends stops
the switch.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable
from ipaddress import ip_address
from typing import TYPE_CHECKING

from vaxel.calls.auth import Authenticator
from vaxel.calls.b2bua import B2BUA
from vaxel.calls.overload import RETRY_AFTER
from vaxel.calls.registrar import Registrar
from vaxel.calls.router import Router
from vaxel.features.ring_user import handler_for

if TYPE_CHECKING:
    from vaxel.calls.directory import CompanyDirectory
    from vaxel.calls.mwi import MessageWaiting
    from vaxel.features.context import Company, Feature
    from vaxel.services.users import SipUser
from vaxel.sip.dialog import new_tag
from vaxel.sip.errors import RemoteProtocolError
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
from vaxel.sip.headers import canonical_name
from vaxel.sip.message import Headers, Request, Response, make_response, parse_message
from vaxel.sip.transaction import TransactionLayer, new_branch
from vaxel.sip.validate import check_request
from vaxel.transport.base import Local, Sender, Source

log = logging.getLogger(__name__)
# Every message in and out, when an operator asks for it (VAXEL_SIP_TRACE=1).
trace = logging.getLogger("vaxel.sip.trace")

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, SUBSCRIBE, NOTIFY"
ACCEPT = "application/sdp"
SUPPORTED = frozenset({"path", "outbound", "gruu", "timer", "replaces"})
SERVER = "Vaxel"
# Datagrams remembered to know their retransmissions by their bytes: about 10 s
# of requests at 500 calls/s, which covers a client's retransmissions at 0.5,
# 1.5, 3.5 and 7.5 s (RFC 3261 Timers A and E).
REPEAT_MEMO = 16384
KNOWN_METHODS = frozenset(
    {
        "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE",
        "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE",
    }
)  # fmt: skip
_REQUEST_START = re.compile(rb"^[!-~]+ .+ SIP/[0-9]+\.[0-9]+\s*$", re.I)


class Switch:
    """Receives framed messages from the transports and answers them."""

    def __init__(
        self,
        authenticator: Authenticator,
        registrar: Registrar,
        *,
        clock: Callable[[], float],
        transactions: TransactionLayer | None = None,
    ) -> None:
        self.authenticator = authenticator
        self.registrar = registrar
        self.clock = clock
        self.transactions = transactions or TransactionLayer()
        self.senders: dict[str, Sender] = {}
        self.locals: dict[str, Local] = {}  # our address per transport, for Via and Contact
        # datagram -> (source host, port, its server transaction or the answer to repeat)
        self._repeats: OrderedDict[bytes, tuple[str, int, TransactionKey | bytes]] = OrderedDict()
        self._owners: dict[TransactionKey, Callable[[Event], None]] = {}
        self.calls: B2BUA | None = None
        self.router: Router | None = None
        self.directory: CompanyDirectory | None = None
        self.mwi: MessageWaiting | None = None
        self.tracing = trace.isEnabledFor(logging.DEBUG)  # decided once: a hot path
        # Set while the switch is behind (calls/overload.py): new calls get 503.
        self.shedding = False
        self.shed = 0  # calls turned away so far

    def attach_calls(
        self, calls: B2BUA, router: Router, directory: CompanyDirectory | None = None
    ) -> None:
        """Serve INVITEs: without this the switch is a registrar only. With a directory,
        calls from trunks reach the companies' numbers, and users can call out."""
        self.calls = calls
        self.router = router
        self.directory = directory

    # -- input -------------------------------------------------------------

    def receive(self, data: bytes, source: Source, local: Local) -> None:
        """Handle one framed message from `source` (the transports' callback)."""
        if self.tracing:
            trace.debug("from %s:\n%s", source, data.decode("utf-8", "replace"))
        if not source.reliable:
            seen = self._repeats.get(data)
            if seen is not None and self._repeated(seen, source):
                return
        try:
            message = parse_message(data, stream=source.reliable)
        except RemoteProtocolError as exc:
            self._reject_unparsed(data, source, exc)
            return
        now = self.clock()
        if isinstance(message, Response):
            self._execute(
                self.transactions.receive(message, now, reliable=source.reliable, peer=source)
            )
            return
        if self.authenticator.limiter.silenced(source.host, source.port, now):
            return  # a source that keeps failing authentication gets silence (svcrack)
        try:
            self._stamp_via(message, source)
            check_request(message, supported=SUPPORTED, methods=KNOWN_METHODS, allow=ALLOW)
        except RemoteProtocolError as exc:
            if message.method != "ACK":
                self._send_error(message, source, exc)
            return
        if self.shedding and self._new_call(message):
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
        self._execute(events, source)

    @staticmethod
    def _new_call(request: Request) -> bool:
        """An INVITE that starts a call and has not been challenged yet: what overload
        control turns away (a call already past its 407 is let through)."""
        return (
            request.method == "INVITE"
            and request.to.tag is None
            and "Proxy-Authorization" not in request.headers
        )

    def _turn_away(self, request: Request, source: Source) -> bytes:
        """503 with Retry-After, statelessly (RFC 3261 §21.5.4): the switch is overloaded."""
        response = make_response(request, 503, "Service Unavailable (overloaded)", to_tag=new_tag())
        response.headers.add("Retry-After", str(RETRY_AFTER))
        response.headers.add("Server", SERVER)
        data = bytes(response)
        self._send_bytes(data, source)
        self.shed += 1
        return data

    def _remember(self, data: bytes, source: Source, what: TransactionKey | bytes) -> None:
        repeats = self._repeats
        repeats[data] = (source.host, source.port, what)
        if len(repeats) > REPEAT_MEMO:
            repeats.popitem(last=False)

    def _repeated(self, seen: tuple[str, int, TransactionKey | bytes], source: Source) -> bool:
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
            self._send_bytes(what, source)
            return True
        events = self.transactions.repeat(what, self.clock())
        if events is None:
            return False  # its transaction is over: a new request after all
        self._execute(events)
        return True

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
            realm, header, proxy = _domain_of(request), "Authorization", False
        elif request.method == "INVITE":
            realm, header, proxy = _caller_domain(request), "Proxy-Authorization", True
        else:
            return None
        if realm is None or header in request.headers or request.to.tag is not None:
            return None  # in-dialog requests are matched by their dialog, not challenged
        if self.directory is not None and self.directory.trunk_at(source) is not None:
            return None  # a carrier's trunk is known by its address, not by a password
        response = self.authenticator.challenge(request, realm, source, now, proxy=proxy)
        response.headers.add("Server", SERVER)
        data = bytes(response)
        self._send_bytes(data, source)
        return data

    def drive_timers(self) -> None:
        """Fire due transaction timers (retransmissions, timeouts, cleanup) and call timers."""
        self._execute(self.transactions.timeout(self.clock()))
        if self.calls is not None:
            self.calls.drive_timers()
        if self.mwi is not None:
            self.mwi.expire()

    def _execute(self, events: list[Event], source: Source | None = None) -> None:
        """Carry out what the transaction layer asked for, and tell the owners what happened.

        New requests only come out of `receive`, which passes their source.
        """
        for event in events:
            if isinstance(event, Send):
                assert isinstance(event.peer, Source)
                self._write(event.message, event.peer)
            elif isinstance(event, RequestReceived):
                if source is not None:
                    self._dispatch(event.request, event.key, source)
            elif isinstance(event, (ResponseReceived, TransactionTimeout, TransportError)):
                owner = self._owners.get(event.key)
                if owner is not None:
                    owner(event)
            elif isinstance(event, TransactionTerminated):
                self._owners.pop(event.key, None)
                if self.calls is not None:
                    self.calls.transaction_ended(event.key)
            elif self.calls is not None:
                if isinstance(event, CancelReceived):
                    self.calls.cancel(event)
                elif isinstance(event, AckReceived):
                    self.calls.ack(event)

    def _dispatch(self, request: Request, key: TransactionKey, source: Source) -> None:
        try:
            response = self._handle(request, key, source)
        except Exception:
            log.exception("error handling %r from %s", request, source)
            response = make_response(request, 500)
        if response is not None:
            self.respond(key, response)

    def _handle(self, request: Request, key: TransactionKey, source: Source) -> Response | None:
        method = request.method
        if method == "ACK":
            return None
        if method == "REGISTER":
            return self._register(request, source)
        if method == "OPTIONS" and request.to.tag is None:
            return self._options(request)
        if method == "SUBSCRIBE":
            return self._subscribe(request, key, source)
        if request.to.tag is not None and method not in ("REGISTER", "CANCEL"):
            if self.calls is None:
                return make_response(request, 481)
            return self.calls.in_dialog(request, key, source)
        if method == "INVITE":
            return self._invite(request, key, source)
        if method in ("BYE", "CANCEL", "PRACK", "UPDATE", "INFO", "NOTIFY"):
            return make_response(request, 481)
        # Recognised but not served here (unknown ones got 501 in validation).
        response = make_response(request, 405)
        response.headers.add("Allow", ALLOW)
        return response

    # -- b2bua.Signalling: what the call legs send --------------------------------

    def respond(self, key: TransactionKey, response: Response) -> None:
        if "Server" not in response.headers:
            response.headers.add("Server", SERVER)
        self._execute(self.transactions.respond(key, response, self.clock()))

    def _via(self, transport: str) -> str:
        local = self.locals[transport]
        return f"SIP/2.0/{transport} {local.host_port};branch={new_branch()};rport"

    def send_request(
        self, request: Request, destination: Source, owner: Callable[[Event], None]
    ) -> TransactionKey:
        """Start a client transaction towards `destination`; `owner` gets its events."""
        request.headers.insert("Via", self._via(destination.transport))
        request.headers.add("User-Agent", SERVER)
        request.invalidate()
        now = self.clock()
        key, events = self.transactions.send_request(
            request, now, reliable=destination.reliable, peer=destination
        )
        self._owners[key] = owner
        for event in events:
            if isinstance(event, Send) and not self._write(event.message, destination):
                # No route to the device (its TCP flow is gone): fail now, not at Timer B.
                self._execute(self.transactions.transport_error(key, now))
                break
        return key

    def send_ack(self, ack: Request, destination: Source) -> None:
        """The ACK of a 2xx is its own transaction-less request (§13.2.2.4)."""
        ack.headers.insert("Via", self._via(destination.transport))
        ack.invalidate()
        self._write(ack, destination)

    def cancel(self, key: TransactionKey, reason: str | None) -> None:
        self._execute(self.transactions.cancel(key, self.clock(), reason=reason))

    def contact(self, transport: str) -> str:
        local = self.locals[transport]
        suffix = "" if transport == "UDP" else f";transport={transport.lower()}"
        return f"<sip:vaxel@{local.host_port}{suffix}>"

    # -- methods -------------------------------------------------------------

    def _register(self, request: Request, source: Source) -> Response:
        realm = _domain_of(request)
        if realm is None:
            return make_response(request, 404, "Not Found (no domain)")
        now = self.clock()
        result = self.authenticator.authenticate(request, realm, source, now)
        if result.user is None:
            assert result.response is not None
            return result.response
        return self.registrar.register(request, result.user, source, now)

    def _invite(self, request: Request, key: TransactionKey, source: Source) -> Response | None:
        if self.calls is None or self.router is None:
            return make_response(request, 480, "Temporarily Unavailable (calls are not served)")
        if self.directory is not None:
            trunk = self.directory.trunk_at(source)
            if trunk is not None:
                return self._from_trunk(request, key, source, *trunk)
        realm = _caller_domain(request)
        if realm is None:
            return make_response(request, 404)
        now = self.clock()
        result = self.authenticator.authenticate(request, realm, source, now, proxy=True)
        if result.user is None:
            assert result.response is not None
            return result.response
        user = result.user
        return self.calls.invite(
            request, key, source, user, user.company_id, lambda r: self._decide(r, user)
        )

    def _decide(self, request: Request, user: SipUser) -> tuple[str, Feature]:
        """What a user's call is: a colleague's extension, or a number out through the trunk."""
        from vaxel.calls.api import Cause
        from vaxel.calls.numbering import NumberError, caller_id, is_external, to_e164
        from vaxel.features.codes import FeatureCode, is_feature_code
        from vaxel.features.destinations import step_for, user_step
        from vaxel.features.outbound import Outbound
        from vaxel.features.ring_user import Refuse
        from vaxel.services import company_config as cc

        assert self.router is not None
        dialled = getattr(request.uri, "user", None) or ""
        company = self.directory.company(user.company_id) if self.directory else None
        if company is not None and is_feature_code(dialled):
            return dialled, FeatureCode(company, user.extension, dialled)
        try:
            external = company is not None and is_external(dialled)
        except NumberError:
            external = False
        if not external or company is None:
            route = self.router.route(request, user, self.clock())
            if company is None or route.callee is None:
                return dialled, handler_for(route)
            return dialled, user_step(company, route.callee.extension)
        try:
            number = to_e164(dialled)
        except NumberError as exc:
            return dialled, Refuse(Cause(484 if exc.incomplete else 404, str(exc)))
        assert self.directory is not None
        own = self.directory.by_number(number)
        if own is not None and own[0].id == company.id:  # the company's own number: its flow
            entry = own[1]
            if entry.flow is not None:
                return number, step_for(company, cc.ToFlow(flow=entry.flow))
            return number, step_for(company, cc.ToUser(user=entry.user or ""))
        described = next((u for u in company.config.users if u.ext == user.extension), None)
        main = next((n.number for n in company.config.numbers if n.flow is not None), "")
        shown = None
        if described is not None:
            device = company.config.device_kind(request.headers.get("User-Agent") or "")
            shown = caller_id(
                described.caller_id, main=main, direct=described.direct_number,
                mobile=described.mobile, device=device,
            ) or None  # fmt: skip
        return number, Outbound(company, number, shown or main or None)

    def _from_trunk(
        self, request: Request, key: TransactionKey, source: Source, company: Company, trunk: str
    ) -> Response | None:
        """A call from a carrier: the dialled number must be one of that company's."""
        from vaxel.calls.numbering import NumberError, to_e164
        from vaxel.features.destinations import step_for
        from vaxel.services import company_config as cc

        assert self.calls is not None and self.directory is not None
        dialled = getattr(request.uri, "user", None) or getattr(request.to.uri, "user", "") or ""
        try:
            number = to_e164(dialled)
        except NumberError:
            return make_response(request, 404)
        entry = self.directory.by_number(number)
        if entry is None or entry[0].id != company.id:
            return make_response(request, 404)
        target = entry[1]
        destination: cc.Destination = (
            cc.ToFlow(flow=target.flow)
            if target.flow is not None
            else cc.ToUser(user=target.user or "")
        )
        feature = step_for(company, destination)
        return self.calls.invite(
            request, key, source, None, company.id, lambda r: (number, feature)
        )

    def is_local(self, source: Source) -> bool:
        """Is `source` one of the switch's own sockets (a request that looped back)?"""
        local = self.locals.get(source.transport)
        return local is not None and (local.host, local.port) == (source.host, source.port)

    def _subscribe(self, request: Request, key: TransactionKey, source: Source) -> Response | None:
        """Message-waiting subscriptions (RFC 3842): a user's phone watches their box."""
        if self.mwi is None:
            response = make_response(request, 489)
            return response
        if request.to.tag is not None:
            return self.mwi.refresh(request, key, source)
        realm = _domain_of(request)
        if realm is None:
            return make_response(request, 404)
        result = self.authenticator.authenticate(request, realm, source, self.clock())
        if result.user is None:
            assert result.response is not None
            return result.response
        return self.mwi.subscribe(request, key, source, result.user)

    @staticmethod
    def _options(request: Request) -> Response:
        response = make_response(request, 200)
        response.headers.add("Allow", ALLOW)
        response.headers.add("Accept", ACCEPT)
        response.headers.add("Supported", ", ".join(sorted(SUPPORTED)))
        return response

    # -- output --------------------------------------------------------------

    def _write(self, message: Request | Response, destination: Source) -> bool:
        return self._send_bytes(bytes(message), destination)

    def _send_bytes(self, data: bytes, destination: Source) -> bool:
        if self.tracing:
            trace.debug("to %s:\n%s", destination, data.decode("utf-8", "replace"))
        sender = self.senders.get(destination.transport)
        if sender is None or not sender.send(data, destination):
            log.debug("could not send %d bytes to %s", len(data), destination)
            return False
        return True

    def _send_error(self, request: Request, source: Source, exc: RemoteProtocolError) -> None:
        response = make_response(request, exc.status, _reason(exc))
        for name, value in exc.headers:
            response.headers.add(name, value)
        response.headers.add("Server", SERVER)
        self._write(response, source)

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
        self._write(response, source)

    @staticmethod
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
    from vaxel.sip.message import REASONS

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


def _domain_of(request: Request) -> str | None:
    """The company domain a REGISTER is for: the Request-URI's, else the To URI's."""
    for uri in (request.uri, request.to.uri):
        host = getattr(uri, "host", None)
        if host and not is_ip(host):
            return host.lower()
    return None


def _caller_domain(request: Request) -> str | None:
    host = getattr(request.from_.uri, "host", None)
    if host and not is_ip(host):
        return host.lower()
    return _domain_of(request)
