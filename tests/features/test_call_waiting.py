"""Call waiting per user in memory (U12): a second call to a user in a call rings their
phone (a second INVITE: the phone plays its own waiting tone); with `call_waiting: false`
the caller is busy at once: the busy forwarding, else voicemail, else 486."""

from __future__ import annotations

from collections.abc import Callable

from tests.features.conftest import variant
from tests.features.test_transfer import hear_each_other, talking
from tests.memory import MemorySwitch, contains


def test_a_second_call_rings_a_user_in_a_call(acme: MemorySwitch) -> None:
    _anna, bjorn = talking(acme)
    first = bjorn.invites[-1].call_id
    cecilia = acme.phone("1003")
    cecilia.dial("1002")
    waiting = bjorn.ringing()
    assert waiting is not None and waiting.call_id != first  # a second INVITE
    assert "1003" in (waiting.headers.get("From") or "")
    bjorn.pick_up()  # (his phone held Anna first: the switch plays her music)
    assert cecilia.answered() is not None
    assert hear_each_other(acme, cecilia, bjorn)


def without_call_waiting(acme_as: Callable[..., MemorySwitch], user: str) -> MemorySwitch:
    names = {"1002": "Björn", "1004": "Dan"}
    old = f'{{ext: "{user}", name: {names[user]}'
    return acme_as(description=variant(old, f"{old}, call_waiting: false"))


def test_without_call_waiting_a_busy_user_sends_the_caller_to_voicemail(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = without_call_waiting(acme_as, "1002")
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    cecilia.dial("1002")
    assert len(bjorn.invites) == 1  # not rung
    assert cecilia.answered() is not None
    acme.advance(1.0)
    assert contains(cecilia.heard(), acme.system("vm-greeting-generic")[:4000])
    assert hear_each_other(acme, anna, bjorn)  # the first call goes on


def test_without_call_waiting_or_voicemail_the_caller_is_busy(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = without_call_waiting(acme_as, "1004")
    anna, dan = acme.phone("1001"), acme.phone("1004")
    anna.dial("1004")
    dan.pick_up()
    assert anna.answered() is not None
    cecilia = acme.phone("1003")
    cecilia.dial("1004")
    assert cecilia.last_final("INVITE").status == 486  # type: ignore[union-attr]
    assert len(dan.invites) == 1
    assert acme.records[-1].disposition == "busy"


def test_a_group_skips_a_busy_member_who_turned_call_waiting_off(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    """support rings busy members (call-waiting), but not Björn, who turned it off."""
    acme = acme_as(
        description=variant(
            '{ext: "1002", name: Björn', '{ext: "1002", name: Björn, call_waiting: false'
        ).replace(
            "strategy: parallel, ring_time: 10,",
            "strategy: parallel, ring_time: 10, busy_members: call-waiting,",
        )
    )
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    caller = acme.carrier()
    caller.dial("+46812345602")  # the support flow: the support group
    assert cecilia.ringing() is not None
    assert len(bjorn.invites) == 1
    assert hear_each_other(acme, anna, bjorn)
