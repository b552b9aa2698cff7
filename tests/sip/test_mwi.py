"""Message-summary bodies (RFC 3842) for the MWI lamp of S6/U5/U7, byte for byte."""

from __future__ import annotations

import pytest

from vaxel.sip.errors import LocalProtocolError, RemoteProtocolError
from vaxel.sip.mwi import (
    CONTENT_TYPE,
    EVENT,
    Counts,
    message_summary,
    parse_message_summary,
)

# The NOTIFY body of the example message flow (RFC 3842 §4).
RFC_FLOW_BODY = (
    b"Messages-Waiting: yes\r\n"
    b"Message-Account: sip:alice@vmail.example.com\r\n"
    b"Voice-Message: 2/8 (0/2)\r\n"
)

# The body of the NOTIFY Bodies example (RFC 3842 §3.5), and the same with
# the optional headers about the new messages after a blank line.
RFC_BODY = (
    b"Messages-Waiting: yes\r\n"
    b"Message-Account: sip:alice@vmail.example.com\r\n"
    b"Voice-Message: 4/8 (1/2)\r\n"
)
RFC_BODY_WITH_MESSAGE_HEADERS = RFC_BODY + (
    b"\r\n"
    b"To: <alice@atlanta.example.com>\r\n"
    b"From: <bob@biloxi.example.com>\r\n"
    b"Subject: carpool tomorrow?\r\n"
    b"Date: Sun, 18 Jan 2004 16:06:23 -0800\r\n"
    b"Priority: normal\r\n"
    b"Message-ID: 13784434989@vmail.example.com\r\n"
)


def test_package_names() -> None:
    assert EVENT == "message-summary"
    assert CONTENT_TYPE == "application/simple-message-summary"


def test_builds_the_rfc_flow_body_byte_for_byte() -> None:
    body = message_summary(2, 8, account="sip:alice@vmail.example.com", urgent_old=2)
    assert body == RFC_FLOW_BODY


def test_builds_the_rfc_example_with_urgent_messages() -> None:
    body = message_summary(4, 8, account="sip:alice@vmail.example.com", urgent_new=1, urgent_old=2)
    assert body == RFC_BODY


def test_lamp_off_when_every_message_is_heard() -> None:
    body = message_summary(0, 3, account=None)
    assert body == b"Messages-Waiting: no\r\nVoice-Message: 0/3 (0/0)\r\n"
    assert parse_message_summary(body).messages_waiting is False


def test_parses_the_rfc_flow_body() -> None:
    summary = parse_message_summary(RFC_FLOW_BODY)
    assert summary.messages_waiting is True
    assert summary.account == "sip:alice@vmail.example.com"
    assert summary.voice == Counts(new=2, old=8, urgent_new=0, urgent_old=2)


def test_parses_the_rfc_example_and_skips_the_message_headers() -> None:
    summary = parse_message_summary(RFC_BODY_WITH_MESSAGE_HEADERS)
    assert summary.voice == Counts(4, 8, 1, 2)
    assert summary.account == "sip:alice@vmail.example.com"
    assert set(summary.counts) == {"voice-message"}


@pytest.mark.parametrize(
    ("new", "old", "urgent_new", "urgent_old"),
    [(0, 0, 0, 0), (1, 0, 0, 0), (2, 8, 0, 2), (17, 230, 17, 3)],
)
def test_round_trip(new: int, old: int, urgent_new: int, urgent_old: int) -> None:
    account = "sip:support@acme.example.se"
    body = message_summary(new, old, account=account, urgent_new=urgent_new, urgent_old=urgent_old)
    summary = parse_message_summary(body)
    assert summary.messages_waiting is (new > 0)
    assert summary.account == account
    assert summary.voice == Counts(new, old, urgent_new, urgent_old)


def test_parser_tolerates_sloppy_but_clear_bodies() -> None:
    body = (
        b"messages-waiting:YES\n"
        b"Voice-Message:  3 / 5\n"
        b"Fax-Message: 0/1 ( 0 / 1 )\n"
        b"X-Vendor-Thing: whatever\n"
    )
    summary = parse_message_summary(body)
    assert summary.messages_waiting is True
    assert summary.account is None
    assert summary.voice == Counts(3, 5)
    assert summary.counts["fax-message"] == Counts(0, 1, 0, 1)


def test_minimal_body_has_no_counts() -> None:
    summary = parse_message_summary(b"Messages-Waiting: no\r\n")
    assert summary.messages_waiting is False
    assert summary.voice is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"Voice-Message: 1/0\r\n", "no Messages-Waiting"),
        (b"Messages-Waiting: maybe\r\n", "yes or no"),
        (b"Messages-Waiting: yes\r\nVoice-Message: one/two\r\n", "bad message counts"),
        (b"Messages-Waiting: yes\r\nVoice-Message: 1/-2\r\n", "bad message counts"),
        (b"Messages-Waiting: yes\r\ngarbage\r\n", "without a colon"),
        (b"Messages-Waiting: \xff\r\n", "not UTF-8"),
    ],
)
def test_parser_refuses_misleading_bodies(body: bytes, problem: str) -> None:
    with pytest.raises(RemoteProtocolError, match=problem) as caught:
        parse_message_summary(body)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"new": -1, "old": 0}, "new must be a count"),
        ({"new": 1, "old": 0, "urgent_new": 2}, "urgent_new \\(2\\) is more than new"),
        ({"new": 0, "old": 1, "urgent_old": 2}, "urgent_old \\(2\\) is more than old"),
        ({"new": 1, "old": 0, "account": "sip:a@b\r\nX: y"}, "not a URI"),
        ({"new": 1, "old": 0, "account": "alice"}, "not a URI"),
    ],
)
def test_builder_refuses_impossible_counts_and_accounts(kwargs: dict, problem: str) -> None:
    kwargs.setdefault("account", None)
    with pytest.raises(LocalProtocolError, match=problem):
        message_summary(**kwargs)
