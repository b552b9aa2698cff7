"""Line state per user (U10, U5) from the calls' live events, in memory with a fake clock."""

from __future__ import annotations

from vaxel.bus import (
    Bus,
    CallAnswered,
    CallEnded,
    CallHeld,
    CallLeft,
    CallOffered,
    CallRinging,
    LineState,
)
from vaxel.calls.lines import Line, LineCall, Lines, Seen

USERS = {"1001": "Anna", "1002": "Björn", "1003": "Cilla"}
CO = 7


def make(snapshot: list[Seen] | None = None, running: set[str] | None = None) -> tuple[
    Bus, Lines, list[tuple[str, str, str, str | None]], list[LineState]
]:  # fmt: skip
    bus = Bus()
    lines = Lines(
        bus,
        lambda: 100.0,
        lambda company_id, ext: USERS.get(ext) if company_id == CO else None,
        snapshot=lambda company_id: snapshot or [],
        running=lambda call_id: running is None or call_id in running,
    )
    changes: list[tuple[str, str, str, str | None]] = []

    def changed(company_id: int, ext: str, line: Line, call: LineCall) -> None:
        changes.append((ext, line.state, call.state, call.event))

    lines.listeners.append(changed)
    published: list[LineState] = []
    bus.subscribe(LineState, published.append)
    return bus, lines, changes, published


def ended(call_id: str, answered: bool) -> CallEnded:
    return CallEnded(
        CO, call_id, "1001", "1002", "1002" if answered else "",
        "answered" if answered else "canceled", "caller", 200, "Normal", 1.0,
        2.0 if answered else None, 3.0,
    )  # fmt: skip


def test_a_call_between_colleagues_rings_confirms_and_ends_on_both_lines() -> None:
    bus, lines, changes, published = make()
    lines.watch(CO)
    bus.publish(CallOffered(CO, "c1", "1001", "Anna", "1002", 1.0))
    assert lines.line(CO, "1001").state == "dialling"
    bus.publish(CallRinging(CO, "c1", "1002", "Björn", 1.1))
    assert lines.line(CO, "1002").state == "ringing"
    ringing = lines.line(CO, "1002").calls["c1"]
    assert (ringing.direction, ringing.remote, ringing.remote_name) == ("recipient", "1001", "Anna")
    assert lines.line(CO, "1001").calls["c1"].state == "early"
    bus.publish(CallAnswered(CO, "c1", "1002", 2.0))
    assert lines.line(CO, "1001").state == lines.line(CO, "1002").state == "talking"
    bus.publish(ended("c1", answered=True))
    assert lines.line(CO, "1001").state == lines.line(CO, "1002").state == "idle"
    assert not lines.lines and not lines.calls  # nothing kept for idle users
    assert changes == [
        ("1001", "dialling", "trying", None),
        ("1001", "dialling", "early", None),
        ("1002", "ringing", "early", None),
        ("1001", "talking", "confirmed", None),
        ("1002", "talking", "confirmed", None),
        ("1001", "idle", "terminated", "remote-bye"),
        ("1002", "idle", "terminated", "remote-bye"),
    ]
    assert [(e.extension, e.state) for e in published] == [(c[0], c[1]) for c in changes]


def test_a_transfer_ends_the_transferors_dialog_and_confirms_the_targets() -> None:
    """P4: Björn answered Anna and transferred her to Cilla: when Cilla answers, the switch
    ends Björn's part and his lamp goes out (his dialog ended) while Anna and Cilla talk."""
    bus, lines, changes, _ = make()
    lines.watch(CO)
    bus.publish(CallOffered(CO, "c1", "1001", "Anna", "1002", 1.0))
    bus.publish(CallRinging(CO, "c1", "1002", "Björn", 1.1))
    bus.publish(CallAnswered(CO, "c1", "1002", 2.0))
    bus.publish(CallRinging(CO, "c1", "1003", "Cilla", 5.0))
    assert lines.line(CO, "1002").state == "talking" and lines.line(CO, "1003").state == "ringing"
    bus.publish(CallLeft(CO, "c1", "1002", "switch", 6.0))
    bus.publish(CallAnswered(CO, "c1", "1003", 6.0))
    assert lines.line(CO, "1002").state == "idle"
    assert lines.line(CO, "1003").state == lines.line(CO, "1001").state == "talking"
    assert ("1002", "idle", "terminated", "remote-bye") in changes
    assert lines.line(CO, "1001").calls["c1"].remote == "1003"


def test_a_group_call_answered_by_one_stops_the_others_ringing() -> None:
    bus, lines, changes, _ = make()
    lines.watch(CO)
    bus.publish(CallOffered(CO, "c2", "+46701234567", "", "sales", 1.0))
    bus.publish(CallRinging(CO, "c2", "1002", "Björn", 1.1))
    bus.publish(CallRinging(CO, "c2", "1003", "Cilla", 1.1))
    bus.publish(CallAnswered(CO, "c2", "1003", 2.0))
    assert lines.line(CO, "1002").state == "idle"
    assert lines.line(CO, "1003").state == "talking"
    assert ("1002", "idle", "terminated", "cancelled") in changes
    assert lines.line(CO, "1003").calls["c2"].remote == "+46701234567"
    bus.publish(ended("c2", answered=True))
    assert not lines.lines


def test_an_unanswered_call_ends_cancelled_and_a_number_has_no_line() -> None:
    bus, lines, changes, _ = make()
    lines.watch(CO)
    bus.publish(CallOffered(CO, "c3", "1001", "Anna", "0812345", 1.0))
    bus.publish(CallRinging(CO, "c3", "0812345", "", 1.1))
    assert set(lines.lines) == {(CO, "1001")}
    bus.publish(ended("c3", answered=False))
    assert changes[-1] == ("1001", "idle", "terminated", "cancelled")


def test_a_call_answered_by_voicemail_confirms_the_caller_only() -> None:
    bus, lines, _, _ = make()
    lines.watch(CO)
    bus.publish(CallOffered(CO, "c4", "1001", "Anna", "1002", 1.0))
    bus.publish(CallRinging(CO, "c4", "1002", "Björn", 1.1))
    bus.publish(CallAnswered(CO, "c4", "voicemail 1002", 20.0))
    assert lines.line(CO, "1001").state == "talking"
    assert lines.line(CO, "1001").calls["c4"].remote == "1002"
    assert lines.line(CO, "1002").state == "idle"


def test_watching_reads_the_running_calls_and_sweep_forgets_ended_ones() -> None:
    running = {"c5"}
    seen = [Seen("c5", "1002", "confirmed", "recipient", "1001", "Anna")]
    bus, lines, _, _ = make(snapshot=seen, running=running)
    assert not bus.wants(CO)
    lines.watch(CO)
    assert bus.wants(CO) and lines.line(CO, "1002").state == "talking"
    lines.watch(CO)  # a second watcher reads nothing again
    assert len(lines.line(CO, "1002").calls) == 1
    lines.unwatch(CO)
    lines.unwatch(CO)
    assert not bus.wants(CO)
    running.clear()  # it ended while nobody watched: no CallEnded came
    lines.sweep()
    assert lines.line(CO, "1002").state == "idle" and not lines.calls


def test_another_companys_extension_has_no_line_here() -> None:
    bus, lines, changes, _ = make()
    lines.watch(8)
    bus.publish(CallOffered(8, "c6", "1001", "Anna", "1002", 1.0))
    bus.publish(CallRinging(8, "c6", "1002", "Björn", 1.1))
    assert not lines.lines and not changes


def test_a_hold_and_a_phone_that_stops_ringing() -> None:
    """Björn holds Anna (his line: held, hers: talking) and takes her back; Cilla's phone
    stops ringing for a call that goes on (she declined): her dialog ends "rejected"."""
    bus, lines, changes, published = make()
    lines.watch(CO)
    bus.publish(CallOffered(CO, "c1", "1001", "Anna", "1002", 1.0))
    bus.publish(CallRinging(CO, "c1", "1002", "Björn", 1.1))
    bus.publish(CallRinging(CO, "c1", "1003", "Cilla", 1.1))
    bus.publish(CallLeft(CO, "c1", "1003", "party", 1.5))
    assert ("1003", "idle", "terminated", "rejected") in changes
    bus.publish(CallAnswered(CO, "c1", "1002", 2.0))
    bus.publish(CallHeld(CO, "c1", "1002", True, 3.0))
    assert lines.line(CO, "1002").state == "held" and lines.line(CO, "1001").state == "talking"
    assert published[-1].state == "held"
    bus.publish(CallHeld(CO, "c1", "1002", False, 4.0))
    assert lines.line(CO, "1002").state == "talking"
