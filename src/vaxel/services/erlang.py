"""Erlang C, and the callback slots a queue can keep (A18).

A caller who would rather be called back at a set time than wait is offered the first
few slots the queue can keep without its waiting callers suffering for it. Whether it can
is Erlang C's question: with calls arriving at random (Poisson) at the live rate, handled
in the group's average time by the agents logged in, what share of callers is answered
within the service level's seconds? A slot is offered while that share, with the traffic
of the callbacks already booked in it and this one added, stays at the target.

The forecast assumes the live rate holds over the hours offered (no staffing schedule or
history of the day yet): it is the arrivals of the last hour, counted by the switch.

Pure functions, no I/O: tests check them against a reference computation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta


def erlang_b(agents: int, traffic: float) -> float:
    """The blocking probability of `agents` servers offered `traffic` erlangs (the stable
    recursion B(k) = A·B(k-1) / (k + A·B(k-1)))."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic are not negative")
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """The probability that a caller waits at all: 1 when the agents cannot keep up."""
    if agents <= 0 or traffic >= agents:
        return 1.0
    if traffic == 0:
        return 0.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1.0 - b))


def service_level(agents: int, traffic: float, handling: float, within: float) -> float:
    """The share of callers answered within `within` seconds (0..1), `handling` the
    average handling time in seconds."""
    if agents <= 0 or traffic >= agents:
        return 0.0
    waits = erlang_c(agents, traffic)
    return max(0.0, 1.0 - waits * math.exp(-(agents - traffic) * within / handling))


def average_wait(agents: int, traffic: float, handling: float) -> float:
    """The average speed of answer in seconds (infinite when the agents cannot keep up)."""
    if agents <= 0 or traffic >= agents:
        return math.inf
    return erlang_c(agents, traffic) * handling / (agents - traffic)


@dataclass(frozen=True, slots=True, kw_only=True)
class Forecast:
    """What the slots are worked out from."""

    arrivals_per_hour: float  # the live rate of calls to the queue
    handling: float  # seconds, the group's average handling time
    agents: int  # logged in
    target: float = 0.8  # the service level to keep ...
    within: float = 20.0  # ... answered within these seconds


def slot_keeps(forecast: Forecast, booked: int, slot_minutes: int) -> bool:
    """Can one more callback go into a slot already holding `booked`: does the queue keep
    its service level with their traffic added to the callers'?"""
    seconds = slot_minutes * 60.0
    traffic = (forecast.arrivals_per_hour / 3600.0) * forecast.handling
    traffic += (booked + 1) * forecast.handling / seconds
    level = service_level(forecast.agents, traffic, forecast.handling, forecast.within)
    return level >= forecast.target


def offered_slots(
    forecast: Forecast,
    now: datetime,
    *,
    booked: Mapping[datetime, int],
    is_open: Callable[[datetime, datetime], bool],
    slot_minutes: int = 30,
    lead_minutes: int = 15,
    count: int = 3,
    horizon_hours: int = 24,
) -> list[datetime]:
    """The first `count` slots (their starts, in `now`'s zone) from `lead_minutes` ahead,
    within `horizon_hours`, that the queue is open for throughout (`is_open(start, end)`)
    and can keep (`slot_keeps`, with the callbacks `booked` by slot start)."""
    step = timedelta(minutes=slot_minutes)
    earliest = now + timedelta(minutes=lead_minutes)
    midnight = earliest.replace(hour=0, minute=0, second=0, microsecond=0)
    passed = (earliest - midnight) // step
    start = midnight + step * passed
    if start < earliest:
        start += step
    slots: list[datetime] = []
    end = now + timedelta(hours=horizon_hours)
    while start < end and len(slots) < count:
        if is_open(start, start + step) and slot_keeps(
            forecast, booked.get(start, 0), slot_minutes
        ):
            slots.append(start)
        start += step
    return slots
