"""Statistics reports as tables, CSV and PDF, and mailed on a schedule (S9, A10).

`build` runs a report set's reports (services/queue_stats.py, services/call_stats.py)
over its period and turns each into a titled table with headings in the company's
language (Swedish or English). The same tables make the CSV (a spreadsheet opens it
safely: web/csvs.py's formula guard on every cell) and the PDF (fpdf2, its built-in
Helvetica: text outside Latin-1 is shown as "?"). `send_due` mails every set whose
schedule period began, with both attached, through the company's mail server; it runs in
the switch's housekeeping on the database thread, like meeting reminders.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from vaxel.services import call_stats, queue_stats, report_sets
from vaxel.services.company_config import CompanyConfig
from vaxel.services.errors import Invalid, ServiceError
from vaxel.services.notify import NotifyError, send_message
from vaxel.services.report_sets import Definition, SavedSet
from vaxel.store import Store

log = logging.getLogger(__name__)

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "queues": "Queues", "agents": "Calls per agent", "numbers": "Calls per number",
        "series": "Calls over time", "group": "Group", "offered": "Offered",
        "answered": "Answered", "abandoned": "Abandoned",
        "abandoned_wait": "Abandoned wait avg (s)",
        "overflowed": "Overflowed", "wait_latest": "Latest wait (s)",
        "wait_average": "Average wait (s)", "wait_p90": "Wait p90 (s)",
        "service_level": "Service level (%)", "handling": "Handling avg (s)",
        "ext": "Extension", "name": "Name", "inbound": "Inbound",
        "inbound_answered": "Inbound answered", "missed": "Missed", "outbound": "Outbound",
        "outbound_answered": "Outbound answered", "talk": "Talk time (s)", "number": "Number",
        "calls": "Calls", "start": "From", "period": "Period", "filters": "Filters",
        "user": "user", "none": "none", "subject": "Statistics: {name}",
        "body": "The report set {name} for {since} to {until} ({zone}) is attached as PDF "
                "and CSV.",
    },
    "sv": {
        "queues": "Köer", "agents": "Samtal per agent", "numbers": "Samtal per nummer",
        "series": "Samtal över tid", "group": "Grupp", "offered": "Erbjudna",
        "answered": "Besvarade", "abandoned": "Avbrutna",
        "abandoned_wait": "Avbrutna, väntan snitt (s)", "overflowed": "Till överflöde",
        "wait_latest": "Senaste väntan (s)", "wait_average": "Väntan snitt (s)",
        "wait_p90": "Väntan p90 (s)", "service_level": "Servicenivå (%)",
        "handling": "Hanteringstid snitt (s)", "ext": "Anknytning", "name": "Namn",
        "inbound": "Inkommande", "inbound_answered": "Inkommande besvarade",
        "missed": "Missade", "outbound": "Utgående", "outbound_answered": "Utgående besvarade",
        "talk": "Samtalstid (s)", "number": "Nummer", "calls": "Samtal", "start": "Från",
        "period": "Period", "filters": "Filter", "user": "användare", "none": "inga",
        "subject": "Statistik: {name}",
        "body": "Rapportsamlingen {name} för {since} till {until} ({zone}) finns bifogad som "
                "PDF och CSV.",
    },
}  # fmt: skip


def words(language: str) -> dict[str, str]:
    return WORDS["sv" if language == "sv" else "en"]


@dataclass(frozen=True, slots=True)
class Table:
    kind: str  # "queues", "agents", "numbers", "series"
    title: str
    columns: list[str]
    rows: list[list[object]]


@dataclass(frozen=True, slots=True)
class Output:
    name: str
    since: datetime  # in the company's zone
    until: datetime
    timezone: str
    filters: str  # as one line, for the reader
    tables: list[Table]


def _seconds(value: float | None) -> object:
    return None if value is None else round(value, 1)


def _members(config: CompanyConfig | None, group: str | None) -> list[str] | None:
    if group is None:
        return None
    found = config.groups.get(group) if config is not None else None
    if found is None:
        raise Invalid(f"group: no group {group!r}")
    return list(found.members)


def build(
    store: Store,
    domain: str,
    definition: Definition,
    *,
    name: str,
    zone: ZoneInfo,
    since: datetime,
    until: datetime,
    config: CompanyConfig | None,
    language: str,
) -> Output:
    """The set's reports over [since, until) as tables. Raises NotFound, Invalid."""
    w = words(language)
    scope = call_stats.scope(
        store, domain, user=definition.user, group=definition.group,
        members=_members(config, definition.group), number=definition.number,
    )  # fmt: skip
    facts = (
        call_stats.calls(store, domain, since, until)
        if set(definition.reports) - {"queues"}
        else []
    )
    tables = []
    for kind in definition.reports:
        if kind == "queues":
            tables.append(_queues(store, domain, definition, zone, since, until, w))
        elif kind == "agents":
            rows: list[list[object]] = [
                [a.ext, a.name, a.inbound, a.inbound_answered, a.missed, a.outbound,
                 a.outbound_answered, _seconds(a.talk_seconds)]
                for a in call_stats.agent_figures(facts, scope)
            ]  # fmt: skip
            columns = ["ext", "name", "inbound", "inbound_answered", "missed", "outbound",
                       "outbound_answered", "talk"]  # fmt: skip
            tables.append(Table(kind, w[kind], [w[c] for c in columns], rows))
        elif kind == "numbers":
            rows = [
                [n.number, n.calls, n.answered, n.missed, _seconds(n.talk_seconds)]
                for n in call_stats.number_figures(facts, scope)
            ]
            columns = ["number", "calls", "answered", "missed", "talk"]
            tables.append(Table(kind, w[kind], [w[c] for c in columns], rows))
        else:
            buckets = call_stats.series(facts, scope, zone, since, until, definition.interval)
            rows = [
                [b.start.isoformat(), b.inbound, b.inbound_answered, b.missed, b.outbound,
                 b.outbound_answered, _seconds(b.talk_seconds)]
                for b in buckets
            ]  # fmt: skip
            columns = ["start", "inbound", "inbound_answered", "missed", "outbound",
                       "outbound_answered", "talk"]  # fmt: skip
            tables.append(Table(kind, w[kind], [w[c] for c in columns], rows))
    return Output(
        name=name, since=since.astimezone(zone), until=until.astimezone(zone),
        timezone=zone.key, filters=_filters(definition, w), tables=tables,
    )  # fmt: skip


def _filters(definition: Definition, w: dict[str, str]) -> str:
    parts = [
        f"{label} {value}"
        for label, value in ((w["group"].lower(), definition.group), (w["user"], definition.user),
                             (w["number"].lower(), definition.number))
        if value is not None
    ]  # fmt: skip
    return ", ".join(parts) if parts else w["none"]


def _queues(
    store: Store, domain: str, definition: Definition, zone: ZoneInfo, since: datetime,
    until: datetime, w: dict[str, str],
) -> Table:  # fmt: skip
    found = queue_stats.report(
        store, domain, since, until, group=definition.group,
        service_level=definition.service_level, zone=zone,
    )  # fmt: skip
    rows: list[list[object]] = [
        [g.group, g.offered, g.answered, g.abandoned, _seconds(g.abandoned_wait_average),
         g.overflowed, _seconds(g.wait_latest), _seconds(g.wait_average), _seconds(g.wait_p90),
         _seconds(g.service_level), _seconds(g.handling_average)]
        for g in found.groups
    ]  # fmt: skip
    columns = ["group", "offered", "answered", "abandoned", "abandoned_wait", "overflowed",
               "wait_latest", "wait_average", "wait_p90", "service_level", "handling"]  # fmt: skip
    return Table("queues", w["queues"], [w[c] for c in columns], rows)


# -- CSV and PDF --------------------------------------------------------------------------


def cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (CWE-1236), as web/csvs.py writes
    them: a leading =, +, -, @, tab or carriage return gets a quote before it."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(output: Output, *, only: str | None = None) -> str:
    """The tables as CSV: one table alone is its heading row and rows; several are each
    their title row, heading row and rows, a blank row between."""
    tables = [t for t in output.tables if only is None or t.kind == only]
    out = io.StringIO()
    writer = csv.writer(out)
    for index, table in enumerate(tables):
        if len(tables) > 1:
            if index:
                writer.writerow([])
            writer.writerow([cell(table.title)])
        writer.writerow([cell(column) for column in table.columns])
        writer.writerows([cell(value) for value in row] for row in table.rows)
    return out.getvalue()


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def pdf_bytes(output: Output, language: str, *, only: str | None = None) -> bytes:
    """The tables as a PDF document, landscape A4, one section per report."""
    from fpdf import FPDF  # half a second to import: only when a PDF is made

    w = words(language)
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(_latin1(output.name))
    pdf.set_creator("Vaxel")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(output.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    period = f"{output.since:%Y-%m-%d %H:%M} - {output.until:%Y-%m-%d %H:%M} ({output.timezone})"
    pdf.cell(0, 6, _latin1(f"{w['period']}: {period}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, _latin1(f"{w['filters']}: {output.filters}"), new_x="LMARGIN", new_y="NEXT")
    for table in output.tables:
        if only is not None and table.kind != only:
            continue
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _latin1(table.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 8)
        with pdf.table(text_align="LEFT", line_height=5) as grid:
            _pdf_row(grid, table.columns)
            for row in table.rows:
                _pdf_row(grid, row)
    return bytes(pdf.output())


def _pdf_row(grid: object, values: Sequence[object]) -> None:
    row = grid.row()  # type: ignore[attr-defined]
    for value in values:
        row.cell(_latin1("" if value is None else str(value)))


def filename(name: str, since: datetime, extension: str) -> str:
    """A download's file name: the set's name in plain letters and the period's start."""
    plain = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in name).strip("-")
    return f"{plain or 'report'}-{since:%Y-%m-%d}.{extension}"


# -- scheduled mail -----------------------------------------------------------------------


def mail_set(
    store: Store, domain: str, config: CompanyConfig, saved: SavedSet, now: datetime
) -> list[str]:
    """Mail one set's reports for its period at `now` to its addresses, PDF and CSV
    attached; the addresses it went to. Blocking. Raises NotifyError, ServiceError."""
    if config.mail is None:
        raise NotifyError("no mail server is set for the company")
    zone = ZoneInfo(config.company.timezone)
    language = config.company.language
    since, until = report_sets.resolve(saved.definition.period, zone, now)
    output = build(
        store, domain, saved.definition, name=saved.name, zone=zone, since=since,
        until=until, config=config, language=language,
    )  # fmt: skip
    w = words(language)
    settings = config.mail.settings()
    pdf = pdf_bytes(output, language)
    text = csv_text(output).encode()
    sent = []
    for address in saved.emails:  # one mail each: a refused address hides nobody else's
        message = EmailMessage()
        message["Subject"] = w["subject"].format(name=saved.name)
        message["From"] = settings.sender
        message["To"] = address
        message["Date"] = format_datetime(now.astimezone(UTC))
        message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(
            w["body"].format(name=saved.name, since=f"{output.since:%Y-%m-%d %H:%M}",
                             until=f"{output.until:%Y-%m-%d %H:%M}", zone=zone.key) + "\n"
        )  # fmt: skip
        message.add_attachment(pdf, maintype="application", subtype="pdf",
                               filename=filename(saved.name, since, "pdf"))  # fmt: skip
        message.add_attachment(text, maintype="text", subtype="csv",
                               filename=filename(saved.name, since, "csv"))  # fmt: skip
        try:
            send_message(settings, message, [address])
        except NotifyError as exc:
            log.warning("report set %s: the mail to %s was not sent: %s", saved.id, address, exc)
        else:
            sent.append(address)
    return sent


def send_due(store: Store, now: datetime) -> int:
    """Mail every report set whose schedule period began (at most once per period, see
    services/report_sets.py); how many sets were mailed. Blocking: the switch runs it on
    its database thread (app.py housekeeping)."""
    from vaxel.services.configuration import load_document

    documents = {}
    for company_id, domain in report_sets.scheduled_companies(store).items():
        config = load_document(store, company_id)
        if config is not None:
            documents[company_id] = (domain, config)
    zones = {cid: ZoneInfo(config.company.timezone) for cid, (_, config) in documents.items()}
    count = 0
    for saved in report_sets.claim_due(store, now, zones):
        domain, config = documents[saved.company_id]
        try:
            if mail_set(store, domain, config, saved, now):
                count += 1
        except (ServiceError, NotifyError) as exc:
            log.warning("report set %s was not mailed: %s", saved.id, exc)
    return count
