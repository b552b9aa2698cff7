"""Calling out through the company's trunk (P6, U8): E.164 out, the chosen caller ID, and
the toll-fraud guard first (destination classes, a ceiling on concurrent calls)."""

from __future__ import annotations

from vaxel.calls.api import Call, Cause
from vaxel.calls.numbering import check
from vaxel.features.context import Company, Feature
from vaxel.features.ring_user import Refuse, RingUser


class Outbound(Feature):
    def __init__(self, company: Company, number: str, caller_id: str | None = None) -> None:
        self.company = company
        self.number = number
        self.caller_id = caller_id

    def start(self, call: Call) -> None:
        company = self.company
        decision = check(company.config.outbound, self.number, company.outbound_calls())
        if not decision.allowed:
            Refuse(Cause(decision.status or 403, decision.cause)).start(call)
            return
        target = company.trunk_target(self.number, self.caller_id)
        if target is None:
            Refuse(Cause(503, "Service Unavailable (no trunk)")).start(call)
            return
        ring = RingUser(targets=(target,), ring_seconds=120, waiting=None)
        call.handler = ring
        ring.start(call)
