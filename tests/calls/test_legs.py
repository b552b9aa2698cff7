"""calls/legs (P4): the table of what a leg may do in which state."""

from __future__ import annotations

from vaxel.calls.api import LegState
from vaxel.calls.legs import TRANSITIONS

UNANSWERED = {LegState.OFFERED, LegState.CALLING, LegState.RINGING, LegState.EARLY}


def test_nothing_leaves_the_end() -> None:
    assert not [row for row in TRANSITIONS if row[1] is LegState.ENDED]


def test_every_leg_that_is_not_over_can_end() -> None:
    states = {
        "inbound": {LegState.OFFERED, LegState.RINGING, LegState.EARLY, LegState.ANSWERED},
        "outbound": {LegState.CALLING, LegState.RINGING, LegState.EARLY, LegState.ANSWERED},
    }
    for direction, live in states.items():
        for state in live:
            assert TRANSITIONS[(direction, state, "end")] is LegState.ENDED, (direction, state)


def test_only_an_unanswered_caller_is_answered_rejected_or_cancelled() -> None:
    for inp in ("answer", "reject", "cancelled"):
        assert {s for (d, s, i) in TRANSITIONS if d == "inbound" and i == inp} == UNANSWERED - {
            LegState.CALLING
        }


def test_ringing_says_it_once_and_early_media_only_before_the_answer() -> None:
    assert ("inbound", LegState.RINGING, "ring") not in TRANSITIONS  # a second 180: none
    assert ("inbound", LegState.EARLY, "early") not in TRANSITIONS
    assert ("inbound", LegState.ANSWERED, "early") not in TRANSITIONS


def test_hold_and_info_only_in_a_call() -> None:
    for inp in ("reoffer", "info"):
        assert {s for (_, s, i) in TRANSITIONS if i == inp} == {LegState.ANSWERED}


def test_a_device_leg_moves_forward_only() -> None:
    order = [LegState.CALLING, LegState.RINGING, LegState.EARLY, LegState.ANSWERED]
    for (direction, state, _), next_state in TRANSITIONS.items():
        if direction == "outbound" and next_state is not LegState.ENDED:
            assert order.index(next_state) >= order.index(state)
