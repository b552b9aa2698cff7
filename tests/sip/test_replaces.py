"""The Replaces header (RFC 3891 §6.1), parsed."""

from __future__ import annotations

import pytest

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.replaces import Replaces, parse_replaces


def test_the_rfc_example_is_parsed() -> None:
    value = "425928@bobster.example.org;to-tag=7743;from-tag=6472"
    assert parse_replaces(value) == Replaces("425928@bobster.example.org", "7743", "6472")
    assert parse_replaces("a@b; from-tag=1 ;To-Tag=2;early-only").early_only


@pytest.mark.parametrize(
    "value", ["", "abc", "abc;to-tag=1", "abc;from-tag=1", ";to-tag=1;from-tag=2", "x;to-tag="]
)
def test_without_a_call_id_and_both_tags_it_is_refused(value: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_replaces(value)
