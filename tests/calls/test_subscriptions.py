"""How long a subscription lasts (U7 message waiting, U10 line status; RFC 6665), and the
423 that refuses one asked for too briefly."""

from __future__ import annotations

import pytest

from vaxel.calls.subscriptions import (
    DEFAULT_EXPIRES,
    MAX_EXPIRES,
    MIN_EXPIRES,
    requested_expires,
    too_brief,
)
from vaxel.sip.message import Request, parse_message


def subscribe(expires: str | None) -> Request:
    lines = [
        "SUBSCRIBE sip:1002@acme.test SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.5:5060;branch=z9hG4bKsub1",
        "From: <sip:1001@acme.test>;tag=a",
        "To: <sip:1002@acme.test>",
        "Call-ID: sub1@phone",
        "CSeq: 1 SUBSCRIBE",
        "Event: dialog",
    ]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    message = parse_message(("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode())
    assert isinstance(message, Request)
    return message


@pytest.mark.parametrize(
    ("expires", "granted"),
    [(None, DEFAULT_EXPIRES), ("0", 0), (str(MIN_EXPIRES), MIN_EXPIRES), ("600", 600),
     (str(MAX_EXPIRES * 10), MAX_EXPIRES), (str(MIN_EXPIRES - 1), None), ("1", None),
     ("soon", DEFAULT_EXPIRES)],
)  # fmt: skip
def test_the_life_granted_is_bounded(expires: str | None, granted: int | None) -> None:
    assert requested_expires(subscribe(expires)) == granted


def test_too_brief_is_423_naming_the_shortest() -> None:
    answer = too_brief(subscribe("5"))
    assert answer.status == 423
    assert answer.headers.get("Min-Expires") == str(MIN_EXPIRES)
