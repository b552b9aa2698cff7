"""S9, A10: a report set's tables from the scripted calls, as CSV (parsed back, formulas
guarded) and PDF (its text read back with poppler's pdftotext), and mailed on its
schedule to a real SMTP server (aiosmtpd) once per period, with both attached."""

from __future__ import annotations

import csv
import email
import io
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.integration.peers import free_port
from tests.services.test_call_stats import T0, script
from vaxel.services import configuration, report_output, report_sets
from vaxel.services.companies import get_company
from vaxel.services.company_config import CompanyConfig, parse_config
from vaxel.services.report_sets import Definition, SetRequest
from vaxel.store import Store

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def description(smtp_port: int = 25, language: str = "sv") -> dict[str, object]:
    return {
        "company": {"domain": "acme.example", "name": "Acme AB", "language": language},
        "users": [{"ext": "1001", "name": "Anna", "password": "sip-secret-1"},
                  {"ext": "1002", "name": "Bo", "password": "sip-secret-1"},
                  {"ext": "1003", "name": "Cia", "password": "sip-secret-1"}],
        "groups": {"support": {"members": ["1002", "1003"]}},
        "mail": {"host": "127.0.0.1", "port": smtp_port, "sender": "vaxel@acme.example"},
    }  # fmt: skip


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    from aiosmtpd.controller import Controller

    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, mailbox
    controller.stop()


def acme(store: Store, tmp_path: Path, smtp_port: int = 25, language: str = "sv") -> CompanyConfig:
    config = parse_config(description(smtp_port, language))
    configuration.apply_config(store, config, data=tmp_path)
    script(store)
    return config


def output(store: Store, config: CompanyConfig, **definition: object) -> report_output.Output:
    since = datetime(2026, 12, 7, tzinfo=STOCKHOLM)
    return report_output.build(
        store, "acme.example", Definition.model_validate(definition), name="Kundtjänst",
        zone=STOCKHOLM, since=since, until=since + timedelta(days=2), config=config,
        language=config.company.language,
    )  # fmt: skip


def test_the_csv_of_a_set_parses_back_to_the_figures(store: Store, tmp_path: Path) -> None:
    config = acme(store, tmp_path)
    made = output(store, config, reports=["queues", "agents", "numbers", "series"])
    rows = list(csv.reader(io.StringIO(report_output.csv_text(made))))
    assert rows[0] == ["Köer"]
    assert rows[1][:4] == ["Grupp", "Erbjudna", "Besvarade", "Avbrutna"]
    assert rows[2][:4] == ["support", "3", "2", "1"]
    agents = rows.index(["Samtal per agent"])
    assert rows[agents + 2] == ["1001", "Anna", "0", "0", "0", "2", "2", "50.0"]
    assert rows[agents + 4] == ["1003", "Cia", "2", "1", "1", "0", "0", "120.0"]
    numbers = rows.index(["Samtal per nummer"])
    # A number that starts with + is guarded like a formula, as web/csvs.py does.
    assert rows[numbers + 2] == ["'+46812345600", "2", "1", "1", "60.0"]
    series = rows.index(["Samtal över tid"])
    assert rows[series + 2][:3] == ["2026-12-07T00:00:00+01:00", "4", "2"]
    alone = list(csv.reader(io.StringIO(report_output.csv_text(made, only="agents"))))
    assert alone[0][0] == "Anknytning" and len(alone) == 4


def test_a_formula_in_a_name_is_not_run_by_a_spreadsheet(store: Store, tmp_path: Path) -> None:
    config = acme(store, tmp_path)
    from vaxel.store.models import User

    with store.session() as session:
        session.query(User).filter(User.extension == "1001").update(
            {"display_name": '=HYPERLINK("http://evil")'}
        )
    made = output(store, config, reports=["agents"])
    rows = list(csv.reader(io.StringIO(report_output.csv_text(made))))
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'


def test_the_pdf_holds_the_titles_and_figures(store: Store, tmp_path: Path) -> None:
    config = acme(store, tmp_path, language="en")
    made = output(store, config, reports=["queues", "agents"])
    pdf = report_output.pdf_bytes(made, "en")
    assert pdf.startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()  # fmt: skip
    assert "Kundtjänst" in text and "Calls per agent" in text and "Queues" in text
    assert "2026-12-07 00:00 - 2026-12-09 00:00 (Europe/Stockholm)" in text
    cia = next(line for line in text.splitlines() if "Cia" in line)
    assert cia.split() == ["1003", "Cia", "2", "1", "1", "0", "0", "120.0"]


def mails(mailbox: Mailbox, count: int) -> list[EmailMessage]:
    deadline = time.monotonic() + 10
    while len(mailbox.messages) < count:
        assert time.monotonic() < deadline, f"{len(mailbox.messages)} mails, not {count}"
        time.sleep(0.05)
    parsed = [email.message_from_bytes(m, policy=default_policy) for m in mailbox.messages]
    return [m for m in parsed if isinstance(m, EmailMessage)]


def test_a_weekly_set_is_mailed_once_when_its_week_begins(
    store: Store, tmp_path: Path, smtp: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp
    config = acme(store, tmp_path, smtp_port=port)
    request = SetRequest(name="Kundtjänst veckovis", reports=["agents", "queues"],
                         period="last-week", schedule="weekly",
                         emails=["chef@acme.example", "vd@acme.example"])  # fmt: skip
    company = get_company(store, config.company.domain).id
    wednesday_before = T0 - timedelta(days=5)
    saved = report_sets.create(store, company, request, STOCKHOLM, wednesday_before)
    assert report_output.send_due(store, wednesday_before + timedelta(hours=1)) == 0
    monday_after = T0 + timedelta(days=7)  # the week of the script is the last week then
    assert report_output.send_due(store, monday_after) == 1
    assert report_output.send_due(store, monday_after + timedelta(hours=1)) == 0
    first, second = mails(mailbox, 2)
    assert {first["To"], second["To"]} == {"chef@acme.example", "vd@acme.example"}
    assert first["Subject"] == "Statistik: Kundtjänst veckovis"
    names = {part.get_filename(): part for part in first.iter_attachments()}
    assert set(names) == {"Kundtj-nst-veckovis-2026-12-07.pdf",
                          "Kundtj-nst-veckovis-2026-12-07.csv"}  # fmt: skip
    pdf = names["Kundtj-nst-veckovis-2026-12-07.pdf"].get_content()
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
    table = names["Kundtj-nst-veckovis-2026-12-07.csv"].get_content()
    rows = list(csv.reader(io.StringIO(table if isinstance(table, str) else table.decode())))
    assert ["1002", "Bo", "2", "2", "0", "1", "0", "80.0"] in rows
    assert report_sets.get(store, company, saved.id).mailed_for == datetime(
        2026, 12, 14, tzinfo=STOCKHOLM
    )
