"""A call's legs as SIP dialogs (P4): the caller's side (UAS) and each device rung (UAC).

Each leg terminates its own offer/answer with the switch's media endpoint
(anchored RTP), so legs share nothing but call-control events (`calls.api`).
What a leg may do in which state is one table, `TRANSITIONS`, as the
transaction layer's is: (direction, state, input) -> next state. An input
without a row changes nothing and sends nothing, so the call-control
actions never fail on state (ringing a ringing leg says it once; nothing
acts on an ended leg), and no action is guarded by scattered `if`s.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from vaxel import randomness
from vaxel.calls import api
from vaxel.calls.api import (
    CANCELED,
    ELSEWHERE,
    NORMAL,
    Answered,
    Call,
    Cause,
    Device,
    Ended,
    Leg,
    LegState,
    Ringing,
    Timer,
    Updated,
    cause_of,
)
from vaxel.calls.session_timer import SessionTimer
from vaxel.sip.dialog import AckWait, Dialog, new_call_id, new_tag
from vaxel.sip.digest import DigestClient
from vaxel.sip.errors import RemoteProtocolError, SipError
from vaxel.sip.events import (
    Event,
    ResponseReceived,
    TransactionKey,
    TransactionTimeout,
    TransportError,
)
from vaxel.sip.headers import NameAddr
from vaxel.sip.message import Headers, Request, Response, make_response
from vaxel.sip.sdp import (
    SRTP_KEY_LENGTH,
    IceDtls,
    SessionDescription,
    WebRtcSession,
    build_offer,
    negotiate,
    next_version,
    offers_webrtc,
    parse_answer,
)
from vaxel.sip.uri import parse_uri
from vaxel.transport.base import Source

if TYPE_CHECKING:
    from vaxel.calls.b2bua import B2BUA
    from vaxel.calls.router import SipTarget
    from vaxel.services.users import SipUser

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER"
NO_ACK = Cause(408, "No ACK", "answered")
SESSION_EXPIRED = Cause(408, "Session Expired", "answered")
REQUEST_TIMEOUT = Cause(408, "Request Timeout", "answered")
NOT_ACCEPTABLE = Cause(488, "Not Acceptable Here")
#: Devices reached over a WebSocket are browsers (U1): they are offered WebRTC media.
WEBSOCKETS = ("WS", "WSS")
# The party's flow failed (RFC 5626 §11: 430): its WebSocket closed, so nothing reaches it.
FLOW_FAILED = Cause(430, "Flow Failed", "answered")
FLOW_FAILED_EARLY = Cause(430, "Flow Failed", "canceled")  # a caller gone before an answer

# -- what a leg may do in which state ------------------------------------------------------

_IN, _OUT = "inbound", "outbound"
_OFFERED, _CALLING, _RINGING, _EARLY, _ANSWERED, _ENDED = (
    LegState.OFFERED,
    LegState.CALLING,
    LegState.RINGING,
    LegState.EARLY,
    LegState.ANSWERED,
    LegState.ENDED,
)
_UNANSWERED_IN = (_OFFERED, _RINGING, _EARLY)
_UNANSWERED_OUT = (_CALLING, _RINGING, _EARLY)

# Inputs: what the feature asks ("ring", "early", "answer", "reject", "cancel_out"),
# what the party says ("cancelled", "ringing", "early_media", "answered", "failed"),
# what happens in a confirmed call ("reoffer", "info": allowed only there), and "end" (the
# leg is over, by whoever: BYE either way, a timeout, a lost flow).
TRANSITIONS: dict[tuple[str, LegState, str], LegState] = {
    # The caller's leg (UAS, RFC 3261 §13.3).
    (_IN, _OFFERED, "ring"): _RINGING,  # 180
    (_IN, _OFFERED, "early"): _EARLY,  # 183 with our SDP
    (_IN, _RINGING, "early"): _EARLY,
    **{(_IN, state, "answer"): _ANSWERED for state in _UNANSWERED_IN},
    **{(_IN, state, "reject"): _ENDED for state in _UNANSWERED_IN},
    **{(_IN, state, "cancelled"): _ENDED for state in _UNANSWERED_IN},
    # A device's leg (UAC, §13.2).
    (_OUT, _CALLING, "ringing"): _RINGING,
    (_OUT, _CALLING, "early_media"): _EARLY,
    (_OUT, _RINGING, "ringing"): _RINGING,
    (_OUT, _RINGING, "early_media"): _EARLY,
    **{(_OUT, state, "answered"): _ANSWERED for state in _UNANSWERED_OUT},
    **{(_OUT, state, "failed"): _ENDED for state in _UNANSWERED_OUT},
    **{(_OUT, state, "cancel_out"): _ENDED for state in _UNANSWERED_OUT},
    # Both, once answered.
    **{(d, _ANSWERED, "reoffer"): _ANSWERED for d in (_IN, _OUT)},
    **{(d, _ANSWERED, "info"): _ANSWERED for d in (_IN, _OUT)},
    # Any leg that is not over yet can end.
    **{(_IN, state, "end"): _ENDED for state in (*_UNANSWERED_IN, _ANSWERED)},
    **{(_OUT, state, "end"): _ENDED for state in (*_UNANSWERED_OUT, _ANSWERED)},
}


def _sdp_of(message: Request | Response) -> SessionDescription | None:
    if not message.body:
        return None
    content_type = (message.headers.get("Content-Type") or "application/sdp").lower()
    if not content_type.startswith("application/sdp"):
        return None
    return SessionDescription.parse(message.body)


class SipLeg(Leg):
    """What both kinds of leg share: a dialog, a media endpoint, in-dialog requests."""

    def __init__(
        self,
        b2bua: B2BUA,
        call: Call,
        party: str,
        party_name: str,
        peer: Source,
        trunk: str | None = None,
    ) -> None:
        super().__init__(call, party, party_name)
        self.b2bua = b2bua
        self.peer = peer  # where this leg's signalling goes (the party's real address)
        self.dialog: Dialog | None = None
        self.endpoint = b2bua.media.allocate(self.dtmf)
        self.media = self.endpoint
        self.session_id = randomness.randbelow(2**31)
        # O2: SRTP as the company (or the trunk) wants it, with the key this leg sends with
        # (never logged); `secure` once an SDP exchange made the media SRTP, so that our
        # re-offers (hold, refresh) stay SRTP.
        self.srtp = b2bua.srtp_policy(call.company_id, trunk)
        self.srtp_key: bytes | None = None
        if self.srtp != "off":
            self.srtp_key = randomness.token_bytes(SRTP_KEY_LENGTH)
        self.secure = False
        # U1: a browser's leg (DTLS-SRTP with ICE-lite) once an SDP exchange made it one;
        # a device reached over a WebSocket is offered WebRTC from the start.
        self.webrtc: WebRtcSession | None = None
        self.sent_sdp: SessionDescription | None = None
        self.hold = False  # the party put us on hold
        # When this leg answered: its media's silence counts from then, not from the call's
        # answer (a queue answered its caller long before an agent's phone answered).
        self.answered_at: float | None = None
        self.reinvite: Request | None = None  # our pending re-INVITE
        self.awaiting_answer = False  # our offer went in a 2xx: the answer comes in the ACK
        self.timers: list[Timer] = []
        self.session_timer: SessionTimer | None = None
        # The 200 to the party's BYE, held while the call's record is stored (B2BUA.finished).
        self.bye_answer: tuple[TransactionKey, Response] | None = None
        # In-call codes (B2BUA.key_in_call): the last keys that may begin one and when the
        # last came; the code pressed, the target dialled after it (None: no code being
        # dialled), and the timer that ends it.
        self.keys = ""
        self.keys_at: float | None = None
        self.code_name = ""
        self.code: str | None = None
        self.code_timer: Timer | None = None

    def sips(self) -> bool:
        """Is this leg's dialog a sips: one (its Contact must be sips: too, RFC 3261 §8.1.1.8)?"""
        return False

    def contact(self) -> str:
        """The switch's Contact in this leg's dialog."""
        return self.b2bua.signalling.contact(self.peer.transport, self.sips())

    def _step(self, inp: str) -> bool:
        """Take `inp` if the table has a row for it here: True, in its next state."""
        next_state = TRANSITIONS.get((self.direction, self.state, inp))
        if next_state is None:
            return False
        self.state = next_state
        if next_state is LegState.ANSWERED and self.answered_at is None:
            self.answered_at = self.b2bua.clock()
        return True

    def _allows(self, inp: str) -> bool:
        return (self.direction, self.state, inp) in TRANSITIONS

    def flow_failed(self) -> None:
        """The party's flow failed (its WebSocket closed; RFC 5626 §4.4): nothing can reach
        it any more, so the leg ends as if the party had left, without a BYE. A device's
        leg that was still ringing fails through its INVITE's transport error instead."""
        if self.state is _ANSWERED:
            self._end(FLOW_FAILED, "party")

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
            srtp="required" if self.secure else self.srtp,  # never back to plain in a call
            srtp_key=self.srtp_key,
            webrtc=self.endpoint.ice() if offers_webrtc(offer) else None,
        )
        self.endpoint.configure(answer, sending=answer.direction in ("sendrecv", "sendonly"))
        self.secure = answer.srtp is not None or answer.webrtc is not None
        self.webrtc = answer.webrtc
        hold = answer.hold
        if hold != self.hold and self.state is _ANSWERED:
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
            srtp_key=self.srtp_key if self.secure or self.srtp == "required" else None,
            webrtc=self._ice(),
        )
        return self._versioned(offer)

    def _ice(self) -> IceDtls | None:
        """Our ICE and DTLS lines for an offer to a browser (None to anyone else): a
        re-offer keeps the DTLS role the call has (RFC 8842 §5.5), so it does not re-key."""
        session = self.webrtc
        if session is None and not (
            self.direction == "outbound" and self.peer.transport in WEBSOCKETS
        ):
            return None
        ours: IceDtls = self.endpoint.ice()
        if session is not None:
            ours = ours.with_setup("passive" if session.dtls_server else "active")
        return ours

    def _take_answer(self, message: Request | Response) -> None:
        sdp = _sdp_of(message)
        if sdp is None or self.sent_sdp is None or self.state is _ENDED:
            return  # (an ended leg's endpoint may already serve another call)
        answer = parse_answer(self.sent_sdp, sdp)
        self.endpoint.configure(answer, sending=answer.direction in ("sendrecv", "sendonly"))
        self.secure = answer.srtp is not None or answer.webrtc is not None
        self.webrtc = answer.webrtc

    def _direction(self) -> str:
        """The direction our last offer or answer said (a refresh keeps it)."""
        sdp = self.sent_sdp
        return sdp.direction_of(sdp.media[0]) if sdp is not None and sdp.media else "sendrecv"

    def dtmf(self, digit: str) -> None:
        """A key by RFC 4733: the switch may keep it (an in-call code: P4, U12, A6); else
        the call's feature sees it, as for any leg."""
        if self.b2bua.key_in_call(self, digit):
            return
        super().dtmf(digit)

    # -- in-dialog requests -----------------------------------------------------

    def receive_request(self, request: Request, key: TransactionKey) -> None:
        assert self.dialog is not None
        signalling = self.b2bua.signalling
        error = self.dialog.receive_request(request)
        if error is not None:
            signalling.respond(key, error)
            return
        method = request.method
        if method == "BYE":
            # Acknowledged means stored: when this BYE ends the call, its 200 goes once the
            # call record is committed (the B2BUA takes it over); otherwise at once.
            self.bye_answer = (key, make_response(request, 200))
            self._early_bye()
            self._end(NORMAL, "party")
            self._answer_bye()
        elif method in ("INVITE", "UPDATE"):
            self._receive_offer(request, key)
        elif method == "INFO":
            signalling.respond(key, make_response(request, 200))
            digit = _info_digit(request)
            if digit is None or not self.b2bua.key_in_call(self, digit):
                self.b2bua.relay_info(self, request)
        elif method == "REFER":
            self.b2bua.refer(self, request, key)
        else:
            status = 200 if method == "OPTIONS" else 405
            response = make_response(request, status)
            response.headers.add("Allow", ALLOW)
            signalling.respond(key, response)

    def _receive_offer(self, request: Request, key: TransactionKey) -> None:
        """A re-INVITE or UPDATE: answer it from our endpoint (hold, resume, new address).

        Without an offer, a re-INVITE's 2xx carries ours (its answer comes in the
        ACK), while an UPDATE's 2xx carries no SDP at all: no offer, no answer
        (RFC 3311 §5.2). Either may be just a session refresh (RFC 4028).
        """
        signalling = self.b2bua.signalling
        if request.method == "INVITE" and self.reinvite is not None:
            signalling.respond(key, make_response(request, 491))  # RFC 3261 §14.2: glare
            return
        try:
            offer = _sdp_of(request)
            if offer is not None:
                body = self._answer_offer(offer)
            elif request.method == "INVITE" and self.sent_sdp is not None:
                body = bytes(self.sent_sdp)
                self.awaiting_answer = True
            else:
                body = b""
        except RemoteProtocolError as exc:
            signalling.respond(key, make_response(request, exc.status, exc.reason))
            return
        response = self._ok(request, body)
        if self.session_timer is not None:
            self.session_timer.refreshed(self.b2bua.now())
            self.session_timer.stamp(response)
        signalling.respond(key, response)

    def _early_bye(self) -> None:
        """A BYE before the call was answered (an early dialog, RFC 3261 §15)."""

    def _answer_bye(self) -> None:
        """Answer the BYE now, unless the B2BUA took its answer (to send once the call's
        record is stored). A method of its own: within `receive_request` mypy would take
        `bye_answer` for the tuple just assigned, and mypyc would check it is one."""
        answer = self.bye_answer
        if answer is not None:
            self.bye_answer = None
            self.b2bua.signalling.respond(*answer)

    def _ok(self, request: Request, body: bytes) -> Response:
        response = make_response(request, 200)
        response.headers.add("Contact", self.contact())
        response.headers.add("Allow", ALLOW)
        if body:
            response.headers.add("Content-Type", "application/sdp")
            response.body = body
        return response

    def acknowledged(self, ack: Request) -> None:
        """The ACK of our 2xx; it carries the answer when our offer was in the 2xx."""
        if self.awaiting_answer and ack.body:
            self.awaiting_answer = False
            try:
                self._take_answer(ack)
            except RemoteProtocolError:
                self._end(NOT_ACCEPTABLE, "switch", bye=True)

    def reoffer(self, direction: str) -> None:
        """Send a re-INVITE that puts the party on hold (sendonly/inactive) or resumes it."""
        if self.dialog is None or self.reinvite is not None or not self._allows("reoffer"):
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
                direction = self._direction()
                delay = 2.1 + randomness.randbelow(190) / 100
                self.timers.append(self.b2bua.after(delay, lambda: self.reoffer(direction)))
        elif isinstance(event, (TransactionTimeout, TransportError)):
            self.reinvite = None
            self._end(REQUEST_TIMEOUT, "switch", bye=True)

    def refresh(self) -> None:
        """A session refresh (RFC 4028): a re-INVITE that keeps the call as it is."""
        self.reoffer("sendonly" if self.b2bua.peer_held(self) else "sendrecv")

    def expire(self) -> None:
        """Nobody refreshed the session in time: the call is over."""
        self.call.hangup(SESSION_EXPIRED)

    def _send_ack(self, invite: Request, response: Response) -> None:
        assert self.dialog is not None
        ack = self.dialog.ack_for(invite, response)
        self.b2bua.signalling.send_ack(ack, self.peer)

    def send_info(self, request: Request) -> None:
        if self.dialog is None or not self._allows("info"):
            return
        content_type = request.headers.get("Content-Type")
        info = self.dialog.create_request("INFO", body=request.body, content_type=content_type)
        self.b2bua.signalling.send_request(info, self.peer, _ignore)

    def notify_refer(self, status: int, reason: str) -> None:
        """Tell the party how the transfer it asked for goes (RFC 3515 §2.4.4): a NOTIFY of
        the implicit subscription, whose body is the status line of the call to the
        target; a final status ends the subscription."""
        if self.dialog is None or self.state is not _ANSWERED:
            return  # (the party hung up: there is no one to tell)
        state = "active;expires=60" if status < 200 else "terminated;reason=noresource"
        headers = [
            ("Event", "refer"),
            ("Subscription-State", state),
            ("Contact", self.contact()),
        ]
        body = f"SIP/2.0 {status} {reason}\r\n".encode()
        notify = self.dialog.create_request(
            "NOTIFY", body=body, content_type="message/sipfrag;version=2.0", headers=headers
        )
        self.b2bua.signalling.send_request(notify, self.peer, _ignore)

    def bye(self, cause: Cause) -> None:
        if self.dialog is None:
            return
        headers = []
        if cause is not NORMAL:
            headers.append(("Reason", f'SIP;cause={cause.code};text="{cause.text}"'))
        request = self.dialog.create_request("BYE", headers=headers)
        self.b2bua.signalling.send_request(request, self.peer, _ignore)

    # -- ending ------------------------------------------------------------------

    def dismantle(self) -> None:
        super().dismantle()
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
        self.reinvite = None
        # (The endpoint dropped this leg's callbacks when it was released: it may be
        # serving another call by now, so it is not touched here.)

    def _end(
        self,
        cause: Cause,
        by: Literal["party", "switch"],
        *,
        bye: bool = False,
        inp: str = "end",
    ) -> None:
        """The leg is over: tell the party if asked (BYE), free its media, tell the call."""
        if not self._step(inp):
            return
        if bye:
            self.bye(cause)
        self.media_ended()
        self.cause = cause
        for timer in self.timers:
            timer.cancel()
        self.b2bua.forget(self)
        self.endpoint.close()
        # The engine reuses the endpoint for another leg: nothing of this one may touch it.
        self.media = None
        self.call.emit(Ended(self, cause, by))


def _ignore(event: Event) -> None:
    pass


def _info_digit(request: Request) -> str | None:
    """The key an INFO carries (application/dtmf-relay's `Signal=`, or application/dtmf),
    None when it carries none."""
    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    text = request.body.decode("utf-8", "replace")
    if content_type == "application/dtmf-relay":
        for line in text.splitlines():
            name, _, value = line.partition("=")
            if name.strip().lower() == "signal":
                text = value
                break
        else:
            return None
    elif content_type != "application/dtmf":
        return None
    key = text.strip().upper()
    return key if len(key) == 1 and key in "0123456789*#ABCD" else None


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
        trunk: str | None = None,
    ) -> None:
        uri = request.from_.uri
        party = user.extension if user else (getattr(uri, "user", None) or str(uri))
        name = (user.display_name if user else "") or (request.from_.display_name or "")
        super().__init__(b2bua, call, party, name, source, trunk)
        self.user = user
        self.invite = request
        self.key = key
        self.local_tag = new_tag()
        self.answer_sdp: bytes = b""
        self.final: AckWait | None = None  # our 2xx, resent until the ACK (§13.3.1.4)

    def sips(self) -> bool:
        return self.invite.uri.scheme == "sips"

    def accept_offer(self) -> Response | None:
        """Answer the INVITE's SDP now, so a failing offer is refused (488) before routing."""
        try:
            offer = _sdp_of(self.invite)
            if offer is None:  # late offer: ours goes in the 2xx, the answer in the ACK
                self.awaiting_answer = True
                self.answer_sdp = self._offer()
            else:
                self.answer_sdp = self._answer_offer(offer)
            self.session_timer = SessionTimer.negotiate(self.invite)
        except RemoteProtocolError as exc:
            response = make_response(self.invite, exc.status, exc.reason)
            for name, value in exc.headers:
                response.headers.add(name, value)
            return response
        return None

    def _response(self, status: int, reason: str | None = None, body: bytes = b"") -> Response:
        response = make_response(self.invite, status, reason, to_tag=self.local_tag)
        if status < 300:
            response.headers.add("Contact", self.contact())
            response.headers.add("Allow", ALLOW)
        if body:
            response.headers.add("Content-Type", "application/sdp")
            response.body = body
        return response

    def _ensure_dialog(self) -> None:
        if self.dialog is None:
            contact = self.contact()
            self.dialog = Dialog.from_uas(self.invite, self.local_tag, contact)
            self.b2bua.track(self.dialog.id, self)

    # -- api.Leg actions ----------------------------------------------------------

    def ring(self, *, early_media: bool = False) -> None:
        early = early_media and not self.awaiting_answer
        if not self._step("early" if early else "ring"):
            return
        self._ensure_dialog()
        response = self._response(183, body=self.answer_sdp) if early else self._response(180)
        self.b2bua.signalling.respond(self.key, response)

    def answer(self) -> None:
        if not self._step("answer"):
            return
        self._ensure_dialog()
        assert self.dialog is not None
        self.dialog.confirm()
        self.call.answered_here(self)
        response = self._response(200, body=self.answer_sdp)
        timer = self.session_timer
        if timer is not None:
            timer.stamp(response)
            timer.start(self, after=self.b2bua.after, now=self.b2bua.now, timers=self.timers)
        self.b2bua.signalling.respond(self.key, response)
        if not self.peer.reliable:
            self.final = AckWait(response)
            self._resend_2xx_later()

    def _resend_2xx_later(self) -> None:
        final = self.final
        if final is None:
            return

        def fire() -> None:
            if self.final is not final or self.state is _ENDED:
                return
            if not final.due():
                self.final = None
                self._end(NO_ACK, "switch", bye=True)
                return
            self.b2bua.signalling.respond(self.key, final.response)
            self._resend_2xx_later()

        self.timers.append(self.b2bua.after(final.interval, fire))

    def reject(self, cause: Cause) -> None:
        if not self._allows("reject"):
            return
        self.b2bua.signalling.respond(self.key, self._response(cause.code, cause.text))
        self._end(cause, "switch", inp="reject")

    def hangup(self, cause: Cause = NORMAL) -> None:
        if self.state is _ANSWERED:
            self._end(cause, "switch", bye=True)
        else:
            self.reject(cause)

    # -- from the party ---------------------------------------------------------

    def cancelled(self) -> None:
        """The caller sent CANCEL (the layer already said 200 to it): 487 the INVITE."""
        if not self._allows("cancelled"):
            return
        self.b2bua.signalling.respond(self.key, self._response(487))
        self._end(CANCELED, "party", inp="cancelled")

    def flow_failed(self) -> None:
        """A caller whose flow failed before an answer has left, as with a CANCEL: its
        INVITE still gets its 487, which ends the transaction (sent nowhere)."""
        if self._allows("cancelled"):
            self.b2bua.signalling.respond(self.key, self._response(487))
            self._end(FLOW_FAILED_EARLY, "party", inp="cancelled")
        else:
            super().flow_failed()

    def acknowledged(self, ack: Request) -> None:
        self.final = None
        super().acknowledged(ack)

    def _early_bye(self) -> None:
        """The caller ended an early dialog with BYE: its INVITE gets 487 (§15.1.2)."""
        if self._allows("cancelled"):
            self.b2bua.signalling.respond(self.key, self._response(487))


class OutboundLeg(SipLeg):
    """The UAC side: the switch's INVITE to one device or trunk (§13.2)."""

    direction = "outbound"

    def __init__(
        self,
        b2bua: B2BUA,
        call: Call,
        target: api.Target,
        sip: SipTarget,
        caller: Leg | api.Party,
    ) -> None:
        trunk = target.trunk if isinstance(target, api.Line) else None
        super().__init__(b2bua, call, sip.label, sip.display_name, sip.destination, trunk)
        self.target = target
        self.sip = sip
        self.caller = caller
        self.local_tag = new_tag()
        self.call_id = new_call_id()
        self.authenticated = False
        self.invite = self._build_invite(cseq=1)
        self.key: TransactionKey | None = None
        self.cancel_cause: Cause | None = None

    def sips(self) -> bool:
        return self.sip.uri[:5].lower() == "sips:"

    def _build_invite(self, *, cseq: int) -> Request:
        sip, caller = self.sip, self.caller
        signalling = self.b2bua.signalling
        headers = Headers()
        headers.add("Max-Forwards", str(self.b2bua.max_forwards(caller)))
        if sip.caller_id is not None:  # out through a trunk: the number the far end sees
            caller_uri = f"sip:{sip.caller_id}@{sip.domain or sip.destination.host}"
        elif caller.party.removeprefix("+").isdigit() and sip.domain:  # 1001, +4670...
            caller_uri = f"sip:{caller.party}@{sip.domain}"
        else:
            caller_uri = caller.party if ":" in caller.party else f"sip:{caller.party}@invalid"
        display = NameAddr(parse_uri(caller_uri), caller.party_name or None)
        headers.add("From", f"{display};tag={self.local_tag}")
        headers.add("To", f"<{sip.to_uri or sip.uri}>")
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{cseq} INVITE")
        headers.add("Contact", signalling.contact(sip.destination.transport, self.sips()))
        headers.add("Allow", ALLOW)
        headers.add("Supported", "timer")  # RFC 4028: the device may ask for session timers
        body = bytes(self.sent_sdp) if self.sent_sdp is not None else self._offer()
        headers.add("Content-Type", "application/sdp")
        return Request("INVITE", parse_uri(sip.uri), headers, body)

    def start(self) -> None:
        self.key = self.b2bua.signalling.send_request(
            self.invite, self.sip.destination, self._invite_event
        )

    def _invite_event(self, event: Event) -> None:
        if isinstance(event, ResponseReceived):
            self._response(event.response)
        elif isinstance(event, TransactionTimeout):
            self._end(self.cancel_cause or api.TIMEOUT, "party", inp="failed")  # Timer B
        elif isinstance(event, TransportError):
            self._end(self.cancel_cause or api.UNAVAILABLE, "switch", inp="failed")  # no route

    def _response(self, response: Response) -> None:
        status = response.status
        if status < 200:
            if status == 100 or self.state is _ENDED:
                return
            try:
                if response.to.tag and response.contacts:
                    self._early_dialog(response)
                self._take_answer(response)
            except (SipError, RemoteProtocolError):
                log.debug("unusable provisional response on %r", self)
                return
            early = bool(response.body) and self.sent_sdp is not None and status == 183
            if self._step("early_media" if early else "ringing"):
                self.call.emit(Ringing(self, early))
        elif status < 300:
            self._answered(response)
        elif status in (401, 407) and self._authenticate(response):
            return
        else:
            self._end(self.cancel_cause or cause_of(status, response.reason), "party", inp="failed")

    def _authenticate(self, response: Response) -> bool:
        """A trunk challenged our INVITE: send it again with credentials, once (RFC 3261 §22.2)."""
        credentials = self.sip.credentials
        if credentials is None or self.authenticated or self.state is _ENDED:
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
        self.invite = self._build_invite(cseq=2)
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
        if not self._allows("answered") or self.cancel_cause is not None:
            self.bye(self.cancel_cause or NORMAL)  # answered after we cancelled it
            self.b2bua.forget(self)
            return
        try:
            self._take_answer(response)
            timer = SessionTimer.answered(response)
        except RemoteProtocolError:
            self._end(NOT_ACCEPTABLE, "switch", bye=True)
            return
        self._step("answered")
        if timer is not None:
            self.session_timer = timer
            timer.start(self, after=self.b2bua.after, now=self.b2bua.now, timers=self.timers)
        self.call.emit(Answered(self))

    def _refuse_extra_dialog(self, response: Response) -> None:
        """A second 2xx from a fork further on (§13.2.2.4): acknowledge it, then BYE it."""
        try:
            extra = Dialog.from_uac(self.invite, response)
        except RemoteProtocolError:
            return
        self.b2bua.signalling.send_ack(extra.ack_for(self.invite, response), self.peer)
        bye = extra.create_request("BYE")
        self.b2bua.signalling.send_request(bye, self.peer, _ignore)

    # -- api.Leg actions -------------------------------------------------------------

    def ring(self, *, early_media: bool = False) -> None:
        if self.state is _ANSWERED:
            return  # a placed call's caller (click-to-call) hears ringback from the switch
        raise api.CallError("an outbound leg rings on its own")

    def answer(self) -> None:
        if self.state is _ANSWERED:
            return  # a placed call's caller answered already
        raise api.CallError("an outbound leg is answered by its party")

    def reject(self, cause: Cause) -> None:
        self.hangup(cause)

    def hangup(self, cause: Cause = NORMAL) -> None:
        if self.state is _ANSWERED:
            self._end(cause, "switch", bye=True)
            return
        if not self._allows("cancel_out"):
            return
        # Not answered: CANCEL it; the 487 (or a late 2xx, then BYE) finishes the job.
        self.cancel_cause = cause
        # RFC 3326: only "completed elsewhere" is worth telling a phone (no missed call).
        reason = f'SIP;cause=200;text="{cause.text}"' if cause is ELSEWHERE else None
        if self.key is not None:
            self.b2bua.signalling.cancel(self.key, reason)
        self._end(cause, "switch", inp="cancel_out")


class UnreachableLeg(Leg):
    """A target the switch cannot reach now (its registration just lapsed, its trunk is
    gone): the leg fails at once, the way a device whose flow is gone does."""

    direction = "outbound"

    def __init__(self, call: Call, target: api.Target, label: str) -> None:
        super().__init__(call, label)
        self.target = target

    def start(self) -> None:
        self.state = _ENDED
        self.cause = api.UNAVAILABLE
        self.call.emit(Ended(self, api.UNAVAILABLE, "switch"))

    def ring(self, *, early_media: bool = False) -> None:
        if self.state is _ANSWERED:
            return  # a placed call's caller (click-to-call) hears ringback from the switch
        raise api.CallError("an outbound leg rings on its own")

    def answer(self) -> None:
        if self.state is _ANSWERED:
            return  # a placed call's caller answered already
        raise api.CallError("an outbound leg is answered by its party")

    def reject(self, cause: Cause) -> None:
        pass  # already over

    def hangup(self, cause: Cause = NORMAL) -> None:
        pass


def extension_of(leg: Leg) -> str | None:
    """The user on a leg: the caller (authenticated), or a colleague's phone rung; None
    for a party from outside."""
    if isinstance(leg, InboundLeg):
        return leg.user.extension if leg.user is not None else None
    target = leg.target
    return target.extension if isinstance(target, Device) else None
