"""Listening to voicemail by phone (S6, U7): `*98`, a PIN if the box has one, then the menu.

    main menu:     1 listen   2 record your greeting   3 voicemail on/off
    each message:  1 again    2 save   3 delete   4 next   5 when and from whom   6 previous

New messages come first, oldest first, then saved ones; 4 and 6 step
through them in either direction. A message that was played is heard
everywhere at once (every device, every listener of a shared box), and
message lamps follow.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from vaxel.calls.api import Call, CallEvent, DigitsCollected, PlayFinished, RecordFinished
from vaxel.features.context import Company, Feature
from vaxel.media.say import say_datetime, say_digits, say_new_messages
from vaxel.services.voicemail import Message, verify_pin


class State(Enum):
    PIN = "pin"  # waiting for the PIN
    MAIN = "main"  # the main menu: 1 listen, 2 greeting, 3 on/off
    MESSAGE = "message"  # a message plays; a key acts on it
    AFTER = "after"  # the message menu after a message (or its envelope)
    NEXT = "message-next"  # "saved" or "deleted" plays, then the next message
    GREETING_INTRO = "greeting-intro"  # "record your greeting after the tone"
    RECORDING = "recording"  # the greeting is being recorded
    GREETING_SAVED = "greeting-saved"  # "greeting saved", then the main menu
    BYE = "bye"  # goodbye plays, then the call ends


class VoicemailMenu(Feature):
    def __init__(self, company: Company, extension: str) -> None:
        self.company = company
        self.box = extension
        self.answerer = f"voicemail menu {extension}"
        # Their own box, and the company's shared boxes they listen to.
        shared = [
            name for name, box in company.config.voicemail.items() if extension in box.members
        ]
        self.boxes = [extension, *shared]
        user = company.user(extension)
        self.pin = user.voicemail.pin if user is not None else None
        self.state = State.PIN if self.pin else State.MAIN
        self.messages: list[Message] = []
        self.index = 0
        self.tries = 0
        # A new greeting is recorded beside the one in use, which it replaces only when
        # kept (a second or more): hanging up at the beep leaves the old greeting.
        self.take: Path = company.work_file(f".greeting-take-{extension}")
        self.enabled = company.voicemail_enabled(extension)

    # -- helpers -----------------------------------------------------------------------

    def _say(self, call: Call, names: list[str], then: State, *, digits: int = 1) -> None:
        """Play system prompts (interruptible), then wait for `digits` keys in state `then`."""
        self.state = then
        call.caller.collect(max_digits=digits, timeout=60, inter_digit=5)
        call.caller.play([self.company.system(name) for name in names], interruptible=True)

    def start(self, call: Call) -> None:
        call.caller.answer()
        if self.pin:
            self._say(call, ["vm-enter-pin"], State.PIN, digits=8)
        else:
            self._main(call)

    def _main(self, call: Call) -> None:
        messages = [m for box in self.boxes for m in self.company.messages(box)]
        self.messages = sorted(messages, key=lambda m: (m.heard, m.received_at, m.id))
        new = sum(1 for m in self.messages if not m.heard)
        names = say_new_messages(new, self.company.language) if new else ["vm-no-new-messages"]
        if not self.enabled:
            names.append("vm-box-off")  # a reminder: callers cannot leave messages
        self._say(call, [*names, "vm-main-menu"], State.MAIN)

    def _play_message(self, call: Call) -> None:
        if self.index >= len(self.messages):
            self.state = State.BYE
            call.caller.play(
                [self.company.system("vm-no-more-messages"), self.company.system("goodbye")]
            )
            return
        message = self.messages[self.index]
        self.state = State.MESSAGE
        call.caller.collect(max_digits=1, timeout=120)
        call.caller.play([message.path], interruptible=True)
        if not message.heard:
            self.company.mark_heard(message.box, message.id, True)

    def _envelope(self, call: Call) -> None:
        message = self.messages[self.index]
        language = self.company.language
        when = message.received_at.astimezone(self.company.timezone)
        names = ["vm-received", *say_datetime(when, language)]
        if message.caller:
            names += ["vm-from", *say_digits(_national(message.caller), language)]
        self._say(call, [*names, "vm-message-menu"], State.AFTER)

    # -- events ------------------------------------------------------------------------

    def handle(self, call: Call, event: CallEvent) -> None:
        caller = call.caller
        if isinstance(event, PlayFinished) and event.leg is caller and not event.interrupted:
            if self.state is State.MESSAGE:  # heard to the end: the message menu
                self._say(call, ["vm-message-menu"], State.AFTER)
            elif self.state is State.BYE:
                call.hangup()
            elif self.state is State.GREETING_INTRO:
                self.state = State.RECORDING
                caller.record(self.take, max_seconds=60, silence_seconds=5)
            elif self.state is State.GREETING_SAVED:
                self._say(call, ["vm-main-menu"], State.MAIN)
        elif isinstance(event, DigitsCollected) and event.leg is caller:
            caller.stop_playing()
            self._key(call, event.digits)
        elif isinstance(event, RecordFinished) and event.leg is caller:
            kept = event.seconds >= 1
            if kept:
                self.company.save_greeting(self.box, event.path)
            else:  # nothing said: the greeting in use stays
                event.path.unlink(missing_ok=True)
            # Played before keys are gathered again: the "#" that ended the recording is
            # still being handled, and a collection started now would take it as its own.
            self.state = State.GREETING_SAVED
            said = "vm-greeting-saved" if kept else "silence-250ms"
            caller.play([self.company.system(said)], interruptible=False)

    def _key(self, call: Call, digits: str) -> None:
        state = self.state
        if state is State.PIN:
            if self.pin is not None and verify_pin(self.pin, digits):
                self._main(call)
            else:
                self.tries += 1
                if self.tries >= 3:
                    call.hangup()
                else:
                    self._say(call, ["vm-wrong-pin", "vm-enter-pin"], State.PIN, digits=8)
        elif state is State.MAIN:
            if digits == "1":
                self.index = 0
                self._play_message(call)
            elif digits == "2":
                self.state = State.GREETING_INTRO
                system = self.company.system
                call.caller.play([system("vm-record-greeting"), system("beep")])
            elif digits == "3":
                self.enabled = not self.enabled
                self.company.set_voicemail(self.box, self.enabled)
                said = "vm-box-on" if self.enabled else "vm-box-off"
                self._say(call, [said, "vm-main-menu"], State.MAIN)
            else:
                self._say(call, ["vm-main-menu"], State.MAIN)
        elif state in (State.MESSAGE, State.AFTER):
            self._message_key(call, digits)

    def _message_key(self, call: Call, digit: str) -> None:
        message = self.messages[self.index] if self.index < len(self.messages) else None
        if message is None or digit == "1":
            self._play_message(call)
        elif digit == "2":
            call.caller.play([self.company.system("vm-saved")])
            self.index += 1
            self._then_next(call)
        elif digit == "3":
            self.company.delete_message(message.box, message.id)
            del self.messages[self.index]
            call.caller.play([self.company.system("vm-deleted")])
            self._then_next(call)
        elif digit == "4":
            self.index += 1
            self._play_message(call)
        elif digit == "5":
            self._envelope(call)
        elif digit == "6":
            self.index = max(self.index - 1, 0)
            self._play_message(call)
        else:
            self._say(call, ["vm-message-menu"], State.AFTER)

    def _then_next(self, call: Call) -> None:
        """After "saved"/"deleted", the next message."""
        self.state = State.NEXT
        call.caller.collect(max_digits=1, timeout=120)

        def next_message() -> None:
            if self.state is State.NEXT and not call.caller.ended:
                self._play_message(call)

        call.after(1.2, next_message)


def _national(number: str) -> str:
    """+46701234567 is said as 0701234567 to a Swede."""
    return "0" + number[3:] if number.startswith("+46") else number
