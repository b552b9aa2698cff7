"""Queue statistics (S9, A10): each answering group's calls over a period, for its admins.

`from` and `to` are read in the company's time zone (a date is the whole day; a time
without an offset is the company's wall clock); neither given is today so far. The figures
are the ones `services.queue_stats` computes from the queue visits the switch stores.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vaxel.services import queue_stats
from vaxel.services.queue_stats import GroupFigures
from vaxel.web.api.shortcuts import zone_of
from vaxel.web.auth import Caller, Context, admin_of

router = APIRouter(prefix="/api/v1/companies/{domain}", tags=["statistics"])


class QueueFigures(BaseModel):
    """One group's calls in the period; waits and times in seconds, null without calls to
    take them from."""

    group: str
    offered: int = Field(description="calls offered to the group (each visit once)")
    answered: int
    abandoned: int = Field(description="callers who hung up while waiting")
    abandoned_wait_average: float | None
    abandoned_wait_max: float | None
    overflowed: int = Field(description="sent to the overflow (timed out included)")
    timed_out: int = Field(description="of those overflowed: the queue's longest wait passed")
    ended: int = Field(description="ended by the switch while waiting")
    callback_failed: int = Field(
        description="callbacks asked for that reached nobody after their last attempt"
    )
    wait_latest: float | None = Field(description="the wait of the call answered last")
    wait_average: float | None
    wait_p90: float | None = Field(description="nearest-rank 90th percentile")
    service_level: float | None = Field(
        description="percentage of the offered calls answered within service_level seconds"
    )
    handling_average: float | None = Field(
        description="from a member's answer to the call's end, by the call's record"
    )


class QueueReport(BaseModel):
    since: datetime = Field(description="the period's start, in the company's zone")
    until: datetime = Field(description="the period's end (not included)")
    timezone: str
    service_level_seconds: float
    groups: list[QueueFigures] = Field(description="groups with calls in the period, by name")


def _out(figures: GroupFigures) -> QueueFigures:
    return QueueFigures(**{name: getattr(figures, name) for name in QueueFigures.model_fields})


Period = Annotated[
    str | None,
    Query(max_length=40, description="a date (2026-12-01) or a time, in the company's zone"),
]


@router.get("/statistics/queues")
def queue_statistics(
    domain: str,
    who: Caller,
    ctx: Context,
    start: Annotated[Period, Query(alias="from")] = None,
    end: Annotated[Period, Query(alias="to")] = None,
    group: Annotated[str | None, Query(max_length=64, description="one group only")] = None,
    service_level: Annotated[int, Query(ge=0, le=3600)] = queue_stats.DEFAULT_SERVICE_LEVEL,
) -> QueueReport:
    """Per answering group: offered, answered, abandoned, overflowed, waits, service level
    and handling time, for calls that came to the group in the period (company admins)."""
    company = admin_of(ctx, who, domain)
    zone = zone_of(ctx, company.id)
    since, until = queue_stats.period(zone, start, end, ctx.now())
    found = queue_stats.report(
        ctx.store, company.domain, since, until,
        group=group, service_level=service_level, zone=zone,
    )  # fmt: skip
    return QueueReport(
        since=found.since,
        until=found.until,
        timezone=zone.key,
        service_level_seconds=found.service_level_seconds,
        groups=[_out(figures) for figures in found.groups],
    )
