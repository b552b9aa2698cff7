"""features/ring_user with in-memory legs and a clock we move: forking and its verdicts (P3).

The legs here only record what the feature asked of them and report what
their party does; SIP itself is covered by the integration tests.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from vaxel.calls.api import (
    BUSY,
    CANCELED,
    ELSEWHERE,
    NO_ANSWER,
    NORMAL,
    UNAVAILABLE,
    Answered,
    Call,
    Cause,
    Device,
    Ended,
    Leg,
    LegState,
    Offered,
    Party,
    Reach,
    Ringing,
    Target,
    Timer,
    cause_of,
)
from vaxel.features.ring_user import RingUser


class FakeLeg(Leg):
    def __init__(self, call: Call, direction: str, party: str) -> None:
        self.direction = direction  # type: ignore[assignment]
        super().__init__(call, party)
        self.actions: list[str] = []

    # The API's contract: ringing twice says it once; nothing acts on an ended leg.
    def ring(self, *, early_media: bool = False) -> None:
        if self.state is LegState.OFFERED or (early_media and self.state is LegState.RINGING):
            self.actions.append("183" if early_media else "180")
            self.state = LegState.EARLY if early_media else LegState.RINGING

    def answer(self) -> None:
        if not self.ended:
            self.actions.append("200")
            self.state = LegState.ANSWERED

    def reject(self, cause: Cause) -> None:
        if not self.ended and not self.answered:
            self.actions.append(str(cause.code))
            self._end(cause, "switch")

    def hangup(self, cause: Cause = NORMAL) -> None:
        if not self.ended:
            self.actions.append(f"hangup {cause.text}")
            self._end(cause, "switch")

    # what the party does
    def party_rings(self, early: bool = False) -> None:
        self.state = LegState.RINGING
        self.call.emit(Ringing(self, early))

    def party_answers(self) -> None:
        self.state = LegState.ANSWERED
        self.call.emit(Answered(self))

    def party_ends(self, cause: Cause) -> None:
        self._end(cause, "party")

    def _end(self, cause: Cause, by: str) -> None:
        if self.state is not LegState.ENDED:
            self.state = LegState.ENDED
            self.call.emit(Ended(self, cause, by))  # type: ignore[arg-type]


class Board:
    """An in-memory switchboard: dials fake legs, keeps a timer heap on a fake clock."""

    def __init__(self) -> None:
        self.clock = 0.0
        self.timers: list[Timer] = []
        self.bridges: list[tuple[Leg, Leg]] = []
        self.finished_calls: list[Call] = []

    def dial(self, call: Call, target: Target, caller: Leg | Party) -> Leg:
        assert isinstance(target, Device)
        return FakeLeg(call, "outbound", target.binding)  # the device, to tell forks apart

    def connect(self, a: Leg, b: Leg) -> None:
        self.bridges.append((a, b))

    def disconnect(self, leg: Leg) -> None:
        pass

    def after(self, delay: float, action: Callable[[], None]) -> Timer:
        timer = Timer(self.clock + delay, action)
        heapq.heappush(self.timers, timer)
        return timer

    def now(self) -> float:
        return self.clock

    def finished(self, call: Call) -> None:
        self.finished_calls.append(call)

    def advance(self, seconds: float) -> None:
        self.clock += seconds
        while self.timers and self.timers[0].deadline <= self.clock:
            timer = heapq.heappop(self.timers)
            if not timer.cancelled:
                timer.action()


def start(devices: int = 2, ring: int = 30) -> tuple[Board, Call, FakeLeg, list[FakeLeg]]:
    board = Board()
    targets = tuple(
        Device(11, "1002", "Björn", "acme.example", f"sip:1002@dev{i}") for i in range(devices)
    )
    call = Call("c1", 1, board, RingUser(Reach("1002", targets, ring)))
    caller = FakeLeg(call, "inbound", "1001")
    call.emit(Offered(caller))
    forks = [leg for leg in call.legs if leg is not caller]
    return board, call, caller, forks  # type: ignore[return-value]


def test_every_device_rings_and_the_first_answer_wins() -> None:
    board, call, caller, (a, b) = start()
    a.party_rings()
    b.party_rings()
    assert caller.actions == ["180"]
    board.advance(3)
    b.party_answers()
    assert caller.actions == ["180", "200"]
    assert a.actions == [f"hangup {ELSEWHERE.text}"] and a.ended
    assert board.bridges[-1] == (caller, b)
    assert call.answered_at == 3 and call.answered_by == "sip:1002@dev1"
    board.advance(60)
    caller.party_ends(NORMAL)
    assert b.actions == [f"hangup {NORMAL.text}"]
    assert board.finished_calls == [call]
    assert (call.disposition, call.hangup_side) == ("answered", "caller")


def test_early_media_is_bridged_before_the_answer() -> None:
    board, _, caller, (a, _b) = start()
    a.party_rings(early=True)
    assert caller.actions == ["183"] and board.bridges == [(caller, a)]


def test_all_devices_busy_means_busy() -> None:
    board, call, caller, (a, b) = start()
    a.party_ends(BUSY)
    assert caller.actions == []
    b.party_ends(cause_of(486))
    assert caller.actions == ["486"]
    assert (call.disposition, call.hangup_side) == ("busy", "callee")
    assert board.finished_calls == [call]


def test_busy_and_unreachable_means_unavailable() -> None:
    _, call, caller, (a, b) = start()
    a.party_ends(BUSY)
    b.party_ends(cause_of(408, "Request Timeout"))
    assert caller.actions == ["480"] and call.cause is UNAVAILABLE


def test_no_answer_within_the_ring_time() -> None:
    board, call, caller, (a, b) = start(ring=20)
    a.party_rings()
    board.advance(19.9)
    assert caller.actions == ["180"]
    board.advance(0.2)
    assert caller.actions == ["180", "480"]
    assert a.ended and b.ended
    assert (call.disposition, call.hangup_side, call.cause) == ("no-answer", "switch", NO_ANSWER)


def test_the_caller_gives_up() -> None:
    board, call, caller, (a, b) = start()
    a.party_rings()
    caller.party_ends(CANCELED)
    assert a.ended and b.ended
    assert (call.disposition, call.hangup_side) == ("canceled", "caller")
    board.advance(60)  # the ring timer was stopped: nothing more happens
    assert caller.actions == ["180"]


def test_the_callee_hangs_up() -> None:
    _, call, caller, (fork,) = start(devices=1)
    fork.party_answers()
    fork.party_ends(NORMAL)
    assert caller.actions == ["200", f"hangup {NORMAL.text}"]
    assert (call.disposition, call.hangup_side) == ("answered", "callee")


def test_a_finished_call_is_freed_without_the_cycle_collector() -> None:
    import gc

    def calls_alive() -> int:  # counted, not watched: a compiled Call takes no weak reference
        return sum(isinstance(o, Call) for o in gc.get_objects())

    gc.collect()
    gc.disable()
    try:
        before = calls_alive()
        board, call, caller, (a, b) = start()
        b.party_answers()
        caller.party_ends(NORMAL)
        assert board.finished_calls == [call]
        call.dismantle()  # what the B2BUA does once the call is recorded
        board.finished_calls.clear()
        board.timers.clear()
        board.bridges.clear()
        del call, caller, a, b
        assert calls_alive() == before, "the call lives on in a reference cycle"
    finally:
        gc.enable()
