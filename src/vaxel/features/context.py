"""What a company's call flows can use, as one typed interface, and the shape of a flow step
(P1: a flow sees its own company only).

Features reach their company only through `Company`, implemented once in
`services.company`: its description, its prompts, its users' phones and
settings, its voicemail. They never reach for the database or SIP, and
nothing here has a default that would hide a missing part.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from vaxel.calls.api import Call, CallEvent, Leg, Line, Offered, Reach
from vaxel.features.distribution import GroupHistory
from vaxel.media.tts import Language
from vaxel.services.callback_request import CallbackRequest
from vaxel.services.callbacks import CallbackChange
from vaxel.services.company_config import CompanyConfig, UserConfig
from vaxel.services.diversions import DiversionInfo
from vaxel.services.queue_stats import NewQueueVisit
from vaxel.services.voicemail import Message, NewMessage


class Company(Protocol):
    """One company as its call flows see it (implemented by `services.company`)."""

    @property
    def id(self) -> int: ...

    @property
    def domain(self) -> str: ...

    @property
    def config(self) -> CompanyConfig: ...

    @property
    def language(self) -> Language: ...

    @property
    def timezone(self) -> ZoneInfo: ...

    def now(self) -> datetime:
        """The instant schedules are evaluated at."""
        ...

    # -- prompts --------------------------------------------------------------------------

    def prompt(self, name: str) -> Path:
        """A company prompt by name (converted or spoken into the company's folder)."""
        ...

    def system(self, name: str) -> Path:
        """One of the switch's own prompts, in the company's language."""
        ...

    def work_file(self, name: str) -> Path:
        """A scratch WAV in the company's folder (a take being recorded)."""
        ...

    def keep_prompt(self, name: str, recording: Path) -> None:
        """A prompt recorded by phone replaces the company prompt `name`."""
        ...

    def speech(self, texts: list[str], ready: Callable[[list[Path] | None], None]) -> None:
        """`texts` spoken in the company's language, one prompt each, made once and kept
        in the company's folder: `ready(paths)` at once when they are made already, else
        once made off the loop (None: text to speech failed)."""
        ...

    # -- users ----------------------------------------------------------------------------

    def user(self, extension: str) -> UserConfig | None:
        """A user as the company's description has them (None: not described)."""
        ...

    def reach(self, extension: str) -> Reach:
        """Where a user's phones are now, or why they cannot be rung."""
        ...

    def busy(self, extension: str) -> bool:
        """Is the user in a call now (ringing or talking)?"""
        ...

    def logged_in(self, group: str, extension: str) -> bool: ...

    def set_logged_in(self, extension: str, on: bool, group: str | None = None) -> None:
        """Log the user in to (or out of) every answering group they are a member of, or
        the one `group` (A5)."""
        ...

    def paused(self, extension: str) -> str | None:
        """A5: the reason the agent paused ("" for none); None: not paused. (A diversion
        pauses too: `features.agents.pause_reason`.)"""
        ...

    def set_paused(self, extension: str, reason: str | None) -> None:
        """A5: pause the agent with `reason` (checked already: `pauses.check_reason`), or
        unpause them (None); stored, audited and published."""
        ...

    def forwarding(self, extension: str) -> dict[str, str]:
        """kind ("always", "busy", "no_answer") -> target: the user's choice over the
        description's."""
        ...

    def set_forwarding(self, extension: str, kind: str, target: str | None) -> None: ...

    def diversion(self, extension: str) -> DiversionInfo | None:
        """The user's diversion now (U9: "lunch until 13:00"); None when none or ended."""
        ...

    def set_diversion(self, extension: str, status: str, until: datetime | None) -> None:
        """Set the user's diversion (checked already: `diversions.check_diversion`)."""
        ...

    def clear_diversion(self, extension: str) -> None: ...

    def activity_forwarding(self, extension: str) -> dict[str, str]:
        """status -> target (an extension or a number): where the user's calls go while a
        diversion of that status is on (U11)."""
        ...

    # -- voicemail ------------------------------------------------------------------------

    def voicemail_enabled(self, extension: str) -> bool:
        """Does the user's own box take calls? Their own choice wins over the description."""
        ...

    def set_voicemail(self, extension: str, on: bool) -> None: ...

    def greeting_path(self, box: str) -> Path:
        """Where a box's greeting recorded by phone is kept (it wins over the default)."""
        ...

    def save_greeting(self, box: str, recording: Path) -> None: ...

    def box_full(self, box: str) -> bool:
        """Has `box` reached its quota (no room for another message)?"""
        ...

    def new_message_path(self, box: str) -> Path:
        """Where a message being left in `box` is recorded."""
        ...

    def save_message(self, message: NewMessage, saved: Callable[[bool], None]) -> None:
        """Store a message and tell its people; `saved(True)` once it is stored (False: it
        could not be)."""
        ...

    def messages(self, box: str) -> list[Message]: ...

    def mark_heard(self, box: str, message_id: int, heard: bool) -> None: ...

    def delete_message(self, box: str, message_id: int) -> None: ...

    # -- calls out and queues ----------------------------------------------------------------

    def outbound_calls(self) -> int:
        """The company's calls out through its trunks right now (the toll-fraud ceiling)."""
        ...

    def trunk_line(self, number: str, caller_id: str | None) -> Line | None:
        """The line to call `number` out on, showing `caller_id` (default: the main number);
        None when the company has no trunk."""
        ...

    def calls(self) -> list[Call]:
        """The company's calls running now (pickup looks for one that rings a colleague)."""
        ...

    def queue(self, name: str) -> list[Any]:
        """The callers waiting in a group's queue, first come first served (kept across
        reloads of the description)."""
        ...

    def queue_arrival(self, name: str, at: float) -> None:
        """A18: a call came to the group `name` at `at` (switchboard time)."""
        ...

    def queue_arrivals(self, name: str, since: float) -> int:
        """A18: how many calls came to the group since `since` (its live arrival rate)."""
        ...

    def scheduled_callbacks(self, name: str) -> list[Any]:
        """A18: the callbacks booked for a time on the group, not yet due (kept across
        reloads of the description)."""
        ...

    def queue_handled(self, name: str, seconds: float) -> None:
        """A5: a call the group `name` answered was handled in `seconds` (answer to end)."""
        ...

    def queue_handling_time(self, name: str) -> float | None:
        """A5: the group's average handling time over its latest calls (None before any)."""
        ...

    def wrap_up_until(self, extension: str) -> float | None:
        """A5: until when (switchboard time) the agent is in wrap-up, if they were put in it;
        no group offers them a call before then."""
        ...

    def agent_available(self, extension: str) -> None:
        """A5: the agent may be free now (a call of theirs ended, their wrap-up ended, they
        logged in or unpaused): each queue they answer offers its first caller at once,
        not at its next try."""
        ...

    def set_wrap_up(self, extension: str, until: float | None) -> None:
        """A5: the agent is in wrap-up until `until` (switchboard time); None ends it."""
        ...

    def group_histories(self) -> dict[str, GroupHistory]:
        """S8, A5: each group's memory of its calls, by group name, for the strategies that
        look back (features/distribution.py; kept across reloads of the description)."""
        ...

    def queue_visit(self, visit: NewQueueVisit) -> None:
        """S9, A10: a call's visit to a group ended: stored off the loop, for statistics."""
        ...

    def callback_requested(self, request: CallbackRequest) -> None:
        """A1: send a callback asked for from a menu by e-mail and SMS (off the loop)."""
        ...

    def callback_changed(self, change: CallbackChange) -> None:
        """A5, A1: a callback was booked or moved on (the list agents see): stored off the
        loop."""
        ...

    def queue_changed(self, name: str, call: Call, joined: bool, waiting: int) -> None:
        """A11: `call`'s caller joined the group `name`'s queue or left it; `waiting` wait
        there now (a live event, for the wallboard)."""
        ...

    def orbit_changed(self, orbit: str, call: Call, parked: bool) -> None:
        """P4: `call` was parked on the park orbit `orbit`, or left it (lamps watch it)."""
        ...

    def rooms(self) -> dict[str, Any]:
        """The company's conference rooms in use, by name (A3: `features.conference`; kept
        across reloads of the description)."""
        ...


class Feature(ABC):
    """A call flow step: it takes over a call with `start`, then gets the call's events."""

    answerer = ""  # who a call record names when this step answers the call

    def on_event(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, Offered):
            self.start(call)
        else:
            self.handle(call, event)

    @abstractmethod
    def start(self, call: Call) -> None: ...

    def handle(self, call: Call, event: CallEvent) -> None:  # noqa: B027 - optional
        """Events after the start; a step that only plays and hands over needs none."""

    def pick_up(self, call: Call, leg: Leg) -> bool:
        """Pickup (P4, U5): `leg`, a colleague's phone that dialled a pickup code, takes
        this call while it rings someone; True if it did (only a step that rings can)."""
        return False


def hand_over(call: Call, feature: Feature) -> None:
    """Give the call to the next step of its flow (a menu's key, an overflow ...). A step
    that serves the caller itself (voicemail, a menu: it names an answerer) completes a
    transfer under way: the transferred party is served."""
    call.handler = feature
    feature.start(call)
    if feature.answerer:
        call.transfer_served()
