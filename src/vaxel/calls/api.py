"""The call-control API: calls, legs, the events they report and the actions on them (P4).

Every call is two or more legs held by the switch. A leg is one party's
side of the call (a SIP dialog and a media endpoint); legs never talk to
each other directly. A feature (ringing a user, a menu, a queue, voicemail)
owns a `Call`, receives its events (offered, ringing, answered, DTMF,
updated, ended with a cause) and acts on legs (ring, answer, reject,
hang up) and on the call (dial, fork, bridge, timers). This is the
vocabulary of sippy's B2BUA call controller (try = `Offered`, ring and
early media = `Ringing`, answer, update, DTMF, end with a cause), without
SIP in it: the `calls.b2bua` module turns it into SIP, `media` into RTP.
Whom a call rings is named without SIP too (`Device`, `Line`); the switch
finds their addresses. Legs also play prompts, collect keys and record.

A leg's media may go to a conference room instead of a bridge (A3, U12):
`Switchboard.open_room` gives a `Room` that answered legs join and leave.

A party of a bridged call may be transferred (P4, RFC 5589's blind transfer):
`Call.transfer` gives the other party to a new feature as the call's caller,
while the transferor's leg waits aside; the first answer ends the transferor's
leg, a failure bridges the two parties again (or ends the call) and says why.

A call ringing a phone may be taken by another phone of the company (P4, U5 pickup):
`Call.adopt` moves the picker's leg, the caller's leg of their own call to the pickup
code, into the call that rings; the feature ringing it bridges the caller to them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Literal, Protocol

from mypy_extensions import mypyc_attr

from vaxel.media.player import Player, Samples, load_prompt
from vaxel.media.recorder import Recorder
from vaxel.services.users import DEFAULT_RING_SECONDS

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.

Disposition = Literal["answered", "busy", "no-answer", "canceled", "failed"]
Side = Literal["caller", "callee", "switch"]


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a leg ended: the SIP status that says it, and how a call record files it."""

    code: int
    text: str
    disposition: Disposition = "failed"

    def __init__(self, code: int, text: str, disposition: Disposition = "failed") -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "disposition", disposition)

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


NORMAL = Cause(200, "Normal clearing", "answered")
ELSEWHERE = Cause(200, "Call completed elsewhere", "answered")
BUSY = Cause(486, "Busy Here", "busy")
DECLINED = Cause(603, "Decline", "busy")
NO_ANSWER = Cause(480, "No Answer", "no-answer")
UNAVAILABLE = Cause(480, "Temporarily Unavailable", "failed")
CANCELED = Cause(487, "Request Terminated", "canceled")
NOT_FOUND = Cause(404, "Not Found", "failed")
TIMEOUT = Cause(408, "Request Timeout", "no-answer")
MEDIA_TIMEOUT = Cause(408, "Media Timeout (no RTP)", "answered")
FAILURE = Cause(500, "Server Internal Error", "failed")
PICKED_UP = Cause(200, "Call picked up", "answered")  # a pickup code's call, merged (P4)

_BY_STATUS = {486: BUSY, 600: BUSY, 603: DECLINED, 480: UNAVAILABLE, 487: CANCELED, 404: NOT_FOUND}


def cause_of(status: int, reason: str = "") -> Cause:
    """The cause a final SIP status of a leg stands for."""
    known = _BY_STATUS.get(status)
    if known is not None:
        return known
    return Cause(status, reason or "Failed", "no-answer" if status == 408 else "failed")


# -- who a call can ring -------------------------------------------------------------
# No SIP here: the switch finds the address, transport and credentials of a target
# when it dials it (calls.router).


@dataclass(frozen=True, slots=True)
class Device:
    """One phone a user registered: what a feature rings to reach them."""

    user_id: int
    extension: str
    name: str  # the user's display name
    domain: str  # their company's domain
    binding: str  # which of the user's registrations (opaque to features)

    def __init__(self, user_id: int, extension: str, name: str, domain: str, binding: str) -> None:
        object.__setattr__(self, "user_id", user_id)
        object.__setattr__(self, "extension", extension)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "domain", domain)
        object.__setattr__(self, "binding", binding)


@dataclass(frozen=True, slots=True)
class Line:
    """A number called out through one of the company's trunks, and the caller ID it shows."""

    company_id: int
    trunk: str  # the trunk's name in the company's description
    number: str  # E.164
    caller_id: str | None

    def __init__(self, company_id: int, trunk: str, number: str, caller_id: str | None) -> None:
        object.__setattr__(self, "company_id", company_id)
        object.__setattr__(self, "trunk", trunk)
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "caller_id", caller_id)


Target = Device | Line


@dataclass(frozen=True, slots=True)
class Reach:
    """Where a user can be rung now: their phones and for how long, or why not."""

    extension: str
    devices: tuple[Device, ...] = ()
    ring_seconds: int = DEFAULT_RING_SECONDS
    refusal: Cause | None = None

    def __init__(
        self,
        extension: str,
        devices: tuple[Device, ...] = (),
        ring_seconds: int = DEFAULT_RING_SECONDS,
        refusal: Cause | None = None,
    ) -> None:
        object.__setattr__(self, "extension", extension)
        object.__setattr__(self, "devices", devices)
        object.__setattr__(self, "ring_seconds", ring_seconds)
        object.__setattr__(self, "refusal", refusal)


class CallError(Exception):
    """A feature asked a leg for something it cannot do (a programming error)."""


class LegState(Enum):
    CALLING = "calling"  # outbound: INVITE sent, nothing heard yet
    OFFERED = "offered"  # inbound: INVITE received, not answered yet
    RINGING = "ringing"  # 180 (inbound: we said it; outbound: the callee did)
    EARLY = "early"  # 183 with early media
    ANSWERED = "answered"
    ENDED = "ended"


# -- events ---------------------------------------------------------------------


class CallEvent:
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Offered(CallEvent):
    """A new inbound leg: someone is calling and waits for ring/answer/reject."""

    leg: Leg

    def __init__(self, leg: Leg) -> None:
        object.__setattr__(self, "leg", leg)


@dataclass(frozen=True, slots=True)
class Ringing(CallEvent):
    """An outbound leg rings (180), or plays early media (183 with SDP)."""

    leg: Leg
    early_media: bool

    def __init__(self, leg: Leg, early_media: bool) -> None:
        object.__setattr__(self, "leg", leg)
        object.__setattr__(self, "early_media", early_media)


@dataclass(frozen=True, slots=True)
class Answered(CallEvent):
    leg: Leg

    def __init__(self, leg: Leg) -> None:
        object.__setattr__(self, "leg", leg)


@dataclass(frozen=True, slots=True)
class Dtmf(CallEvent):
    """A key the party on `leg` pressed (RFC 4733, or in-band later)."""

    leg: Leg
    digit: str

    def __init__(self, leg: Leg, digit: str) -> None:
        object.__setattr__(self, "leg", leg)
        object.__setattr__(self, "digit", digit)


@dataclass(frozen=True, slots=True)
class Updated(CallEvent):
    """The party on `leg` put the call on hold (`hold`) or resumed it."""

    leg: Leg
    hold: bool

    def __init__(self, leg: Leg, hold: bool) -> None:
        object.__setattr__(self, "leg", leg)
        object.__setattr__(self, "hold", hold)


@dataclass(frozen=True, slots=True)
class Ended(CallEvent):
    """`leg` is gone. `by` says who ended it: its party, or the switch."""

    leg: Leg
    cause: Cause
    by: Literal["party", "switch"]

    def __init__(self, leg: Leg, cause: Cause, by: Literal["party", "switch"]) -> None:
        object.__setattr__(self, "leg", leg)
        object.__setattr__(self, "cause", cause)
        object.__setattr__(self, "by", by)


@dataclass(frozen=True, slots=True)
class PlayFinished(CallEvent):
    """What `leg.play()` started has ended: played out, or cut short by a key."""

    leg: Leg
    interrupted: bool

    def __init__(self, leg: Leg, interrupted: bool) -> None:
        object.__setattr__(self, "leg", leg)
        object.__setattr__(self, "interrupted", interrupted)


@dataclass(frozen=True, slots=True)
class DigitsCollected(CallEvent):
    """What `leg.collect()` gathered, and why it stopped: "complete" (max digits),
    "terminator" (# pressed, not included), "timeout" (nothing, or a pause too long)."""

    leg: Leg
    digits: str
    reason: Literal["complete", "terminator", "timeout"]

    def __init__(
        self,
        leg: Leg,
        digits: str,
        reason: Literal["complete", "terminator", "timeout"],
    ) -> None:
        object.__setattr__(self, "leg", leg)
        object.__setattr__(self, "digits", digits)
        object.__setattr__(self, "reason", reason)


@dataclass(frozen=True, slots=True)
class RecordFinished(CallEvent):
    """What `leg.record()` wrote, and why it stopped: the stop key, "max-length",
    "silence", "hangup" or "stopped" (by the feature)."""

    leg: Leg
    path: Path
    seconds: float
    reason: str

    def __init__(self, leg: Leg, path: Path, seconds: float, reason: str) -> None:
        object.__setattr__(self, "leg", leg)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "seconds", seconds)
        object.__setattr__(self, "reason", reason)


class CallHandler(Protocol):
    """What a feature implements: it gets every event of the calls it owns."""

    @property
    def answerer(self) -> str:
        """Who the call record names when the switch answers the call for this handler
        (a menu, a voicemail box, a queue), e.g. "menu main"."""
        ...

    def on_event(self, call: Call, event: CallEvent) -> None: ...


# -- legs -----------------------------------------------------------------------


class MediaPort(Protocol):
    """The switch's media endpoint facing a leg's party (see `vaxel.media.endpoint`)."""

    dtmf_pt: int  # negative when the party has no RFC 4733 telephone-events
    telephone_events_seen: bool  # the party has sent RFC 4733 events on this call
    sinks: list[Callable[[Samples], None]]

    def play(self, player: Player, on_done: Callable[[], None]) -> None: ...

    def stop_playing(self) -> bool: ...


@dataclass(eq=False)
class _Collection:
    """Digits being collected on a leg, with the timer that ends the wait."""

    max_digits: int
    inter_digit: float
    terminator: str
    digits: str = ""
    timer: Timer | None = None
    detector: Callable[[Samples], None] | None = None

    def __init__(
        self,
        max_digits: int,
        inter_digit: float,
        terminator: str,
        digits: str = "",
        timer: Timer | None = None,
        detector: Callable[[Samples], None] | None = None,
    ) -> None:
        self.max_digits = max_digits
        self.inter_digit = inter_digit
        self.terminator = terminator
        self.digits = digits
        self.timer = timer
        self.detector = detector


@dataclass(eq=False)
class _Recording:
    recorder: Recorder
    stop_on: str
    sink: Callable[[Samples], None]

    def __init__(self, recorder: Recorder, stop_on: str, sink: Callable[[Samples], None]) -> None:
        self.recorder = recorder
        self.stop_on = stop_on
        self.sink = sink


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled (vaxel.native); tests subclass it
class Leg(ABC):
    """One party's side of a call; the SIP details live in a subclass.

    Actions never fail on state: ringing a ringing leg says it once, and
    nothing acts on an ended leg, so features need no defensive checks.
    """

    direction: Literal["inbound", "outbound"]

    def __init__(self, call: Call, party: str, party_name: str = "") -> None:
        self.call = call
        self.party = party  # who is on this leg: an extension or a URI
        self.party_name = party_name
        self.state = LegState.OFFERED if self.direction == "inbound" else LegState.CALLING
        self.cause: Cause | None = None
        self.target: Target | None = None  # outbound: the device or number dialled
        self.media: MediaPort | None = None
        self._interruptible = False
        self._collection: _Collection | None = None
        self._recording: _Recording | None = None
        call.legs.append(self)

    @property
    def ended(self) -> bool:
        return self.state is LegState.ENDED

    @property
    def answered(self) -> bool:
        return self.state is LegState.ANSWERED

    @abstractmethod
    def ring(self, *, early_media: bool = False) -> None:
        """Tell an inbound caller the call rings (180), or connect early media (183)."""

    @abstractmethod
    def answer(self) -> None:
        """Answer an inbound leg (200 with the switch's SDP)."""

    @abstractmethod
    def reject(self, cause: Cause) -> None:
        """Refuse an unanswered inbound leg with the cause's status."""

    @abstractmethod
    def hangup(self, cause: Cause = NORMAL) -> None:
        """End the leg in whatever state: BYE, CANCEL (with a Reason) or a final answer."""

    # -- media actions: what the switch plays to, and hears from, this party --------

    def play(
        self, prompts: Sequence[str | Path], *, loop: bool = False, interruptible: bool = True
    ) -> None:
        """Play WAV prompts in order (again and again if `loop`); `PlayFinished` at the end.

        A key the party presses stops an interruptible playback. Raises
        `PromptError` for a missing or unusable file, before anything changes.
        """
        samples = [load_prompt(prompt) for prompt in prompts]
        if self.ended or self.media is None:
            return
        self.media.stop_playing()
        self._interruptible = interruptible
        self.media.play(
            Player(samples, loop=loop), lambda: self.call.emit(PlayFinished(self, False))
        )

    def stop_playing(self) -> bool:
        """Stop the current playback quietly (no `PlayFinished`); True if one was playing."""
        return self.media is not None and self.media.stop_playing()

    def collect(
        self,
        *,
        max_digits: int = 1,
        timeout: float = 5.0,
        inter_digit: float = 3.0,
        terminator: str = "#",
    ) -> None:
        """Gather keys (RFC 4733 events, or tones in the audio from a phone that sends none);
        `DigitsCollected` when `max_digits` arrived, the terminator was pressed, or the first
        key took longer than `timeout` / a later one longer than `inter_digit`."""
        self._stop_collecting()
        collection = _Collection(max_digits, inter_digit, terminator)
        self._collection = collection
        collection.timer = self.call.after(timeout, lambda: self._collected("timeout"))
        if self.media is not None:
            from vaxel.rtp.inband import DtmfDetector

            detector = DtmfDetector()
            media = self.media

            def listen(samples: Samples) -> None:
                # Tones in the audio count unless the phone sends RFC 4733 events (then the
                # same key would arrive twice): keys from a played WAV work either way.
                for digit in detector.feed(samples):
                    if not media.telephone_events_seen:
                        self.dtmf(digit)

            collection.detector = listen
            self.media.sinks.append(listen)

    def record(
        self,
        path: str | Path,
        *,
        max_seconds: float = 120.0,
        silence_seconds: float = 5.0,
        stop_on: str = "#",
    ) -> None:
        """Record what the party says into a WAV file; `RecordFinished` when it stops."""
        if self.ended or self.media is None:
            return
        self.stop_recording()
        recorder = Recorder(path, max_seconds=max_seconds, silence_seconds=silence_seconds)

        def sink(samples: Samples) -> None:
            reason = recorder.feed(samples)
            if reason is not None:
                self.stop_recording(reason)

        self._recording = _Recording(recorder, stop_on, sink)
        self.media.sinks.append(sink)

    def stop_recording(self, reason: str = "stopped") -> None:
        recording = self._recording
        if recording is None:
            return
        self._recording = None
        if self.media is not None and recording.sink in self.media.sinks:
            self.media.sinks.remove(recording.sink)
        recording.recorder.close()
        recorder = recording.recorder
        self.call.emit(RecordFinished(self, recorder.path, recorder.seconds, reason))

    # -- what the subclasses report ------------------------------------------------

    def dtmf(self, digit: str) -> None:
        """The party pressed a key: it may cut a prompt short, end a recording, complete a
        collection; the feature gets the `Dtmf` event first."""
        if self._interruptible and self.stop_playing():
            self.call.emit(PlayFinished(self, True))
        self.call.emit(Dtmf(self, digit))
        recording = self._recording
        if recording is not None and digit in recording.stop_on:
            self.stop_recording(digit)
            return  # the key ended the recording: it is not also the next menu's choice
        collection = self._collection
        if collection is None:
            return
        if digit == collection.terminator:
            self._collected("terminator")
            return
        collection.digits += digit
        if len(collection.digits) >= collection.max_digits:
            self._collected("complete")
        elif collection.timer is not None:
            collection.timer.cancel()
            collection.timer = self.call.after(
                collection.inter_digit, lambda: self._collected("timeout")
            )

    def _collected(self, reason: Literal["complete", "terminator", "timeout"]) -> None:
        collection = self._collection
        if collection is None:
            return
        self._stop_collecting()
        self.call.emit(DigitsCollected(self, collection.digits, reason))

    def _stop_collecting(self) -> None:
        collection = self._collection
        if collection is None:
            return
        self._collection = None
        if collection.timer is not None:
            collection.timer.cancel()
        media = self.media
        if media is not None and collection.detector in media.sinks:
            media.sinks.remove(collection.detector)

    def media_ended(self) -> None:
        """The leg is ending: stop what plays, close a recording (reason "hangup")."""
        self.stop_playing()
        self._stop_collecting()
        self.stop_recording("hangup")

    def dismantle(self) -> None:
        """Drop what ties the leg back to its call (see `Call.dismantle`)."""
        self.media = None
        self._collection = None
        self._recording = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.direction} {self.party} {self.state.value}>"


# -- calls ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    """Who a device is told is calling, on a call the switch places itself (click-to-call:
    the phone shows whom it is about to call); otherwise a leg's INVITE names the caller."""

    party: str
    party_name: str = ""

    def __init__(self, party: str, party_name: str = "") -> None:
        object.__setattr__(self, "party", party)
        object.__setattr__(self, "party_name", party_name)


class Switchboard(Protocol):
    """What a call needs from the switch: dial devices, connect media, keep time."""

    def dial(self, call: Call, target: Target, caller: Leg | Party) -> Leg: ...

    def connect(self, a: Leg, b: Leg) -> None: ...

    def disconnect(self, leg: Leg) -> None: ...

    def after(self, delay: float, action: Callable[[], None]) -> Timer: ...

    def now(self) -> float: ...

    def finished(self, call: Call) -> None: ...

    def offered(self, call: Call) -> None: ...

    def originate(self, company_id: int, handler: CallHandler) -> Call:
        """A call the switch places itself: `handler` places its first legs (`Call.place`)
        and becomes its feature (click-to-call, a queue's callback)."""
        ...

    def open_room(self) -> Room:
        """A new conference room of the media engine (A3, U12: see `Room`)."""
        ...


Report = Callable[[Cause], None]


def _ignore_report(cause: Cause) -> None:
    pass


@dataclass(eq=False)
class Transfer:
    """A transfer under way: `transferee` is being connected to someone else on behalf of
    `transferor`, whose leg waits aside; what the call was before, to go back to."""

    transferor: Leg
    transferee: Leg
    voicemail: bool  # a target who does not answer sends the call to their voicemail
    report: Report  # told once how it went: NORMAL when answered, else the failure's cause
    handler: CallHandler | None
    caller: Leg
    dialled: str
    bridged: tuple[Leg, Leg]

    def __init__(
        self,
        transferor: Leg,
        transferee: Leg,
        voicemail: bool,
        report: Report,
        handler: CallHandler | None,
        caller: Leg,
        dialled: str,
        bridged: tuple[Leg, Leg],
    ) -> None:
        self.transferor = transferor
        self.transferee = transferee
        self.voicemail = voicemail
        self.report = report
        self.handler = handler
        self.caller = caller
        self.dialled = dialled
        self.bridged = bridged


class CallReporter(Protocol):
    """Who tells the world about a call's progress (the live events of P8, `calls.publish`).
    A call without one (in a unit test) reports nothing."""

    def ringing(self, call: Call, leg: Leg) -> None: ...

    def answered(self, call: Call) -> None: ...

    def held(self, call: Call, leg: Leg, hold: bool) -> None: ...

    def left(self, call: Call, leg: Leg, by: str) -> None: ...

    def ended(self, call: Call) -> None: ...


# -- call recording (A6) ------------------------------------------------------------


class CallRecorder(Protocol):
    """A call's recording (`media.call_recording.CallRecording`): it listens to whichever
    two parties the call bridges (the caller's side first), and is closed when the call
    ends. The call tells it; what it writes and where is its own business."""

    def attach(self, caller: MediaPort | None, callee: MediaPort | None) -> None: ...

    def detach(self) -> None: ...

    def close(self) -> None: ...


def _nothing() -> None:
    pass


class Timer:
    """A pending callback; `cancel()` it when it is no longer wanted."""

    __slots__ = ("action", "cancelled", "deadline")

    def __init__(self, deadline: float, action: Callable[[], None]) -> None:
        self.deadline = deadline
        self.action = action
        self.cancelled = False

    def cancel(self) -> None:
        """Never run it; and let go of what it would have run (its closure may hold a
        whole call, and the timer waits in the heap until its deadline)."""
        self.cancelled = True
        self.action = _nothing

    def __lt__(self, other: Timer) -> bool:
        return self.deadline < other.deadline


@dataclass(eq=False)
class Call:
    """One call: its legs, who owns it, and what its call record will say."""

    id: str
    company_id: int
    switchboard: Switchboard
    handler: CallHandler | None = None
    legs: list[Leg] = field(default_factory=list)
    bridged: tuple[Leg, Leg] | None = None
    started_at: float = 0.0
    answered_at: float | None = None
    ended_at: float | None = None
    answered_by: str = ""
    hangup_side: Side = "switch"
    cause: Cause | None = None
    dialled: str = ""  # what the caller dialled
    steps: int = 0  # hand-overs without the caller choosing anything (a loop guard)
    reporter: CallReporter | None = None  # the live events (set by the switch)
    reported_answerer: str | None = None  # who the last "answered" event named
    transferring: Transfer | None = None  # a transfer under way (`transfer`)
    recorder: CallRecorder | None = None  # A6: the call is being recorded (`record_call`)

    def __init__(
        self,
        id: str,
        company_id: int,
        switchboard: Switchboard,
        handler: CallHandler | None = None,
        legs: list[Leg] | None = None,
        bridged: tuple[Leg, Leg] | None = None,
        started_at: float = 0.0,
        answered_at: float | None = None,
        ended_at: float | None = None,
        answered_by: str = "",
        hangup_side: Side = "switch",
        cause: Cause | None = None,
        dialled: str = "",
        steps: int = 0,
    ) -> None:
        self.id = id
        self.company_id = company_id
        self.switchboard = switchboard
        self.handler = handler
        self.legs = [] if legs is None else legs
        self.bridged = bridged
        self.started_at = started_at
        self.answered_at = answered_at
        self.ended_at = ended_at
        self.answered_by = answered_by
        self.hangup_side = hangup_side
        self.cause = cause
        self.dialled = dialled
        self.steps = steps
        self.reporter = None
        self.reported_answerer = None
        self.transferring = None
        self.recorder = None

    @property
    def caller(self) -> Leg:
        return self.legs[0]

    # -- actions ------------------------------------------------------------

    def dial(self, target: Target) -> Leg:
        """Start an outbound leg to one device."""
        return self.switchboard.dial(self, target, self.caller)

    def place(self, target: Target, shown: Party) -> Leg:
        """Start an outbound leg on a call the switch places itself (no caller's leg yet):
        the device is told `shown` is calling."""
        return self.switchboard.dial(self, target, shown)

    def take_as_caller(self, leg: Leg) -> None:
        """On a call the switch placed, the party who answered first becomes its caller:
        what follows (dialling the number they asked for) is as if they had dialled it."""
        self.legs.remove(leg)
        self.legs.insert(0, leg)

    def hand_over(self, dialled: str, handler: CallHandler) -> None:
        """A placed call now has its caller: from here `handler` serves it, as it would a
        caller who dialled `dialled`."""
        self.dialled, self.handler = dialled, handler
        self.switchboard.offered(self)

    def transfer(
        self,
        leg: Leg,
        dialled: str,
        handler: CallHandler,
        *,
        voicemail: bool = False,
        report: Report = _ignore_report,
    ) -> None:
        """Blind transfer: the party bridged to `leg` (the transferor's) becomes the call's
        caller and `handler` serves it, as if they had dialled `dialled` (they hear what a
        caller hears: ringback). `leg` waits aside meanwhile. The first answer (a person
        bridged in, or a feature that serves the caller itself, such as voicemail) ends
        `leg` and reports NORMAL; a failure reports its cause and bridges the two parties
        again, unless `voicemail` (a target who does not answer sends the call to their
        voicemail, when they have it) or the transferor hung up meanwhile. Raises
        `CallError` unless `leg` is bridged to an answered party and no transfer is under
        way."""
        bridged = self.bridged
        if bridged is None or leg not in bridged or self.transferring is not None:
            raise CallError("only a party of a connected call can be transferred")
        other = bridged[1] if bridged[0] is leg else bridged[0]
        if not (leg.answered and other.answered):
            raise CallError("only a party of a connected call can be transferred")
        self.transferring = Transfer(
            leg, other, voicemail, report, self.handler, self.caller, self.dialled, bridged
        )
        self.unbridge()  # (ringback and the transferor aside are not recorded)
        self.take_as_caller(other)
        self.dialled, self.handler = dialled, handler
        handler.on_event(self, Offered(other))
        # Read again through a call: the handler may have ended the transfer already (a park
        # with no free orbit), and mypy's narrowing from the assignment above would make the
        # compiled code expect a Transfer here.
        transfer = self._transfer_under_way()
        if transfer is not None and transfer.handler is not handler and handler.answerer:
            self.transfer_served()  # a menu, a voicemail box: it answers at once

    def _transfer_under_way(self) -> Transfer | None:
        return self.transferring

    def transfer_served(self) -> None:
        """The transferee is served now (bridged to someone who answered, or by a feature
        of the switch): the transfer succeeded, the transferor's leg ends."""
        transfer = self.transferring
        if transfer is None or transfer.transferee.ended:
            return
        transfer.report(NORMAL)
        transfer.transferor.hangup(NORMAL)  # (still aside: its end is not the call's)
        self.transferring = None

    def transfer_returns(self) -> bool:
        """Would a transfer under way go back to its transferor if it failed now?"""
        transfer = self.transferring
        return transfer is not None and not transfer.voicemail and not transfer.transferor.ended

    def _transfer_failed(self, transfer: Transfer, cause: Cause) -> bool:
        """The transfer's target cannot be reached: bridge the two parties again, as before
        (True), unless one of them is gone (False: the call ends)."""
        self.transferring = None
        transfer.report(cause if cause.code >= 300 else CANCELED)
        if transfer.transferor.ended or transfer.transferee.ended:
            return False
        for leg in self.legs:
            if leg is not transfer.transferor and leg is not transfer.transferee:
                leg.hangup(cause)
        self.handler, self.dialled = transfer.handler, transfer.dialled
        self.take_as_caller(transfer.caller)
        self.bridge(*transfer.bridged)
        return True

    def fork(self, targets: list[Target]) -> list[Leg]:
        """Ring several devices in parallel (P3: a user's phones)."""
        return [self.dial(target) for target in targets]

    def bridge(self, a: Leg, b: Leg) -> None:
        """Connect two legs: their media flows between them, holds and DTMF are relayed."""
        self.bridged = (a, b)
        a.stop_playing()  # what the switch played while they waited (ringback, music)
        b.stop_playing()
        self.switchboard.connect(a, b)
        if self.recorder is not None:
            self._record_bridge()
        transfer = self.transferring
        if transfer is not None and transfer.transferee in (a, b) and a.answered and b.answered:
            self.transfer_served()
        if a.answered and b.answered:
            # A person took the call: the record names them, even when the switch
            # answered first (a queue, a menu), whose answer the duration counts from.
            self.answered_by = b.party if a is self.caller else a.party
            if self.answered_at is None:
                self.answered_at = self.switchboard.now()
            reporter = self.reporter
            if reporter is not None and self.reported_answerer != self.answered_by:
                self.reported_answerer = self.answered_by
                reporter.answered(self)

    def unbridge(self) -> None:
        """The bridged parties no longer hear each other: each may be played to, or
        bridged anew (a consultation, a transfer). A recording pauses until then."""
        bridged = self.bridged
        if bridged is None:
            return
        self.bridged = None
        if self.recorder is not None:
            self.recorder.detach()
        for leg in bridged:
            self.switchboard.disconnect(leg)

    def going_on(self) -> None:
        """A leg ended, yet the call goes on (a third party who left or never answered,
        a transferor who handed the call over): how the call ended is for a later end
        to say."""
        if self.ended_at is None:
            self.cause = None
            self.hangup_side = "switch"

    def answered_here(self, leg: Leg) -> None:
        """The switch answered the caller's leg itself (a menu, voicemail, a queue, or to
        bridge it): the call counts as answered from now, by whoever serves it."""
        if self.answered_at is None and leg is self.caller:
            self.answered_at = self.switchboard.now()
            handler = self.handler
            self.answered_by = handler.answerer if handler is not None else ""
            reporter = self.reporter
            # When a device's answer made the switch answer the caller, a person is about
            # to be bridged in: that bridge reports the answer, naming them.
            if reporter is not None and not any(other.answered for other in self.legs[1:]):
                self.reported_answerer = self.answered_by
                reporter.answered(self)

    def after(self, delay: float, action: Callable[[], None]) -> Timer:
        return self.switchboard.after(delay, action)

    def hangup(self, cause: Cause = NORMAL) -> None:
        """End every leg that is still up; during a transfer, the transfer failed instead
        (its two parties are bridged again, unless the company chose otherwise)."""
        transfer = self.transferring
        if transfer is not None and self._transfer_failed(transfer, cause):
            return
        for leg in self.legs:
            if not leg.ended:
                leg.hangup(cause)

    # -- pickup (P4, U5): a phone of the company takes a call ringing another ---------

    def adopt(self, leg: Leg) -> None:
        """`leg`, the unanswered caller's leg of another call of the company (a phone that
        dialled a pickup code), becomes a leg of this call: its events come here from now
        on. Its own call, left without legs, is over; it has no record of its own (what it
        became is this call, whose record names who answered)."""
        old = leg.call
        if old is self:
            return
        if len(old.legs) == 1 and old.ended_at is None:
            # Its watchers see it end (the picker's line), before its leg moves.
            old.ended_at = self.switchboard.now()
            old.cause = PICKED_UP
            reporter = old.reporter
            if reporter is not None:
                reporter.ended(old)
        old.legs.remove(leg)
        if old.bridged is not None and leg in old.bridged:
            old.bridged = None
        leg.call = self
        self.legs.append(leg)
        if not old.legs:
            self.switchboard.finished(old)

    # -- call recording (A6) --------------------------------------------------

    def record_call(self, recorder: CallRecorder) -> None:
        """Record the call from now with `recorder` (it replaces one already running):
        the bridged parties now, whoever is bridged later; closed when the call ends."""
        if self.recorder is not None and self.recorder is not recorder:
            self.recorder.close()
        self.recorder = recorder
        if self.bridged is not None:
            self._record_bridge()

    def stop_recording_call(self) -> None:
        """The recording ends here (the file is complete); the call goes on."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.close()

    def _record_bridge(self) -> None:
        """Tell the recording who talks now: the caller's side first."""
        bridged, recorder = self.bridged, self.recorder
        if bridged is None or recorder is None:
            return
        a, b = bridged
        if b is self.caller:
            a, b = b, a
        recorder.attach(a.media, b.media)

    # -- what the legs report -----------------------------------------------

    def emit(self, event: CallEvent) -> None:
        if self.ended_at is not None and not self.legs:
            return  # dismantled: a late message of a finished call changes nothing
        transfer = self.transferring
        aside = transfer is not None and _leg_of(event) is transfer.transferor
        if isinstance(event, Ended) and not aside:
            self._note_end(event)  # (the transferor's leg ending does not end the call)
        elif isinstance(event, Ringing) and self.reporter is not None:
            self.reporter.ringing(self, event.leg)
        elif isinstance(event, Updated) and self.reporter is not None:
            self.reporter.held(self, event.leg, event.hold)
        if aside:
            pass  # the transferor's leg waits aside: the feature serving the call is not told
        elif self.handler is not None:
            self.handler.on_event(self, event)
        if not isinstance(event, Ended) or self.ended_at is not None:
            return
        if not all(leg.ended for leg in self.legs):
            if self.reporter is not None:  # one party left; the call goes on
                self.reporter.left(self, event.leg, event.by)
        else:
            self.ended_at = self.switchboard.now()
            if self.recorder is not None:
                self.recorder.close()  # complete before the call's record is stored
            self.switchboard.finished(self)

    def dismantle(self) -> None:
        """Break the call's reference cycles once it is finished and recorded.

        A call, its legs, their media callbacks and its feature refer to each
        other; without this they wait for a full garbage collection, which at
        hundreds of calls a second means gigabytes and a long pause.
        """
        self.handler = None
        self.bridged = None
        self.transferring = None
        self.recorder = None
        for leg in self.legs:
            leg.dismantle()
        self.legs.clear()

    def _note_end(self, event: Ended) -> None:
        """The first leg to end while answered (or the caller's, unanswered) says how it ended."""
        leg = event.leg
        if self.bridged is not None and leg in self.bridged:
            self.switchboard.disconnect(leg)
        if self.cause is not None:
            return
        if self.answered_at is not None:
            if event.by == "switch":
                self.hangup_side = "switch"
            else:
                self.hangup_side = "caller" if leg is self.caller else "callee"
            self.cause = NORMAL if event.cause.code < 300 else event.cause
        elif leg is self.caller:
            # Unanswered: the caller gave up, the callee refused, or the switch did.
            if event.by == "party":
                self.hangup_side = "caller"
            elif event.cause.disposition == "busy":
                self.hangup_side = "callee"
            else:
                self.hangup_side = "switch"
            self.cause = event.cause

    @property
    def disposition(self) -> Disposition:
        if self.answered_at is not None:
            return "answered"
        return self.cause.disposition if self.cause is not None else "failed"


def _leg_of(event: CallEvent) -> Leg | None:
    """The leg an event is about."""
    if isinstance(event, (Ended, Dtmf, Updated, Answered, Ringing, Offered)):
        return event.leg
    if isinstance(event, (PlayFinished, DigitsCollected, RecordFinished)):
        return event.leg
    return None


# -- conference rooms (A3, U12) ------------------------------------------------------


class Room(Protocol):
    """A conference room of the media engine, holding legs instead of endpoints (A3, U12).

    A leg that joins is no longer bridged: what its party says goes into the room and it
    hears everyone else there, mixed in its own codec, with a tone when someone joins or
    leaves. A prompt played to a leg in the room is heard instead of the room until it
    ends. Joining and leaving change nothing of the legs' calls: the feature that put a
    leg in the room takes it out (when it ends, at the latest).
    """

    def join(self, leg: Leg) -> bool:
        """Put an answered leg's media in the room; False (and nothing changes) when it
        cannot be (not answered, ended, or not a G.711 call)."""
        ...

    def leave(self, leg: Leg) -> None:
        """Take the leg out of the room (the others hear the leave tone)."""
        ...

    def mute(self, leg: Leg, muted: bool) -> None:
        """A muted leg's party still hears the room and adds nothing to it."""
        ...

    def close(self) -> None:
        """The room is over: everyone in it leaves, without tones."""
        ...
