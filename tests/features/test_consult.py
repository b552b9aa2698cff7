"""Attended transfer by in-call code in memory (P4): Björn, talking with Anna, presses
`*2 1003 #`; Anna hears music, Björn hears it ring, then talks with Cecilia alone; when
he hangs up Anna and Cecilia talk. `*2#` or Cecilia hanging up brings him back to Anna,
`*3#` makes it a call of three, and a company may choose other keys."""

from __future__ import annotations

from collections.abc import Callable

from tests.features.conftest import DESCRIPTION
from tests.features.test_conference import HEARD, SILENT, levels, talk
from tests.features.test_transfer import hear_each_other, talking
from tests.memory import MemoryPhone, MemorySwitch, contains, tone
from vaxel.features.consult import RING_SECONDS, Consult
from vaxel.features.three_way import ThreeWay


def one_way(acme: MemorySwitch, speaker: MemoryPhone, listener: MemoryPhone) -> bool:
    """Does `listener` hear what `speaker` says now?"""
    said = tone(f"{speaker.user} to {listener.user} {acme.clock()}", 0.2)
    speaker.say(said)
    acme.run()
    return contains(listener.heard(), said)


def consulting(acme: MemorySwitch) -> tuple[MemoryPhone, MemoryPhone, MemoryPhone]:
    """Anna and Björn talk; Björn consults Cecilia, who answers."""
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    bjorn.press("*21003#")
    invite = cecilia.ringing()
    assert invite is not None and "1002" in (invite.headers.get("From") or "")  # Björn asks
    acme.advance(1.0)
    assert contains(anna.heard(), acme.system("music")[:4000])  # Anna waits with music
    assert contains(bjorn.heard(), acme.system("ringback")[:4000])  # Björn hears it ring
    cecilia.pick_up()
    acme.advance(0.1)
    return anna, bjorn, cecilia


def test_the_user_consults_then_hangs_up_to_hand_the_call_over(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = consulting(acme)
    assert anna.endpoint.keys == ["*"]  # the code's first key went on; the rest did not
    assert hear_each_other(acme, bjorn, cecilia)
    assert not one_way(acme, bjorn, anna) and not one_way(acme, cecilia, anna)
    bjorn.hang_up()
    assert not anna.requests("BYE") and not cecilia.requests("BYE")
    assert hear_each_other(acme, anna, cecilia)
    anna.hang_up()
    assert cecilia.requests("BYE") and not acme.calls
    (record,) = acme.records
    assert (record.caller, record.answered_by, record.disposition) == ("1001", "1003", "answered")
    assert record.hangup_side == "caller"


def test_star_two_hash_or_the_target_hanging_up_brings_the_user_back(
    acme: MemorySwitch,
) -> None:
    anna, bjorn, cecilia = consulting(acme)
    bjorn.press("*2#")
    assert cecilia.requests("BYE") and not anna.requests("BYE")
    assert hear_each_other(acme, anna, bjorn)
    cecilia.invites.clear()
    bjorn.press("*21003#")  # again, and this time Cecilia hangs up
    cecilia.pick_up()
    acme.advance(0.1)
    cecilia.hang_up()
    assert hear_each_other(acme, anna, bjorn)
    anna.hang_up()
    (record,) = acme.records
    assert record.answered_by == "1002" and record.hangup_side == "caller"


def test_a_busy_or_silent_target_brings_the_user_back(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    bjorn.press("*21003#")
    cecilia.refuse(486)
    assert hear_each_other(acme, anna, bjorn)
    cecilia.invites.clear()
    bjorn.press("*21003#")
    assert cecilia.ringing() is not None
    acme.advance(RING_SECONDS + 1)
    assert cecilia.requests("CANCEL")
    assert hear_each_other(acme, anna, bjorn)
    (call,) = acme.calls.values()
    assert not isinstance(call.handler, Consult)


def test_hanging_up_while_the_target_rings_hands_the_call_over_then(
    acme: MemorySwitch,
) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    bjorn.press("*21003#")
    assert cecilia.ringing() is not None
    bjorn.hang_up()
    acme.advance(1.0)
    assert contains(anna.heard()[-8000:], acme.system("ringback")[:4000])
    cecilia.pick_up()
    assert hear_each_other(acme, anna, cecilia)


def test_the_waiting_party_hanging_up_leaves_the_two_talking(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = consulting(acme)
    anna.hang_up()
    assert not bjorn.requests("BYE") and not cecilia.requests("BYE")
    assert hear_each_other(acme, bjorn, cecilia)
    cecilia.hang_up()
    assert bjorn.requests("BYE") and not acme.calls


def three_talk(acme: MemorySwitch, phones: dict[str, MemoryPhone]) -> None:
    """In one room, each of the three hears the other two and not themselves."""
    acme.advance(0.6)  # the join tones die away
    before = talk(acme, phones)
    for ext, phone in phones.items():
        heard = levels(phone, before[ext])
        for other in phones:
            assert (heard[other] < SILENT) if other == ext else (heard[other] > HEARD), heard


def test_star_three_hash_makes_it_a_call_of_three(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = consulting(acme)
    bjorn.press("*3#")
    (call,) = acme.calls.values()
    assert isinstance(call.handler, ThreeWay) and call.handler.room is not None
    three_talk(acme, {"1001": anna, "1002": bjorn, "1003": cecilia})


def test_star_three_extension_adds_a_third_party(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    anna.press("*31003#")
    cecilia.pick_up()
    three_talk(acme, {"1001": anna, "1002": bjorn, "1003": cecilia})


def test_a_barred_target_changes_nothing(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    bjorn.press("*20900123456#")
    assert hear_each_other(acme, anna, bjorn)
    (call,) = acme.calls.values()
    assert call.bridged is not None and not isinstance(call.handler, Consult)


def test_a_company_chooses_its_own_in_call_keys(acme_as: Callable[..., MemorySwitch]) -> None:
    acme = acme_as(
        description=DESCRIPTION
        + 'feature_codes: {attended_transfer: "*7", transfer: "#9", record: "*0"}\n'
    )
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    bjorn.press("*21003#")  # the default: now only keys for Anna
    acme.advance(5.0)
    assert cecilia.ringing() is None and anna.endpoint.keys == list("*21003#")
    bjorn.press("*71003#")
    assert cecilia.ringing() is not None
    cecilia.pick_up()
    bjorn.hang_up()
    assert hear_each_other(acme, anna, cecilia)


def test_a_key_right_after_a_code_reaches_the_other_party(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(
        description=DESCRIPTION.replace(
            "company: {", "recording: {default: on-demand}\ncompany: {", 1
        )
    )
    anna, bjorn = talking(acme)
    bjorn.press("*15")  # recording on, then a key for Anna's menu
    assert anna.endpoint.keys == ["*", "5"]
