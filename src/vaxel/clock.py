"""A clock that moves only when told to: the in-memory switch's time (tests, simulations).

Everything in Vaxel that keeps time is given a clock (a function returning
seconds): the wall clock in `vaxel serve`, a `FakeClock` when the same code
runs in memory, so a test of a 30 s ring time takes no 30 s.
"""

from __future__ import annotations


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go back")
        self.now += seconds
