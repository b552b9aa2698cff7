"""Leaving a voicemail message (S6): greeting, beep, then the caller speaks.

The recording ends on `#`, on hang-up, or at the box's maximum length; a
message of under a second (someone who hung up at the beep) is not kept.
The box is a user's own (its extension) or a shared box of the company.
"""

from __future__ import annotations

from pathlib import Path

from vaxel.calls.api import Call, CallEvent, PlayFinished, RecordFinished
from vaxel.features.context import Company, Feature

MIN_SECONDS = 1.0


class LeaveMessage(Feature):
    def __init__(self, company: Company, box: str) -> None:
        self.company = company
        self.box = box
        shared = company.config.voicemail.get(box)
        self.max_seconds = shared.max_seconds if shared is not None else 120
        self.greeting = self._greeting()
        self.path: Path | None = None
        self.done = False  # the message is handled: the goodbye ends the call

    def _greeting(self) -> list[Path]:
        company, box = self.company, self.box
        recorded = company.greeting_path(box)
        if recorded.exists():  # recorded by phone (*98, 2)
            return [recorded]
        shared = company.config.voicemail.get(box)
        if shared is not None:
            name = shared.greeting
            fallback = [company.system("vm-greeting-shared")]
        else:
            user = next((u for u in company.config.users if u.ext == box), None)
            name = user.voicemail.greeting if user is not None else None
            fallback = [company.system("vm-greeting-generic")]
        return [company.prompt(name)] if name is not None else fallback

    def start(self, call: Call) -> None:
        call.caller.answer()
        call.caller.play([*self.greeting, self.company.system("beep")], interruptible=False)

    def handle(self, call: Call, event: CallEvent) -> None:
        caller = call.caller
        if isinstance(event, PlayFinished) and event.leg is caller and self.path is None:
            self.path = self.company.voicemail_path(self.box)
            caller.record(self.path, max_seconds=self.max_seconds, silence_seconds=10)
        elif isinstance(event, RecordFinished) and event.leg is caller:
            if event.seconds >= MIN_SECONDS:
                self.company.save_voicemail(
                    box=self.box,
                    caller=caller.party,
                    caller_name=caller.party_name,
                    seconds=event.seconds,
                    path=event.path,
                )
            else:
                event.path.unlink(missing_ok=True)
            if not caller.ended:
                caller.play([self.company.system("goodbye")], interruptible=False)
                self.path = event.path  # finished: the next PlayFinished hangs up
                self.done = True
        elif isinstance(event, PlayFinished) and self.done:
            call.hangup()
