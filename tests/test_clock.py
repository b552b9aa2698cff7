"""vaxel.clock: a clock that moves only when told to."""

from __future__ import annotations

import pytest

from vaxel.clock import FakeClock


def test_it_moves_only_forward_and_only_when_told() -> None:
    clock = FakeClock(100.0)
    assert clock() == 100.0
    clock.advance(0.02)
    assert clock() == pytest.approx(100.02)
    with pytest.raises(ValueError):
        clock.advance(-1)
