"""Recording a company prompt by phone (S4): an admin dials *99, enters the prompt's number,
records after the tone (# ends), listens, and saves, or records again."""

from __future__ import annotations

from pathlib import Path

from vaxel.calls.api import Call, CallEvent, DigitsCollected, PlayFinished, RecordFinished
from vaxel.features.context import Company, Feature


class RecordPrompt(Feature):
    def __init__(self, company: Company, extension: str) -> None:
        self.company = company
        user = next((u for u in company.config.users if u.ext == extension), None)
        self.allowed = user is not None and user.admin
        self.name: str | None = None
        self.state = "number"
        self.take = company.prompts / f".recording-{extension}.wav"

    def _system(self, *names: str) -> list[Path]:
        return [self.company.system(name) for name in names]

    def start(self, call: Call) -> None:
        call.caller.answer()
        if not self.allowed:
            self.state = "bye"
            call.caller.play(self._system("invalid-choice", "goodbye"))
            return
        self.state = "number"
        call.caller.collect(max_digits=3, timeout=20, inter_digit=5)
        call.caller.play(self._system("prompt-enter-number"))

    def _record(self, call: Call) -> None:
        self.state = "intro"
        call.caller.play(self._system("prompt-record", "beep"), interruptible=False)

    def _menu(self, call: Call) -> None:
        self.state = "menu"
        call.caller.collect(max_digits=1, timeout=30)
        call.caller.play(self._system("prompt-menu"))

    def handle(self, call: Call, event: CallEvent) -> None:
        caller = call.caller
        if isinstance(event, DigitsCollected) and event.leg is caller:
            caller.stop_playing()
            self._key(call, event.digits)
        elif isinstance(event, PlayFinished) and event.leg is caller and not event.interrupted:
            if self.state == "intro":
                self.state = "recording"
                self.take.parent.mkdir(parents=True, exist_ok=True)
                caller.record(self.take, max_seconds=120, silence_seconds=10)
            elif self.state == "listening":
                self._menu(call)
            elif self.state == "bye":
                call.hangup()
        elif isinstance(event, RecordFinished) and event.leg is caller:
            if event.reason == "hangup":
                event.path.unlink(missing_ok=True)
                return
            self._menu(call)

    def _key(self, call: Call, digits: str) -> None:
        if self.state == "number":
            number = int(digits) if digits.isdigit() else None
            prompts = self.company.config.prompts.items()
            self.name = next((n for n, p in prompts if number and p.number == number), None)
            if self.name is None:
                self.state = "bye"
                call.caller.play(self._system("invalid-choice", "goodbye"))
            else:
                self._record(call)
        elif self.state == "menu":
            if digits == "1" and self.name is not None:
                self.company.keep_prompt(self.name, self.take)
                self.state = "bye"
                call.caller.play(self._system("prompt-saved", "goodbye"))
            elif digits == "2":
                self.state = "listening"
                call.caller.play([self.take], interruptible=True)
            elif digits == "3":
                self._record(call)
            else:
                self._menu(call)
