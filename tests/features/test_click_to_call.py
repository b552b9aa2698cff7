"""Click-to-call in memory (P8, U4): my phones ring first, then the number is dialled as
if the phone that answered had dialled it."""

from __future__ import annotations

import pytest

from tests.memory import DOMAIN, MemorySwitch, contains, tone
from vaxel.features.click_to_call import CallPlacer, ClickToCallError
from vaxel.features.dialplan import CompanyDialplan


def placer(switch: MemorySwitch) -> CallPlacer:
    core = switch.core
    return CallPlacer(core.calls, core.directory, CompanyDialplan(core.directory),
                      core.authenticator.lookup)  # fmt: skip


def test_my_phone_rings_first_then_the_colleague_and_they_talk(acme: MemorySwitch) -> None:
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    call = placer(acme).call(1, DOMAIN, "1002", "1001")
    acme.run()
    mine = bjorn.ringing()
    assert mine is not None and "1001" in mine.headers.get("From")  # whom he is about to call
    assert anna.ringing() is None
    bjorn.pick_up()
    acme.advance(1.2)
    assert contains(bjorn.heard(), acme.system("ringback")[:4000])
    assert anna.ringing() is not None and "1002" in anna.ringing().headers.get("From")
    anna.pick_up()
    hello = tone("hello from anna", 0.5)
    anna.say(hello)
    acme.advance(1.0)
    assert contains(bjorn.heard(), hello)
    back = tone("hello from bjorn", 0.5)
    bjorn.say(back)
    acme.advance(1.0)
    assert contains(anna.heard(), back)
    bjorn.hang_up()
    (record,) = acme.records
    assert (record.caller, record.callee, record.disposition) == ("1002", "1001", "answered")
    assert record.answered_by == "1001" and call.id


def test_nothing_rings_for_an_unknown_or_barred_number_or_without_a_phone(
    acme: MemorySwitch,
) -> None:
    bjorn = acme.phone("1002")
    with pytest.raises(ClickToCallError, match="1099"):
        placer(acme).call(1, DOMAIN, "1002", "1099")
    with pytest.raises(ClickToCallError) as barred:
        placer(acme).call(1, DOMAIN, "1002", "0900123456")
    assert barred.value.status == 403
    assert bjorn.ringing() is None
    with pytest.raises(ClickToCallError, match="none of your phones"):
        placer(acme).call(1, DOMAIN, "1001", "1002")


def test_nobody_answering_my_phones_ends_it(acme: MemorySwitch) -> None:
    bjorn = acme.phone("1002")
    placer(acme).call(1, DOMAIN, "1002", "1001")
    acme.run()
    assert bjorn.ringing() is not None
    acme.advance(40)
    (record,) = acme.records
    assert record.disposition in ("no-answer", "canceled", "failed")
