"""Opening hours (S5): is the company open now, why, and until when?

A company's main number asks this at every call, so the answer must be
plain and the rules few. Precedence, strongest first:

1. a manual override (``override``), until it expires;
2. a special day or date range (``special_days``: summer hours, closing
   early on a Friday, closed all day);
3. a public holiday or a de facto holiday eve (``holidays``), unless the
   company opted out of that day (``except``);
4. the weekly hours (``weekly``).

Each rule decides the ranges that *start* on its day. A range whose end is
earlier than its start ("22:00-02:00", and so also "10:00-09:00") crosses
midnight: the part after midnight belongs to the day it started on, so a
Friday night shift runs on into a Saturday holiday. "24:00" may end a range.

Times are wall-clock times in the company's zone. On a DST change a time
the clock skips means the moment the clock jumps past it, and a time the
clock shows twice means the first time it shows it.

Sweden by default: the ``holidays`` package gives the public holidays and,
as its "de facto" category, midsommarafton, julafton and nyårsafton;
påskafton comes from its "optional" category. Ordinary Sundays are never
holidays here (the package can count them; we ask it not to): only the
weekly hours decide Sundays. Holiday names are the package's, in the
country's own language, whatever the server's locale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from holidays.constants import DE_FACTO, OPTIONAL, PUBLIC
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    field_validator,
    model_validator,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HORIZON = timedelta(days=14)  # how far ahead Verdict.until looks
MINUTES_PER_DAY = 24 * 60

# Eves that are holidays in practice but that the package files as merely optional.
EXTRA_EVES: dict[str, tuple[str, ...]] = {"SE": ("Påskafton",)}
NAME_YEARS = range(2020, 2051)  # years scanned for the holiday names `except` may use

Day = date  # SpecialDay has a field named "date"; its annotations use this name
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_RANGE_PATTERN = r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$"


# --- time ranges -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimeRange:
    """One "HH:MM-HH:MM" range of opening hours, in minutes after midnight.

    ``end`` may be 1440 ("24:00"). An end before the start crosses midnight.
    """

    start: int
    end: int

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        start_text, sep, end_text = text.strip().partition("-")
        if not sep:
            raise ValueError(f"bad range {text!r} (use HH:MM-HH:MM, e.g. '08:00-17:00')")
        start = _minutes(start_text.strip(), text)
        end = _minutes(end_text.strip(), text)
        if start == MINUTES_PER_DAY:
            raise ValueError(f"24:00 can only end a range, not start it: {text!r}")
        if start == end:
            raise ValueError(f"empty range {text!r} (use 00:00-24:00 for all day)")
        if end == MINUTES_PER_DAY and start == 0:
            return cls(0, MINUTES_PER_DAY)
        if end < start and end == 0:
            end = MINUTES_PER_DAY  # "22:00-00:00" is "22:00-24:00"
        return cls(start, end)

    @classmethod
    def coerce(cls, value: Any) -> TimeRange:
        if isinstance(value, TimeRange):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        raise ValueError(f"bad range {value!r} (use a string like '08:00-17:00')")

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _minutes(text: str, whole: str) -> int:
    match = _TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"bad time {text!r} in {whole!r} (use HH:MM, e.g. '08:00')")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        raise ValueError(f"bad time {text!r} in {whole!r} (use HH:MM between 00:00 and 24:00)")
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


Hours = Annotated[
    TimeRange,
    PlainValidator(TimeRange.coerce),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _RANGE_PATTERN, "examples": ["08:00-17:00"]}),
]


def _hours_list(value: Any) -> Any:
    """Let YAML say ``monday: "08:00-17:00"`` for a single range."""
    return [value] if isinstance(value, str) else value


def _iso_date(text: str) -> date | str:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


# --- holidays ----------------------------------------------------------------------------------


def _calendar(country: str, year: int, category: str) -> dict[date, tuple[str, ...]]:
    entity = holidays_lib.country_holidays(country)
    if category not in entity.supported_categories:
        return {}
    found = holidays_lib.country_holidays(
        country, years=year, categories=(category,), language=entity.default_language
    )
    return {day: tuple(found.get_list(day)) for day in found}


@lru_cache(maxsize=256)
def _holidays(
    country: str, year: int
) -> tuple[dict[date, tuple[str, ...]], dict[date, tuple[str, ...]]]:
    """(public holidays, eves) of one country and year, by date."""
    public = _calendar(country, year, PUBLIC)
    eves = _calendar(country, year, DE_FACTO)
    extra = EXTRA_EVES.get(country, ())
    for day, names in _calendar(country, year, OPTIONAL).items():
        chosen = tuple(name for name in names if name in extra)
        if chosen:
            eves[day] = eves.get(day, ()) + chosen
    return public, eves


@lru_cache(maxsize=32)
def _known_names(country: str) -> dict[str, str]:
    known: dict[str, str] = {}
    for year in NAME_YEARS:
        for calendar in _holidays(country, year):
            for names in calendar.values():
                known.update((name.casefold(), name) for name in names)
    return known


# --- configuration models ----------------------------------------------------------------------


class WeeklyHours(BaseModel):
    """The usual week: per weekday, the ranges it is open; no ranges means closed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    monday: list[Hours] = []
    tuesday: list[Hours] = []
    wednesday: list[Hours] = []
    thursday: list[Hours] = []
    friday: list[Hours] = []
    saturday: list[Hours] = []
    sunday: list[Hours] = []

    @model_validator(mode="before")
    @classmethod
    def _english_weekdays(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key not in WEEKDAYS:
                    raise ValueError(f"unknown weekday {key!r} (use {', '.join(WEEKDAYS)})")
            return {key: _hours_list(value) for key, value in data.items()}
        return data

    def on(self, day: date) -> list[TimeRange]:
        return getattr(self, WEEKDAYS[day.weekday()])


class SpecialDay(BaseModel):
    """One date, or the dates ``from``..``to`` inclusive, with their own hours.

    No hours means closed all day. ``weekdays`` limits a range to those days
    (summer hours on weekdays only); on the others the holiday and weekly
    rules apply. A special day inside a longer one wins there (a closed
    Friday in the summer hours); other overlaps are refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    date: Day | None = None
    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None
    hours: list[Hours] = []
    weekdays: list[str] = list(WEEKDAYS)
    name: str | None = None  # shown in the reason instead of the dates, e.g. "sommartider"

    @field_validator("hours", mode="before")
    @classmethod
    def _single_range(cls, value: Any) -> Any:
        return _hours_list(value)

    @field_validator("weekdays")
    @classmethod
    def _english_weekdays(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in WEEKDAYS:
                raise ValueError(f"unknown weekday {name!r} (use {', '.join(WEEKDAYS)})")
        return value

    @model_validator(mode="after")
    def _one_date_or_a_range(self) -> SpecialDay:
        if self.date is not None:
            if self.from_ is not None or self.to is not None:
                raise ValueError("a special day has either 'date' or 'from'/'to', not both")
        elif self.from_ is None or self.to is None:
            raise ValueError("a special day needs 'date', or both 'from' and 'to'")
        elif self.to < self.from_:
            raise ValueError(f"special days end before they start: from {self.from_} to {self.to}")
        return self

    @property
    def first(self) -> Day:
        return self.date or self.from_  # type: ignore[return-value]

    @property
    def last(self) -> Day:
        return self.date or self.to  # type: ignore[return-value]

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.date is not None:
            return f"special day {self.date}"
        return f"special days {self.from_}..{self.to}"

    def covers(self, day: Day) -> bool:
        return self.first <= day <= self.last and WEEKDAYS[day.weekday()] in self.weekdays


class HolidayRules(BaseModel):
    """Which public holidays and eves close the company, and the days it stays open anyway.

    ``except`` takes dates (that one day) or holiday names (every year),
    e.g. ``["Trettondedag jul", 2027-12-31]``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    country: str = "SE"
    closed: bool = True
    eves_closed: bool = True
    except_: list[date | str] = Field(default=[], alias="except")

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in holidays_lib.list_supported_countries():
            raise ValueError(f"unknown holiday country {value!r} (use an ISO code such as 'SE')")
        return value

    @field_validator("except_", mode="before")
    @classmethod
    def _iso_dates(cls, value: Any) -> Any:
        """JSON has no dates: read "2027-12-31" as the date, not as a holiday's name."""
        if not isinstance(value, list):
            return value
        return [_iso_date(item) if isinstance(item, str) else item for item in value]

    @model_validator(mode="after")
    def _known_holidays(self) -> HolidayRules:
        for item in self.except_:
            known = _known_names(self.country)
            if isinstance(item, str) and item.casefold() not in known:
                names = ", ".join(sorted(known.values()))
                raise ValueError(f"unknown holiday {item!r} for {self.country} (known: {names})")
        return self

    def closing(self, day: date) -> list[str]:
        """The names of the holidays that close the company on ``day`` (empty: none do)."""
        if day in self.except_:
            return []
        public, eves = _holidays(self.country, day.year)
        names = (public.get(day, ()) if self.closed else ()) + (
            eves.get(day, ()) if self.eves_closed else ()
        )
        skipped = {item.casefold() for item in self.except_ if isinstance(item, str)}
        return [name for name in names if name.casefold() not in skipped]


class Override(BaseModel):
    """A manual open/closed switch; it lapses at ``until`` (never, if none).

    A naive ``until`` is a wall-clock time in the company's zone.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: Literal["open", "closed"]
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer: open or not, why (for people), and when that next changes (≤ 14 days)."""

    open: bool
    reason: str
    until: datetime | None


class Schedule(BaseModel):
    """A company's opening hours; ``evaluate`` answers for any instant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "Europe/Stockholm"
    weekly: WeeklyHours = WeeklyHours()
    special_days: list[SpecialDay] = []
    holidays: HolidayRules | None = HolidayRules()  # None: holidays change nothing
    override: Override | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use e.g. 'Europe/Stockholm')") from None
        return value

    @model_validator(mode="after")
    def _nested_or_apart(self) -> Schedule:
        days = self.special_days
        for i, one in enumerate(days):
            for other in days[i + 1 :]:
                if not _share_a_day(one, other):
                    continue
                one_in_other = other.first <= one.first and one.last <= other.last
                other_in_one = one.first <= other.first and other.last <= one.last
                if one_in_other == other_in_one:  # the same dates, or a partial overlap
                    raise ValueError(f"special days overlap: {one.label} and {other.label}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def evaluate(self, at: datetime) -> Verdict:
        """Open or closed at ``at`` (timezone-aware, any zone), and why."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("evaluate() needs a timezone-aware datetime")
        zone = self.zone
        at = at.astimezone(zone)
        today = at.date()
        spans = self._spans(today - timedelta(days=1), today + timedelta(days=15))
        merged = _merge(spans)
        horizon = at + HORIZON

        override_end = self._override_end()
        if self.override is not None and (override_end is None or at < override_end):
            is_open = self.override.state == "open"
            if override_end is None:
                return Verdict(is_open, f"{self.override.state} (manual override)", None)
            shown = override_end.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            reason = f"{self.override.state} (manual override until {shown})"
            if override_end > horizon:
                change = None
            elif _is_open(merged, override_end) != is_open:
                change = override_end
            else:
                change = _next_change(merged, override_end)
            return Verdict(is_open, reason, _within(change, horizon, zone))

        change = _within(_next_change(merged, at), horizon, zone)
        for start, end, label in spans:
            if start <= at < end:
                return Verdict(True, f"open ({label})", change)
        label, special = self._rule(today)[1:]
        return Verdict(False, f"closed: {label}" if special else f"closed ({label})", change)

    def open_intervals(self, first: date, last: date) -> list[tuple[datetime, datetime]]:
        """The open periods of the ranges that start on ``first``..``last``, ignoring any override.

        Touching ranges are joined; instants are in the company's zone.
        """
        return _merge(self._spans(first, last))

    def day(self, day: date) -> tuple[list[str], str, bool]:
        """What `day` follows, for a person (the year preview): its opening hours as
        "08:00-17:00" (none: closed), why (a holiday's or special day's name, or "weekly
        hours"), and whether it is an exception to the week. Overrides are not included."""
        ranges, label, special = self._rule(day)
        return [str(hours) for hours in ranges], label, special

    # -- inside -----------------------------------------------------------------------------

    def _override_end(self) -> datetime | None:
        if self.override is None or self.override.until is None:
            return None
        until = self.override.until
        return _resolve(until, self.zone) if until.tzinfo is None else until

    def _rule(self, day: date) -> tuple[list[TimeRange], str, bool]:
        """The ranges starting on ``day``, the reason's wording, and whether it is an exception."""
        special = [item for item in self.special_days if item.covers(day)]
        if special:
            inner = min(special, key=lambda item: item.last - item.first)
            return inner.hours, inner.label, True
        if self.holidays is not None:
            names = self.holidays.closing(day)
            if names:
                return [], "; ".join(names), True
        return self.weekly.on(day), "weekly hours", False

    def _spans(self, first: date, last: date) -> list[tuple[datetime, datetime, str]]:
        zone = self.zone
        spans = []
        day = first
        while day <= last:
            ranges, label, _ = self._rule(day)
            midnight = datetime.combine(day, wall_time())
            for hours in ranges:
                end = hours.end + (MINUTES_PER_DAY if hours.crosses_midnight else 0)
                start_at = _resolve(midnight + timedelta(minutes=hours.start), zone)
                end_at = _resolve(midnight + timedelta(minutes=end), zone)
                if start_at < end_at:  # a range inside a skipped DST hour never opens
                    spans.append((start_at, end_at, label))
            day += timedelta(days=1)
        spans.sort(key=lambda span: span[0])
        return spans


def _share_a_day(one: SpecialDay, other: SpecialDay) -> bool:
    day = max(one.first, other.first)
    last = min(one.last, other.last, day + timedelta(days=6))  # weekdays repeat after a week
    while day <= last:
        if one.covers(day) and other.covers(day):
            return True
        day += timedelta(days=1)
    return False


# --- instants ----------------------------------------------------------------------------------


def _resolve(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant a wall-clock time in ``zone`` means (see the module's DST rule)."""
    first = wall.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return first  # exists; fold=0 is the first of two when the clock goes back
    # Skipped: find the transition, between the instants both offsets would give.
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(first.timestamp())
    low, high = min(low, high), max(low, high)
    after = datetime.fromtimestamp(high, zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, zone)


def _merge(spans: list[tuple[datetime, datetime, str]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end, _ in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _is_open(merged: list[tuple[datetime, datetime]], at: datetime) -> bool:
    return any(start <= at < end for start, end in merged)


def _next_change(merged: list[tuple[datetime, datetime]], at: datetime) -> datetime | None:
    for start, end in merged:
        if start <= at < end:
            return end
        if start > at:
            return start
    return None


def _within(change: datetime | None, horizon: datetime, zone: ZoneInfo) -> datetime | None:
    if change is None or change > horizon:
        return None
    return change.astimezone(zone)
