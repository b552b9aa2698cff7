"""Leaving a voicemail message (S6, U7): greeting, beep, then the caller speaks.

The recording ends on `#`, on hang-up, or at the box's maximum length; a
message of under a second (someone who hung up at the beep) is not kept. A
box at its quota takes no message: the caller hears that it is full.
The box is a user's own (its extension) or a shared box of the company.
The caller hears goodbye only once the message is stored: a caller who
heard it never loses the message.
"""

from __future__ import annotations

from pathlib import Path

from vaxel.calls.api import Call, CallEvent, Cause, PlayFinished, RecordFinished
from vaxel.features.context import Company, Feature
from vaxel.features.destinations import serves
from vaxel.services import company_config as cc
from vaxel.services.voicemail import NewMessage

MIN_SECONDS = 1.0
DEFAULT_MAX_SECONDS = 120
STORE_FAILED = Cause(500, "Server Internal Error (message not stored)", "answered")


class LeaveMessage(Feature):
    def __init__(self, company: Company, box: str) -> None:
        self.company = company
        self.box = box
        self.answerer = f"voicemail {box}"
        shared = company.config.voicemail.get(box)
        self.max_seconds = shared.max_seconds if shared is not None else DEFAULT_MAX_SECONDS
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
            user = company.user(box)
            name = user.voicemail.greeting if user is not None else None
            fallback = [company.system("vm-greeting-generic")]
        return [company.prompt(name)] if name is not None else fallback

    def start(self, call: Call) -> None:
        call.caller.answer()
        if self.company.box_full(self.box):  # the caller is told, and nothing is recorded
            self.done = True
            system = self.company.system
            call.caller.play([system("vm-box-full"), system("goodbye")], interruptible=False)
            return
        call.caller.play([*self.greeting, self.company.system("beep")], interruptible=False)

    def handle(self, call: Call, event: CallEvent) -> None:
        caller = call.caller
        if isinstance(event, PlayFinished) and self.done:
            call.hangup()
        elif isinstance(event, PlayFinished) and event.leg is caller and self.path is None:
            self.path = self.company.new_message_path(self.box)
            caller.record(self.path, max_seconds=self.max_seconds, silence_seconds=10)
        elif isinstance(event, RecordFinished) and event.leg is caller:
            self.path = event.path  # finished: the next PlayFinished hangs up
            if event.seconds >= MIN_SECONDS:
                message = NewMessage(
                    self.box, caller.party, caller.party_name, event.seconds, event.path
                )
                self.company.save_message(message, lambda ok: self._stored(call, ok))
            else:
                event.path.unlink(missing_ok=True)
                self._goodbye(call)

    def _stored(self, call: Call, ok: bool) -> None:
        if ok:
            self._goodbye(call)
        elif call.legs:
            call.hangup(STORE_FAILED)  # never "goodbye" for a message that was not kept

    def _goodbye(self, call: Call) -> None:
        self.done = True
        if call.legs and not call.caller.ended:
            call.caller.play([self.company.system("goodbye")], interruptible=False)


@serves(cc.ToVoicemail)
def _to_voicemail(company: Company, destination: cc.ToVoicemail) -> Feature:
    return LeaveMessage(company, destination.voicemail)
