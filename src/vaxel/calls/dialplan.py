"""What the SIP core asks of a dial plan: who a carrier is, and what a dialled string means.

The switch knows SIP and call control only. Whether "1002" is a colleague,
"*21*0701234567#" a forwarding code and "0812345600" the company's own
main number is the company's business, decided in `features.dialplan`,
which the switch is given at construction as this one small interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vaxel.calls.api import CallHandler
from vaxel.services.users import SipUser

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.

Decision = tuple[str, CallHandler]  # what the call record says was dialled, and who serves it


@dataclass(frozen=True, slots=True)
class Dialled:
    """What a caller dialled, as a dial plan needs it (no SIP)."""

    digits: str  # the Request-URI's user part: "1002", "+46812345600", "*98"
    here: bool  # addressed to the caller's own company or to the switch (not a foreign domain)
    user_agent: str = ""  # the calling device's product (caller ID by kind of device)
    # The number the device asks to show on this call (RFC 3325 P-Preferred-Identity, U8):
    # heeded only when it is one of the caller's own numbers.
    preferred: str = ""

    def __init__(self, digits: str, here: bool, user_agent: str = "", preferred: str = "") -> None:
        object.__setattr__(self, "digits", digits)
        object.__setattr__(self, "here", here)
        object.__setattr__(self, "user_agent", user_agent)
        object.__setattr__(self, "preferred", preferred)


@dataclass(frozen=True, slots=True)
class Carrier:
    """A company's trunk that a call came in on."""

    company_id: int
    trunk: str

    def __init__(self, company_id: int, trunk: str) -> None:
        object.__setattr__(self, "company_id", company_id)
        object.__setattr__(self, "trunk", trunk)


class Dialplan(Protocol):
    def carrier(self, host: str, port: int) -> Carrier | None:
        """The trunk at this address (carriers are known by address, never by a name)."""
        ...

    def from_user(self, caller: SipUser, dialled: Dialled) -> Decision:
        """A call placed by an authenticated user of a company."""
        ...

    def from_carrier(self, carrier: Carrier, dialled: Dialled) -> Decision:
        """A call from a carrier to one of the company's numbers."""
        ...
