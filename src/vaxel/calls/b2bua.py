"""The B2BUA (P4): every call is legs held by the switch, each its own SIP dialog.

The `B2BUA` is the call-control API's switchboard (`api.Switchboard`): it
creates the caller's leg for a new INVITE and a leg for every target a
feature dials (`calls.legs`), routes the transaction layer's events to them
by transaction key and dialog id, connects their media, relays holds and
INFO between bridged legs, and keeps the calls' timers. A party's REFER
transfers the call (RFC 3515, RFC 5589's blind transfer): accepted (202),
followed by NOTIFYs saying how the call to the target goes.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from vaxel.calls.api import (
    MEDIA_TIMEOUT,
    NORMAL,
    Call,
    CallError,
    CallHandler,
    Cause,
    Device,
    Leg,
    LegState,
    Line,
    MediaPort,
    Offered,
    Party,
    Target,
    Timer,
    cause_of,
)
from vaxel.calls.legs import InboundLeg, OutboundLeg, SipLeg, UnreachableLeg
from vaxel.calls.publish import CallPublisher
from vaxel.calls.router import SipTarget
from vaxel.calls.signalling import Signalling
from vaxel.media.call_recording import Pacer
from vaxel.services.users import SipUser
from vaxel.sip.dialog import DialogId, new_call_id, request_dialog_id
from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.events import (
    AckReceived,
    CancelReceived,
    Event,
    TransactionKey,
    TransactionTerminated,
)
from vaxel.sip.headers import parse_name_addr
from vaxel.sip.message import Request, Response, make_response
from vaxel.sip.sdp import Answer
from vaxel.sip.uri import SipURI, TelURI
from vaxel.transport.base import Source

log = logging.getLogger(__name__)

RTP_TIMEOUT = 60.0  # default: an answered leg that sends no RTP for this long is hung up
MEDIA_CHECK_INTERVAL = 5.0
SHUTDOWN = Cause(503, "Service Unavailable (switch stopping)")

Decide = Callable[[], tuple[str, CallHandler]]  # what was dialled, and who serves the call
# A finished call, and what to do once its record is stored (answer the BYE that ended it).
Finished = Callable[[Call, Callable[[], None]], None]
Resolve = Callable[[Target, float], SipTarget | None]
# A transfer: what the call record says was dialled, who serves the transferred party,
# and whether a target who does not answer sends it to their voicemail (features.transfer).
TransferPlan = tuple[str, CallHandler, bool]
# (company, the transferor's extension, the target, the host it was named at) -> the plan.
PlanTransfer = Callable[[int, str, str, str], TransferPlan | Cause]
BAD_REFER = Cause(400, "Bad Request (one Refer-To with a SIP or tel URI)")
NOT_CONNECTED = Cause(403, "Forbidden (no connected call to transfer)")
NO_TRANSFERS = Cause(403, "Forbidden (transfers are not served)")


def _no_transfers(company_id: int, extension: str, target: str, host: str) -> Cause:
    return NO_TRANSFERS


def _not_recorded(call: Call) -> None:
    pass


def _no_key(leg: Leg, digit: str) -> None:
    pass


def _not_taken(leg: Leg, request: Request) -> bool:
    return False


class Endpoint(MediaPort, Protocol):
    """A media endpoint of the switch, facing one leg's party (see `vaxel.media`)."""

    address: str
    port: int
    last_received: float  # clock time of the last RTP packet, 0 before any
    on_dtmf: Callable[[str], None]

    def configure(self, answer: Answer, *, sending: bool) -> None: ...

    def close(self) -> None: ...


E = TypeVar("E", bound=Endpoint)


class Media(Protocol[E]):
    """Where legs get their endpoints: the RTP engine, or `media.memory` in tests."""

    @property
    def pacer(self) -> Pacer:
        """The shared 20 ms media clock (what a call recording writes on, A6)."""
        ...

    def allocate(self, on_dtmf: Callable[[str], None]) -> E: ...

    def connect(self, a: E, b: E) -> None: ...

    def disconnect(self, endpoint: E) -> None: ...


class B2BUA:
    """Holds the calls: creates legs, routes SIP to them, connects their media, keeps time."""

    def __init__(
        self,
        signalling: Signalling,
        media: Media[Any],
        resolve: Resolve,
        *,
        clock: Callable[[], float],
        finished: Finished = lambda call, stored: stored(),
        rtp_timeout: float = RTP_TIMEOUT,
        hold_music: Path | None = None,
        publisher: CallPublisher | None = None,
    ) -> None:
        self.signalling = signalling
        self.media = media
        self.resolve = resolve  # a target's SIP address (calls.router)
        self.clock = clock
        self.on_finished = finished
        self.rtp_timeout = rtp_timeout
        self.hold_music = hold_music  # played to a party the other one put on hold
        self.publisher = publisher  # the calls' live events (P8); None: none
        self.plan_transfer: PlanTransfer = _no_transfers  # set by the assembly
        # A6: told of every bridge, to record the call by the company's rule (the assembly).
        self.on_bridged: Callable[[Call], None] = _not_recorded
        # A6: a party's keys and INFO, to start, pause and stop a recording on demand; an
        # INFO `on_info` takes is not relayed to the other party.
        self.on_key: Callable[[Leg, str], None] = _no_key
        self.on_info: Callable[[Leg, Request], bool] = _not_taken
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
        decide: Decide,
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
        self.signalling.own(key, self._inbound_event)
        self.calls[call.id] = call
        error = leg.accept_offer()
        if error is not None:
            self.signalling.respond(key, error)
            leg._end(cause_of(error.status, error.reason), "switch", inp="reject")
            return None
        call.dialled, call.handler = decide()
        publisher = self.publisher
        if publisher is not None:
            call.reporter = publisher
            publisher.offered(call)
        call.emit(Offered(leg))
        return None

    def _inbound_event(self, event: Event) -> None:
        """The caller's INVITE transaction ended: only a CANCEL looked the leg up by it."""
        if isinstance(event, TransactionTerminated):
            self._inbound.pop(event.key, None)

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
            if isinstance(leg.target, Line) and not leg.ended
        )

    def _check_hops(self, request: Request, source: Source) -> Response | None:
        """Max-Forwards (483) and loops back into the switch itself (482)."""
        value = request.headers.get("Max-Forwards")
        if value is not None and value.strip().isdigit() and int(value) <= 0:
            return make_response(request, 483)
        if self.signalling.outbox.is_local(source):
            return make_response(request, 482)
        return None

    def originate(self, company_id: int, handler: CallHandler) -> Call:
        """A call the switch places itself (click-to-call): no caller's leg yet; `handler`
        places its first legs (`Call.place`) and becomes the call's feature."""
        call = Call(new_call_id(), company_id, self, handler=handler)
        call.started_at = self.clock()
        self.calls[call.id] = call
        return call

    def offered(self, call: Call) -> None:
        """A placed call has its caller now (who answered): tell the live events, as for an
        INVITE, and let the call's feature start."""
        publisher = self.publisher
        if publisher is not None:
            call.reporter = publisher
            publisher.offered(call)
        call.emit(Offered(call.caller))

    @staticmethod
    def max_forwards(caller: Leg | Party) -> int:
        if isinstance(caller, InboundLeg):
            value = caller.invite.headers.get("Max-Forwards") or "70"
            if value.strip().isdigit():
                return min(70, int(value)) - 1
        return 70

    # -- api.Switchboard ------------------------------------------------------------

    def dial(self, call: Call, target: Target, caller: Leg | Party) -> Leg:
        sip = self.resolve(target, self.clock())
        if sip is None:
            unreachable = UnreachableLeg(call, target, _label(target))
            unreachable.start()
            return unreachable
        leg = OutboundLeg(self, call, target, sip, caller)
        leg.start()
        return leg

    def connect(self, a: Leg, b: Leg) -> None:
        assert isinstance(a, SipLeg) and isinstance(b, SipLeg)
        self.media.connect(a.endpoint, b.endpoint)
        self.on_bridged(a.call)
        for leg, other in ((a, b), (b, a)):
            # A party told it was on hold by the one it was bridged to before (a transfer:
            # the transferor held it first) is resumed, or held, as the one it meets now.
            wanted = "sendonly" if other.hold else "sendrecv"
            told = leg._direction()
            if leg.answered and told in ("sendonly", "sendrecv") and told != wanted:
                leg.reoffer(wanted)

    def disconnect(self, leg: Leg) -> None:
        if isinstance(leg, SipLeg):
            self.media.disconnect(leg.endpoint)

    def after(self, delay: float, action: Callable[[], None]) -> Timer:
        timer = Timer(self.clock() + delay, action)
        heapq.heappush(self._timers, timer)
        return timer

    def now(self) -> float:
        return self.clock()

    def finished(self, call: Call) -> None:
        self.calls.pop(call.id, None)
        answers: list[tuple[TransactionKey, Response]] = []
        for leg in call.legs:
            if isinstance(leg, InboundLeg):
                # Only a CANCEL looks a leg up by its INVITE, and a finished call's is
                # answered: do not keep the leg (and its INVITE) for Timer L's 32 s.
                self._inbound.pop(leg.key, None)
            if isinstance(leg, SipLeg) and leg.bye_answer is not None:
                answers.append(leg.bye_answer)
                leg.bye_answer = None
        signalling = self.signalling
        if self.publisher is not None and call.reporter is not None:
            self.publisher.ended(call)  # a call refused before it was offered: never told

        def stored() -> None:
            for key, response in answers:
                signalling.respond(key, response)

        try:
            self.on_finished(call, stored)
        except Exception:
            log.exception("could not record call %s", call.id)
            stored()
        call.dismantle()

    # -- relaying between bridged legs ---------------------------------------------

    def _peer_of(self, leg: SipLeg) -> SipLeg | None:
        bridged = leg.call.bridged
        if bridged is None or leg not in bridged:
            return None
        other = bridged[1] if bridged[0] is leg else bridged[0]
        return other if isinstance(other, SipLeg) and not other.ended else None

    def peer_held(self, leg: SipLeg) -> bool:
        """Has the party bridged to `leg` put the call on hold?"""
        other = self._peer_of(leg)
        return bool(other and other.hold)

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
        if self.on_info(leg, request):
            return
        other = self._peer_of(leg)
        if other is not None:
            other.send_info(request)

    # -- transfers -----------------------------------------------------------------

    def refer(self, leg: SipLeg, request: Request, key: TransactionKey) -> None:
        """A party's REFER: transfer the party bridged to it to the Refer-To target.

        Refused with a status and nothing changed: no single SIP Refer-To (400), no
        connected call or not a user's (403), a target the dial plan refuses (its status,
        e.g. 404 or 403 for a barred number). Else 202, a NOTIFY "100 Trying", and one
        with the outcome ("200 OK", or the failure) when it is known.
        """
        call = leg.call
        target = _refer_target(request)
        if target is None:
            self.signalling.respond(key, make_response(request, BAD_REFER.code, BAD_REFER.text))
            return
        digits, host = target
        extension = _extension_of(leg)
        bridged = call.bridged
        if (
            extension is None
            or bridged is None
            or leg not in bridged
            or not all(party.answered for party in bridged)
            or call.transferring is not None
        ):
            plan: TransferPlan | Cause = NOT_CONNECTED
        else:
            plan = self.plan_transfer(call.company_id, extension, digits, host)
        if isinstance(plan, Cause):
            self.signalling.respond(key, make_response(request, plan.code, plan.text))
            return
        dialled, handler, voicemail = plan
        accepted = make_response(request, 202)
        accepted.headers.add("Contact", self.signalling.contact(leg.peer.transport))
        self.signalling.respond(key, accepted)
        leg.notify_refer(100, "Trying")

        def report(cause: Cause) -> None:
            if cause is NORMAL:
                leg.notify_refer(200, "OK")
            else:
                leg.notify_refer(cause.code, cause.text)

        try:
            call.transfer(leg, dialled, handler, voicemail=voicemail, report=report)
        except CallError:  # (checked above)
            leg.notify_refer(500, "Server Internal Error")

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
        if leg is not None:
            leg.acknowledged(event.ack)

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


def _label(target: Target) -> str:
    return target.number if isinstance(target, Line) else target.extension


def _refer_target(request: Request) -> tuple[str, str] | None:
    """The user part and host of a REFER's one Refer-To (a SIP or tel URI); None: none."""
    values = request.headers.values("Refer-To")
    if len(values) != 1:
        return None
    try:
        uri = parse_name_addr(values[0]).uri
    except RemoteProtocolError:
        return None
    if isinstance(uri, SipURI) and uri.user:
        return uri.user, uri.host.lower().strip("[]")
    if isinstance(uri, TelURI) and uri.number:
        return uri.number, ""
    return None


def _extension_of(leg: Leg) -> str | None:
    """The user on a leg: the caller's (authenticated), or a colleague's phone rung."""
    if isinstance(leg, InboundLeg):
        return leg.user.extension if leg.user is not None else None
    target = leg.target
    return target.extension if isinstance(target, Device) else None
