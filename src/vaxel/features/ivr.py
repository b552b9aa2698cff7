"""An auto attendant menu (S3): a prompt, one key, and where each key leads.

A key that leads nowhere, or no key before the timeout, plays its prompt
and tries again; after the retries the caller goes to the default
destination. "repeat" plays the menu again, "hangup" says goodbye.
"""

from __future__ import annotations

from enum import Enum

from vaxel.calls.api import Call, CallEvent, DigitsCollected, PlayFinished
from vaxel.features.context import Company, Feature
from vaxel.features.destinations import go, serves
from vaxel.services import company_config as cc


class State(Enum):
    PROMPT = "prompt"  # the menu plays; a key may already come
    WAITING = "waiting"  # played: the caller has the menu's timeout to press a key
    RETRY_PROMPT = "retry-prompt"  # "invalid choice" or "no key" plays, then the menu again


class Menu(Feature):
    def __init__(self, company: Company, name: str) -> None:
        self.company = company
        self.menu = company.config.menus[name]
        self.answerer = f"menu {name}"
        self.tries = 0
        self.state = State.PROMPT

    def start(self, call: Call) -> None:
        caller = call.caller
        caller.answer()
        self.state = State.PROMPT
        caller.collect(max_digits=1, timeout=self.menu.timeout + 60, terminator="")
        caller.play([self.company.prompt(self.menu.prompt)], interruptible=True)

    def handle(self, call: Call, event: CallEvent) -> None:
        caller = call.caller
        if isinstance(event, PlayFinished) and event.leg is caller and not event.interrupted:
            if self.state is State.PROMPT:
                # The prompt has been heard: now the caller has `timeout` seconds.
                self.state = State.WAITING
                caller.collect(max_digits=1, timeout=self.menu.timeout, terminator="")
            elif self.state is State.RETRY_PROMPT:
                self.start(call)
        elif isinstance(event, DigitsCollected) and event.leg is caller:
            if event.digits:
                self._key(call, event.digits)
            elif self.state is State.WAITING:
                self._retry(call, self.menu.timeout_prompt)

    def _key(self, call: Call, key: str) -> None:
        action = self.menu.keys.get(key)
        if action is None:
            call.caller.stop_playing()
            self._retry(call, self.menu.invalid_prompt)
        elif action == "repeat":
            call.caller.stop_playing()
            self.tries = 0
            self.start(call)
        elif action == "hangup":
            call.hangup()
        else:
            call.caller.stop_playing()
            call.steps = 0  # the caller chose: what follows is no loop of ours
            go(call, self.company, action)

    def _retry(self, call: Call, prompt: str | None) -> None:
        self.tries += 1
        if self.tries > self.menu.retries:
            default = self.menu.default
            if default == "hangup" or default == "repeat":
                call.hangup()
            else:
                go(call, self.company, default)
            return
        if prompt is None:
            self.start(call)
            return
        self.state = State.RETRY_PROMPT
        call.caller.play([self.company.prompt(prompt)], interruptible=False)


@serves(cc.ToMenu)
def _to_menu(company: Company, destination: cc.ToMenu) -> Feature:
    return Menu(company, destination.menu)
