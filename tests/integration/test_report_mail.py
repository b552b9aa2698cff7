"""S9, A10: a report set saved through the API of a real `vaxel serve` is mailed by the
switch's housekeeping when its schedule period begins, once, to a real SMTP server
(aiosmtpd), with its PDF and CSV attached.

A set made now is first mailed when the next period begins; the test does not wait for
midnight: it sets the set's last mailed period back a day in the switch's database, as
if a day had passed. The calls of the report are yesterday's records, written to the same
database. Every wait is for the mail itself, with a deadline.
"""

from __future__ import annotations

import contextlib
import csv
import email
import io
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from tests.integration.acme import Mailbox
from tests.integration.peers import Server
from tests.integration.tone_rooms import admin_api, serving
from vaxel.services import call_records
from vaxel.services.call_records import NewCallRecord
from vaxel.services.companies import get_company
from vaxel.store import Store
from vaxel.store.models import ReportSet

DOMAIN = "reports.vaxel.test"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]) -> Iterator[Server]:
    description = f"""
company: {{domain: {DOMAIN}, name: Rapport AB, language: en}}
users:
  - {{ext: "1001", name: Anna Admin, password: anna-secret-1}}
  - {{ext: "1002", name: Bo Agent, password: bo-secret-12}}
mail: {{host: 127.0.0.1, port: {smtp[0]}, sender: stats@reports.vaxel.test}}
"""
    with contextlib.ExitStack() as stack:
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        patch.setenv("VAXEL_REMINDER_INTERVAL", "0.5")  # read when the switch starts
        folder = tmp_path_factory.mktemp("vaxel-reports")
        started = stack.enter_context(serving(folder, description, DOMAIN))
        patch.undo()
        yield started


def mails(mailbox: Mailbox, count: int, timeout: float = 30.0) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while len(mailbox.messages) < count:
        assert time.monotonic() < deadline, f"{len(mailbox.messages)} mails, not {count}"
        time.sleep(0.1)
    parsed = [email.message_from_bytes(m, policy=default_policy) for m in mailbox.messages]
    return [m for m in parsed if isinstance(m, EmailMessage)]


def yesterdays_calls(store: Store) -> None:
    """Bo answers two calls yesterday (60 s and 30 s) and misses one."""
    company = get_company(store, DOMAIN).id
    noon = datetime.now(STOCKHOLM).replace(hour=12, minute=0, second=0, microsecond=0)
    start = (noon - timedelta(days=1)).astimezone(UTC)
    for n, talk in enumerate((60.0, 30.0, None)):
        at = start + timedelta(minutes=n)
        answered = at + timedelta(seconds=5) if talk is not None else None
        call_records.write_record(store, NewCallRecord(
            company_id=company, call_id=f"mail-{n}", caller="+46701740605", callee="1002",
            started_at=at, answered_at=answered, ended_at=(answered or at) + timedelta(
                seconds=talk or 20), answered_by="1002" if talk else "",
            disposition="answered" if talk else "no-answer", hangup_side="caller",
            cause_code=200 if talk else 480,
        ))  # fmt: skip


def test_a_daily_set_is_mailed_once_when_its_day_begins(
    server: Server, smtp: tuple[int, Mailbox]
) -> None:
    _, mailbox = smtp
    before = len(mailbox.messages)
    with admin_api(server, DOMAIN) as api:
        made = api.post(
            f"/api/v1/companies/{DOMAIN}/statistics/report-sets",
            json={"name": "Support daily", "reports": ["agents", "series"],
                  "period": "yesterday", "interval": "hour", "schedule": "daily",
                  "emails": ["boss@reports.vaxel.test"]},
        )  # fmt: skip
        assert made.status_code == 201, made.text
    saved = made.json()  # its day counts as mailed: the first mail goes when the next begins
    store = Store.open(server.data)
    try:
        yesterdays_calls(store)
        with store.session() as session:  # as if the day had passed since it was made
            session.execute(
                update(ReportSet).where(ReportSet.id == saved["id"]).values(
                    mailed_for=datetime.fromisoformat(saved["mailed_for"]) - timedelta(days=1)
                )
            )  # fmt: skip
        (mail,) = mails(mailbox, before + 1)[before:]
        assert mail["To"] == "boss@reports.vaxel.test"
        assert mail["Subject"] == "Statistics: Support daily"
        files = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
        day = (datetime.now(STOCKHOLM) - timedelta(days=1)).date().isoformat()
        pdf, table = files[f"Support-daily-{day}.pdf"], files[f"Support-daily-{day}.csv"]
        rows = list(csv.reader(io.StringIO(table if isinstance(table, str) else table.decode())))
        assert ["1002", "Bo Agent", "3", "2", "1", "0", "0", "90.0"] in rows
        noon = next(row for row in rows if row and row[0].startswith(f"{day}T12:00:00"))
        assert noon[1:4] == ["3", "2", "1"]
        assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf,
                                  capture_output=True, check=True).stdout.decode()  # fmt: skip
            assert "Support daily" in text and "Calls per agent" in text
        # Nothing to wait for: the next rounds of the housekeeping (every 0.5 s) must send
        # no more, so give them four rounds.
        time.sleep(2.0)
        assert len(mailbox.messages) == before + 1
        with store.session(read_only=True) as session:
            row = session.get(ReportSet, saved["id"])
            assert row is not None and row.mailed_for is not None
            assert row.mailed_for.astimezone(STOCKHOLM).date() == datetime.now(STOCKHOLM).date()
    finally:
        store.close()
