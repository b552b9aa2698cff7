"""bench/conference.py: a short step really mixes on the media clock and counts its ticks;
the ladder is in whole rooms and stops being held at the first step with 1 % late."""

from __future__ import annotations

import asyncio
from types import ModuleType

import pytest

from tests.bench.scripts import load


@pytest.fixture(scope="module")
def conference() -> ModuleType:
    return load("conference")


def test_a_short_step_mixes_on_the_real_clock(conference: ModuleType) -> None:
    step = asyncio.run(conference.measure_step(3, 6, 0.2))
    assert step.ticks >= 5 and step.ticks_expected == max(10, step.ticks)
    assert set(step.work_us) == {"mean", "p50", "p99", "max"}
    assert step.late == 0.0 and step.held  # 6 participants need far less than 20 ms of CPU


def test_the_ladder_is_in_whole_rooms_and_held_stops_at_the_first_failure(
    conference: ModuleType,
) -> None:
    assert conference.steps_for(50, (60, 150, 300)) == [50, 150, 300]
    assert conference.steps_for(3, (10, 11)) == [9, 12]
    Step = conference.Step
    steps = [Step(10, 100, 50, 50, 0), Step(10, 200, 50, 50, 1), Step(10, 300, 50, 50, 0)]
    assert conference.held(steps, 10) == 100  # 2 % late at 200: the climb stopped there
    assert conference.held(steps, 3) == 0
