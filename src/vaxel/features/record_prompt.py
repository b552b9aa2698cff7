"""Recording a company prompt by phone (S4): an admin dials *99, enters the prompt's number,
records after the tone (# ends), listens, and saves, or records again."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from vaxel.calls.api import Call, CallEvent, DigitsCollected, PlayFinished, RecordFinished
from vaxel.features.context import Company, Feature


class State(Enum):
    NUMBER = "number"  # waiting for the prompt's number
    INTRO = "intro"  # "record after the tone", then the tone
    RECORDING = "recording"
    MENU = "menu"  # 1 save, 2 listen, 3 record again
    LISTENING = "listening"  # the take plays back
    BYE = "bye"  # goodbye plays, then the call ends


class RecordPrompt(Feature):
    def __init__(self, company: Company, extension: str) -> None:
        self.company = company
        self.answerer = f"prompt recording {extension}"
        user = company.user(extension)
        self.allowed = user is not None and user.admin
        self.name: str | None = None
        self.state = State.NUMBER
        self.take = company.work_file(f".recording-{extension}")

    def _system(self, *names: str) -> list[Path]:
        return [self.company.system(name) for name in names]

    def start(self, call: Call) -> None:
        call.caller.answer()
        if not self.allowed:
            self.state = State.BYE
            call.caller.play(self._system("invalid-choice", "goodbye"))
            return
        self.state = State.NUMBER
        call.caller.collect(max_digits=3, timeout=20, inter_digit=5)
        call.caller.play(self._system("prompt-enter-number"))

    def _record(self, call: Call) -> None:
        self.state = State.INTRO
        call.caller.play(self._system("prompt-record", "beep"), interruptible=False)

    def _menu(self, call: Call) -> None:
        self.state = State.MENU
        call.caller.collect(max_digits=1, timeout=30)
        call.caller.play(self._system("prompt-menu"))

    def handle(self, call: Call, event: CallEvent) -> None:
        caller = call.caller
        if isinstance(event, DigitsCollected) and event.leg is caller:
            caller.stop_playing()
            self._key(call, event.digits)
        elif isinstance(event, PlayFinished) and event.leg is caller and not event.interrupted:
            if self.state is State.INTRO:
                self.state = State.RECORDING
                caller.record(self.take, max_seconds=120, silence_seconds=10)
            elif self.state is State.LISTENING:
                self._menu(call)
            elif self.state is State.BYE:
                call.hangup()
        elif isinstance(event, RecordFinished) and event.leg is caller:
            if event.reason == "hangup":
                event.path.unlink(missing_ok=True)
                return
            self._menu(call)

    def _key(self, call: Call, digits: str) -> None:
        if self.state is State.NUMBER:
            number = int(digits) if digits.isdigit() else None
            prompts = self.company.config.prompts.items()
            self.name = next((n for n, p in prompts if number and p.number == number), None)
            if self.name is None:
                self.state = State.BYE
                call.caller.play(self._system("invalid-choice", "goodbye"))
            else:
                self._record(call)
        elif self.state is State.MENU:
            if digits == "1" and self.name is not None:
                self.company.keep_prompt(self.name, self.take)
                self.state = State.BYE
                call.caller.play(self._system("prompt-saved", "goodbye"))
            elif digits == "2":
                self.state = State.LISTENING
                call.caller.play([self.take], interruptible=True)
            elif digits == "3":
                self._record(call)
            else:
                self._menu(call)
