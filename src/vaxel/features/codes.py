"""Feature codes dialled from a phone (S8, U11, S6, U7, S4): group login, forwarding,
voicemail and prompts by phone.

    *45          log in to every answering group you are a member of
    *46          log out of them
    *21*NUMBER#  forward every call to NUMBER        #21#  stop
    *67*NUMBER#  forward when busy                   #67#  stop
    *61*NUMBER#  forward on no answer                #61#  stop
    *98          voicemail: listen, record the greeting
    *99          record a company prompt (admins)

(the GSM codes phones already know). The switch answers, says "thank you"
(or "invalid choice"), and hangs up.
"""

from __future__ import annotations

import re

from vaxel.calls.api import Call, CallEvent, PlayFinished
from vaxel.features.context import Company, Feature, hand_over
from vaxel.features.record_prompt import RecordPrompt
from vaxel.features.voicemail_menu import VoicemailMenu

_FORWARDS = {"21": "always", "67": "busy", "61": "no_answer"}
_SET = re.compile(r"^\*(21|67|61)\*(\+?[0-9]{2,20})#?$")
_CLEAR = re.compile(r"^#(21|67|61)#?$")


def is_feature_code(dialled: str) -> bool:
    return dialled.startswith(("*", "#"))


class FeatureCode(Feature):
    answerer = "feature code"

    def __init__(self, company: Company, extension: str, dialled: str) -> None:
        self.company = company
        self.extension = extension
        self.dialled = dialled

    def _apply(self) -> bool:
        company, ext, code = self.company, self.extension, self.dialled
        if code in ("*45", "*46"):
            company.set_logged_in(ext, code == "*45")
            return True
        if match := _SET.match(code):
            company.set_forwarding(ext, _FORWARDS[match.group(1)], match.group(2))
            return True
        if match := _CLEAR.match(code):
            company.set_forwarding(ext, _FORWARDS[match.group(1)], None)
            return True
        return False

    def start(self, call: Call) -> None:
        if self.dialled == "*99":
            hand_over(call, RecordPrompt(self.company, self.extension))
            return
        if self.dialled == "*98":
            hand_over(call, VoicemailMenu(self.company, self.extension))
            return
        done = self._apply()
        call.caller.answer()
        prompt = "thank-you" if done else "invalid-choice"
        call.caller.play([self.company.system(prompt)], interruptible=False)

    def handle(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, PlayFinished):
            call.hangup()
