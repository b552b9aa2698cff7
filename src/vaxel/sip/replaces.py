"""The Replaces header (P4, RFC 3891): which dialog a new INVITE takes the place of.

`Replaces: call-id;to-tag=...;from-tag=...[;early-only]` names a dialog as the UA that
receives the INVITE knows it: the to-tag is its own tag, the from-tag the other end's.
In a REFER's Refer-To it travels as a URI header (`?Replaces=...`, escaped), naming the
transferor's dialog with the transfer target. Sans-I/O: parsing only.
"""

from __future__ import annotations

from dataclasses import dataclass

from vaxel.sip.errors import RemoteProtocolError


@dataclass(frozen=True, slots=True)
class Replaces:
    call_id: str
    to_tag: str
    from_tag: str
    early_only: bool = False


def parse_replaces(value: str) -> Replaces:
    """Parse a Replaces value (RFC 3891 §6.1); RemoteProtocolError when it is not one."""
    call_id, *params = (part.strip() for part in value.split(";"))
    tags: dict[str, str] = {}
    early_only = False
    for param in params:
        name, _, tag = param.partition("=")
        name = name.strip().lower()
        if name in ("to-tag", "from-tag"):
            tags[name] = tag.strip().strip('"')
        elif name == "early-only":
            early_only = True
    if not call_id or not tags.get("to-tag") or not tags.get("from-tag"):
        raise RemoteProtocolError(f"bad Replaces: {value!r}")
    return Replaces(call_id, tags["to-tag"], tags["from-tag"], early_only)
