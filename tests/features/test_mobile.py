"""Mobile numbers as phones in memory (U2, U6): Björn's mobile rings with his desk phone,
through the trunk, showing who calls; it takes the call only by pressing 1, so its own
voicemail never does. Dan has no other phone: his mobile is his phone."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.features.conftest import DIRECT, variant
from tests.features.test_pickup import cancelled_elsewhere
from tests.features.test_transfer import hear_each_other
from tests.memory import MemorySwitch, contains
from vaxel.features.ring_user import CONFIRM_SECONDS

BJORN_MOBILE = "+46701111222"
DAN_MOBILE = "+46703333444"
MOBILES = variant(
    '{ext: "1002", name: Björn}',
    f'{{ext: "1002", name: Björn, mobile: "{BJORN_MOBILE}", mobile_rings: {{}}}}',
).replace(
    "voicemail: {enabled: false}}",
    f'voicemail: {{enabled: false}}, mobile: "{DAN_MOBILE}",\n'
    "     mobile_rings: {confirm: false}}",
)


@pytest.fixture
def acme(acme_as: Callable[..., MemorySwitch]) -> MemorySwitch:
    return acme_as(description=MOBILES)


def test_the_mobile_rings_too_and_takes_the_call_with_1(acme: MemorySwitch) -> None:
    anna, bjorn, carrier = acme.phone("1001"), acme.phone("1002"), acme.carrier()
    anna.dial("1002")
    assert bjorn.ringing() is not None
    invite = carrier.ringing()
    assert invite is not None and str(invite.uri).startswith(f"sip:{BJORN_MOBILE}@")
    assert "+46812345611" in (invite.headers.get("From") or "")  # Anna's direct number
    carrier.pick_up()
    acme.advance(1.0)
    assert contains(carrier.heard(), acme.system("mobile-confirm")[:4000])
    assert anna.answered() is None and bjorn.ringing() is not None  # not yet taken
    carrier.press("1")
    assert anna.answered() is not None
    assert cancelled_elsewhere(bjorn)
    assert hear_each_other(acme, anna, carrier)


def test_the_mobiles_voicemail_does_not_take_it(acme: MemorySwitch) -> None:
    cecilia, bjorn, carrier = acme.phone("1003"), acme.phone("1002"), acme.carrier()
    cecilia.dial("1002")
    assert carrier.ringing() is not None
    carrier.pick_up()  # the mobile's voicemail answers: it presses nothing
    acme.advance(CONFIRM_SECONDS + 0.5)
    assert carrier.requests("BYE")  # hung up; the desk phone rings on
    assert bjorn.ringing() is not None and cecilia.answered() is None
    bjorn.pick_up()
    assert cecilia.answered() is not None
    assert hear_each_other(acme, cecilia, bjorn)


def test_a_call_from_outside_shows_the_callers_number_on_the_mobile(
    acme: MemorySwitch,
) -> None:
    caller = acme.carrier()  # the carrier's peer: the call in, and the mobile out
    acme.phone("1002")
    caller.dial(DIRECT)
    out = [i for i in caller.invites if str(i.uri).startswith(f"sip:{BJORN_MOBILE}@")]
    assert out and "+46701740605" in (out[0].headers.get("From") or "")


def test_a_user_with_only_a_mobile_is_rung_there(acme: MemorySwitch) -> None:
    """Dan has no registered phone: his extension rings his mobile, which takes the call
    at once (no confirmation asked); his line shows the call like anyone's."""
    anna, carrier = acme.phone("1001"), acme.carrier()
    anna.dial("1004")
    invite = carrier.ringing()
    assert invite is not None and str(invite.uri).startswith(f"sip:{DAN_MOBILE}@")
    carrier.pick_up()
    assert anna.answered() is not None
    assert hear_each_other(acme, anna, carrier)
    anna.hang_up()
    (record,) = acme.records
    assert record.callee == "1004" and record.disposition == "answered"


def test_a_mobile_needs_a_number() -> None:
    from vaxel.services.company_config import ConfigError, parse_config

    with pytest.raises(ConfigError) as refused:
        parse_config({"company": {"domain": "a.test", "name": "A"},
                      "users": [{"ext": "1001", "name": "A", "mobile_rings": {}}]})  # fmt: skip
    assert "mobile_rings needs the user's mobile number" in refused.value.errors[0]
