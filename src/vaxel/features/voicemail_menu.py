"""Listening to voicemail by phone (S6, U7): `*98`, a PIN if the box has one, then the menu.

    main menu:     1 listen   2 record your greeting   3 voicemail on/off
    each message:  1 again    2 save   3 delete   4 next   5 when and from whom   6 previous

New messages come first, oldest first, then saved ones; 4 and 6 step
through them in either direction. A message that was played is heard
everywhere at once (every device, every listener of a shared box), and
message lamps follow.
"""

from __future__ import annotations

from pathlib import Path

from vaxel.calls.api import Call, CallEvent, DigitsCollected, PlayFinished, RecordFinished
from vaxel.features.context import Company, Feature
from vaxel.media.say import say_datetime, say_digits, say_new_messages
from vaxel.services.voicemail import Message


class VoicemailMenu(Feature):
    def __init__(self, company: Company, extension: str) -> None:
        self.company = company
        self.box = extension
        # Their own box, and the company's shared boxes they listen to.
        shared = [
            name for name, box in company.config.voicemail.items() if extension in box.members
        ]
        self.boxes = [extension, *shared]
        user = next((u for u in company.config.users if u.ext == extension), None)
        self.pin = user.voicemail.pin if user is not None else None
        self.state = "pin" if self.pin else "main"
        self.messages: list[Message] = []
        self.index = 0
        self.tries = 0
        # A new greeting is recorded beside the one in use, which it replaces only when
        # kept (a second or more): hanging up at the beep leaves the old greeting.
        self.take: Path = company.prompts / f".greeting-take-{extension}.wav"
        self.enabled = company.voicemail_enabled(extension)

    # -- helpers -----------------------------------------------------------------------

    def _say(self, call: Call, names: list[str], then: str, *, digits: int = 1) -> None:
        """Play system prompts (interruptible), then wait for `digits` keys in state `then`."""
        self.state = then
        language = self.company.language
        folder = self.company.system_prompts / language
        call.caller.collect(max_digits=digits, timeout=60, inter_digit=5)
        call.caller.play([folder / f"{name}.wav" for name in names], interruptible=True)

    def start(self, call: Call) -> None:
        call.caller.answer()
        if self.pin:
            self._say(call, ["vm-enter-pin"], "pin", digits=8)
        else:
            self._main(call)

    def _main(self, call: Call) -> None:
        messages = [m for box in self.boxes for m in self.company.messages(box)]
        self.messages = sorted(messages, key=lambda m: (m.heard, m.received_at, m.id))
        new = sum(1 for m in self.messages if not m.heard)
        names = say_new_messages(new, self.company.language) if new else ["vm-no-new-messages"]
        if not self.enabled:
            names.append("vm-box-off")  # a reminder: callers cannot leave messages
        self._say(call, [*names, "vm-main-menu"], "main")

    def _play_message(self, call: Call) -> None:
        if self.index >= len(self.messages):
            self.state = "bye"
            folder = self.company.system_prompts / self.company.language
            call.caller.play([folder / "vm-no-more-messages.wav", folder / "goodbye.wav"])
            return
        message = self.messages[self.index]
        self.state = "message"
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
        self._say(call, [*names, "vm-message-menu"], "after")

    # -- events ------------------------------------------------------------------------

    def handle(self, call: Call, event: CallEvent) -> None:
        caller = call.caller
        if isinstance(event, PlayFinished) and event.leg is caller and not event.interrupted:
            if self.state == "message":  # heard to the end: the message menu
                self._say(call, ["vm-message-menu"], "after")
            elif self.state == "bye":
                call.hangup()
            elif self.state == "greeting-intro":
                self.state = "recording"
                caller.record(self.take, max_seconds=60, silence_seconds=5)
            elif self.state == "greeting-saved":
                self._say(call, ["vm-main-menu"], "main")
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
            self.state = "greeting-saved"
            said = "vm-greeting-saved" if kept else "silence-250ms"
            caller.play([self.company.system(said)], interruptible=False)

    def _key(self, call: Call, digits: str) -> None:
        state = self.state
        if state == "pin":
            if digits == self.pin:
                self._main(call)
            else:
                self.tries += 1
                if self.tries >= 3:
                    call.hangup()
                else:
                    self._say(call, ["vm-wrong-pin", "vm-enter-pin"], "pin", digits=8)
        elif state == "main":
            if digits == "1":
                self.index = 0
                self._play_message(call)
            elif digits == "2":
                self.state = "greeting-intro"
                folder = self.company.system_prompts / self.company.language
                call.caller.play([folder / "vm-record-greeting.wav", folder / "beep.wav"])
            elif digits == "3":
                self.enabled = not self.enabled
                self.company.set_voicemail(self.box, self.enabled)
                said = "vm-box-on" if self.enabled else "vm-box-off"
                self._say(call, [said, "vm-main-menu"], "main")
            else:
                self._say(call, ["vm-main-menu"], "main")
        elif state in ("message", "after"):
            self._message_key(call, digits)

    def _message_key(self, call: Call, digit: str) -> None:
        message = self.messages[self.index] if self.index < len(self.messages) else None
        folder = self.company.system_prompts / self.company.language
        if message is None or digit == "1":
            self._play_message(call)
        elif digit == "2":
            call.caller.play([folder / "vm-saved.wav"])
            self.index += 1
            self.state = "saved"
            self._then_next(call)
        elif digit == "3":
            self.company.delete_message(message.box, message.id)
            del self.messages[self.index]
            self.state = "deleted"
            call.caller.play([folder / "vm-deleted.wav"])
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
            self._say(call, ["vm-message-menu"], "after")

    def _then_next(self, call: Call) -> None:
        """After "saved"/"deleted", the next message."""
        self.state = "message-next"
        call.caller.collect(max_digits=1, timeout=120)

        def next_message() -> None:
            if self.state == "message-next" and not call.caller.ended:
                self._play_message(call)

        call.after(1.2, next_message)


def _national(number: str) -> str:
    """+46701234567 is said as 0701234567 to a Swede."""
    return "0" + number[3:] if number.startswith("+46") else number
