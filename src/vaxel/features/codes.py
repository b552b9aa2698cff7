"""Feature codes dialled from a phone (S8, A5, U9, U11, S6, U7, S4, P4): group login, pause,
ending wrap-up, diversion, forwarding, voicemail, prompts and call pickup by phone.

    *45          log in to every answering group you are a member of
    *46          log out of them
    *45N, *46N   log in to, or out of, the one group whose `login_code` is N (A5)
    *47          pause (no group offers you a call), or unpause when paused (A5)
    *47N         pause with the company's Nth pause reason (`pause_reasons`: 1 lunch ...)
    *48          end your wrap-up after a group's call now (A5): groups offer you calls again
    *21*NUMBER#  forward every call to NUMBER        #21#  stop
    *67*NUMBER#  forward when busy                   #67#  stop
    *61*NUMBER#  forward on no answer                #61#  stop
    *22*S*HHMM#  diversion S until HHMM (today, or tomorrow once it has passed);
    *22*S*MMDDHHMM#  ... until that day and time     #22#  end the diversion
                 S: 1 lunch, 2 meeting, 3 away, 4 sick, 5 vacation
    *98          voicemail: listen, record the greeting
    *99          record a company prompt (admins)
    *8, **EXT    pick up a call ringing a colleague (features/pickup.py)

(the GSM codes phones already know, and *22 for diversions, which no GSM code
uses). The switch answers, says "thank you" (or "invalid choice"), and hangs up.
The codes that are not GSM's are defaults: a company may choose its own
(`feature_codes` in its description, `FeatureCodes`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from vaxel.calls.api import Call, CallEvent, PlayFinished
from vaxel.features.context import Company, Feature, hand_over
from vaxel.features.pickup import Pickup, is_pickup
from vaxel.features.record_prompt import RecordPrompt
from vaxel.features.voicemail_menu import VoicemailMenu
from vaxel.services.diversions import check_diversion
from vaxel.services.errors import Invalid

_FORWARDS = {"21": "always", "67": "busy", "61": "no_answer"}
_SET = re.compile(r"^\*(21|67|61)\*(\+?[0-9]{2,20})#?$")
_CLEAR = re.compile(r"^#(21|67|61)#?$")
#: The diversions a phone sets, by their digit (U9).
DIVERSIONS = {"1": "lunch", "2": "meeting", "3": "away", "4": "sick", "5": "vacation"}
_DIVERT = re.compile(r"^\*22\*([1-5])\*([0-9]{4}|[0-9]{8})#?$")
_UNDIVERT = re.compile(r"^#22#?$")


def diversion_end(digits: str, now: datetime) -> datetime | None:
    """The next HHMM, or MMDDHHMM, after `now`, in `now`'s zone; None: no such time."""
    try:
        if len(digits) == 4:
            hour, minute = int(digits[:2]), int(digits[2:])
            until = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            return until if until > now else until + timedelta(days=1)  # (wall clock)
        month, day, hour, minute = (int(digits[i : i + 2]) for i in range(0, 8, 2))
        until = now.replace(month=month, day=day, hour=hour, minute=minute, second=0,
                            microsecond=0)  # fmt: skip
        return until if until > now else until.replace(year=now.year + 1)
    except ValueError:  # 25:00, 31 February ...
        return None


def _digits_after(code: str, dialled: str) -> str | None:
    """The digits dialled after `code` (a trailing # is the phone's "send"); "" for the
    bare code; None when `dialled` is not `code` followed by digits."""
    if not dialled.startswith(code):
        return None
    rest = dialled[len(code) :].removesuffix("#")
    return rest if rest == "" or rest.isdigit() else None


def _log_in_to(company: Company, extension: str, digits: str, on: bool) -> bool:
    """A5: log in to (or out of) the one group whose `login_code` is `digits`; the user
    must be a member of it."""
    for name, group in company.config.groups.items():
        if group.login_code == digits and extension in group.members:
            company.set_logged_in(extension, on, name)
            return True
    return False


def _pause(company: Company, extension: str, digits: str) -> bool:
    """A5: the pause code alone pauses (without a reason) or unpauses; followed by N it
    pauses with the company's Nth pause reason (a paused agent's reason changes)."""
    if digits == "":
        paused = company.paused(extension) is not None
        company.set_paused(extension, None if paused else "")
        return True
    reasons = company.config.pause_reasons
    number = int(digits)
    if not 1 <= number <= len(reasons):
        return False
    company.set_paused(extension, reasons[number - 1])
    return True


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
        config = company.config
        codes = config.feature_codes
        if code in (codes.group_login, codes.group_logout):
            company.set_logged_in(ext, code == codes.group_login)
            return True
        for login, on in ((codes.group_login, True), (codes.group_logout, False)):
            if (digits := _digits_after(login, code)) is not None:
                return _log_in_to(company, ext, digits, on)
        if (digits := _digits_after(codes.pause, code)) is not None:
            return _pause(company, ext, digits)
        if code == codes.wrap_up_end:
            company.set_wrap_up(ext, None)
            return True
        if match := _SET.match(code):
            company.set_forwarding(ext, _FORWARDS[match.group(1)], match.group(2))
            return True
        if match := _CLEAR.match(code):
            company.set_forwarding(ext, _FORWARDS[match.group(1)], None)
            return True
        if match := _DIVERT.match(code):
            status = DIVERSIONS[match.group(1)]
            now = company.now().astimezone(company.timezone)
            until = diversion_end(match.group(2), now)
            if until is None:
                return False
            try:
                check_diversion(status, "", until, now)
            except Invalid:
                return False
            company.set_diversion(ext, status, until)
            return True
        if _UNDIVERT.match(code):
            company.clear_diversion(ext)
            return True
        return False

    def start(self, call: Call) -> None:
        codes = self.company.config.feature_codes
        if self.dialled == codes.record_prompt:
            hand_over(call, RecordPrompt(self.company, self.extension))
            return
        if is_pickup(codes, self.dialled):
            hand_over(call, Pickup(self.company, self.extension, self.dialled))
            return
        if self.dialled == codes.voicemail:
            hand_over(call, VoicemailMenu(self.company, self.extension))
            return
        done = self._apply()
        call.caller.answer()
        prompt = "thank-you" if done else "invalid-choice"
        call.caller.play([self.company.system(prompt)], interruptible=False)

    def handle(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, PlayFinished):
            call.hangup()
