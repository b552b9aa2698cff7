"""The switch's method dispatch (P2, P3, P4): what each new SIP request is for.

REGISTER binds a device (digest first), OPTIONS says what the switch serves, SUBSCRIBE
watches a voicemail box or a colleague's line, MESSAGE is a chat message to a colleague
(U4, calls/messaging.py), an in-dialog request goes to its call leg, and a new INVITE
becomes a call: from a carrier's trunk (known by its address) or from an authenticated
user, served by the feature the dial plan picks. The input pipeline (`calls.inbound`)
hands requests here after parsing, validation and the transaction layer; what the switch
sends goes out through `calls.signalling`.
"""

from __future__ import annotations

import logging

from vaxel.calls.auth import Authenticator
from vaxel.calls.b2bua import B2BUA
from vaxel.calls.dialplan import Carrier, Dialled, Dialplan
from vaxel.calls.inbound import ACCEPT, ALLOW, SUPPORTED, caller_domain, domain_of, is_ip
from vaxel.calls.messaging import Messaging
from vaxel.calls.mwi import MessageWaiting
from vaxel.calls.presence import LineWatchers
from vaxel.calls.registrar import Registrar
from vaxel.calls.signalling import Signalling
from vaxel.services.users import SipUser
from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.events import AckReceived, CancelReceived, TransactionKey
from vaxel.sip.headers import parse_name_addr
from vaxel.sip.message import Request, Response, make_response
from vaxel.sip.uri import SipURI, TelURI
from vaxel.transport.base import Source

log = logging.getLogger(__name__)

# The event packages SUBSCRIBE serves (RFC 6665 §8.2.2): message waiting (RFC 3842), a
# colleague's line as dialogs (RFC 4235) and as presence (RFC 3856).
ALLOW_EVENTS = "message-summary, dialog, presence"
NOT_STORED = "Server Internal Error (could not store the registration)"


class Switch:
    """Serves new requests (the transaction user of the switch's transaction layer)."""

    def __init__(
        self,
        signalling: Signalling,
        authenticator: Authenticator,
        registrar: Registrar,
        calls: B2BUA,
        dialplan: Dialplan,
        mwi: MessageWaiting,
        watchers: LineWatchers | None = None,
        messaging: Messaging | None = None,
    ) -> None:
        self.signalling = signalling
        self.clock = signalling.clock
        self.authenticator = authenticator
        self.registrar = registrar
        self.calls = calls
        self.dialplan = dialplan
        self.mwi = mwi
        self.watchers = watchers  # dialog and presence subscriptions (None: not served)
        self.messaging = messaging  # chat over SIP MESSAGE (U4; None: not served)

    def is_carrier(self, source: Source) -> bool:
        return self.dialplan.carrier(source.host, source.port) is not None

    # -- signalling.TransactionUser -------------------------------------------------------

    def request(self, request: Request, key: TransactionKey, source: Source) -> None:
        try:
            response = self._handle(request, key, source)
        except Exception:
            log.exception("error handling %r from %s", request, source)
            response = make_response(request, 500)
        if response is not None:
            self.signalling.respond(key, response)

    def cancelled(self, event: CancelReceived) -> None:
        self.calls.cancel(event)

    def acknowledged(self, event: AckReceived) -> None:
        self.calls.ack(event)

    def drive_timers(self) -> None:
        """Fire due transaction timers (retransmissions, timeouts, cleanup) and call timers."""
        self.signalling.drive_timers()
        self.calls.drive_timers()
        self.mwi.expire()
        if self.watchers is not None:
            self.watchers.expire()

    # -- methods -------------------------------------------------------------

    def _handle(self, request: Request, key: TransactionKey, source: Source) -> Response | None:
        method = request.method
        if method == "ACK":
            return None
        if method == "REGISTER":
            return self._register(request, key, source)
        if method == "OPTIONS" and request.to.tag is None:
            return _options(request, ALLOW_EVENTS if self.watchers else "message-summary")
        if method == "SUBSCRIBE":
            return self._subscribe(request, key, source)
        if request.to.tag is not None and method != "CANCEL":
            return self.calls.in_dialog(request, key, source)
        if method == "INVITE":
            return self._invite(request, key, source)
        if method == "MESSAGE" and self.messaging is not None:
            return self._message(request, key, source)
        if method in ("BYE", "CANCEL", "PRACK", "UPDATE", "INFO", "NOTIFY"):
            return make_response(request, 481)
        if method == "REFER":  # a transfer is asked within the call it transfers (P4)
            return make_response(request, 403, "Forbidden (REFER only within a call)")
        # Recognised but not served here (unknown ones got 501 in validation).
        response = make_response(request, 405)
        response.headers.add("Allow", ALLOW)
        return response

    def _register(self, request: Request, key: TransactionKey, source: Source) -> Response | None:
        realm = domain_of(request)
        if realm is None:
            return make_response(request, 404, "Not Found (no domain)")
        now = self.clock()
        result = self.authenticator.authenticate(request, realm, source, now)
        if result.user is None:
            assert result.response is not None
            return result.response
        response, waits = self.registrar.register(request, result.user, source, now)
        if self.messaging is not None and response.status == 200:
            self.messaging.registered(result.user)  # chat messages that wait (U4)
        if not waits:
            return response
        signalling = self.signalling

        def stored(ok: bool) -> None:  # acknowledged means stored (group commit)
            signalling.respond(key, response if ok else make_response(request, 500, NOT_STORED))

        self.registrar.persist.after_write(stored)
        return None

    def _invite(self, request: Request, key: TransactionKey, source: Source) -> Response | None:
        carrier = self.dialplan.carrier(source.host, source.port)
        if carrier is not None:
            return self._from_carrier(request, key, source, carrier)
        realm = caller_domain(request)
        if realm is None:
            return make_response(request, 404)
        result = self.authenticator.authenticate(request, realm, source, self.clock(), proxy=True)
        user = result.user
        if user is None:
            assert result.response is not None
            return result.response
        dialled = _dialled(request, user)
        dialplan = self.dialplan
        return self.calls.invite(
            request, key, source, user, user.company_id, lambda: dialplan.from_user(user, dialled)
        )

    def _message(self, request: Request, key: TransactionKey, source: Source) -> Response | None:
        """A user's chat message to a colleague (U4): authenticated as a call is."""
        realm = caller_domain(request)
        if realm is None:
            return make_response(request, 404)
        result = self.authenticator.authenticate(request, realm, source, self.clock(), proxy=True)
        if result.user is None:
            assert result.response is not None
            return result.response
        assert self.messaging is not None
        return self.messaging.receive(request, key, source, result.user)

    def _from_carrier(
        self, request: Request, key: TransactionKey, source: Source, carrier: Carrier
    ) -> Response | None:
        """A call from a carrier: the dial plan finds which of the company's numbers."""
        digits = getattr(request.uri, "user", None) or getattr(request.to.uri, "user", "") or ""
        dialled = Dialled(digits, True)
        dialplan = self.dialplan
        return self.calls.invite(
            request,
            key,
            source,
            None,
            carrier.company_id,
            lambda: dialplan.from_carrier(carrier, dialled),
            carrier.trunk,
        )

    def _subscribe(self, request: Request, key: TransactionKey, source: Source) -> Response | None:
        """A user's phone watches their box (RFC 3842) or a colleague's line (RFC 4235,
        RFC 3856)."""
        watchers = self.watchers
        if request.to.tag is not None:
            if watchers is not None and watchers.owns(request):
                return watchers.refresh(request, key, source)
            return self.mwi.refresh(request, key, source)
        package = (request.headers.get("Event") or "").split(";")[0].strip().lower()
        if package not in ("message-summary", "dialog", "presence") or (
            watchers is None and package != "message-summary"
        ):
            response = make_response(request, 489)  # RFC 6665 §8.2.3: Bad Event
            response.headers.add("Allow-Events", ALLOW_EVENTS if watchers else "message-summary")
            return response
        realm = domain_of(request)
        if realm is None:
            return make_response(request, 404)
        result = self.authenticator.authenticate(request, realm, source, self.clock())
        if result.user is None:
            assert result.response is not None
            return result.response
        if package != "message-summary" and watchers is not None:
            return watchers.subscribe(request, key, source, result.user)
        return self.mwi.subscribe(request, key, source, result.user)


def _dialled(request: Request, caller: SipUser) -> Dialled:
    """A user's INVITE as the dial plan sees it."""
    uri = request.uri
    if not isinstance(uri, SipURI):
        return Dialled("", False)
    host = uri.host.lower().strip("[]")
    here = host == caller.company_domain or is_ip(host)
    agent = request.headers.get("User-Agent") or ""
    return Dialled(uri.user or "", here, agent, _preferred(request))


def _preferred(request: Request) -> str:
    """The number a P-Preferred-Identity names (RFC 3325 §9.2: the identity the device
    would like the switch to assert), '' for none or one that cannot be read. The dial
    plan uses it only when it is one of the caller's own numbers (U8, per call)."""
    value = request.headers.get("P-Preferred-Identity")
    if not value:
        return ""
    try:
        uri = parse_name_addr(value.split(",")[0]).uri
    except RemoteProtocolError:
        return ""
    if isinstance(uri, (SipURI, TelURI)):
        return uri.user or ""
    return ""


def _options(request: Request, events: str) -> Response:
    response = make_response(request, 200)
    response.headers.add("Allow", ALLOW)
    response.headers.add("Accept", ACCEPT)
    response.headers.add("Supported", ", ".join(sorted(SUPPORTED)))
    response.headers.add("Allow-Events", events)
    return response
