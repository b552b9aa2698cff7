"""Where a transferred call goes (P4, RFC 5589's blind transfer): decided by the dial plan as
if the user who transfers it had dialled the target, with the same refusals.

A colleague rings as a colleague (their diversion and forwarding apply); a number goes
out through the company's trunk past the toll-fraud guard, showing the caller ID the
company's rules choose for the user who transfers; the company's own numbers open their
flow; the park extension parks the transferred party (features/park.py). What cannot be
reached is refused before anything changes (unknown: 404; barred, a feature code or a
park orbit: 403), so the phone that asked keeps its call. Whether a target that
does not answer sends the call back to the transferor or to the target's voicemail is the
company's choice (`company.transfer_fallback`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from vaxel.calls.api import CallHandler, Cause
from vaxel.calls.dialplan import Dialled
from vaxel.calls.inbound import is_ip
from vaxel.features.codes import is_feature_code
from vaxel.features.context import Company
from vaxel.features.dialplan import CompanyDialplan
from vaxel.features.outbound import NO_TRUNK, RING_SECONDS, Outbound
from vaxel.features.park import Retrieve
from vaxel.features.ring_user import Refuse, RingUser
from vaxel.services.users import SipUser

NOT_A_USER = Cause(403, "Forbidden (only a user's call can be transferred)")
NOT_A_TARGET = Cause(403, "Forbidden (not a transfer target)")
EMPTY = Cause(400, "Bad Request (no transfer target)")

#: What a transfer is: what the call record says was dialled, who serves the transferred
#: party, and whether a target who does not answer sends it to their voicemail (else it
#: comes back to the transferor).
Plan = tuple[str, CallHandler, bool]


class TransferError(Exception):
    """A transfer asked for through the API cannot be made; `str()` says why, `status` as
    SIP would (404 no such call, 403 barred, 409 not connected, 422 a party not named)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Directory(Protocol):
    def company(self, company_id: int) -> Company | None: ...


class Transfers:
    """Plans transfers for the switch (a REFER, the call-control API's `transfer`)."""

    def __init__(
        self,
        directory: Directory,
        dialplan: CompanyDialplan,
        users: Callable[[str, str], SipUser | None],
    ) -> None:
        self.directory = directory
        self.dialplan = dialplan
        self.users = users

    def plan(self, company_id: int, extension: str, target: str, host: str = "") -> Plan | Cause:
        """The transfer of a call of `extension` (the transferor) to `target` (named at
        `host`: the company's domain, an address of the switch, or none), or why not."""
        company = self.directory.company(company_id)
        user = self.users(company.domain, extension) if company is not None else None
        if company is None or user is None:
            return NOT_A_USER
        target = target.strip()
        if not target:
            return EMPTY
        if is_feature_code(target) or target == extension:
            return NOT_A_TARGET
        here = not host or host == company.domain or is_ip(host)
        dialled, handler = self.dialplan.from_user(user, Dialled(target, here, ""))
        # `type(...) is`, not isinstance: these are compiled (see features/click_to_call.py).
        if type(handler) is Refuse:
            return handler.cause
        if type(handler) is Retrieve:
            return NOT_A_TARGET  # (a parked call is taken by dialling its orbit)
        if type(handler) is Outbound:
            refused = handler.refusal()
            if refused is not None:
                return refused
            line = company.trunk_line(handler.number, handler.caller_id)
            if line is None:
                return NO_TRUNK
            # As `Outbound` rings the trunk, but the transferred party hears ringback.
            ringback = company.system("ringback")
            handler = RingUser(targets=(line,), ring_seconds=RING_SECONDS, waiting=ringback)
        voicemail = company.config.company.transfer_fallback == "voicemail"
        return dialled, handler, voicemail
