"""A3: meetings in conference rooms: when a reminder is due (a pure function of the
meeting and a fixed clock: once per occurrence, never for one that has started, recurring
ones in local time across summer time), the iCalendar invitation and its cancellation,
the messages' words, and the rows (on SQLite and PostgreSQL: the `store` fixture):
booked, listed, kept apart per company, reminded once, cancelled; the room's PIN checked
and never stored."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from pydantic import ValidationError
from sqlalchemy import select

from vaxel.services import meetings
from vaxel.services.company_config import parse_config
from vaxel.services.configuration import apply_config, load_document
from vaxel.services.errors import Invalid, NotFound
from vaxel.services.meetings import Meeting, MeetingRequest, Recurrence, due_reminder
from vaxel.store import Store
from vaxel.store.models import ConferenceMeeting

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Monday 1 March 2027, 09:00 in Stockholm (CET, UTC+1).
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def meeting(**changes: object) -> Meeting:
    base = Meeting(
        1, 1, "weekly", "abc@acme.example", "Weekly", "1001@acme.example",
        datetime(2027, 3, 1, 9, 0, tzinfo=UTC),  # 10:00 in Stockholm
        "Europe/Stockholm", 30, None, 15, ("a@acme.test",), ("+46701740605",), 0,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


# -- when a reminder is due ---------------------------------------------------------------


def test_a_single_meeting_is_reminded_once_in_its_window_and_never_once_started() -> None:
    one = meeting()
    start = one.starts_at
    assert due_reminder(one, start - timedelta(minutes=16)) is None  # not yet
    assert due_reminder(one, start - timedelta(minutes=15)) == start
    assert due_reminder(one, start - timedelta(seconds=1)) == start
    assert due_reminder(replace(one, reminded_until=start), start - timedelta(minutes=5)) is None
    assert due_reminder(one, start) is None  # started: nothing stale
    assert due_reminder(one, start + timedelta(hours=1)) is None
    assert due_reminder(replace(one, reminder_minutes=0), start - timedelta(minutes=5)) is None


def test_a_weekly_meeting_keeps_its_local_time_across_summer_time_and_reminds_each() -> None:
    weekly = meeting(recurrence=Recurrence(frequency="weekly", weekdays=["mo", "th"]))
    # 10:00 Stockholm: 09:00 UTC in winter, 08:00 UTC after 28 March 2027.
    winter_thursday = datetime(2027, 3, 4, 9, 0, tzinfo=UTC)
    summer_monday = datetime(2027, 3, 29, 8, 0, tzinfo=UTC)
    assert meetings.next_occurrence(weekly, weekly.starts_at) == winter_thursday
    assert meetings.next_occurrence(weekly, datetime(2027, 3, 26, tzinfo=UTC)) == summer_monday
    first = due_reminder(weekly, weekly.starts_at - timedelta(minutes=10))
    assert first == weekly.starts_at
    reminded = replace(weekly, reminded_until=first)
    assert due_reminder(reminded, weekly.starts_at - timedelta(minutes=5)) is None
    # Down from before the first until after it: the first is not sent late, and the
    # next is sent in its own window.
    assert due_reminder(weekly, weekly.starts_at + timedelta(minutes=1)) is None
    assert due_reminder(reminded, winter_thursday - timedelta(minutes=14)) == winter_thursday
    assert due_reminder(weekly, summer_monday - timedelta(minutes=1)) == summer_monday


def test_count_until_interval_and_monthly() -> None:
    daily = meeting(recurrence=Recurrence(frequency="daily", interval=2, count=3))
    assert meetings.last_start(daily) == datetime(2027, 3, 5, 9, 0, tzinfo=UTC)
    assert meetings.next_occurrence(daily, datetime(2027, 3, 5, 10, tzinfo=UTC)) is None
    until = meeting(recurrence=Recurrence(frequency="weekly", until=date(2027, 3, 15)))
    assert meetings.last_start(until) == datetime(2027, 3, 15, 9, 0, tzinfo=UTC)
    monthly = meeting(recurrence=Recurrence(frequency="monthly"))
    assert meetings.last_start(monthly) is None  # no end
    assert meetings.next_occurrence(monthly, NOW + timedelta(days=2)) == datetime(
        2027, 4, 1, 8, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("recurrence", "where"),
    [
        ({"frequency": "yearly"}, "frequency"),
        ({"frequency": "weekly", "bysetpos": 1}, "bysetpos"),
        ({"frequency": "daily", "weekdays": ["mo"]}, "weekdays go with frequency weekly"),
        ({"frequency": "weekly", "count": 2, "until": "2027-04-01"}, "count or until"),
        ({"frequency": "weekly", "interval": 0}, "interval"),
        ({"frequency": "weekly", "weekdays": ["xx"]}, "weekdays"),
    ],
)
def test_recurrences_outside_the_subset_are_refused(recurrence: dict, where: str) -> None:
    with pytest.raises(ValidationError) as refused:
        MeetingRequest.model_validate(
            {"title": "x", "start": "2027-03-01T10:00", "recurrence": recurrence}
        )
    assert where in str(refused.value)


def test_invitees_are_checked_and_phone_numbers_made_e164() -> None:
    request = MeetingRequest.model_validate({
        "title": "x", "start": "2027-03-01T10:00", "emails": ["a@acme.test", "a@acme.test"],
        "phones": ["070-174 06 05"],
    })  # fmt: skip
    assert request.emails == ["a@acme.test"] and request.phones == ["+46701740605"]
    for bad in ({"emails": ["not an address"]}, {"phones": ["12"]}, {"title": "a\nb"}):
        with pytest.raises(ValidationError):
            MeetingRequest.model_validate({"title": "x", "start": "2027-03-01T10:00", **bad})


# -- the messages -------------------------------------------------------------------------

ROOM = meetings.Room("weekly", ("+46812345650",), "800", True)


def test_the_invitation_is_an_icalendar_request_with_rrule_tzid_alarm_and_dial_in() -> None:
    weekly = meeting(recurrence=Recurrence(frequency="weekly", weekdays=["mo"], count=4))
    ics = meetings.calendar(weekly, ROOM, method="REQUEST", language="en",
                            sender="meet@acme.test", pin="4711", now=NOW)  # fmt: skip
    parsed = Calendar.from_ical(ics)
    assert parsed["METHOD"] == "REQUEST"
    assert [c.name for c in parsed.subcomponents][:2] == ["VTIMEZONE", "VEVENT"]
    event = next(c for c in parsed.walk("VEVENT"))
    assert event["UID"] == "abc@acme.example"
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event.decoded("DTSTART") == datetime(2027, 3, 1, 10, 0, tzinfo=STOCKHOLM)
    assert event.decoded("DURATION") == timedelta(minutes=30)
    assert event["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=4;BYDAY=MO"
    assert "+46812345650" in str(event["LOCATION"]) and "800" in str(event["LOCATION"])
    assert "4711" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:meet@acme.test"
    assert str(event["ATTENDEE"]) == "mailto:a@acme.test"  # the one invited by mail
    alarm = next(c for c in event.walk("VALARM"))
    assert alarm.decoded("TRIGGER") == timedelta(minutes=-15)
    cancel = meetings.calendar(replace(weekly, sequence=1), ROOM, method="CANCEL",
                               language="en", sender="meet@acme.test", now=NOW)  # fmt: skip
    cancelled = Calendar.from_ical(cancel)
    event = next(c for c in cancelled.walk("VEVENT"))
    assert cancelled["METHOD"] == "CANCEL" and event["SEQUENCE"] == 1
    assert event["UID"] == "abc@acme.example" and event["STATUS"] == "CANCELLED"


def test_the_words_in_swedish_and_english() -> None:
    weekly = meeting(recurrence=Recurrence(frequency="weekly", interval=2, weekdays=["mo"]))
    subject, text = meetings.mail_text(weekly, ROOM, "sv", kind="invite", pin="4711")
    assert subject == "Inbjudan: Weekly"
    assert "När: måndag 2027-03-01 kl. 10:00 (Europe/Stockholm)" in text
    assert "Upprepas: var 2:e vecka på måndag" in text and "PIN-kod: 4711" in text
    assert "Ring: +46812345650; Kollegor ringer 800" in text
    sms = meetings.sms_text(weekly, ROOM, "en", kind="invite", pin="4711")
    assert sms == ("Invitation: Weekly, Monday 2027-03-01 at 10:00 (Europe/Stockholm)."
                   " Dial +46812345650, PIN 4711.")  # fmt: skip
    reminder = meetings.sms_text(weekly, ROOM, "en", kind="reminder",
                                 occurrence=datetime(2027, 3, 15, 9, 0, tzinfo=UTC))  # fmt: skip
    assert reminder == ("Reminder: Weekly starts Monday 2027-03-15 at 10:00"
                        " (Europe/Stockholm). Dial +46812345650. Use the PIN from your"
                        " invitation.")  # fmt: skip
    _, reminded = meetings.mail_text(weekly, ROOM, "en", kind="reminder", occurrence=NOW)
    assert "4711" not in reminded and "Use the PIN from your invitation." in reminded


# -- the rows -----------------------------------------------------------------------------


def company(store: Store, domain: str, **extra: object) -> int:
    apply_config(store, parse_config({
        "company": {"domain": domain, "name": domain},
        "conferences": {"weekly": {"extension": "800", "pin": "4711"}}, **extra,
    }))  # fmt: skip
    return {"acme.example": 1, "other.example": 2}[domain]


def book(store: Store, company_id: int, **fields: object) -> Meeting:
    config = load_document(store, company_id)
    assert config is not None
    request = MeetingRequest.model_validate({
        "title": "Weekly", "start": "2027-03-01T10:00", "reminder_minutes": 15,
        "emails": ["a@acme.test"], "phones": ["+46701740605"], **fields,
    })  # fmt: skip
    return meetings.create(store, company_id, config, "weekly", request,
                           organiser="1001@acme.example", now=NOW)  # fmt: skip


def test_meetings_are_booked_listed_kept_apart_and_cancelled(store: Store) -> None:
    acme, other = company(store, "acme.example"), company(store, "other.example")
    made = book(store, acme, recurrence={"frequency": "weekly", "count": 2}, pin="4711")
    assert made.starts_at == datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    assert made.timezone == "Europe/Stockholm" and made.uid.endswith("@acme.example")
    assert [m.id for m in meetings.list_meetings(store, acme, "weekly")] == [made.id]
    assert meetings.list_meetings(store, other, "weekly") == []
    with pytest.raises(NotFound):
        meetings.get(store, other, "weekly", made.id)
    with pytest.raises(NotFound):
        meetings.cancel(store, other, "weekly", made.id)
    with store.session(read_only=True) as session:
        row = session.scalars(select(ConferenceMeeting)).one()
        stored = json.dumps({c.name: str(getattr(row, c.name)) for c in row.__table__.columns})
        assert row.last_start == datetime(2027, 3, 8, 9, 0, tzinfo=UTC)
    # The PIN given for the invitation is not kept (looked for outside the random UID).
    assert "4711" not in stored.replace(made.uid, "")
    cancelled = meetings.cancel(store, acme, "weekly", made.id)
    assert cancelled.sequence == 1 and cancelled.uid == made.uid
    assert meetings.list_meetings(store, acme, "weekly") == []


def test_a_booking_is_refused_with_the_fields_path(store: Store) -> None:
    acme = company(store, "acme.example")
    with pytest.raises(Invalid, match=r"^pin: not the room's PIN$"):
        book(store, acme, pin="1234")
    with pytest.raises(Invalid, match=r"^start: in the past$"):
        book(store, acme, start="2027-02-28T10:00")
    with pytest.raises(Invalid, match=r"^recurrence\.until: before the start$"):
        book(store, acme, recurrence={"frequency": "daily", "until": "2027-02-28"})
    config = load_document(store, acme)
    assert config is not None
    with pytest.raises(NotFound):
        meetings.create(store, acme, config, "nope", MeetingRequest(title="x", start=NOW),
                        organiser="x", now=NOW)  # fmt: skip
    assert meetings.list_meetings(store, acme, "weekly") == []


def test_reminders_are_claimed_once_per_occurrence(store: Store) -> None:
    acme = company(store, "acme.example")
    made = book(store, acme, recurrence={"frequency": "daily", "count": 2})
    first, second = made.starts_at, made.starts_at + timedelta(days=1)
    assert meetings.claim_due(store, first - timedelta(minutes=20)) == []
    due = meetings.claim_due(store, first - timedelta(minutes=10))
    assert [(m.id, at) for m, at in due] == [(made.id, first)]
    assert meetings.claim_due(store, first - timedelta(minutes=5)) == []  # a restart: none
    assert meetings.claim_due(store, second + timedelta(minutes=1)) == []  # started: stale
    assert meetings.claim_due(store, second + timedelta(days=1)) == []  # past the last


def test_without_mail_or_sms_settings_nothing_is_sent_and_each_is_said(store: Store) -> None:
    acme = company(store, "acme.example")
    made = book(store, acme)
    config = load_document(store, acme)
    assert config is not None
    told = meetings.tell(config, made, kind="invite", now=NOW)
    assert told.sent == []
    assert told.not_sent == [("a@acme.test", meetings.NO_MAIL), ("+46701740605", meetings.NO_SMS)]
    # A mail server that is not there: said, not raised.
    down = load_document(store, company(store, "acme.example", mail={"host": "127.0.0.1",
                                                                     "port": 9}))  # fmt: skip
    assert down is not None
    told = meetings.tell(down, made, kind="invite", pin="4711", now=NOW)
    assert told.not_sent[0] == ("a@acme.test", meetings.FAILED)
