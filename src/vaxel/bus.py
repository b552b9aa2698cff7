"""The in-process event bus (P8): typed live events from calls, features and services.

A producer publishes a frozen dataclass; whoever subscribed to its type is
called at once, on the event loop, in the order they subscribed. The
message lamps (MWI) listen for voicemail changes; the WebSocket stream
(`web/events.py`) listens for everything below; the line states
(calls/lines.py) follow the calls; webhooks and statistics can subscribe
the same way. On several nodes this maps onto a shared pub/sub; nothing
here assumes one process.

Live events cost the switch only when someone watches: a listener says
which company it watches (`watch`), and a producer on the hot path (the
B2BUA, the registrar) asks `wants(company_id)`, one dictionary lookup,
before it builds an event at all. Times in events are seconds since the
epoch (the switch's clock).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from vaxel.services.chat import Message

log = logging.getLogger(__name__)

E = TypeVar("E")


class Bus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], None]]] = {}
        self._watched: dict[int, int] = {}  # company id -> how many listeners watch it
        self._everything = 0  # listeners that watch every company

    def subscribe(self, kind: type[E], handler: Callable[[E], None]) -> None:
        self._handlers.setdefault(kind, []).append(handler)

    def unsubscribe(self, kind: type[E], handler: Callable[[E], None]) -> None:
        handlers = self._handlers.get(kind, [])
        if handler in handlers:
            handlers.remove(handler)

    def publish(self, event: object) -> None:
        """Tell every subscriber of the event's type; one failing subscriber stops no other."""
        for handler in self._handlers.get(type(event), ()):
            try:
                handler(event)
            except Exception:
                log.exception("a subscriber failed on %r", event)

    # -- who watches which company (live events are built only for them) ----------------

    def watch(self, company_id: int | None) -> None:
        """A listener wants the live events of `company_id` (None: of every company)."""
        if company_id is None:
            self._everything += 1
        else:
            self._watched[company_id] = self._watched.get(company_id, 0) + 1

    def unwatch(self, company_id: int | None) -> None:
        if company_id is None:
            self._everything = max(0, self._everything - 1)
            return
        left = self._watched.get(company_id, 0) - 1
        if left > 0:
            self._watched[company_id] = left
        else:
            self._watched.pop(company_id, None)

    def wants(self, company_id: int) -> bool:
        """Does anyone watch this company's live events? Ask before building one."""
        return self._everything > 0 or company_id in self._watched


# -- the events -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoxChanged:
    """A voicemail box gained, lost or changed a message (heard, deleted). A user's own box
    is named by their extension; a shared box by its name, with its members."""

    company_id: int
    box: str
    shared: bool = False
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallOffered:
    """A new call reached the switch (P4): who calls, and what they dialled."""

    company_id: int
    call_id: str
    caller: str  # an extension, or the caller's number for a call from a trunk
    caller_name: str
    callee: str  # what was dialled
    at: float


@dataclass(frozen=True, slots=True)
class CallRinging:
    """One party of a call rings (once per party, however many of their phones ring)."""

    company_id: int
    call_id: str
    party: str  # the extension rung, or the number called out
    party_name: str
    at: float


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """The call was answered: by a person (an extension, a number), or by the switch for a
    menu, queue, group or voicemail box ("menu main", "voicemail 1002"). A call answered by
    the switch and then by a person (a queue) is answered twice."""

    company_id: int
    call_id: str
    answered_by: str
    at: float


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call's last leg ended; what its call record says."""

    company_id: int
    call_id: str
    caller: str
    callee: str
    answered_by: str
    disposition: str  # answered, busy, no-answer, canceled, failed
    hangup_side: str  # caller, callee, switch
    cause_code: int
    cause_text: str
    started_at: float
    answered_at: float | None
    at: float  # when it ended


@dataclass(frozen=True, slots=True)
class CallHeld:
    """A party of a connected call put it on hold, or took it back (P4 hold, re-INVITE or
    UPDATE): `party` is the one who holds. Feeds the line state (calls/lines.py)."""

    company_id: int
    call_id: str
    party: str
    held: bool
    at: float


@dataclass(frozen=True, slots=True)
class CallLeft:
    """A party left a call that goes on without them (P4: a transferor handed it over, a
    phone stopped ringing, one of three hung up); `by`: who ended their part."""

    company_id: int
    call_id: str
    party: str
    by: str  # party, switch
    at: float


@dataclass(frozen=True, slots=True)
class OrbitChanged:
    """A call was parked on a park orbit, or left it (P4; features/park.py): a desk phone's
    key for the orbit (U10) lights while a call waits there."""

    company_id: int
    orbit: str
    call_id: str
    caller: str  # who waits: an extension or a number
    caller_name: str
    parked: bool


@dataclass(frozen=True, slots=True)
class ChatSent:
    """The web kept a chat message (U4; web/api/chat.py): the switch delivers it to the
    recipient's phones (calls/messaging.py)."""

    company_id: int
    domain: str
    messages: list[Message]  # one; or a group message's copies, one per member
    group_name: str = ""  # written in a group chat: its name


@dataclass(frozen=True, slots=True)
class ChatKept:
    """A chat message was kept (U4): from a phone's MESSAGE or the web. A live event for
    its sender and its recipient only (web/events.py), whatever their role."""

    company_id: int
    message: Message
    at: float


@dataclass(frozen=True, slots=True)
class DeviceRegistration:
    """A user's device registered, unregistered (by the phone), expired (P3), or was
    disconnected: the WebSocket it registered over closed (P2, U1)."""

    company_id: int
    extension: str
    state: Literal["registered", "unregistered", "expired", "disconnected"]
    contact: str
    user_agent: str
    expires_at: float | None  # registered: when it lapses unless refreshed
    at: float


@dataclass(frozen=True, slots=True)
class GroupLogin:
    """A member logged in to (or out of) an answering group (S8)."""

    company_id: int
    group: str
    extension: str
    logged_in: bool
    at: float


@dataclass(frozen=True, slots=True)
class AgentPaused:
    """An agent paused (A5: no group offers them a call) or unpaused; `reason` None:
    unpaused, "" paused without a reason."""

    company_id: int
    extension: str
    reason: str | None
    at: float


@dataclass(frozen=True, slots=True)
class DiversionChanged:
    """A user's diversion was set or cleared (U9); `status` None: cleared."""

    company_id: int
    extension: str
    status: str | None
    text: str
    until: float | None
    at: float
    scope: str = "all"  # which calls it applies to: all, fixed or mobile (U9)


@dataclass(frozen=True, slots=True)
class ForwardingChanged:
    """A user's forwarding of one kind (always, busy, no_answer) was set or cleared (U11)."""

    company_id: int
    extension: str
    kind: str
    target: str | None  # None: cleared
    at: float


@dataclass(frozen=True, slots=True)
class LineState:
    """A user's line changed (U10, U5; calls/lines.py): `state` is the whole line (idle,
    dialling, ringing, talking, held), `call_state` the call that changed it, as RFC 4235 names
    a dialog's states (trying, early, confirmed, terminated)."""

    company_id: int
    extension: str
    state: str
    call_id: str
    call_state: str
    direction: str  # initiator: the user called; recipient: the user is called
    remote: str  # who the user calls or talks to (an extension or a number)
    at: float


@dataclass(frozen=True, slots=True)
class QueueChanged:
    """A caller joined an answering group's queue, or left it (A11; features/groups.py):
    answered, hung up, sent on. `waiting`: how many wait in that queue now. The wallboard
    (web/wallboard.py) and a console follow the queues on it instead of asking again."""

    company_id: int
    group: str
    call_id: str
    caller: str  # an extension, or the caller's number
    caller_name: str
    joined: bool  # False: left
    waiting: int
    at: float


#: What the live events stream (web/events.py) carries, besides voicemail counts.
LIVE_EVENTS: tuple[type, ...] = (
    CallOffered,
    CallRinging,
    CallAnswered,
    CallEnded,
    ChatKept,
    DeviceRegistration,
    GroupLogin,
    AgentPaused,
    DiversionChanged,
    ForwardingChanged,
    LineState,
    QueueChanged,
)
