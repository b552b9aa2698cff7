"""What every subscription the switch serves shares (RFC 6665): message waiting
(calls/mwi.py), line status and presence (calls/presence.py). How long one lasts comes
from the SUBSCRIBE's Expires, bounded here; one asked for too briefly is refused with 423
(Interval Too Brief) naming the shortest the switch grants, so a phone cannot make it send
NOTIFYs at will.
"""

from __future__ import annotations

from vaxel.sip.message import Request, Response, make_response

MAX_EXPIRES = 3600
DEFAULT_EXPIRES = 3600  # a SUBSCRIBE without Expires (RFC 6665 §4.1.2.1 leaves it to us)
MIN_EXPIRES = 60


def requested_expires(request: Request) -> int | None:
    """The seconds a SUBSCRIBE asks for, at most MAX_EXPIRES (0 ends the subscription);
    None when it asks for fewer than MIN_EXPIRES: answer it `too_brief`."""
    value = request.headers.get("Expires")
    wanted = int(value) if value is not None and value.strip().isdigit() else DEFAULT_EXPIRES
    if 0 < wanted < MIN_EXPIRES:
        return None
    return min(wanted, MAX_EXPIRES)


def too_brief(request: Request) -> Response:
    response = make_response(request, 423)
    response.headers.add("Min-Expires", str(MIN_EXPIRES))
    return response
