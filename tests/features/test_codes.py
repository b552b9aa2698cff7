"""features/codes in memory (U11, S8): forwarding set and cleared from the phone, group login,
and what an unknown code says."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.features.conftest import CARRIER, DESCRIPTION
from tests.memory import MemoryPhone, MemorySwitch, contains
from vaxel.services.company_config import ConfigError, parse_config


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


def test_a_company_chooses_its_own_codes(acme_as: Callable[..., MemorySwitch]) -> None:
    """Codes its users know from their old switch; the defaults then mean nothing, and the
    GSM forwarding codes stay what they are."""
    acme = acme_as(
        description=DESCRIPTION
        + 'feature_codes: {voicemail: "*50", pickup: "*0", directed_pickup: "*7",'
        ' group_logout: "#46"}\n'
    )
    bjorn, cecilia, anna = acme.phone("1002"), acme.phone("1003"), acme.phone("1001")
    code(acme, bjorn, "*98")
    assert contains(bjorn.heard(), acme.system("invalid-choice"))
    bjorn.dial("*50")  # the voicemail menu answers and stays
    assert bjorn.answered() is not None
    acme.advance(1.0)
    assert len(bjorn.requests("BYE")) == 1  # (the first call's)
    bjorn.hang_up()
    anna.dial("1002")
    assert bjorn.ringing() is not None
    cecilia.dial("*71002")  # directed pickup by the company's code
    assert cecilia.answered() is not None and anna.answered() is not None
    cecilia.hang_up()
    dan = acme.phone("1004")
    code(acme, dan, "*21*0701740605#")
    assert contains(dan.heard(), acme.system("thank-you"))


def test_codes_that_cannot_be_told_apart_are_refused_at_their_path() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(
            {"company": {"domain": "a.test", "name": "A"},
             "feature_codes": {"pickup": "*4", "transfer": "5#"}}
        )  # fmt: skip
    errors = "\n".join(refused.value.errors)
    assert "feature_codes.transfer" in errors  # not a * or # first
    with pytest.raises(ConfigError) as again:
        parse_config({"company": {"domain": "a.test", "name": "A"},
                      "feature_codes": {"pickup": "*4"}})  # fmt: skip
    assert "group_login '*45' and pickup '*4' begin alike" in again.value.errors[0]


def test_the_wrap_up_code_is_told_apart_from_the_others() -> None:
    """A5: `wrap_up_end` (default *48) is an idle code like *45: it may not begin another."""
    with pytest.raises(ConfigError) as refused:
        parse_config(
            {"company": {"domain": "a.test", "name": "A"},
             "feature_codes": {"wrap_up_end": "*4"}}
        )  # fmt: skip
    assert "group_login '*45' and wrap_up_end '*4' begin alike" in "\n".join(refused.value.errors)
