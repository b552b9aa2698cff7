"""A call to a user with a diversion (U9): "Anna Svensson är på lunch till klockan 13.00".

The user is not rung (a diversion with `ring` set only shows; features/user.py
rings as usual then). The switch answers, says the user's name, the status
and when it ends in the company's language, then offers the user's voicemail
(key 1, when it is on) and the operator (key 0, when the company has one).
No key, or a wrong key twice, leads to the voicemail when it is on, else
goodbye. The name and a custom text are spoken by text to speech and kept
(`Company.speech`); the rest are system prompts (`media.say`).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from vaxel.calls.api import Call, CallEvent, DigitsCollected, PlayFinished
from vaxel.features.context import Company, Feature, hand_over
from vaxel.features.destinations import go
from vaxel.features.voicemail import LeaveMessage
from vaxel.media.say import say_digits, say_until
from vaxel.services.diversions import DiversionInfo

TIMEOUT = 5.0  # seconds for a key after the offer was said
TRIES = 2  # wrong keys before the call goes on as if none came


class State(Enum):
    PREPARING = "preparing"  # the name (or text) is being spoken into a prompt
    SAYING = "saying"  # the diversion and the offer play; a key may already come
    WAITING = "waiting"  # said: the caller has TIMEOUT seconds for a key
    GOODBYE = "goodbye"  # goodbye plays, then the call ends


class Diverted(Feature):
    def __init__(self, company: Company, extension: str, diversion: DiversionInfo) -> None:
        self.company = company
        self.extension = extension
        self.diversion = diversion
        self.answerer = f"diversion {extension}"
        user = company.user(extension)
        self.name = user.name.strip() if user is not None else ""
        self.voicemail = user is not None and company.voicemail_enabled(extension)
        self.operator = company.config.company.operator
        self.state = State.PREPARING
        self.tries = 0

    def texts(self) -> list[str]:
        """What text to speech says for this call: the name, and a custom status's text."""
        texts = [self.name] if self.name else []
        return texts + ([self.diversion.text] if self.diversion.status == "custom" else [])

    def start(self, call: Call) -> None:
        call.caller.answer()
        self.company.speech(self.texts(), lambda spoken: self._say(call, spoken))

    def announcement(self, spoken: list[Path] | None) -> list[Path]:
        """The diversion as prompts: name, status, end time (`spoken`: the texts' prompts)."""
        company, diversion = self.company, self.diversion
        system = company.system
        spoken = list(spoken) if spoken is not None else None
        if self.name and spoken:
            said = [spoken.pop(0)]
        else:  # no name, or text to speech failed: "the person at number 1001"
            said = [system("vm-the-person-at")]
            said += [system(name) for name in say_digits(self.extension, company.language)]
        if diversion.status != "custom":
            said.append(system(f"div-{diversion.status}"))
        elif spoken:
            said.append(spoken.pop(0))
        if diversion.until is not None:
            zone = company.timezone
            until = diversion.until.astimezone(zone)
            now = company.now().astimezone(zone)
            said += [system(name) for name in say_until(until, now, company.language)]
        return said

    def offer(self) -> list[Path]:
        """What the caller may press: 1 for the voicemail, 0 for the operator."""
        system = self.company.system
        offered = [system("div-press-1-voicemail")] if self.voicemail else []
        return offered + ([system("div-press-0-operator")] if self.operator is not None else [])

    def _say(self, call: Call, spoken: list[Path] | None) -> None:
        caller = call.caller
        if not call.legs or caller.ended:
            return  # the caller hung up while the name was being spoken
        prompts = self.announcement(spoken)
        if not self.voicemail and self.operator is None:
            self.state = State.GOODBYE
            caller.play([*prompts, self.company.system("goodbye")], interruptible=False)
            return
        self.state = State.SAYING
        caller.collect(max_digits=1, timeout=TIMEOUT + 120, terminator="")
        caller.play([*prompts, *self.offer()], interruptible=True)

    def handle(self, call: Call, event: CallEvent) -> None:
        caller = call.caller
        if isinstance(event, PlayFinished) and event.leg is caller and not event.interrupted:
            if self.state is State.GOODBYE:
                call.hangup()
            elif self.state is State.SAYING:
                self.state = State.WAITING
                caller.collect(max_digits=1, timeout=TIMEOUT, terminator="")
        elif isinstance(event, DigitsCollected) and event.leg is caller:
            if event.digits:
                self._key(call, event.digits)
            elif self.state is State.WAITING:
                self._no_choice(call)

    def _key(self, call: Call, key: str) -> None:
        caller = call.caller
        if key == "1" and self.voicemail:
            caller.stop_playing()
            hand_over(call, LeaveMessage(self.company, self.extension))
        elif key == "0" and self.operator is not None:
            caller.stop_playing()
            call.steps = 0  # the caller chose: what follows is no loop of ours
            go(call, self.company, self.operator)
        elif self.state in (State.SAYING, State.WAITING):
            caller.stop_playing()
            self.tries += 1
            if self.tries >= TRIES:
                self._no_choice(call)
                return
            self.state = State.SAYING
            caller.collect(max_digits=1, timeout=TIMEOUT + 120, terminator="")
            caller.play([self.company.system("invalid-choice"), *self.offer()], interruptible=True)

    def _no_choice(self, call: Call) -> None:
        if self.voicemail:
            hand_over(call, LeaveMessage(self.company, self.extension))
        else:
            self.state = State.GOODBYE
            call.caller.play([self.company.system("goodbye")], interruptible=False)
