"""The B2BUA (P4): every call is legs held by the switch, each its own SIP dialog.

The `B2BUA` is the call-control API's switchboard (`api.Switchboard`): it
creates the caller's leg for a new INVITE and a leg for every target a
feature dials (`calls.legs`), routes the transaction layer's events to them
by transaction key and dialog id, connects their media, relays holds and
INFO between bridged legs, and keeps the calls' timers. It opens conference rooms
(A3, U12) that legs' media join instead of a bridge (`LegRoom`). A party's REFER
transfers the call (RFC 3515, RFC 5589's blind transfer): accepted (202),
followed by NOTIFYs saying how the call to the target goes; so does the API
(`transfer_call`). A user's keys during a call may be one of the company's in-call
codes (`key_in_call`: a transfer from a phone without a transfer key, a third
party, recording), which the features carry out (`on_code`). A caller whose INVITE
asked for a `sips:` target is carried on over TLS only (O2, RFC 5630): a target
reached over a plain transport is not rung (480).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from vaxel.calls.api import (
    MEDIA_TIMEOUT,
    NORMAL,
    Call,
    CallError,
    CallEvent,
    CallHandler,
    Cause,
    Ended,
    Leg,
    LegState,
    Line,
    MediaPort,
    Offered,
    Party,
    Room,
    Target,
    Timer,
    Transfer,
    cause_of,
)
from vaxel.calls.legs import InboundLeg, OutboundLeg, SipLeg, UnreachableLeg, extension_of
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
from vaxel.sip.replaces import Replaces, parse_replaces
from vaxel.sip.sdp import Answer, IceDtls
from vaxel.sip.uri import URI, SipURI, TelURI
from vaxel.transport.base import Source

log = logging.getLogger(__name__)

RTP_TIMEOUT = 60.0  # default: an answered leg that sends no RTP for this long is hung up
MEDIA_CHECK_INTERVAL = 5.0
SHUTDOWN = Cause(503, "Service Unavailable (switch stopping)")

Report = Callable[[Cause], None]
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
# In-call codes (`key_in_call`): the most seconds between a code's keys, to wait for the
# next key of its target, and for a key's trailing packets; the most digits of a target.
CODE_GAP = 2.0
CODE_WAIT = 4.0
KEY_TAIL = 1.0
MAX_CODE = 32
NO_CALL = Cause(404, "no such call")
NOT_TALKING = Cause(409, "the call is not connected (ringing, or a transfer under way)")
NOT_A_PARTY = Cause(422, "the party named is not a user on this call")
NAME_THE_PARTY = Cause(422, "both parties are users: name the transferor as `party`")


def _no_transfers(company_id: int, extension: str, target: str, host: str) -> Cause:
    return NO_TRANSFERS


def _not_recorded(call: Call) -> None:
    pass


def _default_srtp(company_id: int, trunk: str | None) -> str:
    """SRTP when a phone offers it, plain to trunks (the assembly reads the descriptions)."""
    return "off" if trunk is not None else "optional"


def _no_codes(company_id: int) -> Mapping[str, bool]:
    return {}


def _no_code(leg: Leg, code: str, target: str) -> None:
    pass


def _not_taken(leg: Leg, request: Request) -> bool:
    return False


class Endpoint(MediaPort, Protocol):
    """A media endpoint of the switch, facing one leg's party (see `vaxel.media`)."""

    address: str
    port: int
    last_received: float  # clock time of the last RTP packet, 0 before any
    on_dtmf: Callable[[str], None]
    codec: str  # "PCMA" / "PCMU" once negotiated
    relay_events: bool  # False: the party's telephone-events are not relayed

    def configure(self, answer: Answer, *, sending: bool) -> None: ...

    def ice(self) -> IceDtls:
        """Our ICE credentials and DTLS fingerprint on this endpoint, for a browser (U1)."""
        ...

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

    def room(self) -> MixingRoom:
        """A conference room on the media clock (`media.conference.Conference`)."""
        ...


class MixingRoom(Protocol):
    """A room of endpoints (`media.conference.Conference`)."""

    def add(self, endpoint: Any, codec: str) -> None: ...

    def remove(self, endpoint: Any) -> None: ...

    def mute(self, endpoint: Any, muted: bool = True) -> None: ...

    def close(self) -> None: ...


class LegRoom:
    """`api.Room` over the media's room: a leg joins with its endpoint and codec (A3, U12)."""

    def __init__(self, media: Media[Any], room: MixingRoom) -> None:
        self.media = media
        self.room = room
        self.endpoints: dict[Leg, Endpoint] = {}

    def join(self, leg: Leg) -> bool:
        if not isinstance(leg, SipLeg) or not leg.answered or leg in self.endpoints:
            return False
        endpoint = leg.endpoint
        if endpoint.codec not in ("PCMA", "PCMU"):
            return False
        self.media.disconnect(endpoint)  # (a bridge it had, or a peer's stale link)
        self.room.add(endpoint, endpoint.codec)
        self.endpoints[leg] = endpoint
        return True

    def leave(self, leg: Leg) -> None:
        endpoint = self.endpoints.pop(leg, None)
        if endpoint is not None:
            self.room.remove(endpoint)

    def mute(self, leg: Leg, muted: bool) -> None:
        endpoint = self.endpoints.get(leg)
        if endpoint is not None:
            self.room.mute(endpoint, muted)

    def close(self) -> None:
        self.endpoints.clear()
        self.room.close()


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
        self.on_info: Callable[[Leg, Request], bool] = _not_taken
        # In-call codes (`key_in_call`): a company's, each with whether a target follows
        # it, and what to do when one was pressed (the leg, the code, its target).
        self.in_call_codes: Callable[[int], Mapping[str, bool]] = _no_codes
        self.on_code: Callable[[Leg, str, str], None] = _no_code
        # O2: a leg's SRTP policy ("off", "optional", "required", sip.sdp.SRTP_POLICIES) by
        # its company and trunk (None: a user's phone), as the description says.
        self.srtp_policy: Callable[[int, str | None], str] = _default_srtp
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
        trunk: str | None = None,
    ) -> Response | None:
        """A new INVITE (from an authenticated user, or from `trunk`): a call with its
        caller's leg, handed to the feature `decide` picks (with what was dialled).

        Returns a response only when the request is refused before any leg exists.
        """
        refusal = self._check_hops(request, source)
        if refusal is not None:
            return refusal
        if request.headers.get("Replaces") is not None:
            return self._invite_replacing(request, key, source, caller, company_id)
        call = Call(new_call_id(), company_id, self)
        call.started_at = self.clock()
        leg = InboundLeg(self, call, request, key, source, caller, trunk)
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
        if sip is not None and sip.destination.transport != "TLS" and _asks_sips(caller):
            # O2, RFC 5630: a caller who asked for sips: is never carried on over a plain
            # transport; this target cannot be rung (480, as an unregistered phone).
            sip = None
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

    def open_room(self) -> Room:
        return LegRoom(self.media, self.media.room())

    def finished(self, call: Call) -> None:
        self.calls.pop(call.id, None)
        if not call.legs:  # its one leg joined another call (`Call.adopt`): no record of its own
            call.dismantle()
            return
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
        try:
            replaces = _refer_replaces(request)
        except RemoteProtocolError:
            replaces = None
            target: tuple[str, str] | None = None
        else:
            if replaces is not None:
                self._attended(leg, request, key, replaces)
                return
            target = _refer_target(request)
        if target is None:
            self.signalling.respond(key, make_response(request, BAD_REFER.code, BAD_REFER.text))
            return
        digits, host = target
        extension = extension_of(leg)
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
        accepted.headers.add("Contact", leg.contact())
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

    # -- transfers asked for through the API (P4, P8) ---------------------------------

    def transfer_call(
        self,
        company_id: int,
        call_id: str,
        requester: str | None,
        party: str | None,
        admin: bool,
        target: str,
    ) -> tuple[str, str, str] | Cause:
        """Transfer a live call for the web (`POST /api/v1/calls/{id}/transfer`), as a REFER
        from the transferor's phone would: the same plan, refusals and outcome.

        The transferor is the user whose leg is in the call: `party` when given (an
        admin's choice), else the `requester` when they are a party, else, for an
        `admin`, the call's only user; the other party is transferred to `target`.
        Another company's call, an ended one, and a call of which a user is not a party
        are all NOT_FOUND alike. Returns (the transferor's extension, the transferred
        party, what was dialled) or why not."""
        call = self.calls.get(call_id)
        if call is None or call.company_id != company_id or call.ended_at is not None:
            return NO_CALL
        users = [
            (extension, leg)
            for leg in call.legs
            if not leg.ended and (extension := extension_of(leg)) is not None
        ]
        if not admin and not any(extension == requester for extension, _ in users):
            return NO_CALL  # a user sees only their own calls
        wanted = party or requester
        named = [(e, leg) for e, leg in users if e == wanted]
        if party is not None and not named:
            return NOT_A_PARTY
        if not named and admin:
            named = users  # an admin not on the call, naming no one: the call's user
        bridged = call.bridged
        chosen = [(e, leg) for e, leg in named if bridged is not None and leg in bridged]
        if len(chosen) != 1:
            return NOT_TALKING if not chosen else NAME_THE_PARTY
        extension, leg = chosen[0]
        if bridged is None or call.transferring is not None:
            return NOT_TALKING
        if not all(side.answered for side in bridged):
            return NOT_TALKING
        plan = self.plan_transfer(company_id, extension, target, "")
        if isinstance(plan, Cause):
            return plan
        dialled, handler, voicemail = plan
        other = bridged[1] if bridged[0] is leg else bridged[0]
        try:
            call.transfer(leg, dialled, handler, voicemail=voicemail)
        except CallError:  # (checked above)
            return NOT_TALKING
        return extension, other.party, dialled

    # -- in-call codes (P4, U12, A6): keys a user presses during a connected call -------

    def key_in_call(self, leg: SipLeg, digit: str) -> bool:
        """A key the party on `leg` pressed (RFC 4733 or INFO): True when the switch keeps
        it, as part of one of the company's in-call codes (`in_call_codes`: `##` blind
        transfer, `*2` attended, `*3` a third party, `*1` recording, by default).

        Only a user's leg in a connected call may dial one (a caller from a trunk may
        not: the target is dialled as the user would dial it). A code's keys must follow
        each other within CODE_GAP. Its first key is relayed like any key, since nothing
        yet says a code follows and holding it back would delay it for everyone (a menu
        on the other side); the keys from the second on are the switch's own. A code
        that takes a target is followed by it, up to `#` or CODE_WAIT after the last key.
        Then `on_code` does what the code says (features/in_call.py).
        """
        call = leg.call
        bridged = call.bridged
        if (
            bridged is None
            or leg not in bridged
            or call.transferring is not None
            or not all(side.answered for side in bridged)
            or extension_of(leg) is None
        ):
            if leg.code is not None:
                self._code_ended(leg, run=False)
            leg.keys = ""
            return False
        if leg.code is not None:  # the target of a code: up to `#`
            if digit == "#":
                self._code_ended(leg, run=True)
                return True
            leg.code += digit
            if leg.code_timer is not None:
                leg.code_timer.cancel()
            if len(leg.code) > MAX_CODE:
                self._code_ended(leg, run=False)
            else:
                leg.code_timer = self.after(CODE_WAIT, lambda: self._code_ended(leg, run=True))
            return True
        now = self.clock()
        keys = digit if leg.keys_at is None or now - leg.keys_at > CODE_GAP else leg.keys + digit
        leg.keys_at = now
        codes = self.in_call_codes(call.company_id)
        while keys and not any(code.startswith(keys) for code in codes):
            keys = keys[1:]  # what may still begin a code
        targeted = codes.get(keys)
        if targeted is None:
            leg.keys = keys
            # A key of its own right after a code: it goes on, though the code's last
            # key may still be sending its trailing packets (`_code_ended`).
            leg.endpoint.relay_events = True
            return False
        leg.keys, leg.code_name = "", keys
        leg.code = ""
        leg.endpoint.relay_events = False
        if targeted:
            leg.code_timer = self.after(CODE_WAIT, lambda: self._code_ended(leg, run=True))
        else:
            self._code_ended(leg, run=True)
        return True

    def _code_ended(self, leg: SipLeg, *, run: bool) -> None:
        """The code is complete (or abandoned): do what it says."""
        target, leg.code = leg.code, None
        if leg.code_timer is not None:
            leg.code_timer.cancel()
            leg.code_timer = None
        endpoint = leg.endpoint

        def relay_again() -> None:
            if leg.code is None:
                endpoint.relay_events = True

        # The last key's trailing packets (its end, sent three times) are still coming.
        leg.timers.append(self.after(KEY_TAIL, relay_again))
        if run and target is not None and not leg.ended:
            self.on_code(leg, leg.code_name, target)

    # -- attended transfer and replaced dialogs (P4, RFC 3891, RFC 5589 §7) -------------

    def _replaced_leg(self, replaces: Replaces) -> SipLeg | None:
        """The leg of the dialog a Replaces names (as the switch knows it: the to-tag is
        ours; the other way round too, as some phones write it), if it is still up."""
        for local, remote in (
            (replaces.to_tag, replaces.from_tag),
            (replaces.from_tag, replaces.to_tag),
        ):
            leg = self._dialogs.get(DialogId(replaces.call_id, local, remote))
            if leg is not None and not leg.ended:
                return leg
        return None

    def _attended(
        self, leg: SipLeg, request: Request, key: TransactionKey, replaces: Replaces
    ) -> None:
        """A REFER whose Refer-To carries Replaces: the transferor (on `leg`) talks with the
        target in a second call through the switch, which Replaces names; the switch joins
        the party bridged to `leg` with the target and ends both of the transferor's legs.

        Outside a connected call, 403 as for a blind transfer. Else 202, and the NOTIFYs
        say how it went: 200, or 481 when the dialog named is not the same user's
        connected call with someone else (unknown, ended, another user's)."""
        call = leg.call
        extension = extension_of(leg)
        bridged = call.bridged
        if (
            extension is None
            or bridged is None
            or leg not in bridged
            or not all(party.answered for party in bridged)
            or call.transferring is not None
        ):
            refused = make_response(request, NOT_CONNECTED.code, NOT_CONNECTED.text)
            self.signalling.respond(key, refused)
            return
        accepted = make_response(request, 202)
        accepted.headers.add("Contact", leg.contact())
        self.signalling.respond(key, accepted)
        leg.notify_refer(100, "Trying")
        consulted = self._replaced_leg(replaces)
        other = consulted.call if consulted is not None else None
        target = _bridged_to(consulted) if consulted is not None else None
        if (
            consulted is None
            or other is None
            or target is None
            or other is call
            or other.company_id != call.company_id
            or extension_of(consulted) != extension
            or other.transferring is not None
            or not (consulted.answered and target.answered)
        ):
            leg.notify_refer(481, "Call/Transaction Does Not Exist")
            return
        # The target leaves the consultation call, which ends with the transferor's leg.
        other.bridged = None
        self.disconnect(consulted)
        self.disconnect(target)
        other.legs.remove(target)
        other.handler = JOINED
        target.call = call
        call.legs.append(target)
        consulted.hangup(NORMAL)

        def report(cause: Cause) -> None:
            leg.notify_refer(200, "OK")

        self._join(call, leg, target, report)

    def _join(self, call: Call, old: Leg, new: Leg, report: Report) -> None:
        """`new` (answered, already one of the call's legs) takes `old`'s place in the call:
        bridged to the other party, while `old` ends aside (as a transferor's leg does, so
        the call's record goes on)."""
        bridged = call.bridged
        assert bridged is not None
        other = bridged[1] if bridged[0] is old else bridged[0]
        call.transferring = Transfer(
            old, other, False, report, call.handler, call.caller, call.dialled, bridged
        )
        call.bridged = None
        self.disconnect(old)
        self.disconnect(other)
        call.handler = JOINED
        if call.caller is old:
            call.take_as_caller(other)
        call.bridge(other, new)  # served: `old` ends, `report` is told

    def _invite_replacing(
        self,
        request: Request,
        key: TransactionKey,
        source: Source,
        caller: SipUser | None,
        company_id: int,
    ) -> Response | None:
        """An INVITE with Replaces (RFC 3891): another phone of the same user takes over a
        connected call (the party hears them instead). 481 unless the dialog named is that
        user's connected call; 486 for `early-only` (it is confirmed); 400 when the header
        is not a Replaces."""
        try:
            replaces = parse_replaces(request.headers.get("Replaces") or "")
        except RemoteProtocolError:
            return make_response(request, 400, "Bad Request (Replaces)")
        old = self._replaced_leg(replaces)
        call = old.call if old is not None else None
        if (
            old is None
            or call is None
            or caller is None
            or call.company_id != company_id
            or extension_of(old) != caller.extension
            or _bridged_to(old) is None
            or call.transferring is not None
            or not old.answered
        ):
            return make_response(request, 481)
        if replaces.early_only:
            return make_response(request, 486)
        scratch = Call(new_call_id(), company_id, self)  # until the offer is known to fit
        scratch.started_at = self.clock()
        leg = InboundLeg(self, scratch, request, key, source, caller)
        self._inbound[key] = leg
        self.signalling.own(key, self._inbound_event)
        error = leg.accept_offer()
        if error is not None:
            self.signalling.respond(key, error)
            leg._end(cause_of(error.status, error.reason), "switch", inp="reject")
            return None
        scratch.legs.remove(leg)
        leg.call = call
        call.legs.append(leg)
        leg.answer()
        self._join(call, old, leg, _ignore_report)
        return None

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
        """End answered calls whose parties stopped sending RTP (a phone that vanished): a
        leg that sent nothing yet is given the timeout from its own answer (an agent who
        takes a queue's caller after a long wait is not cut off at once)."""
        for call in list(self.calls.values()):
            for leg in call.legs:
                if not isinstance(leg, SipLeg) or leg.state is not LegState.ANSWERED or leg.hold:
                    continue
                since = leg.endpoint.last_received or leg.answered_at or call.answered_at or now
                if now - since >= self.rtp_timeout:
                    call.hangup(MEDIA_TIMEOUT)
                    break

    def flow_failed(self, source: Source) -> None:
        """The flow to `source` failed (a WebSocket closed): its legs end (`SipLeg.flow_failed`),
        so the calls and the users' lines do not wait for a party that is gone."""
        for call in list(self.calls.values()):
            for leg in list(call.legs):
                if isinstance(leg, SipLeg) and leg.peer == source and not leg.ended:
                    leg.flow_failed()

    def shutdown(self) -> None:
        """The switch is stopping: end every call, telling each party why."""
        for call in list(self.calls.values()):
            call.hangup(SHUTDOWN)


def _asks_sips(caller: Leg | Party) -> bool:
    """Did the caller's INVITE ask for a sips: target (TLS on every hop, RFC 5630)?"""
    return isinstance(caller, InboundLeg) and caller.invite.uri.scheme == "sips"


def _label(target: Target) -> str:
    return target.number if isinstance(target, Line) else target.extension


def _refer_target(request: Request) -> tuple[str, str] | None:
    """The user part and host of a REFER's one Refer-To (a SIP or tel URI); None: none."""
    values = request.headers.values("Refer-To")
    if len(values) != 1:
        return None
    try:
        uri = _refer_to_uri(values[0])
    except RemoteProtocolError:
        return None
    if isinstance(uri, SipURI) and uri.user:
        return uri.user, uri.host.lower().strip("[]")
    if isinstance(uri, TelURI) and uri.number:
        return uri.number, ""
    return None


def _refer_replaces(request: Request) -> Replaces | None:
    """The Replaces in a REFER's one Refer-To (attended transfer), None when there is
    none; RemoteProtocolError when it is there but is not one."""
    values = request.headers.values("Refer-To")
    if len(values) != 1:
        return None
    uri = _refer_to_uri(values[0])
    if not isinstance(uri, SipURI):
        return None
    for name, value in uri.headers:
        if name.lower() == "replaces":
            return parse_replaces(value)
    return None


def _refer_to_uri(value: str) -> URI:
    """A Refer-To's URI. Some phones (pjsua2) send one with URI headers (`?Replaces=`)
    without the angle brackets RFC 3261 §20 asks for: taken as if they were there."""
    try:
        return parse_name_addr(value).uri
    except RemoteProtocolError:
        if "<" in value:
            raise
        return parse_name_addr(f"<{value.strip()}>").uri


def _bridged_to(leg: Leg) -> Leg | None:
    """The party `leg` is bridged to in its call, both answered; None when not so."""
    bridged = leg.call.bridged
    if bridged is None or leg not in bridged:
        return None
    other = bridged[1] if bridged[0] is leg else bridged[0]
    return other if leg.answered and other.answered and not other.ended else None


class Joined:
    """Serves a call whose two parties the switch joined itself (an attended transfer, a
    replaced dialog): when either leaves, the call ends."""

    answerer = ""

    def on_event(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, Ended):
            call.hangup(event.cause if event.by == "switch" else NORMAL)


JOINED = Joined()


def _ignore_report(cause: Cause) -> None:
    pass
