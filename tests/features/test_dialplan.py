"""features/dialplan and features/user in memory (S1, U11, P1): what a dialled string means,
and only within the caller's own company."""

from __future__ import annotations

from pathlib import Path

from tests.features.conftest import DIRECT, MAIN
from tests.memory import PASSWORD, MemoryPhone, MemorySwitch, contains
from vaxel.services import companies, users


def test_the_companys_own_number_from_inside_opens_its_flow(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    anna.dial("0812345600")  # the main number, in national form
    assert anna.answered() is not None
    acme.advance(0.5)
    assert contains(anna.heard(), acme.prompt("welcome"))
    assert acme.calls and next(iter(acme.calls.values())).dialled == MAIN


def test_a_direct_number_rings_its_user_without_leaving_the_switch(acme: MemorySwitch) -> None:
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    anna.dial(DIRECT)
    assert bjorn.ringing() is not None


def test_an_extension_at_a_foreign_domain_is_404(acme: MemorySwitch) -> None:
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    anna.domain = "other.example"  # the Request-URI names another domain
    anna.dial("1002")
    assert bjorn.ringing() is None


def test_a_user_of_another_company_is_unknown_here(tmp_path: Path, tone_prompts: Path) -> None:
    switch = MemorySwitch(tmp_path, tone_prompts)
    try:
        companies.add_company(switch.store, "other.example", "Other AB")
        users.add_user(switch.store, "other.example", "1003", "Otto", PASSWORD)
        switch.advance(0.1)  # the directory sees the new company
        otto = MemoryPhone(switch, "1003", PASSWORD, "198.51.100.77", domain="other.example")
        assert otto.register().status == 200
        anna = switch.phone("1001")
        anna.dial("1003")  # no 1003 at Acme: the same 404 as for nobody at all
        assert anna.last_final("INVITE").status == 404  # type: ignore[union-attr]
        assert otto.ringing() is None
        anna.dial("1999")
        assert anna.last_final("INVITE").status == 404  # type: ignore[union-attr]
        assert switch.records[-1].callee == "1999"
    finally:
        switch.close()


def test_forwarding_always_to_a_colleague_and_a_loop_of_forwardings_ends(
    acme: MemorySwitch,
) -> None:
    anna, bjorn, cecilia = acme.phone("1001"), acme.phone("1002"), acme.phone("1003")
    for phone, target in ((bjorn, "1003"), (cecilia, "1002")):
        phone.dial(f"*21*{target}#")
        phone.answered()
        acme.advance(1.0)
    anna.dial("1002")  # 1002 -> 1003 -> 1002 -> ...: after five hops the phone there rings
    assert (bjorn.ringing() is None) != (cecilia.ringing() is None)
    assert len(bjorn.invites) + len(cecilia.invites) == 1
