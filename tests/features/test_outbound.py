"""features/outbound in memory (P6, U8, O2): a number out through the trunk with the caller ID
the user chose for that kind of device (or that one call), and the toll-fraud guard before it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.features.conftest import CARRIER, DESCRIPTION, DIRECT, MAIN
from tests.memory import MemoryPhone, MemorySwitch


@pytest.fixture
def carrier(acme: MemorySwitch) -> MemoryPhone:
    return MemoryPhone(acme, "carrier", "", CARRIER[0], port=CARRIER[1])


def shown(invite: object) -> str:
    return getattr(invite.from_.uri, "user", "")


def test_a_call_out_shows_the_users_direct_number(acme: MemorySwitch, carrier: MemoryPhone) -> None:
    anna = acme.phone("1001")
    anna.dial("0701740605")
    invite = carrier.ringing()
    assert invite is not None
    assert str(invite.uri) == f"sip:+46701740605@{CARRIER[0]}"
    assert shown(invite) == "+46812345611"  # Anna shows her direct number
    carrier.pick_up()
    assert anna.answered() is not None
    anna.hang_up()
    assert carrier.requests("BYE")
    (record,) = acme.records
    assert record.callee == "+46701740605" and record.answered_by == "+46701740605"


def test_from_the_mobile_app_the_main_number_is_shown(
    acme: MemorySwitch, carrier: MemoryPhone
) -> None:
    anna = acme.phone("1001")
    anna.user_agent = "Vaxel Mobile 1.0"
    anna.dial("0701740605")
    assert shown(carrier.ringing()) == MAIN


def test_someone_without_a_choice_shows_the_main_number(
    acme: MemorySwitch, carrier: MemoryPhone
) -> None:
    bjorn = acme.phone("1002")
    bjorn.dial("+4631123456")
    assert shown(carrier.ringing()) == MAIN


def test_premium_rate_numbers_are_refused(acme: MemorySwitch, carrier: MemoryPhone) -> None:
    bjorn = acme.phone("1002")
    bjorn.dial("0900123456")
    assert bjorn.last_final("INVITE").status == 403  # type: ignore[union-attr]
    assert carrier.ringing() is None


def test_an_incomplete_number_is_484(acme: MemorySwitch, carrier: MemoryPhone) -> None:
    bjorn = acme.phone("1002")
    bjorn.dial("070174")
    assert bjorn.last_final("INVITE").status == 484  # type: ignore[union-attr]


@pytest.fixture
def one_line(acme_as: Callable[..., MemorySwitch]) -> MemorySwitch:
    return acme_as(description=DESCRIPTION + "outbound: {max_concurrent_calls: 1}\n")


def test_a_call_past_the_ceiling_is_refused(one_line: MemorySwitch) -> None:
    carrier = MemoryPhone(one_line, "carrier", "", CARRIER[0], port=CARRIER[1])
    anna, bjorn = one_line.phone("1001"), one_line.phone("1002")
    anna.dial("0701740605")
    carrier.pick_up()
    bjorn.dial("0701740606")
    assert bjorn.last_final("INVITE").status == 503  # type: ignore[union-attr]
    anna.hang_up()
    bjorn.dial("0701740606")
    assert bjorn.last_final("INVITE") is None or carrier.ringing() is not None


def test_a_company_without_a_trunk_cannot_call_out(tmp_path: Path, tone_prompts: Path) -> None:
    switch = MemorySwitch(tmp_path, tone_prompts)
    try:
        anna = switch.phone("1001")
        anna.dial("0701740605")
        assert anna.last_final("INVITE").status == 503  # type: ignore[union-attr]
    finally:
        switch.close()


@pytest.mark.parametrize(
    "preferred",
    [f"<sip:{MAIN}@acme.example>", f"<tel:{MAIN}>", f'"Acme" <sip:{MAIN}@acme.example;user=phone>'],
)
def test_a_device_chooses_the_number_one_call_shows(
    acme: MemorySwitch, carrier: MemoryPhone, preferred: str
) -> None:
    """U8 per call: a P-Preferred-Identity (RFC 3325; a sip: or tel: URI) naming one of the
    caller's own numbers is what that call shows; the next call without one shows the
    usual choice."""
    anna = acme.phone("1001")
    anna.dial("0701740605", headers=[f"P-Preferred-Identity: {preferred}"])
    assert shown(carrier.ringing()) == MAIN
    carrier.pick_up()
    anna.hang_up()
    anna.dial("0701740605")
    assert shown(carrier.ringing()) == "+46812345611"  # her direct number, as she chose


@pytest.mark.parametrize(
    "preferred",
    ["<sip:+46701740605@acme.example>", f"<tel:{DIRECT}>", "<sip:nonsense@x>", "<<bad"],
)
def test_a_preferred_number_that_is_not_the_callers_is_ignored(
    acme: MemorySwitch, carrier: MemoryPhone, preferred: str
) -> None:
    """Nobody shows a number that is not theirs (a stranger's, Björn's direct number): such
    a preference, or one that cannot be read, is as if none was given."""
    anna = acme.phone("1001")
    anna.dial("0701740605", headers=[f"P-Preferred-Identity: {preferred}"])
    assert shown(carrier.ringing()) == "+46812345611"
