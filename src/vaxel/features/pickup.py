"""Call pickup (P4, U5): a user takes, on their own phone, a call ringing a colleague.

    *8      group pickup: a call ringing a colleague of one of the user's answering groups
            (the groups whose `members` list them), the longest ringing first
    **EXT   directed pickup: a call ringing the colleague EXT

(the defaults: a company may choose other codes, `feature_codes` in its description).

The picker's phone answers the caller at once (the picker's leg joins the ringing call:
`Call.adopt`), and the phones that rang stop with "Call completed elsewhere", as when
one of a user's phones answers (features/ring_user.py). Only a call rung by a step that
rings (a user's phones, a group's members) can be taken; only the company's own calls
are looked at. With nothing to take, the picker's phone gets 486 "nothing to pick up"
(it plays its busy tone), the same whoever they named: no colleague's line is told apart.
"""

from __future__ import annotations

import re

from vaxel.calls.api import Call, Cause, Device, LegState
from vaxel.features.context import Company, Feature
from vaxel.services.company_config import FeatureCodes

_EXTENSION = re.compile(r"^[0-9]{2,10}$")
NOTHING = Cause(486, "Busy Here (nothing to pick up)", "busy")
# A phone is being rung from the INVITE on: some say 180 only when they show the call, or
# never (an auto-answering phone).
_RINGING = (LegState.CALLING, LegState.RINGING, LegState.EARLY)


def directed(codes: FeatureCodes, dialled: str) -> str | None:
    """The colleague a directed pickup names, if `dialled` is one."""
    named = dialled.removeprefix(codes.directed_pickup)
    return named if named != dialled and _EXTENSION.match(named) else None


def is_pickup(codes: FeatureCodes, dialled: str) -> bool:
    return dialled == codes.pickup or directed(codes, dialled) is not None


def colleagues(company: Company, extension: str, dialled: str) -> set[str]:
    """Whose ringing calls `extension` may take with `dialled`."""
    named = directed(company.config.feature_codes, dialled)
    if named is not None:
        return {named} if named != extension else set()
    found: set[str] = set()
    for group in company.config.groups.values():
        if extension in group.members:
            found.update(group.members)
    found.discard(extension)
    return found


def ringing(company: Company, extensions: set[str], picker: Call) -> list[Call]:
    """The company's calls ringing a phone of one of `extensions`, longest ringing first."""
    found = [
        call
        for call in company.calls()
        if call is not picker
        and call.legs
        and not call.caller.ended
        and not _talking(call)
        and any(
            leg.direction == "outbound"
            and leg.state in _RINGING
            and isinstance(leg.target, Device)
            and leg.target.extension in extensions
            for leg in call.legs[1:]
        )
    ]
    return sorted(found, key=lambda call: call.started_at)


def _talking(call: Call) -> bool:
    """Has a person answered the call? (A menu or queue may have answered the caller; a
    transferor's leg waits aside while the transferred party rings someone.)"""
    transfer = call.transferring
    aside = transfer.transferor if transfer is not None else None
    return any(leg.answered and leg is not aside for leg in call.legs[1:])


class Pickup(Feature):
    """The call of a user who dialled a pickup code."""

    def __init__(self, company: Company, extension: str, dialled: str) -> None:
        self.company = company
        self.extension = extension
        self.dialled = dialled

    def start(self, call: Call) -> None:
        leg = call.caller
        wanted = colleagues(self.company, self.extension, self.dialled)
        for ringing_call in ringing(self.company, wanted, call) if wanted else []:
            handler = ringing_call.handler
            if isinstance(handler, Feature) and handler.pick_up(ringing_call, leg):
                return  # (this call is over: its leg is the other call's now)
        leg.reject(NOTHING)
