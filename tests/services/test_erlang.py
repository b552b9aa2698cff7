"""services/erlang (A18): Erlang C against a reference computation (the textbook sums,
in exact fractions), and the slots a queue offers for scheduled callbacks."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from vaxel.services.erlang import (
    Forecast,
    average_wait,
    erlang_c,
    offered_slots,
    service_level,
    slot_keeps,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def reference_erlang_c(agents: int, traffic: Fraction) -> Fraction:
    """P(wait) = (A^N/N! · N/(N-A)) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N-A)), exactly."""
    top = traffic**agents / math.factorial(agents) * Fraction(agents) / (agents - traffic)
    bottom = sum(traffic**k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


@pytest.mark.parametrize(
    ("agents", "traffic"),
    [(1, "0.5"), (2, "1.2"), (5, "4"), (12, "10"), (20, "17.5"), (50, "45.25")],
)
def test_erlang_c_agrees_with_the_textbook_sums(agents: int, traffic: str) -> None:
    exact = reference_erlang_c(agents, Fraction(traffic))
    assert erlang_c(agents, float(traffic)) == pytest.approx(float(exact), rel=1e-12)


def test_a_case_worked_by_hand_and_the_service_level() -> None:
    """Two erlangs on three agents: B is 4/19 by the recursion, so C = 3B / (3 - 2(1 - B))
    = 4/9 of the callers wait. 360 calls an hour of 4 minutes (24 erlangs) on 30 agents:
    the share answered within 20 s is 1 - C·e^(-(30-24)·20/240)."""
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)
    level = service_level(30, 24.0, 240.0, 20.0)
    reference = 1 - float(reference_erlang_c(30, Fraction(24))) * math.exp(-6 * 20 / 240)
    assert level == pytest.approx(reference, rel=1e-12)


def test_too_few_agents_always_wait_and_none_answer_in_time() -> None:
    assert erlang_c(3, 3.0) == 1.0 and erlang_c(0, 0.5) == 1.0
    assert service_level(3, 3.5, 180.0, 20.0) == 0.0
    assert average_wait(3, 3.5, 180.0) == math.inf
    assert erlang_c(2, 0.0) == 0.0


def office(start: datetime, end: datetime) -> bool:
    """Open 08-17, every day."""
    return start.date() == end.date() and start.hour >= 8 and (end.hour, end.minute) <= (17, 0)


def reference_slots(
    forecast: Forecast, now: datetime, booked: dict[datetime, int], open_from: int, open_to: int
) -> list[datetime]:
    """The slots worked out by hand: every half hour from the next one at least 15 minutes
    ahead, open all through, while exact Erlang C keeps the target with the booked and one
    more callback's traffic."""
    start = now.replace(minute=0, second=0, microsecond=0)
    found: list[datetime] = []
    while len(found) < 3 and start < now + timedelta(hours=24):
        if start >= now + timedelta(minutes=15) and open_from <= start.hour < open_to:
            traffic = Fraction(forecast.arrivals_per_hour) / 3600 * Fraction(forecast.handling)
            traffic += (booked.get(start, 0) + 1) * Fraction(forecast.handling) / 1800
            if traffic < forecast.agents:
                waits = reference_erlang_c(forecast.agents, traffic)
                level = 1 - float(waits) * math.exp(
                    -float(forecast.agents - traffic) * forecast.within / forecast.handling
                )
                if level >= forecast.target:
                    found.append(start)
        start += timedelta(minutes=30)
    return found


def test_the_slots_offered_follow_the_forecast() -> None:
    """A busy afternoon: 40 calls an hour of 3 minutes on 4 agents is 2 erlangs. A slot
    holding two callbacks already is passed over (a third would drop the service level
    below 80 % in 20 s), one holding one is not; the queue closes at 17."""
    forecast = Forecast(arrivals_per_hour=40, handling=180, agents=4)
    now = datetime(2026, 12, 7, 14, 10, tzinfo=STOCKHOLM)
    first = datetime(2026, 12, 7, 14, 30, tzinfo=STOCKHOLM)
    half = timedelta(minutes=30)
    booked = {first: 2, first + half: 1, first + 2 * half: 3}
    slots = offered_slots(forecast, now, booked=booked, is_open=office)
    assert slots == reference_slots(forecast, now, booked, 8, 17)
    assert slots == [first + half, first + 3 * half, first + 4 * half]
    assert not slot_keeps(forecast, 2, 30) and slot_keeps(forecast, 1, 30)


def test_no_agents_no_slots_and_closed_hours_are_skipped() -> None:
    now = datetime(2026, 12, 7, 16, 50, tzinfo=STOCKHOLM)
    nobody = Forecast(arrivals_per_hour=10, handling=120, agents=0)
    assert offered_slots(nobody, now, booked={}, is_open=lambda s, e: True) == []
    quiet = Forecast(arrivals_per_hour=2, handling=120, agents=2)
    slots = offered_slots(quiet, now, booked={}, is_open=office)
    assert [(s.day, s.hour, s.minute) for s in slots] == [(8, 8, 0), (8, 8, 30), (8, 9, 0)]
