"""The B2BUA: every call is legs held by the switch, each its own SIP dialog (P4).

An inbound leg is the UAS side facing a caller, an outbound leg the UAC side
facing a device being rung. Each leg terminates its own offer/answer with
the switch's media endpoint (anchored RTP), so the legs share nothing but
call-control events (`calls.api`). The `B2BUA` owns the legs, routes the
transaction layer's events to them by transaction key and dialog id, and
keeps the calls' timers.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from vaxel import randomness
from vaxel.calls import api
from vaxel.calls.api import (
    CANCELED,
    ELSEWHERE,
    MEDIA_TIMEOUT,
    NORMAL,
    Answered,
    Call,
    CallHandler,
    Cause,
    Ended,
    Leg,
    LegState,
    MediaPort,
    Offered,
    Ringing,
    Timer,
    Updated,
    cause_of,
)
from vaxel.calls.router import Target
from vaxel.services.users import SipUser
from vaxel.sip.dialog import Dialog, DialogId, new_call_id, new_tag, request_dialog_id
from vaxel.sip.digest import DigestClient
from vaxel.sip.errors import RemoteProtocolError, SipError
from vaxel.sip.events import (
    AckReceived,
    CancelReceived,
    Event,
    ResponseReceived,
    TransactionKey,
    TransactionTimeout,
    TransportError,
)
from vaxel.sip.headers import NameAddr
from vaxel.sip.message import Headers, Request, Response, make_response
from vaxel.sip.sdp import (
    Answer,
    SessionDescription,
    build_offer,
    negotiate,
    next_version,
    parse_answer,
)
from vaxel.sip.uri import parse_uri
from vaxel.transport.base import Source

log = logging.getLogger(__name__)

T1, T2 = 0.5, 4.0
MIN_SE = 90  # RFC 4028 Min-SE we accept
RTP_TIMEOUT = 60.0  # default: an answered leg that sends no RTP for this long is hung up
MEDIA_CHECK_INTERVAL = 5.0
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO"
SHUTDOWN = Cause(503, "Service Unavailable (switch stopping)")


class Signalling(Protocol):
    """What the legs need from the switch's SIP side (the `Switch` implements it)."""

    def respond(self, key: TransactionKey, response: Response) -> None: ...

    def send_request(
        self, request: Request, destination: Source, owner: Callable[[Event], None]
    ) -> TransactionKey: ...

    def send_ack(self, ack: Request, destination: Source) -> None: ...

    def cancel(self, key: TransactionKey, reason: str | None) -> None: ...

    def contact(self, transport: str) -> str: ...


class Endpoint(MediaPort, Protocol):
    """A media endpoint of the switch, facing one leg's party (see `vaxel.media`)."""

    address: str
    port: int
    last_received: float  # clock time of the last RTP packet, 0 before any
    on_dtmf: Callable[[str], None]

    def configure(self, answer: Answer, *, sending: bool) -> None: ...

    def close(self) -> None: ...


class Media(Protocol):
    def allocate(self, on_dtmf: Callable[[str], None]) -> Endpoint: ...

    def connect(self, a: Endpoint, b: Endpoint) -> None: ...

    def disconnect(self, endpoint: Endpoint) -> None: ...


def _sdp_of(message: Request | Response) -> SessionDescription | None:
    if not message.body:
        return None
    content_type = (message.headers.get("Content-Type") or "application/sdp").lower()
    if not content_type.startswith("application/sdp"):
        return None
    return SessionDescription.parse(message.body)


def _session_expires(request: Request) -> tuple[int, str | None] | None:
    value = request.headers.get("Session-Expires")
    if not value:
        return None
    delta, _, params = value.partition(";")
    if not delta.strip().isdigit():
        raise RemoteProtocolError("bad Session-Expires")
    refresher = None
    for param in params.split(";"):
        name, _, val = param.partition("=")
        if name.strip().lower() == "refresher":
            refresher = val.strip().lower()
    return int(delta), refresher


def _supports(request: Request, option: str) -> bool:
    return any(
        option == item.strip().lower()
        for name in ("Supported", "Require")
        for item in request.headers.values(name)
    )


# -- legs --------------------------------------------------------------------------


class SipLeg(Leg):
    """What both kinds of leg share: a dialog, a media endpoint, in-dialog requests."""

    def __init__(self, b2bua: B2BUA, call: Call, party: str, party_name: str, peer: Source) -> None:
        super().__init__(call, party, party_name)
        self.b2bua = b2bua
        self.peer = peer  # where this leg's signalling goes (the party's real address)
        self.dialog: Dialog | None = None
        self.endpoint = b2bua.media.allocate(self.dtmf)
        self.media = self.endpoint
        self.session_id = randomness.randbelow(2**31)
        self.sent_sdp: SessionDescription | None = None
        self.hold = False  # the party put us on hold
        self.reinvite: Request | None = None  # our pending re-INVITE
        self.timers: list[Timer] = []
        self.refreshed_at = 0.0  # last session refresh (RFC 4028)

    # -- media --------------------------------------------------------------

    def _versioned(self, sdp: SessionDescription) -> bytes:
        sdp = next_version(self.sent_sdp, sdp)
        self.sent_sdp = sdp
        return bytes(sdp)

    def _answer_offer(self, offer: SessionDescription) -> bytes:
        """Answer the party's offer with our endpoint; raises a 488 when nothing fits."""
        answer = negotiate(
            offer,
            address=self.endpoint.address,
            port=self.endpoint.port,
            session_id=self.session_id,
        )
        self.endpoint.configure(answer, sending=answer.direction in ("sendrecv", "sendonly"))
        hold = answer.hold
        if hold != self.hold and self.state is LegState.ANSWERED:
            self.hold = hold
            self.b2bua.relay_hold(self, hold)
            self.call.emit(Updated(self, hold))
        self.hold = hold
        return self._versioned(answer.sdp)

    def _offer(self, direction: str = "sendrecv") -> bytes:
        offer = build_offer(
            address=self.endpoint.address,
            port=self.endpoint.port,
            session_id=self.session_id,
            direction=direction,
        )
        return self._versioned(offer)

    def _take_answer(self, message: Request | Response) -> None:
        sdp = _sdp_of(message)
        if sdp is None or self.sent_sdp is None or self.state is LegState.ENDED:
            return  # (an ended leg's endpoint may already serve another call)
        answer = parse_answer(self.sent_sdp, sdp)
        self.endpoint.configure(answer, sending=answer.direction in ("sendrecv", "sendonly"))

    # -- in-dialog requests -----------------------------------------------------

    def receive_request(self, request: Request, key: TransactionKey) -> None:
        assert self.dialog is not None
        error = self.dialog.receive_request(request)
        if error is not None:
            self.b2bua.signalling.respond(key, error)
            return
        method = request.method
        if method == "BYE":
            self.b2bua.signalling.respond(key, make_response(request, 200))
            self._end(NORMAL, "party")
        elif method in ("INVITE", "UPDATE"):
            self._receive_offer(request, key)
        elif method == "INFO":
            self.b2bua.signalling.respond(key, make_response(request, 200))
            self.b2bua.relay_info(self, request)
        elif method == "OPTIONS":
            response = make_response(request, 200)
            response.headers.add("Allow", ALLOW)
            self.b2bua.signalling.respond(key, response)
        else:
            response = make_response(request, 405)
            response.headers.add("Allow", ALLOW)
            self.b2bua.signalling.respond(key, response)

    def _receive_offer(self, request: Request, key: TransactionKey) -> None:
        """A re-INVITE or UPDATE: answer it from our endpoint (hold, resume, new address)."""
        if request.method == "INVITE" and self.reinvite is not None:
            response = make_response(request, 491)  # RFC 3261 §14.2: glare
            self.b2bua.signalling.respond(key, response)
            return
        try:
            offer = _sdp_of(request)
            body = self._answer_offer(offer) if offer is not None else bytes(self.sent_sdp or b"")
        except RemoteProtocolError as exc:
            self.b2bua.signalling.respond(key, make_response(request, exc.status, exc.reason))
            return
        response = self._ok(request, body)
        self.b2bua.session_refreshed(self, request, response)
        self.b2bua.signalling.respond(key, response)

    def _ok(self, request: Request, body: bytes) -> Response:
        response = make_response(request, 200)
        response.headers.add("Contact", self.b2bua.signalling.contact(self.peer.transport))
        response.headers.add("Allow", ALLOW)
        if body:
            response.headers.add("Content-Type", "application/sdp")
            response.body = body
        return response

    def reoffer(self, direction: str) -> None:
        """Send a re-INVITE that puts the party on hold (sendonly/inactive) or resumes it."""
        if self.dialog is None or self.state is not LegState.ANSWERED or self.reinvite is not None:
            return
        body = self._offer(direction)
        request = self.dialog.create_request("INVITE", body=body)
        self.reinvite = request
        self.b2bua.signalling.send_request(request, self.peer, self._reinvite_event)

    def _reinvite_event(self, event: Event) -> None:
        request = self.reinvite
        if isinstance(event, ResponseReceived) and request is not None:
            response = event.response
            if response.status < 200:
                return
            if response.status < 300 and self.dialog is not None:
                self.dialog.receive_response(request, response)
                self._send_ack(request, response)
                try:
                    self._take_answer(response)
                except RemoteProtocolError:
                    log.debug("bad answer to our re-INVITE on %r", self)
            self.reinvite = None
            if response.status == 491:  # glare (§14.1): try again in 2.1-4 s, as the owner
                direction = (
                    self.sent_sdp.direction_of(self.sent_sdp.media[0])
                    if self.sent_sdp
                    else "sendrecv"
                )
                delay = 2.1 + randomness.randbelow(190) / 100
                self.timers.append(self.b2bua.after(delay, lambda: self.reoffer(direction)))
        elif isinstance(event, (TransactionTimeout, TransportError)):
            self.reinvite = None
            self._end(Cause(408, "Request Timeout", "answered"), "switch", bye=True)

    def _send_ack(self, invite: Request, response: Response) -> None:
        assert self.dialog is not None
        ack = self.dialog.ack_for(invite, response)
        self.b2bua.signalling.send_ack(ack, self.peer)

    def send_info(self, request: Request) -> None:
        if self.dialog is None or self.state is not LegState.ANSWERED:
            return
        content_type = request.headers.get("Content-Type")
        info = self.dialog.create_request("INFO", body=request.body, content_type=content_type)
        self.b2bua.signalling.send_request(info, self.peer, lambda event: None)

    def bye(self, cause: Cause) -> None:
        if self.dialog is None:
            return
        headers = []
        if cause is not NORMAL:
            headers.append(("Reason", f'SIP;cause={cause.code};text="{cause.text}"'))
        request = self.dialog.create_request("BYE", headers=headers)
        self.b2bua.signalling.send_request(request, self.peer, lambda event: None)

    # -- ending ------------------------------------------------------------------

    def dismantle(self) -> None:
        super().dismantle()
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
        self.reinvite = None
        # (The endpoint dropped this leg's callbacks when it was released: it may be
        # serving another call by now, so it is not touched here.)

    def _end(self, cause: Cause, by: str, *, bye: bool = False) -> None:
        if self.state is LegState.ENDED:
            return
        if bye:
            self.bye(cause)
        self.media_ended()
        self.state = LegState.ENDED
        self.cause = cause
        for timer in self.timers:
            timer.cancel()
        self.b2bua.forget(self)
        self.endpoint.close()
        # The engine reuses the endpoint for another leg: nothing of this one may touch it.
        self.media = None
        self.call.emit(Ended(self, cause, by))  # type: ignore[arg-type]


class InboundLeg(SipLeg):
    """The UAS side: a caller's INVITE, answered by the switch (§13.3)."""

    direction = "inbound"

    def __init__(
        self,
        b2bua: B2BUA,
        call: Call,
        request: Request,
        key: TransactionKey,
        source: Source,
        user: SipUser | None,
    ) -> None:
        uri = request.from_.uri
        party = user.extension if user else (getattr(uri, "user", None) or str(uri))
        name = (user.display_name if user else "") or (request.from_.display_name or "")
        super().__init__(b2bua, call, party, name, source)
        self.user = user
        self.invite = request
        self.key = key
        self.local_tag = new_tag()
        self.answer_sdp: bytes = b""
        self.offerless = False  # late offer: our offer goes in the 2xx, the answer in the ACK
        self.final: Response | None = None  # our 2xx, retransmitted until the ACK (§13.3.1.4)
        self.session_timer: tuple[int, str] | None = None

    def accept_offer(self) -> Response | None:
        """Answer the INVITE's SDP now, so a failing offer is refused (488) before routing."""
        try:
            offer = _sdp_of(self.invite)
            if offer is None:
                self.offerless = True
                self.answer_sdp = self._offer()
            else:
                self.answer_sdp = self._answer_offer(offer)
            self.session_timer = self._negotiate_session_timer()
        except RemoteProtocolError as exc:
            response = make_response(self.invite, exc.status, exc.reason)
            for name, value in exc.headers:
                response.headers.add(name, value)
            return response
        return None

    def _negotiate_session_timer(self) -> tuple[int, str] | None:
        """RFC 4028 as the UAS: take the caller's interval (422 below Min-SE)."""
        requested = _session_expires(self.invite)
        if requested is None or not _supports(self.invite, "timer"):
            return None
        interval, refresher = requested
        if interval < MIN_SE:
            raise RemoteProtocolError("Session Interval Too Small", 422, [("Min-SE", str(MIN_SE))])
        return interval, refresher or "uac"

    def _response(self, status: int, reason: str | None = None, body: bytes = b"") -> Response:
        response = make_response(self.invite, status, reason, to_tag=self.local_tag)
        if status < 300:
            response.headers.add("Contact", self.b2bua.signalling.contact(self.peer.transport))
            response.headers.add("Allow", ALLOW)
        if body:
            response.headers.add("Content-Type", "application/sdp")
            response.body = body
        return response

    def _ensure_dialog(self) -> None:
        if self.dialog is None:
            contact = self.b2bua.signalling.contact(self.peer.transport)
            self.dialog = Dialog.from_uas(self.invite, self.local_tag, contact)
            self.b2bua.track(self.dialog.id, self)

    # -- api.Leg actions ----------------------------------------------------------

    def ring(self, *, early_media: bool = False) -> None:
        if self.state not in (LegState.OFFERED, LegState.RINGING):
            return
        if early_media and not self.offerless:
            self._ensure_dialog()
            self.state = LegState.EARLY
            response = self._response(183, body=self.answer_sdp)
        elif self.state is LegState.OFFERED:
            self._ensure_dialog()
            self.state = LegState.RINGING
            response = self._response(180)
        else:
            return
        self.b2bua.signalling.respond(self.key, response)

    def answer(self) -> None:
        if self.state in (LegState.ANSWERED, LegState.ENDED):
            return
        self._ensure_dialog()
        assert self.dialog is not None
        self.dialog.confirm()
        self.state = LegState.ANSWERED
        response = self._response(200, body=self.answer_sdp)
        if self.session_timer is not None:
            interval, refresher = self.session_timer
            response.headers.add("Session-Expires", f"{interval};refresher={refresher}")
            response.headers.add("Require", "timer")
            self.b2bua.watch_session(self, interval, refresher)
        self.final = response
        self.b2bua.signalling.respond(self.key, response)
        if not self.peer.reliable:
            self._retransmit_2xx(T1, 0.0)

    def _retransmit_2xx(self, interval: float, waited: float) -> None:
        """§13.3.1.4: resend the 2xx until the ACK, T1 doubling to T2, for 64*T1."""

        def fire() -> None:
            if self.final is None or self.state is LegState.ENDED:
                return
            if waited + interval >= 64 * T1:
                self.final = None
                self._end(Cause(408, "No ACK", "answered"), "switch", bye=True)
                return
            self.b2bua.signalling.respond(self.key, self.final)
            self._retransmit_2xx(min(2 * interval, T2), waited + interval)

        self.timers.append(self.b2bua.after(interval, fire))

    def reject(self, cause: Cause) -> None:
        if self.state in (LegState.ANSWERED, LegState.ENDED):
            return
        self.b2bua.signalling.respond(self.key, self._response(cause.code, cause.text))
        self._end(cause, "switch")

    def hangup(self, cause: Cause = NORMAL) -> None:
        if self.state is LegState.ANSWERED:
            self._end(cause, "switch", bye=True)
        else:
            self.reject(cause)

    # -- from the party ---------------------------------------------------------

    def cancelled(self) -> None:
        """The caller sent CANCEL (the layer already said 200 to it): 487 the INVITE."""
        if self.state in (LegState.ANSWERED, LegState.ENDED):
            return
        self.b2bua.signalling.respond(self.key, self._response(487))
        self._end(CANCELED, "party")

    def acknowledged(self, ack: Request) -> None:
        self.final = None
        if self.offerless and ack.body:
            self.offerless = False
            try:
                self._take_answer(ack)
            except RemoteProtocolError:
                self._end(Cause(488, "Not Acceptable Here"), "switch", bye=True)


class OutboundLeg(SipLeg):
    """The UAC side: the switch's INVITE to one device (§13.2)."""

    direction = "outbound"

    def __init__(self, b2bua: B2BUA, call: Call, target: Target, caller: Leg) -> None:
        super().__init__(b2bua, call, target.label, target.display_name, target.destination)
        self.target = target
        self.caller = caller
        self.local_tag = new_tag()
        self.call_id = new_call_id()
        self.authenticated = False
        self.invite = self._build_invite(target, caller)
        self.key: TransactionKey | None = None
        self.cancel_cause: Cause | None = None

    def _build_invite(self, target: Target, caller: Leg, *, cseq: int = 1) -> Request:
        signalling = self.b2bua.signalling
        headers = Headers()
        headers.add("Max-Forwards", str(self.b2bua.max_forwards(caller)))
        if target.caller_id is not None:  # out through a trunk: the number the far end sees
            caller_uri = f"sip:{target.caller_id}@{target.domain or target.destination.host}"
        elif caller.party.removeprefix("+").isdigit() and target.domain:  # 1001, +4670...
            caller_uri = f"sip:{caller.party}@{target.domain}"
        else:
            caller_uri = caller.party if ":" in caller.party else f"sip:{caller.party}@invalid"
        display = NameAddr(parse_uri(caller_uri), caller.party_name or None)
        headers.add("From", f"{display};tag={self.local_tag}")
        headers.add("To", f"<{target.to_uri or target.uri}>")
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{cseq} INVITE")
        headers.add("Contact", signalling.contact(target.destination.transport))
        headers.add("Allow", ALLOW)
        headers.add("Supported", "replaces")
        body = bytes(self.sent_sdp) if self.sent_sdp is not None else self._offer()
        headers.add("Content-Type", "application/sdp")
        return Request("INVITE", parse_uri(target.uri), headers, body)

    def start(self) -> None:
        assert self.target is not None
        self.key = self.b2bua.signalling.send_request(
            self.invite, self.target.destination, self._invite_event
        )

    def _invite_event(self, event: Event) -> None:
        if isinstance(event, ResponseReceived):
            self._response(event.response)
        elif isinstance(event, TransactionTimeout) and self.state is not LegState.ANSWERED:
            self._end(self.cancel_cause or api.TIMEOUT, "party")  # Timer B: nobody answered
        elif isinstance(event, TransportError) and self.state is not LegState.ANSWERED:
            self._end(self.cancel_cause or api.UNAVAILABLE, "switch")  # no route to it

    def _response(self, response: Response) -> None:
        status = response.status
        if status < 200:
            if status == 100 or self.state is LegState.ENDED:
                return
            try:
                if response.to.tag and response.contacts:
                    self._early_dialog(response)
                self._take_answer(response)
            except (SipError, RemoteProtocolError):
                log.debug("unusable provisional response on %r", self)
                return
            early = bool(response.body) and self.sent_sdp is not None and status == 183
            if self.state in (LegState.CALLING, LegState.RINGING):
                self.state = LegState.EARLY if early else LegState.RINGING
                self.call.emit(Ringing(self, early))
        elif status < 300:
            self._answered(response)
        elif status in (401, 407) and self._authenticate(response):
            return
        elif self.state is not LegState.ENDED:
            self._end(self.cancel_cause or cause_of(status, response.reason), "party")

    def _authenticate(self, response: Response) -> bool:
        """A trunk challenged our INVITE: send it again with credentials, once (RFC 3261 §22.2)."""
        credentials = self.target.credentials if self.target else None
        if credentials is None or self.authenticated or self.state is LegState.ENDED:
            return False
        header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        client = DigestClient()
        try:
            challenge = client.choose_challenge(response.headers.get_all(header))
            value = client.authorization(
                challenge, method="INVITE", uri=str(self.invite.uri),
                username=credentials[0], password=credentials[1],
            )  # fmt: skip
        except (SipError, ValueError):
            return False
        self.authenticated = True
        assert self.target is not None
        self.invite = self._build_invite(self.target, self.caller, cseq=2)
        name = "Authorization" if response.status == 401 else "Proxy-Authorization"
        self.invite.headers.add(name, value)
        self.start()
        return True

    def _early_dialog(self, response: Response) -> None:
        if self.dialog is None:
            self.dialog = Dialog.from_uac(self.invite, response)

    def _answered(self, response: Response) -> None:
        remote_tag = response.to.tag
        if self.dialog is not None and self.dialog.state.value == "confirmed":
            if remote_tag == self.dialog.remote_tag:
                self._send_ack(self.invite, response)  # a retransmitted 2xx
            else:
                self._refuse_extra_dialog(response)
            return
        try:
            dialog = Dialog.from_uac(self.invite, response)
        except RemoteProtocolError:
            return
        self.dialog = dialog
        self.b2bua.track(dialog.id, self)
        self._send_ack(self.invite, response)
        if self.state is LegState.ENDED or self.cancel_cause is not None:
            self.bye(self.cancel_cause or NORMAL)  # answered after we cancelled it
            self.b2bua.forget(self)
            return
        try:
            self._take_answer(response)
        except RemoteProtocolError:
            self._end(Cause(488, "Not Acceptable Here"), "switch", bye=True)
            return
        self.state = LegState.ANSWERED
        self.call.emit(Answered(self))

    def _refuse_extra_dialog(self, response: Response) -> None:
        """A second 2xx from a fork further on (§13.2.2.4): acknowledge it, then BYE it."""
        try:
            extra = Dialog.from_uac(self.invite, response)
        except RemoteProtocolError:
            return
        self.b2bua.signalling.send_ack(extra.ack_for(self.invite, response), self.peer)
        bye = extra.create_request("BYE")
        self.b2bua.signalling.send_request(bye, self.peer, lambda event: None)

    # -- api.Leg actions -------------------------------------------------------------

    def ring(self, *, early_media: bool = False) -> None:
        raise api.CallError("an outbound leg rings on its own")

    def answer(self) -> None:
        raise api.CallError("an outbound leg is answered by its party")

    def reject(self, cause: Cause) -> None:
        self.hangup(cause)

    def hangup(self, cause: Cause = NORMAL) -> None:
        if self.state is LegState.ENDED:
            return
        if self.state is LegState.ANSWERED:
            self._end(cause, "switch", bye=True)
            return
        # Not answered: CANCEL it; the 487 (or a late 2xx, then BYE) finishes the job.
        self.cancel_cause = cause
        # RFC 3326: only "completed elsewhere" is worth telling a phone (no missed call).
        reason = f'SIP;cause=200;text="{cause.text}"' if cause is ELSEWHERE else None
        if self.key is not None:
            self.b2bua.signalling.cancel(self.key, reason)
        self._end(cause, "switch")


# -- the B2BUA -------------------------------------------------------------------------


class B2BUA:
    """Holds the calls: creates legs, routes SIP to them, connects their media, keeps time."""

    def __init__(
        self,
        signalling: Signalling,
        media: Media,
        *,
        clock: Callable[[], float],
        finished: Callable[[Call], None] = lambda call: None,
        is_local: Callable[[Source], bool] = lambda source: False,
        rtp_timeout: float = RTP_TIMEOUT,
        hold_music: Path | None = None,
    ) -> None:
        self.rtp_timeout = rtp_timeout
        self.hold_music = hold_music  # played to a party the other one put on hold
        self.signalling = signalling
        self.media = media
        self.clock = clock
        self.on_finished = finished
        self.is_local = is_local
        self.calls: dict[str, Call] = {}
        self._dialogs: dict[DialogId, SipLeg] = {}
        self._inbound: dict[TransactionKey, InboundLeg] = {}
        self._timers: list[Timer] = []
        self._next_media_check = 0.0

    # -- new calls -------------------------------------------------------------------

    def invite(
        self,
        request: Request,
        key: TransactionKey,
        source: Source,
        caller: SipUser | None,
        company_id: int,
        decide: Callable[[Request], tuple[str, CallHandler]],
    ) -> Response | None:
        """A new INVITE (from an authenticated user, or from a trunk): a call with its
        caller's leg, handed to the feature `decide` picks (with what was dialled).

        Returns a response only when the request is refused before any leg exists.
        """
        refusal = self._check_hops(request, source)
        if refusal is not None:
            return refusal
        call = Call(new_call_id(), company_id, self)
        call.started_at = self.clock()
        leg = InboundLeg(self, call, request, key, source, caller)
        self._inbound[key] = leg
        self.calls[call.id] = call
        error = leg.accept_offer()
        if error is not None:
            self.signalling.respond(key, error)
            leg._end(cause_of(error.status, error.reason), "switch")
            return None
        call.dialled, call.handler = decide(request)
        call.emit(Offered(leg))
        return None

    def in_call(self, company_id: int, extension: str) -> bool:
        """Is a user of the company on a call (ringing or talking)? For answering groups."""
        return any(
            leg.party == extension
            and not leg.ended
            and (leg.answered or leg.direction == "inbound")
            for call in self.calls.values()
            if call.company_id == company_id
            for leg in call.legs
        )

    def outbound_calls(self, company_id: int) -> int:
        """The company's calls out through its trunks right now (the toll-fraud ceiling)."""
        return sum(
            1
            for call in self.calls.values()
            if call.company_id == company_id
            for leg in call.legs
            if isinstance(leg, OutboundLeg)
            and leg.target is not None
            and leg.target.user is None
            and not leg.ended
        )

    def _check_hops(self, request: Request, source: Source) -> Response | None:
        """Max-Forwards (483) and loops back into the switch itself (482)."""
        value = request.headers.get("Max-Forwards")
        if value is not None and value.strip().isdigit() and int(value) <= 0:
            return make_response(request, 483)
        if self.is_local(source):
            return make_response(request, 482)
        return None

    @staticmethod
    def max_forwards(caller: Leg) -> int:
        if isinstance(caller, InboundLeg):
            value = caller.invite.headers.get("Max-Forwards") or "70"
            if value.strip().isdigit():
                return min(70, int(value)) - 1
        return 70

    # -- api.Switchboard ------------------------------------------------------------

    def dial(self, call: Call, target: Target, caller: Leg) -> Leg:
        leg = OutboundLeg(self, call, target, caller)
        leg.start()
        return leg

    def connect(self, a: Leg, b: Leg) -> None:
        assert isinstance(a, SipLeg) and isinstance(b, SipLeg)
        self.media.connect(a.endpoint, b.endpoint)

    def disconnect(self, leg: Leg) -> None:
        assert isinstance(leg, SipLeg)
        self.media.disconnect(leg.endpoint)

    def after(self, delay: float, action: Callable[[], None]) -> Timer:
        timer = Timer(self.clock() + delay, action)
        heapq.heappush(self._timers, timer)
        return timer

    def now(self) -> float:
        return self.clock()

    def finished(self, call: Call) -> None:
        self.calls.pop(call.id, None)
        for leg in call.legs:
            if isinstance(leg, InboundLeg):
                # Only a CANCEL looks a leg up by its INVITE, and a finished call's is
                # answered: do not keep the leg (and its INVITE) for Timer L's 32 s.
                self._inbound.pop(leg.key, None)
        try:
            self.on_finished(call)
        except Exception:
            log.exception("could not record call %s", call.id)
        call.dismantle()

    # -- relaying between bridged legs ---------------------------------------------

    def _peer_of(self, leg: SipLeg) -> SipLeg | None:
        bridged = leg.call.bridged
        if bridged is None or leg not in bridged:
            return None
        other = bridged[1] if bridged[0] is leg else bridged[0]
        return other if isinstance(other, SipLeg) and not other.ended else None

    def relay_hold(self, leg: SipLeg, hold: bool) -> None:
        """The party on `leg` held or resumed: tell the other party the same way (re-INVITE),
        and play it music on hold meanwhile (the holder's own stream is not relayed)."""
        other = self._peer_of(leg)
        if other is None:
            return
        other.reoffer("sendonly" if hold else "sendrecv")
        if not hold:
            other.stop_playing()
        elif self.hold_music is not None and self.hold_music.exists():
            other.play([self.hold_music], loop=True, interruptible=False)

    def relay_info(self, leg: SipLeg, request: Request) -> None:
        other = self._peer_of(leg)
        if other is not None:
            other.send_info(request)

    # -- session timers (RFC 4028) ----------------------------------------------------

    def watch_session(self, leg: SipLeg, interval: int, refresher: str) -> None:
        """Hang up a session whose refresher stops refreshing; refresh it ourselves if we are."""
        leg.refreshed_at = self.clock()
        delay = interval / 2 if refresher == "uas" else interval - min(32, interval / 3)

        def check() -> None:
            if leg.ended:
                return
            if refresher == "uas":
                leg.reoffer("sendonly" if self._peer_held(leg) else "sendrecv")
                leg.timers.append(self.after(delay, check))
                return
            waited = self.clock() - leg.refreshed_at
            if waited >= delay:
                leg.call.hangup(Cause(408, "Session Expired", "answered"))
            else:
                leg.timers.append(self.after(delay - waited, check))

        leg.timers.append(self.after(delay, check))

    def _peer_held(self, leg: SipLeg) -> bool:
        other = self._peer_of(leg)
        return bool(other and other.hold)

    def session_refreshed(self, leg: SipLeg, request: Request, response: Response) -> None:
        if isinstance(leg, InboundLeg) and leg.session_timer is not None:
            leg.refreshed_at = self.clock()
            interval, refresher = leg.session_timer
            response.headers.add("Session-Expires", f"{interval};refresher={refresher}")
            response.headers.add("Require", "timer")

    # -- bookkeeping ---------------------------------------------------------------

    def track(self, dialog_id: DialogId, leg: SipLeg) -> None:
        self._dialogs[dialog_id] = leg

    def forget(self, leg: SipLeg) -> None:
        """A leg ended: in-dialog requests for it get 481 from now on. (An inbound
        leg stays reachable by its INVITE's key until that transaction ends.)"""
        if leg.dialog is not None and self._dialogs.get(leg.dialog.id) is leg:
            del self._dialogs[leg.dialog.id]

    # -- what the transaction layer reports ---------------------------------------------

    def in_dialog(self, request: Request, key: TransactionKey, source: Source) -> Response | None:
        """A request with a To tag: route it to its leg, or 481 (§12.2.2)."""
        dialog_id = request_dialog_id(request)
        leg = self._dialogs.get(dialog_id) if dialog_id is not None else None
        if leg is None or leg.peer.host != source.host:
            return make_response(request, 481)
        leg.receive_request(request, key)
        return None

    def cancel(self, event: CancelReceived) -> None:
        leg = self._inbound.get(event.invite_key) if event.invite_key else None
        if leg is not None:
            leg.cancelled()

    def ack(self, event: AckReceived) -> None:
        dialog_id = request_dialog_id(event.ack)
        leg = self._dialogs.get(dialog_id) if dialog_id is not None else None
        if isinstance(leg, InboundLeg):
            leg.acknowledged(event.ack)

    def transaction_ended(self, key: TransactionKey) -> None:
        self._inbound.pop(key, None)

    def drive_timers(self) -> None:
        now = self.clock()
        timers = self._timers
        while timers and timers[0].deadline <= now:
            timer = heapq.heappop(timers)
            if not timer.cancelled:
                try:
                    timer.action()
                except Exception:
                    log.exception("error in a call timer")
        if now >= self._next_media_check:
            self._next_media_check = now + min(MEDIA_CHECK_INTERVAL, self.rtp_timeout / 4)
            self._check_media(now)

    def _check_media(self, now: float) -> None:
        """End answered calls whose parties stopped sending RTP (a phone that vanished)."""
        for call in list(self.calls.values()):
            for leg in call.legs:
                if not isinstance(leg, SipLeg) or leg.state is not LegState.ANSWERED or leg.hold:
                    continue
                since = leg.endpoint.last_received or call.answered_at or now
                if now - since >= self.rtp_timeout:
                    call.hangup(MEDIA_TIMEOUT)
                    break

    def shutdown(self) -> None:
        """The switch is stopping: end every call, telling each party why."""
        for call in list(self.calls.values()):
            call.hangup(SHUTDOWN)
