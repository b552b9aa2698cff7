"""The statistics page of the company admin (S9, A10): queue figures, calls per agent and
per number as tables, the calls over time as a chart, CSV and PDF downloads, and the
company's saved report sets.

The tables are rendered here from the same services the API uses; the chart's figures go
into the page as JSON in a `data-` attribute, and /static/statistics.js draws them with
Chart.js (vendored at build time, tools/vendor.py): no inline script, as the pages' CSP
wants. A saved set opens the page with its filters over its period now.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from vaxel.services import call_stats, configuration, queue_stats, report_sets
from vaxel.services.errors import Invalid
from vaxel.web.pages.admin import Company
from vaxel.web.pages.base import Context, PageRoute, Seen, company_page, link_for, render
from vaxel.web.pages.i18n import text
from vaxel.web.problems import Problem

router = APIRouter(prefix="/admin", route_class=PageRoute, include_in_schema=False)

Text = Annotated[str, Query(max_length=64)]


@router.get("/statistics")
def statistics(
    request: Request,
    ctx: Context,
    v: Seen,
    company: Company = None,
    start: Annotated[str, Query(alias="from", max_length=40)] = "",
    end: Annotated[str, Query(alias="to", max_length=40)] = "",
    user: Text = "",
    group: Text = "",
    number: Text = "",
    interval: Annotated[str, Query(pattern="^(hour|day|week)$")] = "day",
    report_set: Annotated[int | None, Query(alias="set", ge=1)] = None,
) -> Response:
    """The period's figures (today so far by default) with the chosen filters."""
    info = company_page(ctx, v, company)
    zone = v.tz
    saved = report_sets.list_sets(ctx.store, info.id)
    if report_set is not None:
        chosen = next((s for s in saved if s.id == report_set), None)
        if chosen is None:
            raise Problem(404, f"no report set {report_set}")
        since, until = report_sets.resolve(chosen.definition.period, zone, ctx.now())
        last = (until - timedelta(microseconds=1)).astimezone(zone)
        start, end = since.date().isoformat(), last.date().isoformat()
        definition = chosen.definition
        user, group, number = definition.user or "", definition.group or "", definition.number or ""
        interval = definition.interval
    since, until = queue_stats.period(zone, start or None, end or None, ctx.now())
    config = configuration.load_document(ctx.store, info.id)
    members = None
    if group:
        found = config.groups.get(group) if config is not None else None
        if found is None:
            raise Invalid(f"group: no group {group!r}")
        members = list(found.members)
    scope = call_stats.scope(ctx.store, info.domain, user=user or None, group=group or None,
                             members=members, number=number or None)  # fmt: skip
    facts = call_stats.calls(ctx.store, info.domain, since, until)
    queues = queue_stats.report(ctx.store, info.domain, since, until, group=group or None,
                                zone=zone)  # fmt: skip
    buckets = call_stats.series(facts, scope, zone, since, until, interval)  # type: ignore[arg-type]
    one_day = interval == "hour" and until - since <= timedelta(days=1)
    fmt = "%H:%M" if one_day else "%Y-%m-%d %H:%M" if interval == "hour" else "%Y-%m-%d"
    chart = {
        "labels": [b.start.strftime(fmt) for b in buckets],
        "series": [
            {"label": text(v.lang, "stats.inbound_answered"),
             "data": [b.inbound_answered for b in buckets]},
            {"label": text(v.lang, "stats.missed"), "data": [b.missed for b in buckets]},
            {"label": text(v.lang, "stats.outbound"), "data": [b.outbound for b in buckets]},
        ],
    }  # fmt: skip
    filters = {"from": start, "to": end, "user": user, "group": group, "number": number,
               "interval": interval}  # fmt: skip
    chosen_filters = {k: val for k, val in filters.items() if val}
    api = f"/api/v1/companies/{info.domain}/statistics"
    reports = [("reports", kind) for kind in ("queues", "agents", "numbers", "series")]
    downloads = {
        fmt_: f"{api}/export?" + urlencode([*reports, *chosen_filters.items(), ("format", fmt_)])
        for fmt_ in ("csv", "pdf")
    }
    sets = [
        {"name": s.name, "schedule": s.schedule, "period": s.definition.period,
         "open": link_for(v, "/admin/statistics", info, set=s.id),
         "csv": f"{api}/report-sets/{s.id}/export?format=csv",
         "pdf": f"{api}/report-sets/{s.id}/export?format=pdf"}
        for s in saved
    ]  # fmt: skip
    return render(
        request, "admin/statistics.html", v, company=info, nav="statistics",
        filters=filters, period_from=since.astimezone(zone), period_to=until.astimezone(zone),
        queues=queues.groups, agents=call_stats.agent_figures(facts, scope),
        numbers=call_stats.number_figures(facts, scope), totals=call_stats.totals(facts, scope),
        chart=json.dumps(chart), downloads=downloads, sets=sets,
        groups=sorted(config.groups) if config is not None else [],
    )  # fmt: skip
