"""What a company's call flows can use: its description, its prompts, its users' phones.

Features get one `Company` per call and never reach for the database or SIP
themselves; the switch builds the `Company` from services (the stored
description, the router, the voicemail store) and keeps it current.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from vaxel.calls.api import Call, CallEvent, Offered

if TYPE_CHECKING:
    from vaxel.calls.router import Route, Target
    from vaxel.services.company_config import CompanyConfig
    from vaxel.services.voicemail import Message


class Feature(ABC):
    """A call flow step: it takes over a call with `start`, then gets the call's events."""

    def on_event(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, Offered):
            self.start(call)
        else:
            self.handle(call, event)

    @abstractmethod
    def start(self, call: Call) -> None: ...

    def handle(self, call: Call, event: CallEvent) -> None:  # noqa: B027 - optional
        """Events after the start; a step that only plays and hands over needs none."""


def hand_over(call: Call, feature: Feature) -> None:
    """Give the call to the next step of its flow (a menu's key, an overflow ...)."""
    call.handler = feature
    feature.start(call)


@dataclass
class Company:
    """One company as its call flows see it."""

    id: int
    domain: str
    config: CompanyConfig
    prompts: Path  # the company's prompt folder (uploads and text to speech, 8 kHz WAV)
    system_prompts: Path  # the switch's own prompts: <folder>/<language>/<name>.wav
    devices: Callable[[str], Route]  # an extension -> where its phones are
    now: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())
    busy: Callable[[str], bool] = lambda ext: False  # is the extension in a call?
    logged_in: Callable[[str, str], bool] = lambda group, ext: True
    voicemail_path: Callable[[str], Path] = lambda box: Path(f"/tmp/{box}.wav")
    save_voicemail: Callable[..., None] = lambda **message: None
    outbound_calls: Callable[[], int] = lambda: 0  # the company's calls out right now
    forwarding: Callable[[str], dict[str, str]] = lambda ext: {}  # kind -> target
    voicemail_switch: Callable[[str], bool | None] = lambda ext: None  # the user's own choice
    # What users change from their phones (group login, forwarding), saved by the switch.
    set_logged_in: Callable[[str, bool], None] = lambda ext, on: None
    set_forwarding: Callable[[str, str, str | None], None] = lambda ext, kind, target: None
    set_voicemail: Callable[[str, bool], None] = lambda ext, on: None
    # A box's messages by phone (reads are quick; changes are saved by the switch).
    messages: Callable[[str], list[Message]] = lambda box: []
    mark_heard: Callable[[str, int, bool], None] = lambda box, message_id, heard: None
    delete_message: Callable[[str, int], None] = lambda box, message_id: None
    save_greeting: Callable[[str, Path], None] = lambda box, path: None
    keep_prompt: Callable[[str, Path], None] = lambda name, recording: None
    trunk_target: Callable[[str, str | None], Target | None] = lambda number, caller_id: None
    # Callers waiting in each queue, first come first served (kept across reloads).
    queues: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.config.company.language

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.config.company.timezone)

    def voicemail_enabled(self, extension: str) -> bool:
        """Does the user's personal box take calls? Their own choice wins over the description."""
        chosen = self.voicemail_switch(extension)
        if chosen is not None:
            return chosen
        user = next((u for u in self.config.users if u.ext == extension), None)
        return user is not None and user.voicemail.enabled

    def prompt(self, name: str) -> Path:
        """A company prompt by name: `config apply` converted or spoke it into the folder."""
        return self.prompts / f"{name}.wav"

    def greeting_path(self, box: str) -> Path:
        """Where a box's greeting recorded by phone is kept (it wins over the default)."""
        return self.prompts / f"greeting-{box}.wav"

    def system(self, name: str) -> Path:
        return self.system_prompts / self.language / f"{name}.wav"
