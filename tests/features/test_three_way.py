"""U12: a party of a connected call adds a third, and the three talk in a room (in memory):
each hears the other two and not themselves; two go on when one hangs up; nobody
answering leaves the call as it was; only a party of the call may add anyone."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.features.test_conference import HEARD, LAWS, SILENT, TONES, levels, talk
from tests.memory import MemoryPhone, MemorySwitch
from vaxel.calls.api import Call
from vaxel.features.three_way import add_party


def connected(acme: MemorySwitch) -> tuple[Call, dict[str, MemoryPhone]]:
    """Anna (A-law) calls Björn (µ-law), who answers."""
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    anna.dial("1002", body=anna.sdp(codecs=LAWS["1001"]))
    acme.until(lambda: bjorn.ringing() is not None, 2)
    bjorn.pick_up()
    acme.until(lambda: anna.answered() is not None, 2)
    (call,) = acme.calls.values()
    return call, {"1001": anna, "1002": bjorn}


def company(acme: MemorySwitch):  # type: ignore[no-untyped-def]
    return acme.core.directory.company(1)


@pytest.fixture
def switch(acme: MemorySwitch) -> MemorySwitch:
    return acme


def test_a_third_party_makes_a_room_of_three(switch: MemorySwitch) -> None:
    call, phones = connected(switch)
    cecilia = switch.phone("1003")
    assert add_party(company(switch), call, "1001", "1003") == (
        "ok", {"call_id": call.id, "to": "1003"},
    )  # fmt: skip
    switch.until(lambda: cecilia.ringing() is not None, 2)
    cecilia.pick_up()
    switch.advance(0.6)  # the join tones die away
    phones["1003"] = cecilia
    before = talk(switch, phones)
    for ext, phone in phones.items():
        heard = levels(phone, before[ext])
        for other in phones:
            if other == ext:
                assert heard[other] < SILENT, (ext, heard)
            else:
                assert heard[other] > HEARD, (ext, other, heard)
    assert heard[next(e for e in TONES if e not in phones)] < SILENT

    phones["1002"].hang_up()  # two go on
    switch.advance(0.1)
    del phones["1002"]
    before = talk(switch, phones)
    assert levels(phones["1001"], before["1001"])["1003"] > HEARD
    assert levels(phones["1003"], before["1003"])["1001"] > HEARD
    phones["1003"].hang_up()  # one left: the call ends
    switch.until(lambda: phones["1001"].requests("BYE"), 2)
    assert not switch.calls


def test_nobody_answering_leaves_the_call_as_it_was(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    switch = acme_as()
    call, phones = connected(switch)
    cecilia = switch.phone("1003")  # ring_time 5
    assert add_party(company(switch), call, "1002", "1003")[0] == "ok"
    switch.until(lambda: cecilia.ringing() is not None, 2)
    cecilia.refuse(486)
    switch.advance(0.2)
    assert call.bridged is not None and not call.legs[-1].answered
    phones["1001"].hang_up()
    switch.until(lambda: phones["1002"].requests("BYE"), 2)


def test_only_a_party_of_the_call_adds_anyone(switch: MemorySwitch) -> None:
    call, _ = connected(switch)
    switch.phone("1003")
    missing = ("refused", (404, "no such call of yours"))
    assert add_party(company(switch), call, "1003", "1004") == missing  # not on the call
    assert add_party(company(switch), None, "1001", "1003") == missing
    assert add_party(company(switch), call, "1001", "1099") == (
        "refused", (404, "no colleague '1099'"),
    )  # fmt: skip
    assert add_party(company(switch), call, "1001", "1004")[0] == "refused"  # no phone
    assert call.bridged is not None
