"""A3: a meeting booked through the API of a real `vaxel serve` reaches its invitees.

A real SMTP server (aiosmtpd) receives the invitation, whose iCalendar attachment parses
with `icalendar` and has the RRULE, the time zone and the room's number to dial; a local
SMS gateway receives the SMS with the date, the time and the number. The meeting starts
a little over a minute later with a reminder one minute before: the switch's
housekeeping sends the reminder (mail and SMS) once its minute has come, and it asks for
the PIN from the invitation without saying it. Every wait is for the message itself, with
a deadline.
"""

from __future__ import annotations

import contextlib
import email
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.integration.acme import Mailbox, SmsGateway
from tests.integration.peers import Server
from tests.integration.tone_rooms import admin_api, serving

DOMAIN = "meet.vaxel.test"
ROOM_NUMBER = "+46812345650"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture(scope="module")
def gateway() -> Iterator[SmsGateway]:
    made = SmsGateway()
    yield made
    made.shutdown()
    made.server_close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox], gateway: SmsGateway
) -> Iterator[Server]:
    description = f"""
company: {{domain: {DOMAIN}, name: Meet AB, language: en}}
users:
  - {{ext: "1001", name: Anna Admin, password: anna-secret-1}}
numbers:
  - {{number: "{ROOM_NUMBER}", conference: weekly}}
conferences:
  weekly: {{extension: "800", pin: "4711"}}
mail: {{host: 127.0.0.1, port: {smtp[0]}, sender: meet@meet.vaxel.test}}
sms: {{url_template: "http://127.0.0.1:{gateway.server_address[1]}/send?to={{to}}&text={{text}}"}}
"""
    with contextlib.ExitStack() as stack:
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        patch.setenv("VAXEL_REMINDER_INTERVAL", "0.5")  # read when the switch starts
        folder = tmp_path_factory.mktemp("vaxel-meet")
        started = stack.enter_context(serving(folder, description, DOMAIN))
        patch.undo()  # the switch has it; no other test's does
        yield started


def wait_for(found: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def mails(mailbox: Mailbox) -> list[EmailMessage]:
    parsed = [email.message_from_bytes(m, policy=default_policy) for m in mailbox.messages]
    return [m for m in parsed if isinstance(m, EmailMessage)]


def test_invitation_and_reminder_arrive_by_mail_and_sms(
    server: Server, smtp: tuple[int, Mailbox], gateway: SmsGateway
) -> None:
    mailbox = smtp[1]
    start = datetime.now(STOCKHOLM).replace(microsecond=0) + timedelta(seconds=65)
    booking = {
        "title": "Project sync", "start": start.replace(tzinfo=None).isoformat(),
        "duration_minutes": 30, "reminder_minutes": 1, "pin": "4711",
        "recurrence": {"frequency": "weekly", "interval": 2, "count": 4},
        "emails": ["partner@example.test"], "phones": ["070-174 06 05"],
    }  # fmt: skip
    with admin_api(server, DOMAIN) as api:
        made = api.post(f"/api/v1/companies/{DOMAIN}/conferences/weekly/meetings", json=booking)
    booked_at = time.time()
    assert made.status_code == 201, made.text
    assert made.json()["invitations"]["not_sent"] == []

    def subject(prefix: str) -> EmailMessage | None:
        return next((m for m in mails(mailbox) if m["Subject"].startswith(prefix)), None)

    invitation = wait_for(lambda: subject("Invitation: Project sync"), "no invitation mail")
    assert invitation["To"] == "partner@example.test"
    attached = next(p for p in invitation.iter_attachments()
                    if p.get_content_type() == "text/calendar")  # fmt: skip
    assert attached.get_param("method") == "REQUEST"
    parsed = Calendar.from_ical(attached.get_content())
    event = next(iter(parsed.walk("VEVENT")))
    assert event["UID"] == made.json()["uid"]
    assert dict(event["RRULE"]) == {"FREQ": ["WEEKLY"], "INTERVAL": [2], "COUNT": [4]}
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event.decoded("DTSTART") == start
    assert ROOM_NUMBER in str(event["LOCATION"]) and "800" in str(event["LOCATION"])
    assert "PIN: 4711" in str(event["DESCRIPTION"])
    assert any(c.name == "VTIMEZONE" for c in parsed.subcomponents)
    sms = wait_for(lambda: [t for t in gateway.texts if t[1].startswith("Invitation")], "no SMS")
    assert sms[0][0] == "+46701740605"
    assert f"at {start:%H:%M}" in sms[0][1] and f"Dial {ROOM_NUMBER}, PIN 4711." in sms[0][1]

    reminder = wait_for(lambda: subject("Reminder: Project sync"), "no reminder", timeout=60)
    arrived = time.time()
    # Not before its minute came (the invitation was sent 65 s before the start).
    assert arrived >= start.timestamp() - 60 - 1, arrived - booked_at
    text = reminder.get_body(("plain",)).get_content()
    assert "Use the PIN from your invitation." in text and "4711" not in text
    texts = wait_for(lambda: [t for t in gateway.texts if t[1].startswith("Reminder")],
                     "no reminder SMS")  # fmt: skip
    assert "4711" not in texts[0][1] and ROOM_NUMBER in texts[0][1]
