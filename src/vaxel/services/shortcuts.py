"""A user's saved diversions, set with one press (U9: "shortcuts for frequent settings"):
"Lunch 1 h", "Meeting until 15:30", "At the customer's until 16:00, fixed numbers only".

A shortcut keeps what a diversion needs except its end, which is worked out when it is
used: `minutes` after that moment, or the next `at` (HH:MM, the company's wall clock:
today's, or tomorrow's once it has passed, as `*22*` on the phone), or none. A user keeps
at most `MAX_SHORTCUTS`. Using one sets the diversion through `services.diversions`, so
it is checked and said like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from vaxel.services.diversions import check_diversion, next_time
from vaxel.services.errors import Invalid, NotFound
from vaxel.store import Store
from vaxel.store.models import DiversionShortcut, User

MAX_SHORTCUTS = 10
MAX_MINUTES = 14 * 24 * 60  # a shortcut's duration: up to two weeks
CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class Shortcut:
    id: int
    status: str
    text: str
    minutes: int | None  # ends this long after it is used
    at: str | None  # or at the next HH:MM
    scope: str

    def until(self, now: datetime) -> datetime | None:
        """When the diversion it sets at `now` (in the company's zone) ends."""
        if self.minutes is not None:
            return now + timedelta(minutes=self.minutes)
        if self.at is not None:
            hour, minute = self.at.split(":")
            return next_time(int(hour), int(minute), now)
        return None


def check_shortcut(status: str, text: str, minutes: int | None, at: str | None, scope: str) -> str:
    """The text as kept, or Invalid saying what to change; no I/O."""
    if minutes is not None and at is not None:
        raise Invalid("give a duration or a time of day, not both")
    if minutes is not None and not 1 <= minutes <= MAX_MINUTES:
        raise Invalid(f"the duration is {minutes} minutes: give 1 to {MAX_MINUTES}")
    if at is not None and not CLOCK.fullmatch(at):
        raise Invalid(f"the time of day {at!r} is not HH:MM (such as 15:30)")
    text = text if status == "custom" else ""
    return check_diversion(status, text, None, datetime.now().astimezone(), scope)


def _shortcut(row: DiversionShortcut) -> Shortcut:
    return Shortcut(row.id, row.status, row.text, row.minutes, row.at, row.scope)


def list_shortcuts(store: Store, company_id: int, extension: str) -> list[Shortcut]:
    """The user's shortcuts, in the order they were added."""
    query = (
        select(DiversionShortcut)
        .where(DiversionShortcut.company_id == company_id, DiversionShortcut.extension == extension)
        .order_by(DiversionShortcut.id)
    )
    with store.session(read_only=True) as session:
        return [_shortcut(row) for row in session.scalars(query)]


def add_shortcut(
    store: Store,
    company_id: int,
    extension: str,
    *,
    status: str,
    text: str = "",
    minutes: int | None = None,
    at: str | None = None,
    scope: str = "all",
) -> Shortcut:
    """Keep a new shortcut; Invalid (bad, or the user has `MAX_SHORTCUTS`) or NotFound."""
    text = check_shortcut(status, text, minutes, at, scope)
    with store.session() as session:
        known = session.scalar(
            select(User.id).where(User.company_id == company_id, User.extension == extension)
        )
        if known is None:
            raise NotFound(f"unknown extension {extension}")
        count = session.scalar(
            select(func.count()).where(
                DiversionShortcut.company_id == company_id,
                DiversionShortcut.extension == extension,
            )
        )
        if (count or 0) >= MAX_SHORTCUTS:
            raise Invalid(f"you have {MAX_SHORTCUTS} shortcuts already: remove one first")
        row = DiversionShortcut(
            company_id=company_id, extension=extension, status=status, text=text,
            minutes=minutes, at=at, scope=scope,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return _shortcut(row)


def get_shortcut(store: Store, company_id: int, extension: str, shortcut_id: int) -> Shortcut:
    """One of the user's shortcuts; NotFound when it is not theirs (or not there)."""
    with store.session(read_only=True) as session:
        row = session.get(DiversionShortcut, shortcut_id)
        if row is None or (row.company_id, row.extension) != (company_id, extension):
            raise NotFound(f"no shortcut {shortcut_id}")
        return _shortcut(row)


def remove_shortcut(store: Store, company_id: int, extension: str, shortcut_id: int) -> Shortcut:
    """Remove one of the user's shortcuts (returned); NotFound when it is not theirs."""
    with store.session() as session:
        row = session.get(DiversionShortcut, shortcut_id)
        if row is None or (row.company_id, row.extension) != (company_id, extension):
            raise NotFound(f"no shortcut {shortcut_id}")
        removed = _shortcut(row)
        session.delete(row)
    return removed
