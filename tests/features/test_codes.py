"""features/codes in memory (U11, S8): forwarding set and cleared from the phone, group login,
and what an unknown code says."""

from __future__ import annotations

from tests.features.conftest import CARRIER
from tests.memory import MemoryPhone, MemorySwitch, contains


def code(acme: MemorySwitch, phone: MemoryPhone, dialled: str) -> None:
    phone.dial(dialled)
    phone.answered()
    acme.advance(1.0)
    assert phone.requests("BYE")  # said its piece, then hung up


def test_forwarding_always_to_a_mobile_and_back(acme: MemorySwitch) -> None:
    bjorn = acme.phone("1002")
    code(acme, bjorn, "*21*0701740605#")
    assert contains(bjorn.heard(), acme.system("thank-you"))
    carrier = MemoryPhone(acme, "carrier", "", CARRIER[0], port=CARRIER[1])
    anna = acme.phone("1001")
    anna.dial("1002")
    assert bjorn.ringing() is None
    invite = carrier.ringing()
    assert invite is not None and str(invite.uri).startswith("sip:+46701740605@")
    anna.cancel()
    code(acme, bjorn, "#21#")
    anna.dial("1002")
    assert bjorn.ringing() is not None


def test_forwarding_when_busy_to_a_colleague(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = acme.phone("1001"), acme.phone("1002"), acme.phone("1003")
    code(acme, bjorn, "*67*1003#")
    dan = acme.phone("1004")
    dan.dial("1002")
    bjorn.pick_up()  # Björn is in a call now
    anna.dial("1002")
    assert cecilia.ringing() is not None


def test_forwarding_on_no_answer(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = acme.phone("1001"), acme.phone("1002"), acme.phone("1003")
    code(acme, bjorn, "*61*1003#")
    anna.dial("1002")
    assert bjorn.ringing() is not None
    acme.advance(30.5)  # Björn's ring time
    assert cecilia.ringing() is not None


def test_an_unknown_code_says_so(acme: MemorySwitch) -> None:
    bjorn = acme.phone("1002")
    code(acme, bjorn, "*77")
    assert contains(bjorn.heard(), acme.system("invalid-choice"))


def test_a_change_from_the_phone_is_in_the_audit_log(acme: MemorySwitch) -> None:
    """Who, from where (the phone) and what, as the web's changes are (P8)."""
    from vaxel.services import audit

    bjorn = acme.phone("1002")
    code(acme, bjorn, "*21*0701234567#")
    code(acme, bjorn, "#21#")
    entries = audit.entries(acme.store, 1)
    assert [(e.actor, e.source, e.action, e.after) for e in entries] == [
        ("1002@acme.test", "phone", "forwarding.set", {"kind": "always", "to": None}),
        ("1002@acme.test", "phone", "forwarding.set",
         {"kind": "always", "to": "0701234567"}),
    ]  # fmt: skip
