"""features/user in memory (U9, U11): a diversion scoped to the fixed or the mobile numbers
applies only to the calls it names; activity forwarding sends the call where the user chose
for the diversion's status, and a loop or a target gone since falls back to the diversion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.features.conftest import DIRECT, variant
from tests.memory import MemorySwitch, contains
from vaxel.services import activities, diversions

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2027, 1, 15, 9, 0, tzinfo=STOCKHOLM)
LUNCH = datetime(2027, 1, 15, 13, 0, tzinfo=STOCKHOLM)
MOBILE = "+46701234567"
WITH_MOBILE = variant(
    '  - {ext: "1002", name: Björn}',
    f'  - {{ext: "1002", name: Björn, mobile: "{MOBILE}"}}',
).replace(
    f'  - {{number: "{DIRECT}", user: "1002"}}',
    f'  - {{number: "{DIRECT}", user: "1002"}}\n  - {{number: "{MOBILE}", user: "1002"}}',
)


def divert(acme: MemorySwitch, ext: str, **options: object) -> None:
    arguments: dict[str, object] = {"status": "lunch", "until": LUNCH, "now": NOW, **options}
    diversions.set_diversion(acme.store, 1, ext, **arguments)  # type: ignore[arg-type]
    acme.advance(0.1)


def forward(acme: MemorySwitch, ext: str, status: str, target: str | None) -> None:
    activities.set_activity_forwarding(acme.store, 1, ext, status, target)
    acme.advance(0.1)


def test_a_diversion_for_the_fixed_numbers_lets_the_mobile_ring(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=WITH_MOBILE)
    bjorn = acme.phone("1002")
    divert(acme, "1002", scope="fixed")
    caller = acme.carrier()
    caller.dial(MOBILE)
    assert bjorn.ringing() is not None  # the mobile number: rung as if no diversion
    caller.cancel()
    acme.advance(0.5)
    for dialled in (DIRECT, "1002"):  # the direct number, the extension: the diversion
        caller = acme.carrier() if dialled == DIRECT else acme.phone("1001")
        bjorn.invites.clear()
        caller.dial(dialled)
        assert caller.answered() is not None
        acme.advance(3.0)
        assert not bjorn.invites
        assert contains(caller.heard(), acme.system("div-lunch")), dialled
        caller.hang_up()
        acme.advance(0.5)


def test_a_diversion_for_the_mobile_lets_the_fixed_numbers_ring(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=WITH_MOBILE)
    bjorn = acme.phone("1002")
    divert(acme, "1002", scope="mobile")
    caller = acme.carrier()
    caller.dial(DIRECT)
    assert bjorn.ringing() is not None
    caller.cancel()
    acme.advance(0.5)
    bjorn.invites.clear()
    caller = acme.carrier()
    caller.dial(MOBILE)
    assert caller.answered() is not None
    acme.advance(3.0)
    assert not bjorn.invites
    assert contains(caller.heard(), acme.system("div-lunch"))


def test_without_a_routed_mobile_every_call_is_fixed(acme: MemorySwitch) -> None:
    """1002 has no mobile in the description: a mobile-only diversion never applies."""
    bjorn = acme.phone("1002")
    divert(acme, "1002", scope="mobile")
    acme.carrier().dial(DIRECT)
    assert bjorn.ringing() is not None


def test_meeting_forwarded_to_a_colleague_rings_the_colleague(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = acme.phone("1001"), acme.phone("1002"), acme.phone("1003")
    forward(acme, "1002", "meeting", "1003")
    forward(acme, "1002", "lunch", "1004")  # another status: not this one
    divert(acme, "1002", status="meeting")
    anna.dial("1002")
    assert cecilia.ringing() is not None
    assert not bjorn.invites
    cecilia.pick_up()
    assert anna.answered() is not None


def test_another_status_is_said_as_usual(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = acme.phone("1001"), acme.phone("1002"), acme.phone("1003")
    forward(acme, "1002", "meeting", "1003")
    divert(acme, "1002", status="lunch")
    anna.dial("1002")
    assert anna.answered() is not None
    acme.advance(3.0)
    assert not cecilia.invites and not bjorn.invites
    assert contains(anna.heard(), acme.system("div-lunch"))


def test_activity_forwarding_only_where_the_diversion_applies(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=WITH_MOBILE)
    bjorn, cecilia = acme.phone("1002"), acme.phone("1003")
    forward(acme, "1002", "meeting", "1003")
    divert(acme, "1002", status="meeting", scope="fixed")
    acme.carrier().dial(MOBILE)
    assert bjorn.ringing() is not None and not cecilia.invites


def test_a_loop_of_activity_forwardings_ends_in_a_diversion(acme: MemorySwitch) -> None:
    anna, bjorn, cecilia = acme.phone("1001"), acme.phone("1002"), acme.phone("1003")
    forward(acme, "1002", "meeting", "1003")
    forward(acme, "1003", "meeting", "1002")
    divert(acme, "1002", status="meeting")
    divert(acme, "1003", status="meeting")
    anna.dial("1002")
    assert anna.answered() is not None
    acme.advance(3.0)
    assert not bjorn.invites and not cecilia.invites
    assert contains(anna.heard(), acme.system("div-meeting"))


def test_a_colleague_removed_since_falls_back_to_the_diversion(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    forward(acme, "1002", "meeting", "1003")
    divert(acme, "1002", status="meeting")
    company = acme.core.directory.company(1)
    assert company is not None
    # The description no longer has 1003 (as after an admin removed them).
    company._users.pop("1003")
    anna.dial("1002")
    assert anna.answered() is not None
    acme.advance(3.0)
    assert contains(anna.heard(), acme.system("div-meeting"))
