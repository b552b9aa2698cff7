"""Meetings in conference rooms (A3): invitations by e-mail (iCalendar) and SMS,
reminders, recurrence, cancellation.

A meeting is booked in one of the company's rooms: a title, its start (local time in the
company's time zone, stored in UTC), its length, an optional recurrence (a subset of
RFC 5545's RRULE: daily, weekly on given weekdays, or monthly; an interval; a count or
a last day), a reminder so many minutes before each occurrence (0: none), and who is
invited: e-mail addresses and phone numbers (E.164, services/numbering.py).

Made, each e-mail invitee gets a mail with an iCalendar invitation attached
(`text/calendar; method=REQUEST`, RFC 5546): one VEVENT with a UID that stays the same,
DTSTART with its TZID (and the VTIMEZONE), DURATION, the RRULE, LOCATION (how to dial
in: the room's numbers, its extension for colleagues), ORGANIZER, the ATTENDEEs and a
VALARM for the reminder. Each phone invitee gets an SMS through the company's gateway.
Cancelled, the same UID goes out again with METHOD:CANCEL and the next SEQUENCE.
Without mail or SMS settings the meeting is still made; the answer lists who was not
told and why, in words that name no server.

The room's PIN is never stored here. The organiser may give it when booking, so that
the invitation carries it: it is checked against the room's stored hash and used for
those messages only, never kept, logged or returned. Reminders ask for "the PIN from
your invitation".

Reminders come from the switch's housekeeping (`send_reminders`): the core is the pure
`due_reminder(meeting, now)`, the occurrence whose reminder is due. The occurrence is
written to the row (`reminded_until`) before anything is sent, so a restart never
reminds twice, and only occurrences that have not started are reminded, so a switch
that was down sends nothing stale.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule
from icalendar import Alarm, Calendar, Event, vCalAddress
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import delete, or_, select

from vaxel.services.company_config import CompanyConfig
from vaxel.services.errors import Invalid, NotFound
from vaxel.services.notify import NotifyError, send_message, send_sms
from vaxel.services.numbering import NumberError, to_e164
from vaxel.services.voicemail import verify_pin
from vaxel.store import Store
from vaxel.store.models import ConferenceMeeting

log = logging.getLogger(__name__)

MAX_INVITEES = 100
MAX_REMINDER_MINUTES = 7 * 24 * 60
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+\.[^@\s<>()\[\],;:\"\\]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: How long past its start a meeting may be booked (a form filled in slowly).
GRACE = timedelta(minutes=5)


# -- what a booking says ------------------------------------------------------------------


class Recurrence(BaseModel):
    """How a meeting recurs: RFC 5545's FREQ (daily, weekly, monthly), INTERVAL, BYDAY
    (weekly only) and COUNT or UNTIL (a last day, in the company's time zone). Anything
    else of RRULE is refused: the switch reminds of what it can compute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    frequency: Literal["daily", "weekly", "monthly"]
    interval: Annotated[int, Field(ge=1, le=99)] = 1
    weekdays: list[Literal["mo", "tu", "we", "th", "fr", "sa", "su"]] | None = None
    count: Annotated[int, Field(ge=1, le=500)] | None = None
    until: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Recurrence:
        if self.weekdays is not None and self.frequency != "weekly":
            raise ValueError("weekdays go with frequency weekly only")
        if self.weekdays == []:
            raise ValueError("weekdays: name at least one, or leave them out")
        if self.count is not None and self.until is not None:
            raise ValueError("give count or until, not both")
        return self


class MeetingRequest(BaseModel):
    """A booking, as the API and the room's page take it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, Field(min_length=1, max_length=200)]
    start: datetime = Field(description="local time in the company's time zone")
    duration_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 60
    recurrence: Recurrence | None = None
    reminder_minutes: Annotated[int, Field(ge=0, le=MAX_REMINDER_MINUTES)] = 15
    emails: Annotated[list[str], Field(max_length=MAX_INVITEES)] = []
    phones: Annotated[list[str], Field(max_length=MAX_INVITEES)] = []
    # The room's PIN, for the invitations only: checked, never stored.
    pin: str | None = Field(default=None, repr=False)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = value.strip()
        if not value or _CONTROL.search(value):
            raise ValueError("a title is one line of text")
        return value

    @field_validator("emails")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        cleaned = [value.strip() for value in values]
        for value in cleaned:
            if not _ADDRESS.fullmatch(value):
                raise ValueError(f"{value!r} is not an e-mail address")
        return list(dict.fromkeys(cleaned))

    @field_validator("phones")
    @classmethod
    def _phones(cls, values: list[str]) -> list[str]:
        numbers = []
        for value in values:
            try:
                numbers.append(to_e164(value))
            except NumberError as exc:
                raise ValueError(str(exc)) from None
        return list(dict.fromkeys(numbers))


# -- a stored meeting ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Meeting:
    id: int
    company_id: int
    room: str
    uid: str
    title: str
    organiser: str
    starts_at: datetime  # UTC: the first occurrence
    timezone: str
    duration_minutes: int
    recurrence: Recurrence | None
    reminder_minutes: int
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    sequence: int
    reminded_until: datetime | None = None

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _meeting(row: ConferenceMeeting) -> Meeting:
    recurrence = Recurrence.model_validate_json(row.recurrence) if row.recurrence else None
    return Meeting(
        row.id, row.company_id, row.room, row.uid, row.title, row.organiser, row.starts_at,
        row.timezone, row.duration_minutes, recurrence, row.reminder_minutes,
        tuple(json.loads(row.emails)), tuple(json.loads(row.phones)), row.sequence,
        row.reminded_until,
    )  # fmt: skip


# -- occurrences and reminders (pure) -----------------------------------------------------


def _rule(meeting: Meeting) -> rrule.rrule | None:
    """The recurrence as dateutil computes it, in the meeting's local time (a weekly
    meeting at 10:00 stays at 10:00 across summer time)."""
    recurrence = meeting.recurrence
    if recurrence is None:
        return None
    frequency: dict[str, Literal[1, 2, 3]] = {
        "daily": rrule.DAILY, "weekly": rrule.WEEKLY, "monthly": rrule.MONTHLY
    }  # fmt: skip
    until = None
    if recurrence.until is not None:
        until = datetime.combine(recurrence.until, time(23, 59, 59), meeting.zone)
    byweekday = None
    if recurrence.weekdays:
        days = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)
        byweekday = [days[WEEKDAYS.index(day)] for day in recurrence.weekdays]
    return rrule.rrule(
        frequency[recurrence.frequency], dtstart=meeting.local_start,
        interval=recurrence.interval, count=recurrence.count, until=until, byweekday=byweekday,
    )  # fmt: skip


def next_occurrence(meeting: Meeting, now: datetime) -> datetime | None:
    """The first occurrence that starts after `now` (UTC), or None when none is left."""
    rule = _rule(meeting)
    if rule is None:
        return meeting.starts_at if meeting.starts_at > now else None
    found = rule.after(now.astimezone(meeting.zone))
    return found.astimezone(UTC) if found is not None else None


def last_start(meeting: Meeting) -> datetime | None:
    """The start of the last occurrence (UTC); None for one that recurs without end."""
    rule = _rule(meeting)
    if rule is None:
        return meeting.starts_at
    recurrence = meeting.recurrence
    assert recurrence is not None
    if recurrence.count is None and recurrence.until is None:
        return None
    last = rule[-1] if rule.count() else None
    return last.astimezone(UTC) if last is not None else meeting.starts_at


def due_reminder(meeting: Meeting, now: datetime) -> datetime | None:
    """The occurrence (its start, UTC) to remind of at `now`, or None.

    It is the next occurrence that has not started, once `reminder_minutes` before it
    has come, unless it was reminded already (`reminded_until`). An occurrence that has
    started is never reminded: a switch that was down sends nothing stale.
    """
    if meeting.reminder_minutes <= 0:
        return None
    upcoming = next_occurrence(meeting, now)
    if upcoming is None:
        return None
    if meeting.reminded_until is not None and upcoming <= meeting.reminded_until:
        return None
    if upcoming - timedelta(minutes=meeting.reminder_minutes) > now:
        return None
    return upcoming


# -- booking and cancelling ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Room:
    """What the messages say about the room: its numbers and its extension."""

    name: str
    numbers: tuple[str, ...]
    extension: str | None
    has_pin: bool


def room_of(config: CompanyConfig, name: str) -> Room:
    """The company's room `name` (NotFound when it has none by that name)."""
    room = config.conferences.get(name)
    if room is None:
        raise NotFound(f"no conference {name!r}")
    numbers = tuple(n.number for n in config.numbers if n.conference == name)
    return Room(name, numbers, room.extension, room.pin is not None)


def check_pin(config: CompanyConfig, room: str, pin: str | None) -> None:
    """The PIN an organiser gives for the invitations must be the room's (Invalid)."""
    if pin is None:
        return
    held = config.conferences[room].pin
    if held is None:
        raise Invalid("pin: the room has no PIN")
    if not verify_pin(held, pin):
        raise Invalid("pin: not the room's PIN")


def _local_start(request: MeetingRequest, zone: ZoneInfo) -> datetime:
    start = request.start
    if start.tzinfo is None:
        return start.replace(tzinfo=zone)
    return start.astimezone(zone)


def create(
    store: Store,
    company_id: int,
    config: CompanyConfig,
    room: str,
    request: MeetingRequest,
    *,
    organiser: str,
    now: datetime,
) -> Meeting:
    """Book a meeting in `room` (NotFound for no such room, Invalid with the field's path
    for a start in the past or a wrong PIN). Sends nothing: see `invite`."""
    room_of(config, room)
    check_pin(config, room, request.pin)
    zone = _zone(config.company.timezone)
    start = _local_start(request, zone).astimezone(UTC)
    if start < now - GRACE:
        raise Invalid("start: in the past")
    until = request.recurrence.until if request.recurrence is not None else None
    if until is not None and until < _local_start(request, zone).date():
        raise Invalid("recurrence.until: before the start")
    domain = config.company.domain
    meeting = Meeting(
        0, company_id, room, f"{secrets.token_hex(16)}@{domain}", request.title, organiser,
        start, zone.key, request.duration_minutes, request.recurrence,
        request.reminder_minutes, tuple(request.emails), tuple(request.phones), 0,
    )  # fmt: skip
    recurrence = request.recurrence.model_dump_json() if request.recurrence else None
    row = ConferenceMeeting(
        company_id=company_id, room=room, uid=meeting.uid, title=meeting.title,
        organiser=organiser, starts_at=start, timezone=meeting.timezone,
        duration_minutes=meeting.duration_minutes, recurrence=recurrence,
        reminder_minutes=meeting.reminder_minutes, emails=json.dumps(request.emails),
        phones=json.dumps(request.phones), sequence=0, last_start=last_start(meeting),
        created_at=now,
    )  # fmt: skip
    with store.session() as session:
        session.add(row)
        session.flush()
        return _meeting(row)


def list_meetings(store: Store, company_id: int, room: str) -> list[Meeting]:
    """The room's meetings, by their first start."""
    query = (
        select(ConferenceMeeting)
        .where(ConferenceMeeting.company_id == company_id, ConferenceMeeting.room == room)
        .order_by(ConferenceMeeting.starts_at, ConferenceMeeting.id)
    )
    with store.session(read_only=True) as session:
        return [_meeting(row) for row in session.scalars(query)]


def get(store: Store, company_id: int, room: str, meeting_id: int) -> Meeting:
    """One meeting of the company's room; NotFound for another company's, as for none."""
    with store.session(read_only=True) as session:
        row = session.get(ConferenceMeeting, meeting_id)
        if row is None or row.company_id != company_id or row.room != room:
            raise NotFound(f"no meeting {meeting_id} in the conference {room!r}")
        return _meeting(row)


def cancel(store: Store, company_id: int, room: str, meeting_id: int) -> Meeting:
    """Remove a meeting; returns it as it was, with the SEQUENCE its cancellation takes."""
    meeting = get(store, company_id, room, meeting_id)
    with store.session() as session:
        session.execute(delete(ConferenceMeeting).where(ConferenceMeeting.id == meeting.id))
    return replace(meeting, sequence=meeting.sequence + 1)


# -- the messages -------------------------------------------------------------------------

_WORDS = {
    "en": {
        "subject": "Invitation: {title}",
        "cancelled_subject": "Cancelled: {title}",
        "reminder_subject": "Reminder: {title}",
        "intro": "{organiser} invites you to a conference call: {title}.",
        "cancelled": "The conference call {title} is cancelled.",
        "reminder": "Reminder: the conference call {title} starts {when}.",
        "when": "When:",
        "length": "Length:",
        "repeats": "Repeats:",
        "dial": "Dial in:",
        "colleagues": "Colleagues dial {extension}",
        "pin": "PIN:",
        "pin_reminder": "Use the PIN from your invitation.",
        "minutes": "{minutes} minutes",
        "daily": "every day",
        "weekly": "every week",
        "monthly": "every month",
        "every": "every {interval} {unit}",
        "units": "days weeks months",
        "on": "on",
        "times": "{count} times",
        "until": "until {day}",
        "attached": "The invitation is attached for your calendar.",
        "sms": "Invitation: {title}, {when}. Dial {dial}{pin}.",
        "sms_cancelled": "Cancelled: {title}, {when}.",
        "sms_reminder": "Reminder: {title} starts {when}. Dial {dial}.{pin}",
        "sms_pin": ", PIN {pin}",
        "at": "at",
        "weekday_names": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    },
    "sv": {
        "subject": "Inbjudan: {title}",
        "cancelled_subject": "Inställt: {title}",
        "reminder_subject": "Påminnelse: {title}",
        "intro": "{organiser} bjuder in dig till ett telefonmöte: {title}.",
        "cancelled": "Telefonmötet {title} är inställt.",
        "reminder": "Påminnelse: telefonmötet {title} börjar {when}.",
        "when": "När:",
        "length": "Längd:",
        "repeats": "Upprepas:",
        "dial": "Ring:",
        "colleagues": "Kollegor ringer {extension}",
        "pin": "PIN-kod:",
        "pin_reminder": "Använd PIN-koden från din inbjudan.",
        "minutes": "{minutes} minuter",
        "daily": "varje dag",
        "weekly": "varje vecka",
        "monthly": "varje månad",
        "every": "var {interval}:e {unit}",
        "units": "dag vecka månad",
        "on": "på",
        "times": "{count} gånger",
        "until": "till och med {day}",
        "attached": "Inbjudan finns i bilagan, för din kalender.",
        "sms": "Inbjudan: {title}, {when}. Ring {dial}{pin}.",
        "sms_cancelled": "Inställt: {title}, {when}.",
        "sms_reminder": "Påminnelse: {title} börjar {when}. Ring {dial}.{pin}",
        "sms_pin": ", PIN-kod {pin}",
        "at": "kl.",
        "weekday_names": "måndag tisdag onsdag torsdag fredag lördag söndag",
    },
}


def _words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["en"])


def _when(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """'Wednesday 2027-03-10 at 10:00 (Europe/Stockholm)'."""
    local = moment.astimezone(zone)
    words = _words(language)
    day = words["weekday_names"].split()[local.weekday()]
    return f"{day} {local:%Y-%m-%d} {words['at']} {local:%H:%M} ({zone.key})"


def _repeats(meeting: Meeting, language: str) -> str:
    recurrence = meeting.recurrence
    if recurrence is None:
        return ""
    words = _words(language)
    if recurrence.interval == 1:
        said = words[recurrence.frequency]
    else:
        unit = words["units"].split()[("daily", "weekly", "monthly").index(recurrence.frequency)]
        said = words["every"].format(interval=recurrence.interval, unit=unit)
    if recurrence.weekdays:
        names = words["weekday_names"].split()
        said += f" {words['on']} " + ", ".join(
            names[WEEKDAYS.index(day)] for day in recurrence.weekdays
        )
    if recurrence.count is not None:
        said += ", " + words["times"].format(count=recurrence.count)
    if recurrence.until is not None:
        said += ", " + words["until"].format(day=recurrence.until.isoformat())
    return said


def dial_in(room: Room, language: str) -> str:
    """How to join: the room's numbers, and its extension for colleagues."""
    words = _words(language)
    parts = list(room.numbers)
    if room.extension is not None:
        parts.append(words["colleagues"].format(extension=room.extension))
    return "; ".join(parts)


def _dial_sms(room: Room) -> str:
    return room.numbers[0] if room.numbers else (room.extension or "")


def calendar(
    meeting: Meeting,
    room: Room,
    *,
    method: Literal["REQUEST", "CANCEL"],
    language: str,
    sender: str,
    pin: str | None = None,
    now: datetime,
) -> bytes:
    """The iCalendar object (RFC 5545, RFC 5546's REQUEST or CANCEL) of the meeting."""
    words = _words(language)
    cal = Calendar()
    cal.add("prodid", "-//Vaxel//Conference rooms//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", meeting.local_start)
    event.add("duration", timedelta(minutes=meeting.duration_minutes))
    rrule_value = _rrule(meeting)
    if rrule_value is not None:
        event.add("rrule", rrule_value)
    event.add("summary", meeting.title)
    event.add("location", dial_in(room, language))
    event.add("description", _description(meeting, room, language, pin))
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organiser = vCalAddress(f"mailto:{sender}")
    organiser.params["cn"] = meeting.organiser
    event.add("organizer", organiser)
    for address in meeting.emails:
        attendee = vCalAddress(f"mailto:{address}")
        attendee.params["role"] = "REQ-PARTICIPANT"
        attendee.params["rsvp"] = "FALSE"  # nobody reads replies
        event.add("attendee", attendee)
    if meeting.reminder_minutes > 0 and method == "REQUEST":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(minutes=-meeting.reminder_minutes))
        alarm.add("description", words["reminder_subject"].format(title=meeting.title))
        event.add_component(alarm)
    cal.add_component(event)
    cal.add_missing_timezones()
    data: bytes = cal.to_ical()
    return data


def _rrule(meeting: Meeting) -> dict[str, object] | None:
    recurrence = meeting.recurrence
    if recurrence is None:
        return None
    value: dict[str, object] = {"FREQ": recurrence.frequency.upper()}
    if recurrence.interval != 1:
        value["INTERVAL"] = recurrence.interval
    if recurrence.weekdays:
        value["BYDAY"] = [day.upper() for day in recurrence.weekdays]
    if recurrence.count is not None:
        value["COUNT"] = recurrence.count
    if recurrence.until is not None:  # RFC 5545: in UTC when DTSTART has a TZID
        until = datetime.combine(recurrence.until, time(23, 59, 59), meeting.zone)
        value["UNTIL"] = until.astimezone(UTC)
    return value


def _description(meeting: Meeting, room: Room, language: str, pin: str | None) -> str:
    words = _words(language)
    lines = [f"{words['dial']} {dial_in(room, language)}"]
    if pin is not None:
        lines.append(f"{words['pin']} {pin}")
    return "\n".join(lines)


def mail_text(
    meeting: Meeting, room: Room, language: str, *, kind: str, pin: str | None = None,
    occurrence: datetime | None = None,
) -> tuple[str, str]:  # fmt: skip
    """The subject and text of an invitation, a cancellation or a reminder."""
    words = _words(language)
    zone = meeting.zone
    if kind == "reminder":
        when = _when(occurrence or meeting.starts_at, zone, language)
        lines = [words["reminder"].format(title=meeting.title, when=when), "",
                 f"{words['dial']} {dial_in(room, language)}"]  # fmt: skip
        if room.has_pin:
            lines.append(words["pin_reminder"])
        return words["reminder_subject"].format(title=meeting.title), "\n".join(lines) + "\n"
    if kind == "cancel":
        lines = [words["cancelled"].format(title=meeting.title), "",
                 f"{words['when']} {_when(meeting.starts_at, zone, language)}"]  # fmt: skip
        repeats = _repeats(meeting, language)
        if repeats:
            lines.append(f"{words['repeats']} {repeats}")
        return words["cancelled_subject"].format(title=meeting.title), "\n".join(lines) + "\n"
    lines = [
        words["intro"].format(organiser=meeting.organiser, title=meeting.title), "",
        f"{words['when']} {_when(meeting.starts_at, zone, language)}",
        f"{words['length']} {words['minutes'].format(minutes=meeting.duration_minutes)}",
    ]  # fmt: skip
    repeats = _repeats(meeting, language)
    if repeats:
        lines.append(f"{words['repeats']} {repeats}")
    lines.append(f"{words['dial']} {dial_in(room, language)}")
    if pin is not None:
        lines.append(f"{words['pin']} {pin}")
    lines += ["", words["attached"]]
    return words["subject"].format(title=meeting.title), "\n".join(lines) + "\n"


def sms_text(
    meeting: Meeting, room: Room, language: str, *, kind: str, pin: str | None = None,
    occurrence: datetime | None = None,
) -> str:  # fmt: skip
    """The SMS of an invitation, a cancellation or a reminder: date, time, what to dial."""
    words = _words(language)
    when = _when(occurrence or meeting.starts_at, meeting.zone, language)
    dial = _dial_sms(room)
    if kind == "reminder":
        hint = f" {words['pin_reminder']}" if room.has_pin else ""
        return words["sms_reminder"].format(title=meeting.title, when=when, dial=dial, pin=hint)
    if kind == "cancel":
        return words["sms_cancelled"].format(title=meeting.title, when=when)
    shown_pin = words["sms_pin"].format(pin=pin) if pin is not None else ""
    return words["sms"].format(title=meeting.title, when=when, dial=dial, pin=shown_pin)


# -- sending ------------------------------------------------------------------------------


@dataclass
class Delivery:
    """Who was told, and who was not and why (words that name no server)."""

    sent: list[str]
    not_sent: list[tuple[str, str]]


NO_MAIL = "no mail server is set for the company"
NO_SMS = "no SMS gateway is set for the company"
FAILED = "could not be sent; the switch's log says why"


def tell(
    config: CompanyConfig,
    meeting: Meeting,
    *,
    kind: Literal["invite", "cancel", "reminder"],
    pin: str | None = None,
    occurrence: datetime | None = None,
    now: datetime,
) -> Delivery:
    """Send the meeting's invitation, cancellation or reminder to every invitee.

    Blocking (mail and SMS): run it on a worker thread. A failure is logged (without
    the PIN: messages are never logged) and listed; it never raises."""
    language = config.company.language
    room = room_of(config, meeting.room)
    delivery = Delivery([], [])
    if meeting.emails:
        if config.mail is None:
            delivery.not_sent += [(address, NO_MAIL) for address in meeting.emails]
        else:
            _mail_all(config, meeting, room, kind, pin, occurrence, now, delivery)
    text = sms_text(meeting, room, language, kind=kind, pin=pin, occurrence=occurrence)
    for phone in meeting.phones:
        if config.sms is None:
            delivery.not_sent.append((phone, NO_SMS))
            continue
        try:
            send_sms(config.sms, phone, text)
        except NotifyError as exc:
            log.warning("meeting %s: the SMS to %s was not sent: %s", meeting.uid, phone, exc)
            delivery.not_sent.append((phone, FAILED))
        else:
            delivery.sent.append(phone)
    return delivery


def _mail_all(
    config: CompanyConfig,
    meeting: Meeting,
    room: Room,
    kind: str,
    pin: str | None,
    occurrence: datetime | None,
    now: datetime,
    delivery: Delivery,
) -> None:
    """One mail per invitee (a refusal of one address does not hide it from the rest)."""
    assert config.mail is not None
    settings = config.mail.settings()
    language = config.company.language
    subject, body = mail_text(meeting, room, language, kind=kind, pin=pin, occurrence=occurrence)
    ics = None
    if kind != "reminder":
        method: Literal["REQUEST", "CANCEL"] = "CANCEL" if kind == "cancel" else "REQUEST"
        ics = calendar(meeting, room, method=method, language=language, sender=settings.sender,
                       pin=pin, now=now)  # fmt: skip
    for address in meeting.emails:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = settings.sender
        message["To"] = address
        message["Date"] = format_datetime(now.astimezone(UTC))
        message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        if ics is not None:
            message.add_attachment(
                ics.decode(), subtype="calendar", filename="invite.ics",
                params={"method": "CANCEL" if kind == "cancel" else "REQUEST"},
            )  # fmt: skip
        try:
            send_message(settings, message, [address])
        except NotifyError as exc:
            log.warning("meeting %s: the mail to %s was not sent: %s", meeting.uid, address, exc)
            delivery.not_sent.append((address, FAILED))
        else:
            delivery.sent.append(address)


# -- reminders (the switch's housekeeping) ------------------------------------------------


def claim_due(store: Store, now: datetime) -> list[tuple[Meeting, datetime]]:
    """The meetings whose reminder is due at `now` and the occurrence of each, marked as
    reminded (committed) before anything is sent: at most once, even across a restart."""
    query = select(ConferenceMeeting).where(
        ConferenceMeeting.reminder_minutes > 0,
        or_(ConferenceMeeting.last_start.is_(None), ConferenceMeeting.last_start > now),
    )
    due: list[tuple[Meeting, datetime]] = []
    with store.session() as session:
        for row in session.scalars(query):
            occurrence = due_reminder(_meeting(row), now)
            if occurrence is not None:
                row.reminded_until = occurrence
                due.append((_meeting(row), occurrence))
    return due


def send_reminders(
    store: Store, now: datetime, configs: dict[int, CompanyConfig] | None = None
) -> int:
    """Remind of every occurrence due at `now` (mail and SMS); how many meetings were.
    Blocking: the switch runs it on its database thread (app.py housekeeping)."""
    from vaxel.services.configuration import load_document

    count = 0
    for meeting, occurrence in claim_due(store, now):
        config = (configs or {}).get(meeting.company_id) or load_document(store, meeting.company_id)
        if config is None or meeting.room not in config.conferences:
            continue  # the room is gone: nobody to send them to
        tell(config, meeting, kind="reminder", occurrence=occurrence, now=now)
        count += 1
    return count
