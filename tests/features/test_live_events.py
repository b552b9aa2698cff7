"""The live events calls, the registrar and the feature codes publish on the bus (P8), in
memory: in order, with the right parties, and nothing built while nobody watches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.features.conftest import MAIN
from tests.memory import DOMAIN, MemorySwitch, tone
from vaxel.bus import (
    BoxChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallRinging,
    DeviceRegistration,
    DiversionChanged,
    ForwardingChanged,
    GroupLogin,
)
from vaxel.services import companies

KINDS = (
    CallOffered, CallRinging, CallAnswered, CallEnded, DeviceRegistration, GroupLogin,
    DiversionChanged, ForwardingChanged, BoxChanged,
)  # fmt: skip


class Watcher:
    """A listener on the switch's bus, as the WebSocket stream is."""

    def __init__(self, switch: MemorySwitch, company_id: int | None, watch: bool = True) -> None:
        self.events: list[Any] = []
        for kind in KINDS:
            switch.core.bus.subscribe(kind, self.events.append)
        if watch:
            switch.core.bus.watch(company_id)

    def of(self, *kinds: type) -> list[Any]:
        return [event for event in self.events if isinstance(event, kinds)]

    def calls(self) -> list[tuple[str, str]]:
        """(kind, who) for each call event: the caller offered, the party ringing, who
        answered, how it ended."""
        said = []
        for event in self.of(CallOffered, CallRinging, CallAnswered, CallEnded):
            if isinstance(event, CallOffered):
                said.append(("offered", f"{event.caller}->{event.callee}"))
            elif isinstance(event, CallRinging):
                said.append(("ringing", event.party))
            elif isinstance(event, CallAnswered):
                said.append(("answered", event.answered_by))
            else:
                said.append(("ended", f"{event.disposition} by {event.hangup_side}"))
        return said


def acme_id(switch: MemorySwitch) -> int:
    return companies.get_company(switch.store, DOMAIN).id


def test_a_call_is_offered_rings_once_per_user_is_answered_and_ends(acme: MemorySwitch) -> None:
    watcher = Watcher(acme, acme_id(acme))
    anna, bjorn, bjorn_mobile = acme.phone("1001"), acme.phone("1002"), acme.phone("1002")
    anna.dial("1002")
    assert bjorn.ringing() is not None and bjorn_mobile.ringing() is not None
    acme.advance(2)
    bjorn_mobile.pick_up()
    assert anna.answered() is not None
    acme.advance(3)
    anna.hang_up()
    assert watcher.calls() == [
        ("offered", "1001->1002"),
        ("ringing", "1002"),  # once, though two phones ring
        ("answered", "1002"),
        ("ended", "answered by caller"),
    ]
    offered, _, answered, ended = watcher.of(CallOffered, CallRinging, CallAnswered, CallEnded)
    assert offered.call_id == answered.call_id == ended.call_id
    assert offered.caller_name == "Anna" and offered.company_id == acme_id(acme)
    assert ended.answered_at == answered.at == pytest.approx(offered.at + 2)
    assert ended.at == pytest.approx(offered.at + 5) and ended.cause_code == 200


def test_an_unanswered_call_is_answered_by_voicemail(acme: MemorySwitch) -> None:
    watcher = Watcher(acme, acme_id(acme))
    anna, cecilia = acme.phone("1001"), acme.phone("1003")
    anna.dial("1003")
    assert cecilia.ringing() is not None
    acme.advance(5.5)  # Cecilia's ring time
    assert anna.answered() is not None
    acme.advance(1)
    anna.hang_up()
    assert watcher.calls() == [
        ("offered", "1001->1003"),
        ("ringing", "1003"),
        ("answered", "voicemail 1003"),
        ("ended", "answered by caller"),
    ]


def test_a_queued_call_is_answered_by_the_switch_then_by_a_person(acme: MemorySwitch) -> None:
    watcher = Watcher(acme, acme_id(acme))
    bjorn, caller = acme.phone("1002"), acme.carrier()
    caller.dial(MAIN)
    caller.answered()
    acme.advance(0.7)
    caller.press("3")  # the queue, whose only member is Björn
    acme.advance(0.5)
    assert bjorn.ringing() is not None
    bjorn.pick_up()
    acme.advance(1)
    bjorn.hang_up()
    assert watcher.calls() == [
        ("offered", f"+46701740605->{MAIN}"),
        ("answered", "flow main"),
        ("ringing", "1002"),
        ("answered", "1002"),
        ("ended", "answered by callee"),
    ]


def test_a_busy_callee_ends_the_call_busy(acme: MemorySwitch) -> None:
    watcher = Watcher(acme, acme_id(acme))
    anna, dan = acme.phone("1001"), acme.phone("1004")  # Dan has no voicemail
    anna.dial("1004")
    dan.refuse(486)
    assert watcher.calls() == [
        ("offered", "1001->1004"),
        ("ringing", "1004"),
        ("ended", "busy by callee"),
    ]


def test_nothing_is_built_while_nobody_watches_the_company(acme: MemorySwitch) -> None:
    unwatched = Watcher(acme, None, watch=False)
    other = Watcher(acme, acme_id(acme) + 1000)  # watches another company only
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    anna.hang_up()
    assert unwatched.events == other.events == []
    assert not acme.core.bus.wants(acme_id(acme))


def test_a_device_registers_refreshes_unregisters_and_expires(acme: MemorySwitch) -> None:
    watcher = Watcher(acme, acme_id(acme))
    desk = acme.phone("1002")
    assert desk.register().status == 200  # a refresh: no event
    assert desk.register(expires=0).status == 200
    assert desk.register(expires=60).status == 200
    acme.core.registrar.expire(acme.clock() + 61)
    said = [(e.extension, e.state) for e in watcher.of(DeviceRegistration)]
    assert said == [
        ("1002", "registered"),
        ("1002", "unregistered"),
        ("1002", "registered"),
        ("1002", "expired"),
    ]
    first = watcher.of(DeviceRegistration)[0]
    assert first.contact.startswith("sip:1002@") and first.expires_at == first.at + 3600


def code(acme: MemorySwitch, dialled: str) -> None:
    phone = acme.phone("1002")
    phone.dial(dialled)
    phone.answered()
    acme.advance(1.0)


def test_feature_codes_publish_logins_forwarding_and_diversions(acme: MemorySwitch) -> None:
    watcher = Watcher(acme, acme_id(acme))
    code(acme, "*46")
    code(acme, "*21*0701740605#")
    code(acme, "#21#")
    code(acme, "*22*1*1300#")
    code(acme, "#22#")
    code(acme, "*45")
    logins = [(e.logged_in, e.group, e.extension) for e in watcher.of(GroupLogin)]
    assert sorted(logins) == [
        (False, "queue", "1002"), (False, "sales", "1002"), (False, "support", "1002"),
        (True, "queue", "1002"), (True, "sales", "1002"), (True, "support", "1002"),
    ]  # fmt: skip
    assert [logged_in for logged_in, _, _ in logins] == [False] * 3 + [True] * 3
    forwarding = [(e.extension, e.kind, e.target) for e in watcher.of(ForwardingChanged)]
    assert forwarding == [("1002", "always", "0701740605"), ("1002", "always", None)]
    set_, cleared = watcher.of(DiversionChanged)
    assert (set_.extension, set_.status, cleared.status) == ("1002", "lunch", None)
    assert set_.until is not None
    until = datetime.fromtimestamp(set_.until, acme.core.directory.company(acme_id(acme)).timezone)  # type: ignore[union-attr]
    assert (until.hour, until.minute) == (13, 0)


def test_a_message_left_tells_the_box_with_its_members(acme: MemorySwitch) -> None:
    watcher = Watcher(acme, acme_id(acme))
    caller = acme.carrier()
    caller.dial(MAIN)
    caller.answered()
    acme.advance(0.7)
    caller.press("9")  # the shared box "reception", whose member is Anna
    acme.advance(1.0)
    caller.say(tone("message", 1.5))
    acme.advance(2.0)
    caller.hang_up()
    acme.advance(0.5)
    (changed,) = watcher.of(BoxChanged)
    assert (changed.box, changed.shared, changed.members) == ("reception", True, ("1001",))


def test_each_change_of_a_users_line_is_an_event(acme: MemorySwitch) -> None:
    from vaxel.bus import LineState
    from vaxel.web.events import render

    states: list[LineState] = []
    acme.core.bus.subscribe(LineState, states.append)
    Watcher(acme, acme_id(acme))  # the WebSocket's watch is all it takes
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    anna.dial("1002")
    assert bjorn.ringing() is not None
    bjorn.pick_up()
    assert anna.answered() is not None
    anna.hang_up()
    assert [(s.extension, s.state) for s in states] == [
        ("1001", "dialling"),
        ("1001", "dialling"),  # the call is early now: Björn's phone rings
        ("1002", "ringing"),
        ("1001", "talking"),
        ("1002", "talking"),
        ("1001", "idle"),
        ("1002", "idle"),
    ]
    rendered = render(states[2], DOMAIN)
    assert rendered is not None and rendered.owners == frozenset()  # colleagues see it
    assert '"type":"line.state"' in rendered.full and '"remote":"1001"' in rendered.full
    assert '"state":"ringing"' in rendered.full and '"call_state":"early"' in rendered.full
