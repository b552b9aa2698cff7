"""Calling out through the company's trunk (P6, U8, O2): E.164 out, the chosen caller ID, and
the toll-fraud guard first (destination classes, a ceiling on concurrent calls)."""

from __future__ import annotations

from vaxel.calls.api import Call, Cause
from vaxel.features.context import Company, Feature
from vaxel.features.destinations import serves
from vaxel.features.ring_user import Refuse, RingUser
from vaxel.services import company_config as cc
from vaxel.services.numbering import check

NO_TRUNK = Cause(503, "Service Unavailable (no trunk)")
RING_SECONDS = 120  # a number out rings as long as the carrier lets it


class Outbound(Feature):
    def __init__(self, company: Company, number: str, caller_id: str | None = None) -> None:
        self.company = company
        self.number = number
        self.caller_id = caller_id

    def refusal(self) -> Cause | None:
        """Why the guard would refuse this call now (None: it would let it through)."""
        company = self.company
        decision = check(company.config.outbound, self.number, company.outbound_calls())
        return None if decision.allowed else Cause(decision.status or 403, decision.cause)

    def start(self, call: Call) -> None:
        company = self.company
        refused = self.refusal()
        if refused is not None:
            Refuse(refused).start(call)
            return
        line = company.trunk_line(self.number, self.caller_id)
        if line is None:
            Refuse(NO_TRUNK).start(call)
            return
        ring = RingUser(targets=(line,), ring_seconds=RING_SECONDS, waiting=None)
        call.handler = ring
        ring.start(call)


@serves(cc.ToExternal)
def _to_external(company: Company, destination: cc.ToExternal) -> Feature:
    return Outbound(company, destination.external)
