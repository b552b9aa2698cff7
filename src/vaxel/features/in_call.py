"""In-call codes (P4, U12, A6): keys a user presses during a connected call, for phones
without a transfer, conference or record key, and for people who know them from the
switch they had before.

    ##EXT#   blind transfer: the other party is put through to EXT (a number too)
    *2EXT#   attended transfer (features/consult.py): the other party waits with music
             while the user talks with EXT; the user hangs up to hand the call over
    *2#      ... back to the other party, ending the consultation
    *3#      ... all three in one call (while consulting)
    *3EXT#   a third party: EXT rings, and when they answer the call is a room of three
    *1       recording on demand: starts, pauses, resumes (features/recording.py)

These are the defaults: a company may choose other keys (`feature_codes` in its
description). The switch recognises the keys (calls/b2bua.py `key_in_call`) and
hands the code here; a target is dialled as the user would dial it, through the
same checks (a barred number, an unknown colleague): a refused one changes
nothing, the call goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Protocol

from vaxel.calls.api import Call, CallError, Cause, Leg
from vaxel.calls.legs import extension_of
from vaxel.features.consult import Consult, consult
from vaxel.features.context import Company
from vaxel.features.three_way import add_party
from vaxel.features.transfer import Plan

log = logging.getLogger(__name__)

#: (company, the transferor's extension, the target, the host it was named at) -> the plan.
PlanTransfer = Callable[[int, str, str, str], Plan | Cause]
#: The recording of a call asked to toggle (features/recording.py `Recordings.act`).
Record = Callable[[Call], object]


class Directory(Protocol):
    def company(self, company_id: int) -> Company | None: ...


class InCallCodes:
    """The company's in-call codes for the switch, and what each does."""

    def __init__(self, directory: Directory, plan_transfer: PlanTransfer, record: Record) -> None:
        self.directory = directory
        self.plan_transfer = plan_transfer
        self.record = record

    def codes(self, company_id: int) -> Mapping[str, bool]:
        """The company's in-call codes, each with whether a target follows it."""
        company = self.directory.company(company_id)
        return {} if company is None else company.config.feature_codes.in_call()

    def run(self, leg: Leg, code: str, target: str) -> None:
        """The user on `leg` pressed `code`, then `target` (maybe none)."""
        call = leg.call
        company = self.directory.company(call.company_id)
        extension = extension_of(leg)
        if company is None or extension is None:
            return
        name = company.config.feature_codes.in_call_name(code)
        handler = call.handler
        if isinstance(handler, Consult):  # only the consultation's own keys count now
            if not target and name == "attended_transfer":
                handler.back(call)
            elif not target and name == "three_way":
                handler.all_three(call)
            return
        if name == "record":
            self.record(call)
        elif not target:
            return
        elif name == "transfer":
            self._transfer(leg, extension, target)
        elif name == "attended_transfer":
            _told(extension, "consultation", consult(company, call, leg, extension, target))
        elif name == "three_way":
            _told(extension, "third party", add_party(company, call, extension, target))

    def _transfer(self, leg: Leg, extension: str, target: str) -> None:
        call = leg.call
        plan = self.plan_transfer(call.company_id, extension, target, "")
        if isinstance(plan, Cause):
            log.info("in-call transfer of %s to %r refused: %s", extension, target, plan)
            return
        dialled, handler, voicemail = plan
        try:
            call.transfer(leg, dialled, handler, voicemail=voicemail)
        except CallError:
            log.info("in-call transfer of %s: the call is not connected", extension)


def _told(extension: str, what: str, outcome: tuple[str, object]) -> None:
    if outcome[0] != "ok":
        log.info("in-call %s of %s refused: %s", what, extension, outcome[1])
