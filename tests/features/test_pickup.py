"""Call pickup in memory (P4, U5): Cecilia takes, on her phone, a call ringing Björn: by his
extension (**1002) or as a colleague of his answering group (*8). Björn's phone stops ringing
("completed elsewhere"), Anna and Cecilia hear each other, the record names Cecilia."""

from __future__ import annotations

from pathlib import Path

from tests.features.conftest import MAIN
from tests.features.test_transfer import hear_each_other
from tests.memory import PASSWORD, MemoryPhone, MemorySwitch
from vaxel.services import companies, users


def cancelled_elsewhere(phone: MemoryPhone) -> bool:
    cancels = phone.requests("CANCEL")
    return bool(cancels) and "completed elsewhere" in (cancels[-1].headers.get("Reason") or "")


def test_directed_pickup_takes_the_call_ringing_a_colleague(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = acme.phone("1001"), acme.phone("1002"), acme.phone("1003")
    anna.dial("1002")
    assert bjorn.ringing() is not None
    cecilia.dial("**1002")
    assert cecilia.answered() is not None and anna.answered() is not None
    assert cancelled_elsewhere(bjorn) and bjorn.ringing() is None
    assert hear_each_other(acme, anna, cecilia)
    anna.hang_up()
    assert cecilia.requests("BYE") and not acme.calls
    (record,) = acme.records  # one call: Anna's, answered by Cecilia
    assert (record.caller, record.callee, record.answered_by) == ("1001", "1002", "1003")
    assert record.disposition == "answered" and record.hangup_side == "caller"


def test_the_picker_hanging_up_ends_the_call_for_the_caller(acme: MemorySwitch) -> None:
    anna, cecilia = acme.phone("1001"), acme.phone("1003")
    acme.phone("1002")
    anna.dial("1002")
    cecilia.dial("**1002")
    assert cecilia.answered() is not None
    cecilia.hang_up()
    assert anna.requests("BYE") and not acme.calls
    assert acme.records[-1].hangup_side == "callee"


def test_group_pickup_takes_a_call_ringing_a_member_of_ones_group(acme: MemorySwitch) -> None:
    """Björn and Cecilia answer sales and support together; a carrier's call to Björn's
    direct number rings him, Cecilia dials *8."""
    caller, bjorn, cecilia = acme.carrier(), acme.phone("1002"), acme.phone("1003")
    caller.dial("+46812345601")
    assert bjorn.ringing() is not None
    cecilia.dial("*8")
    assert cecilia.answered() is not None
    assert cancelled_elsewhere(bjorn)
    assert hear_each_other(acme, caller, cecilia)


def test_group_pickup_takes_a_call_to_the_group_itself(acme: MemorySwitch) -> None:
    """Cecilia logged out of her groups: a call to support (through the menu, which the
    switch answered) rings only Björn; she takes it all the same, and the group's ring time
    passing later changes nothing."""
    bjorn, cecilia = acme.phone("1002"), acme.phone("1003")
    cecilia.dial("*46")  # logged out: the group rings only Björn
    cecilia.answered()
    acme.advance(1.0)
    caller = acme.carrier()
    caller.dial(MAIN)
    caller.answered()
    acme.advance(0.7)
    caller.press("5")  # the menu's support group
    assert bjorn.ringing() is not None
    cecilia.dial("*8")
    assert cecilia.answered() is not None and cancelled_elsewhere(bjorn)
    assert hear_each_other(acme, caller, cecilia)
    acme.advance(15.0)  # the group's ring time passed: nothing comes back
    assert hear_each_other(acme, caller, cecilia)
    assert not bjorn.ringing()


def test_nothing_ringing_is_486_and_outsiders_of_the_group_take_nothing(
    acme: MemorySwitch,
) -> None:
    anna, bjorn, dan = acme.phone("1001"), acme.phone("1002"), acme.phone("1004")
    dan.dial("*8")  # nothing rings
    assert dan.last_final("INVITE").status == 486  # type: ignore[union-attr]
    anna.dial("1002")
    dan.dial("*8")  # Dan is in no group of Björn's
    final = dan.last_final("INVITE")
    assert final is not None and final.status == 486 and "nothing to pick up" in final.reason
    assert bjorn.ringing() is not None  # still ringing for Björn
    dan.dial("**1003")  # Cecilia: nothing rings
    assert dan.last_final("INVITE").status == 486  # type: ignore[union-attr]
    dan.dial("**1002")  # directed: anyone of the company may
    assert dan.answered() is not None
    assert hear_each_other(acme, anna, dan)


def test_an_answered_call_cannot_be_picked_up(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = acme.phone("1001"), acme.phone("1002"), acme.phone("1003")
    anna.dial("1002")
    bjorn.pick_up()
    cecilia.dial("**1002")
    assert cecilia.last_final("INVITE").status == 486  # type: ignore[union-attr]
    assert hear_each_other(acme, anna, bjorn)


def test_another_companys_ringing_call_is_never_picked_up(
    tmp_path: Path, tone_prompts: Path
) -> None:
    switch = MemorySwitch(tmp_path, tone_prompts)
    try:
        companies.add_company(switch.store, "other.example", "Other AB")
        users.add_user(switch.store, "other.example", "1002", "Otto", PASSWORD)
        users.add_user(switch.store, "other.example", "1003", "Olga", PASSWORD)
        switch.advance(0.1)
        otto = MemoryPhone(switch, "1002", PASSWORD, "198.51.100.77", domain="other.example")
        olga = MemoryPhone(switch, "1003", PASSWORD, "198.51.100.78", domain="other.example")
        assert otto.register().status == 200 and olga.register().status == 200
        anna, bjorn = switch.phone("1001"), switch.phone("1002")
        olga.dial("1002")  # Otto rings, at Other AB
        assert otto.ringing() is not None
        anna.dial("**1002")  # Björn, at Acme, rings nothing
        assert anna.last_final("INVITE").status == 486  # type: ignore[union-attr]
        assert otto.ringing() is not None and not otto.requests("CANCEL")
        assert bjorn.ringing() is None
    finally:
        switch.close()


def test_the_lines_show_the_picker_talking_and_the_rung_colleague_idle(
    acme: MemorySwitch,
) -> None:
    """What busy lamps show (calls/lines.py): Cecilia, never rung, is in the call now."""
    company_id = next(iter(acme.core.directory.companies))
    lines = acme.core.lines
    lines.watch(company_id)
    anna, cecilia = acme.phone("1001"), acme.phone("1003")
    acme.phone("1002")
    anna.dial("1002")
    assert lines.line(company_id, "1002").state == "ringing"
    cecilia.dial("**1002")
    assert cecilia.answered() is not None
    assert lines.line(company_id, "1003").state == "talking"
    assert lines.line(company_id, "1002").state == "idle"
    assert lines.line(company_id, "1001").state == "talking"
    anna.hang_up()
    assert lines.line(company_id, "1003").state == "idle"


def test_a_transfer_ringing_a_colleague_is_picked_up_and_completes(acme: MemorySwitch) -> None:
    """Björn transfers Anna to Cecilia; while Cecilia rings, Dan takes the call: the
    transfer succeeded (NOTIFY 200, Björn's leg ends) and Anna talks with Dan."""
    from tests.features.test_transfer import frags, refer, talking

    anna, bjorn = talking(acme)
    cecilia, dan = acme.phone("1003"), acme.phone("1004")
    assert refer(bjorn, "<sip:1003@acme.test>") == 202
    assert cecilia.ringing() is not None
    dan.dial("**1003")
    assert dan.answered() is not None and cancelled_elsewhere(cecilia)
    assert frags(bjorn)[-1] == "SIP/2.0 200 OK" and bjorn.requests("BYE")
    assert hear_each_other(acme, anna, dan)
