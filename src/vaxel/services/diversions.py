"""Diversions (U9): "Lunch until 13:00", "Meeting until 15:30", "Away until Monday".

A user with an active diversion is not rung (unless its `ring` flag is set):
the caller hears the status and its end time and may leave a message or
reach the operator (features/diversion.py). Its `scope` says which calls it
applies to: all (the default), only those to the fixed numbers (the
extension, the direct number) or only those to the mobile number; a call it
does not apply to rings as if there were none ("reachable on the mobile, not
on the fixed number"). A diversion ends by itself at
`until`: reads ignore one that has expired, so nothing has to clear it on
time. It is set and cleared from the phone (feature codes), the web and the
API, all through this module; each change bumps the directory version, so
the running switch sees it on its next call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from vaxel.services.errors import Invalid, NotFound
from vaxel.services.presence_settings import _bump
from vaxel.store import Store
from vaxel.store.models import Diversion, User

#: status -> (Swedish phrase, English phrase), said after the user's name: "Anna Svensson
#: är på lunch" / "Anna Svensson is at lunch". "custom" says the diversion's own text.
PRESETS: dict[str, tuple[str, str]] = {
    "lunch": ("är på lunch", "is at lunch"),
    "meeting": ("sitter i möte", "is in a meeting"),
    "away": ("är inte på plats", "is away"),
    "sick": ("är sjuk", "is off sick"),
    "vacation": ("är på semester", "is on holiday"),
    "custom": ("", ""),
}

#: Which calls a diversion applies to (U9).
SCOPES = ("all", "fixed", "mobile")

MAX_TEXT = 100
MAX_AHEAD = timedelta(days=366)

#: Words a person types for a preset, in either language (the web's and the API's text).
WORDS = {
    "lunch": "lunch", "meeting": "meeting", "möte": "meeting", "away": "away",
    "borta": "away", "ej på plats": "away", "sick": "sick", "sjuk": "sick",
    "vacation": "vacation", "holiday": "vacation", "semester": "vacation",
}  # fmt: skip


def status_of(text: str) -> tuple[str, str]:
    """(status, text) for what a person typed: a preset's word is that preset (said in
    the company's language), anything else is their own text."""
    preset = WORDS.get(text.strip().lower())
    return (preset, "") if preset is not None else ("custom", text)


def next_time(hour: int, minute: int, now: datetime) -> datetime:
    """The next `hour:minute` after `now`, in `now`'s zone: today, or tomorrow once it
    has passed ("Lunch until 13:00" set at 14:00 means tomorrow)."""
    until = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return until if until > now else until + timedelta(days=1)  # (wall clock)


def next_weekday(weekday: int, hour: int, minute: int, now: datetime) -> datetime:
    """The next `weekday` (0 is Monday) at `hour:minute` after `now`, in `now`'s zone
    ("Away until Monday")."""
    day = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    day += timedelta(days=(weekday - now.weekday()) % 7)
    return day if day > now else day + timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DiversionInfo:
    extension: str
    status: str
    text: str
    until: datetime | None
    ring: bool
    set_at: datetime
    scope: str = "all"

    def applies(self, mobile_call: bool) -> bool:
        """Does it apply to a call that came to the mobile number (`mobile_call`) or not?"""
        return self.scope == "all" or (self.scope == "mobile") == mobile_call


def _active(until: datetime | None, now: datetime) -> bool:
    return until is None or until > now


def check_diversion(
    status: str, text: str, until: datetime | None, now: datetime, scope: str = "all"
) -> str:
    """The text as it will be kept (trimmed), or Invalid saying what to change; no I/O."""
    if scope not in SCOPES:
        raise Invalid(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")
    if status not in PRESETS:
        raise Invalid(f"unknown status {status!r}: use one of {', '.join(PRESETS)}")
    text = text.strip()
    if status == "custom" and not text:
        raise Invalid("a custom diversion needs a text, such as 'är på kundbesök'")
    if len(text) > MAX_TEXT:
        raise Invalid(f"the text is {len(text)} characters long: keep it to {MAX_TEXT}")
    if not text.isprintable():
        raise Invalid("the text has characters that cannot be shown (such as a line break)")
    if until is not None:
        if until.tzinfo is None or until.utcoffset() is None:
            raise Invalid("give the end time with its time zone (such as 13:00+01:00)")
        if until <= now:
            raise Invalid("the end time has passed: give a time in the future")
        if until - now > MAX_AHEAD:
            raise Invalid("the end time is more than a year ahead: give an earlier one")
    return text


def set_diversion(
    store: Store,
    company_id: int,
    extension: str,
    *,
    status: str,
    text: str = "",
    until: datetime | None,
    ring: bool = False,
    scope: str = "all",
    now: datetime,
) -> DiversionInfo:
    """Set (or replace) the user's diversion; raises Invalid or NotFound (unknown user)."""
    text = check_diversion(status, text, until, now, scope)
    info = DiversionInfo(
        extension=extension,
        status=status,
        text=text,
        until=None if until is None else until.astimezone(UTC),
        ring=ring,
        set_at=now.astimezone(UTC),
        scope=scope,
    )
    with store.session() as session:
        known = session.scalar(
            select(User.id).where(User.company_id == company_id, User.extension == extension)
        )
        if known is None:
            raise NotFound(f"unknown extension {extension}")
        session.execute(
            delete(Diversion).where(
                Diversion.company_id == company_id, Diversion.extension == extension
            )
        )
        session.add(
            Diversion(
                company_id=company_id,
                extension=extension,
                status=status,
                text=text,
                until=info.until,
                ring=ring,
                set_at=info.set_at,
                scope=scope,
            )
        )
        _bump(session)
    return info


def clear_diversion(store: Store, company_id: int, extension: str) -> bool:
    """End the user's diversion now; True if one was active (an expired one is removed
    too, quietly)."""
    now = datetime.now(UTC)
    with store.session() as session:
        row = session.get(Diversion, (company_id, extension))
        if row is None:
            return False
        active = _active(row.until, now)
        session.delete(row)
        _bump(session)
    return active


def _info(row: Diversion) -> DiversionInfo:
    return DiversionInfo(
        extension=row.extension,
        status=row.status,
        text=row.text,
        until=row.until,
        ring=row.ring,
        set_at=row.set_at,
        scope=row.scope,
    )


def get_diversion(
    store: Store, company_id: int, extension: str, now: datetime
) -> DiversionInfo | None:
    """The user's diversion; None when there is none or it has ended."""
    with store.session(read_only=True) as session:
        row = session.get(Diversion, (company_id, extension))
        if row is None or not _active(row.until, now):
            return None
        return _info(row)


def active_diversions(store: Store, company_id: int, now: datetime) -> dict[str, DiversionInfo]:
    """extension -> diversion, for the company's users whose diversion has not ended."""
    query = select(Diversion).where(Diversion.company_id == company_id)
    with store.session(read_only=True) as session:
        rows = [_info(row) for row in session.scalars(query)]
    return {info.extension: info for info in rows if _active(info.until, now)}


def all_diversions(store: Store) -> dict[int, dict[str, DiversionInfo]]:
    """Every company's diversions, ended or not (the switch loads them with the directory
    and checks the end time at each call)."""
    found: dict[int, dict[str, DiversionInfo]] = {}
    with store.session(read_only=True) as session:
        for row in session.scalars(select(Diversion)):
            found.setdefault(row.company_id, {})[row.extension] = _info(row)
    return found
