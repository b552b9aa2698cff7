"""Call statistics per agent, per number and over time, their CSV and PDF, and saved report
sets (S9, A10), for the company's admins.

The figures are `services.call_stats`'s (one call is one call record: a transferred call
counts once); `from` and `to` are read as for the queue report (web/api/statistics.py).
A saved set names its reports, filters and relative period; it can be exported whole, and
mailed on its schedule by the switch (services/report_output.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError

from vaxel.services import call_stats, configuration, queue_stats, report_output, report_sets
from vaxel.services.companies import CompanyInfo
from vaxel.services.company_config import CompanyConfig
from vaxel.services.report_sets import Definition, SavedSet, SetRequest
from vaxel.web.api.shortcuts import zone_of
from vaxel.web.auth import Caller, Context, admin_of, audit_change
from vaxel.web.context import WebContext
from vaxel.web.problems import Problem, RowId

router = APIRouter(prefix="/api/v1/companies/{domain}/statistics", tags=["statistics"])

Period = Annotated[
    str | None,
    Query(max_length=40, description="a date (2026-12-01) or a time, in the company's zone"),
]
From = Annotated[Period, Query(alias="from")]
To = Annotated[Period, Query(alias="to")]
UserFilter = Annotated[
    str | None, Query(pattern=r"^[0-9]{2,8}$", description="one user (extension) only")
]
GroupFilter = Annotated[
    str | None,
    Query(max_length=64, description="the group's members; inbound: calls that came through it"),
]
NumberFilter = Annotated[
    str | None,
    Query(max_length=32, description="digits in the caller's or the callee's number"),
]


class Totals(BaseModel):
    """The report's calls, each once (one call record)."""

    calls: int
    inbound: int
    inbound_answered: int = Field(description="answered by a person of the report")
    missed: int
    outbound: int
    outbound_answered: int
    talk_seconds: float


class AgentFigures(BaseModel):
    ext: str
    name: str
    inbound: int = Field(description="calls to them or answered by them, from anyone else")
    inbound_answered: int
    missed: int = Field(description="inbound calls they did not answer")
    outbound: int = Field(description="calls they placed")
    outbound_answered: int
    talk_seconds: float = Field(description="of the calls they answered or placed, answered")


class AgentReport(BaseModel):
    since: datetime
    until: datetime
    timezone: str
    agents: list[AgentFigures]
    totals: Totals


class NumberFigures(BaseModel):
    number: str = Field(description="what the callers dialled")
    calls: int
    answered: int = Field(description="by a person (of the group, with one chosen)")
    missed: int
    talk_seconds: float


class NumberReport(BaseModel):
    since: datetime
    until: datetime
    timezone: str
    numbers: list[NumberFigures]


class Bucket(BaseModel):
    start: datetime = Field(description="the hour, day or week's start, in the company's zone")
    inbound: int
    inbound_answered: int
    missed: int
    outbound: int
    outbound_answered: int
    talk_seconds: float


class SeriesReport(BaseModel):
    since: datetime
    until: datetime
    timezone: str
    interval: Literal["hour", "day", "week"]
    buckets: list[Bucket]


def _config(ctx: WebContext, company: CompanyInfo) -> CompanyConfig | None:
    return configuration.load_document(ctx.store, company.id)


def _members(config: CompanyConfig | None, group: str | None) -> list[str] | None:
    if group is None:
        return None
    found = config.groups.get(group) if config is not None else None
    if found is None:
        raise Problem(404, f"no group {group!r}")
    return list(found.members)


def _facts(
    ctx: WebContext, company: CompanyInfo, start: str | None, end: str | None,
    user: str | None, group: str | None, number: str | None,
) -> tuple[ZoneInfo, datetime, datetime, call_stats.Scope, list[call_stats.CallFacts]]:  # fmt: skip
    zone = zone_of(ctx, company.id)
    since, until = queue_stats.period(zone, start, end, ctx.now())
    members = _members(_config(ctx, company), group)
    scope = call_stats.scope(ctx.store, company.domain, user=user, group=group,
                             members=members, number=number)  # fmt: skip
    return zone, since, until, scope, call_stats.calls(ctx.store, company.domain, since, until)


@router.get("/agents")
def agent_statistics(
    domain: str, who: Caller, ctx: Context, start: From = None, end: To = None,
    user: UserFilter = None, group: GroupFilter = None, number: NumberFilter = None,
) -> AgentReport:  # fmt: skip
    """Each agent's calls in the period: inbound and outbound, answered and missed, talk
    time; a transferred call counts once, for who had it at its end (company admins)."""
    company = admin_of(ctx, who, domain)
    zone, since, until, scope, facts = _facts(ctx, company, start, end, user, group, number)
    return AgentReport(
        since=since.astimezone(zone), until=until.astimezone(zone), timezone=zone.key,
        agents=[AgentFigures.model_validate(a, from_attributes=True)
                for a in call_stats.agent_figures(facts, scope)],
        totals=Totals.model_validate(call_stats.totals(facts, scope), from_attributes=True),
    )  # fmt: skip


@router.get("/numbers")
def number_statistics(
    domain: str, who: Caller, ctx: Context, start: From = None, end: To = None,
    user: UserFilter = None, group: GroupFilter = None, number: NumberFilter = None,
) -> NumberReport:  # fmt: skip
    """The inbound calls from outside in the period, per number dialled (company admins)."""
    company = admin_of(ctx, who, domain)
    zone, since, until, scope, facts = _facts(ctx, company, start, end, user, group, number)
    return NumberReport(
        since=since.astimezone(zone), until=until.astimezone(zone), timezone=zone.key,
        numbers=[NumberFigures.model_validate(n, from_attributes=True)
                 for n in call_stats.number_figures(facts, scope)],
    )  # fmt: skip


@router.get("/series")
def series_statistics(
    domain: str, who: Caller, ctx: Context, start: From = None, end: To = None,
    user: UserFilter = None, group: GroupFilter = None, number: NumberFilter = None,
    interval: Literal["hour", "day", "week"] = "day",
) -> SeriesReport:  # fmt: skip
    """The calls of the period in each hour, day or ISO week of the company's zone (empty
    ones too: an hourly series covers about a month at most) (company admins)."""
    company = admin_of(ctx, who, domain)
    zone, since, until, scope, facts = _facts(ctx, company, start, end, user, group, number)
    buckets = call_stats.series(facts, scope, zone, since, until, interval)
    return SeriesReport(
        since=since.astimezone(zone), until=until.astimezone(zone), timezone=zone.key,
        interval=interval,
        buckets=[Bucket.model_validate(b, from_attributes=True) for b in buckets],
    )  # fmt: skip


# -- exports ------------------------------------------------------------------------------


def _download(
    ctx: WebContext, company: CompanyInfo, definition: Definition, name: str,
    since: datetime, until: datetime, fmt: str,
) -> Response:  # fmt: skip
    config = _config(ctx, company)
    _members(config, definition.group)  # an unknown group: 404
    language = config.company.language if config is not None else "sv"
    zone = zone_of(ctx, company.id)
    output = report_output.build(
        ctx.store, company.domain, definition, name=name, zone=zone, since=since,
        until=until, config=config, language=language,
    )  # fmt: skip
    filename = report_output.filename(name, output.since, fmt)
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "pdf":
        body = report_output.pdf_bytes(output, language)
        return Response(body, media_type="application/pdf", headers=disposition)
    text = report_output.csv_text(output)
    return Response(text, media_type="text/csv; charset=utf-8", headers=disposition)


Format = Annotated[Literal["csv", "pdf"], Query(alias="format")]


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/pdf": {}}}},
)
def export(
    domain: str, who: Caller, ctx: Context,
    reports: Annotated[list[Literal["queues", "agents", "numbers", "series"]], Query()],
    fmt: Format = "csv", start: From = None, end: To = None, user: UserFilter = None,
    group: GroupFilter = None, number: NumberFilter = None,
    interval: Literal["hour", "day", "week"] = "day",
    service_level: Annotated[int, Query(ge=0, le=3600)] = queue_stats.DEFAULT_SERVICE_LEVEL,
) -> Response:  # fmt: skip
    """Reports of the period as CSV (a spreadsheet's formulas guarded) or PDF (company
    admins). Several reports in one CSV come each under its title row."""
    company = admin_of(ctx, who, domain)
    zone = zone_of(ctx, company.id)
    since, until = queue_stats.period(zone, start, end, ctx.now())
    try:
        definition = Definition(reports=reports, user=user, group=group, number=number,
                                interval=interval, service_level=service_level)  # fmt: skip
    except ValidationError as exc:  # a filter the report cannot take (an empty number)
        raise Problem(422, _first_error(exc)) from None
    return _download(ctx, company, definition, "statistics", since, until, fmt)


# -- saved report sets --------------------------------------------------------------------


class SavedSetOut(Definition):
    id: int
    name: str
    schedule: Literal["", "daily", "weekly", "monthly"]
    emails: list[str]
    mailed_for: datetime | None = Field(
        description="the start of the last schedule period mailed (or skipped when the "
        "schedule was set: the first mail goes when the next period begins)"
    )


def _out(saved: SavedSet) -> SavedSetOut:
    return SavedSetOut(
        id=saved.id, name=saved.name, schedule=saved.schedule,  # type: ignore[arg-type]
        emails=saved.emails, mailed_for=saved.mailed_for, **saved.definition.model_dump(),
    )  # fmt: skip


@router.get("/report-sets")
def list_sets(domain: str, who: Caller, ctx: Context) -> list[SavedSetOut]:
    """The company's saved report sets, by name (company admins)."""
    company = admin_of(ctx, who, domain)
    return [_out(saved) for saved in report_sets.list_sets(ctx.store, company.id)]


@router.post("/report-sets", status_code=201)
def create_set(
    domain: str, body: SetRequest, who: Caller, ctx: Context, request: Request
) -> SavedSetOut:
    """Save a report set; a mailed one is first mailed when its next period begins."""
    company = admin_of(ctx, who, domain)
    saved = report_sets.create(ctx.store, company.id, body, zone_of(ctx, company.id), ctx.now())
    audit_change(ctx, who, request, "report-set.create", saved.name, company_id=company.id,
                 after=body.model_dump())  # fmt: skip
    return _out(saved)


@router.get("/report-sets/{set_id}")
def get_set(domain: str, set_id: RowId, who: Caller, ctx: Context) -> SavedSetOut:
    company = admin_of(ctx, who, domain)
    return _out(report_sets.get(ctx.store, company.id, set_id))


@router.put("/report-sets/{set_id}")
def replace_set(
    domain: str, set_id: RowId, body: SetRequest, who: Caller, ctx: Context, request: Request
) -> SavedSetOut:
    """Replace a set whole (company admins)."""
    company = admin_of(ctx, who, domain)
    before = report_sets.get(ctx.store, company.id, set_id)
    saved = report_sets.replace(ctx.store, company.id, set_id, body, zone_of(ctx, company.id),
                                ctx.now())  # fmt: skip
    audit_change(ctx, who, request, "report-set.update", saved.name, company_id=company.id,
                 before=_out(before).model_dump(mode="json"), after=body.model_dump())  # fmt: skip
    return _out(saved)


@router.delete("/report-sets/{set_id}", status_code=204)
def delete_set(domain: str, set_id: RowId, who: Caller, ctx: Context, request: Request) -> None:
    company = admin_of(ctx, who, domain)
    gone = report_sets.get(ctx.store, company.id, set_id)
    report_sets.delete(ctx.store, company.id, set_id)
    audit_change(ctx, who, request, "report-set.delete", gone.name, company_id=company.id)


@router.get(
    "/report-sets/{set_id}/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/pdf": {}}}},
)
def export_set(
    domain: str, set_id: RowId, who: Caller, ctx: Context, fmt: Format = "csv"
) -> Response:
    """A saved set's reports over its period now, as CSV or PDF (company admins)."""
    company = admin_of(ctx, who, domain)
    saved = report_sets.get(ctx.store, company.id, set_id)
    since, until = report_sets.resolve(saved.definition.period, zone_of(ctx, company.id),
                                       ctx.now())  # fmt: skip
    return _download(ctx, company, saved.definition, saved.name, since, until, fmt)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])
