"""services/schedules (S5): open or closed, why, and until when, on the Swedish calendar of 2027.

The instants are fixed; nothing here reads the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from vaxel.services.schedules import Schedule, Verdict

STOCKHOLM = ZoneInfo("Europe/Stockholm")
WORKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
OFFICE = {day: ["08:00-17:00"] for day in WORKDAYS}


def at(text: str, *, fold: int = 0) -> datetime:
    """A wall-clock time in Stockholm, e.g. "2027-06-23 10:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM, fold=fold)


def office(**settings: object) -> Schedule:
    return Schedule.model_validate({"weekly": OFFICE, **settings})


# --- weekly hours ------------------------------------------------------------------------------


def test_a_wednesday_morning_is_open_until_five() -> None:
    verdict = office().evaluate(at("2027-06-23 10:00"))
    assert verdict == Verdict(True, "open (weekly hours)", at("2027-06-23 17:00"))


def test_the_night_before_is_closed_until_eight() -> None:
    verdict = office().evaluate(at("2027-06-23 03:00"))
    assert verdict == Verdict(False, "closed (weekly hours)", at("2027-06-23 08:00"))


def test_opening_and_closing_instants_belong_to_the_range() -> None:
    schedule = office()
    assert schedule.evaluate(at("2027-06-23 08:00")).open
    assert not schedule.evaluate(at("2027-06-23 17:00")).open
    assert schedule.evaluate(at("2027-06-23 16:59")).open


def test_friday_evening_is_closed_until_monday() -> None:
    verdict = office().evaluate(at("2027-06-11 17:30"))
    assert verdict == Verdict(False, "closed (weekly hours)", at("2027-06-14 08:00"))


def test_a_lunch_break_splits_the_day() -> None:
    schedule = Schedule(weekly={"monday": ["08:00-12:00", "13:00-17:00"]})
    assert schedule.evaluate(at("2027-06-14 11:00")).until == at("2027-06-14 12:00")
    assert schedule.evaluate(at("2027-06-14 12:30")) == Verdict(
        False, "closed (weekly hours)", at("2027-06-14 13:00")
    )


def test_touching_ranges_are_one_opening() -> None:
    schedule = Schedule(weekly={"monday": ["08:00-12:00", "12:00-17:00"]})
    assert schedule.evaluate(at("2027-06-14 11:00")).until == at("2027-06-14 17:00")


def test_any_zone_may_ask() -> None:
    schedule = office()
    assert schedule.evaluate(datetime(2027, 6, 23, 8, 0, tzinfo=UTC)).open  # 10:00 in Stockholm
    new_york = datetime(2027, 6, 23, 4, 0, tzinfo=ZoneInfo("America/New_York"))
    verdict = schedule.evaluate(new_york)  # 10:00 in Stockholm
    assert verdict.open
    assert verdict.until is not None
    assert verdict.until.tzinfo == STOCKHOLM
    assert verdict.until.hour == 17


def test_another_company_zone() -> None:
    schedule = Schedule(timezone="America/New_York", weekly=OFFICE, holidays=None)
    assert not schedule.evaluate(at("2027-06-23 10:00")).open  # 04:00 in New York
    assert schedule.evaluate(at("2027-06-23 16:00")).open  # 10:00 in New York


def test_until_looks_only_fourteen_days_ahead() -> None:
    assert Schedule().evaluate(at("2027-06-23 10:00")) == Verdict(
        False, "closed (weekly hours)", None
    )
    always = Schedule(weekly={day: ["00:00-24:00"] for day in (*WORKDAYS, "saturday", "sunday")})
    assert always.evaluate(at("2027-07-14 10:00")) == Verdict(True, "open (weekly hours)", None)


def test_until_within_the_fortnight_is_given() -> None:
    schedule = Schedule(weekly={"monday": ["08:00-17:00"]}, holidays=None)
    assert schedule.evaluate(at("2027-06-14 18:00")).until == at("2027-06-21 08:00")


# --- ranges over midnight and 24:00 -------------------------------------------------------------


def test_a_night_shift_runs_past_midnight() -> None:
    schedule = Schedule(weekly={"friday": ["22:00-02:00"]}, holidays=None)
    assert schedule.evaluate(at("2027-06-11 21:00")).until == at("2027-06-11 22:00")
    assert schedule.evaluate(at("2027-06-12 01:00")) == Verdict(
        True, "open (weekly hours)", at("2027-06-12 02:00")
    )
    assert not schedule.evaluate(at("2027-06-12 02:00")).open


def test_the_night_shift_belongs_to_the_day_it_starts() -> None:
    # Thursday's shift runs on into julafton; julafton's own evening stays closed.
    schedule = Schedule(weekly={"thursday": ["22:00-02:00"], "friday": ["22:00-02:00"]})
    assert schedule.evaluate(at("2027-12-24 01:00")) == Verdict(
        True, "open (weekly hours)", at("2027-12-24 02:00")
    )
    assert schedule.evaluate(at("2027-12-24 23:00")).reason == "closed: Julafton"


def test_24_00_ends_the_day_and_joins_the_next_morning() -> None:
    schedule = Schedule(weekly={"monday": ["20:00-24:00"], "tuesday": ["00:00-06:00"]})
    assert schedule.evaluate(at("2027-06-14 23:00")).until == at("2027-06-15 06:00")


def test_an_end_before_the_start_means_the_next_day() -> None:
    schedule = Schedule(weekly={"monday": ["10:00-09:00"]})
    assert schedule.evaluate(at("2027-06-14 10:00")).until == at("2027-06-15 09:00")
    assert schedule.evaluate(at("2027-06-15 08:59")).open
    assert not schedule.evaluate(at("2027-06-15 09:30")).open


# --- public holidays and their eves -------------------------------------------------------------


def test_midsommarafton_is_closed() -> None:
    verdict = office().evaluate(at("2027-06-25 10:00"))
    assert verdict == Verdict(False, "closed: Midsommarafton", at("2027-06-28 08:00"))


@pytest.mark.parametrize(
    ("day", "name"),
    [
        ("2027-12-24", "Julafton"),
        ("2027-12-31", "Nyårsafton"),
        ("2027-03-27", "Påskafton"),
        ("2027-03-26", "Långfredagen"),
        ("2027-03-29", "Annandag påsk"),
        ("2027-05-06", "Kristi himmelsfärdsdag"),
        ("2027-01-06", "Trettondedag jul"),
        ("2027-05-01", "Första maj"),
        ("2027-06-26", "Midsommardagen"),
        ("2027-11-06", "Alla helgons dag"),
    ],
)
def test_holidays_and_eves_close_even_when_weekly_hours_say_open(day: str, name: str) -> None:
    every_day = {d: ["08:00-17:00"] for d in (*WORKDAYS, "saturday", "sunday")}
    verdict = Schedule(weekly=every_day).evaluate(at(f"{day} 10:00"))
    assert not verdict.open
    assert verdict.reason == f"closed: {name}"


def test_an_ordinary_sunday_is_decided_by_the_weekly_hours() -> None:
    schedule = Schedule(weekly={"sunday": ["10:00-14:00"]})
    assert schedule.evaluate(at("2027-06-13 11:00")) == Verdict(
        True, "open (weekly hours)", at("2027-06-13 14:00")
    )
    assert schedule.evaluate(at("2027-03-28 11:00")).reason == "closed: Påskdagen"


def test_the_half_days_before_holidays_are_ordinary_days() -> None:
    # Valborgsmässoafton and the day before midsommarafton: the company decides, with special days.
    assert office().evaluate(at("2027-04-30 16:00")).open
    assert office().evaluate(at("2027-06-24 16:00")).open


def test_a_holiday_opted_out_by_name_is_open_every_year() -> None:
    schedule = office(holidays={"except": ["Trettondedag jul"]})
    assert schedule.evaluate(at("2027-01-06 10:00")) == Verdict(
        True, "open (weekly hours)", at("2027-01-06 17:00")
    )
    assert schedule.evaluate(at("2028-01-06 10:00")).open
    assert schedule.evaluate(at("2027-12-24 10:00")).reason == "closed: Julafton"


def test_a_holiday_opted_out_by_date_is_open_that_year_only() -> None:
    schedule = office(holidays={"except": [date(2027, 12, 31)]})
    assert schedule.evaluate(at("2027-12-31 10:00")).open
    assert schedule.evaluate(at("2026-12-31 10:00")).reason == "closed: Nyårsafton"


def test_opting_out_by_name_ignores_case_and_dates_may_be_text() -> None:
    schedule = office(holidays={"except": ["midsommarafton", "2027-12-24"]})
    assert schedule.evaluate(at("2027-06-25 10:00")).open
    assert schedule.evaluate(at("2027-12-24 10:00")).open


def test_eves_can_stay_open() -> None:
    schedule = office(holidays={"eves_closed": False})
    assert schedule.evaluate(at("2027-12-24 10:00")).open
    assert schedule.evaluate(at("2027-12-31 10:00")).open
    assert schedule.evaluate(at("2027-03-26 10:00")).reason == "closed: Långfredagen"


def test_holidays_can_stay_open_and_eves_still_close() -> None:
    schedule = office(holidays={"closed": False})
    assert schedule.evaluate(at("2027-03-26 10:00")).open
    assert schedule.evaluate(at("2027-12-24 10:00")).reason == "closed: Julafton"


def test_without_holiday_rules_only_the_weekly_hours_count() -> None:
    assert office(holidays=None).evaluate(at("2027-06-25 10:00")).open


def test_holiday_names_are_swedish_whatever_the_server_locale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    # A year no other test asked for, so the calendar is built under this locale.
    assert office().evaluate(at("2091-12-24 10:00")).reason == "closed: Julafton"


# --- special days and date ranges ---------------------------------------------------------------


def test_closing_early_on_a_friday() -> None:
    schedule = office(special_days=[{"date": "2027-06-04", "hours": ["08:00-15:00"]}])
    assert schedule.evaluate(at("2027-06-04 14:00")) == Verdict(
        True, "open (special day 2027-06-04)", at("2027-06-04 15:00")
    )
    assert schedule.evaluate(at("2027-06-04 15:30")) == Verdict(
        False, "closed: special day 2027-06-04", at("2027-06-07 08:00")
    )
    assert schedule.evaluate(at("2027-06-03 16:00")).until == at("2027-06-03 17:00")


def test_a_special_day_without_hours_is_closed_all_day() -> None:
    schedule = office(special_days=[{"date": date(2027, 6, 4), "name": "inventering"}])
    assert schedule.evaluate(at("2027-06-04 10:00")) == Verdict(
        False, "closed: inventering", at("2027-06-07 08:00")
    )


def test_special_hours_on_a_holiday() -> None:
    schedule = office(special_days=[{"date": "2027-12-24", "hours": "09:00-12:00"}])
    assert schedule.evaluate(at("2027-12-24 10:00")) == Verdict(
        True, "open (special day 2027-12-24)", at("2027-12-24 12:00")
    )


def test_summer_hours_for_a_month() -> None:
    summer = {"from": "2027-07-01", "to": "2027-07-31", "hours": ["09:00-15:00"]}
    schedule = office(special_days=[summer])
    assert not schedule.evaluate(at("2027-07-01 08:30")).open
    assert schedule.evaluate(at("2027-07-01 10:00")) == Verdict(
        True, "open (special days 2027-07-01..2027-07-31)", at("2027-07-01 15:00")
    )
    assert schedule.evaluate(at("2027-07-31 16:00")).reason == (
        "closed: special days 2027-07-01..2027-07-31"
    )
    assert schedule.evaluate(at("2027-06-30 16:00")).open
    assert schedule.evaluate(at("2027-08-02 08:30")).reason == "open (weekly hours)"


def test_summer_hours_on_weekdays_only() -> None:
    summer = {
        "from": "2027-07-01",
        "to": "2027-07-31",
        "weekdays": list(WORKDAYS),
        "hours": ["09:00-15:00"],
        "name": "sommartider",
    }
    schedule = office(special_days=[summer])
    assert schedule.evaluate(at("2027-07-02 10:00")).reason == "open (sommartider)"
    assert schedule.evaluate(at("2027-07-03 10:00")) == Verdict(
        False, "closed (weekly hours)", at("2027-07-05 09:00")
    )


def test_a_closed_day_inside_the_summer_hours_wins() -> None:
    summer = {"from": "2027-07-01", "to": "2027-07-31", "hours": ["09:00-15:00"]}
    closed = {"date": "2027-07-16"}
    schedule = office(special_days=[summer, closed])
    assert schedule.evaluate(at("2027-07-16 10:00")).reason == "closed: special day 2027-07-16"
    assert schedule.evaluate(at("2027-07-15 10:00")).open


def test_ranges_on_different_weekdays_may_share_dates() -> None:
    weekdays = {"from": "2027-07-01", "to": "2027-07-31", "weekdays": list(WORKDAYS)}
    weekends = {
        "from": "2027-07-01",
        "to": "2027-07-31",
        "weekdays": ["saturday", "sunday"],
        "hours": ["10:00-12:00"],
    }
    schedule = office(special_days=[weekdays, weekends])
    assert not schedule.evaluate(at("2027-07-05 10:00")).open
    assert schedule.evaluate(at("2027-07-03 11:00")).open


# --- manual override ----------------------------------------------------------------------------


def test_override_opens_on_a_holiday() -> None:
    schedule = office(override={"state": "open", "until": "2027-06-25 12:00"})
    assert schedule.evaluate(at("2027-06-25 10:00")) == Verdict(
        True, "open (manual override until 2027-06-25 12:00)", at("2027-06-25 12:00")
    )
    assert schedule.evaluate(at("2027-06-25 12:00")).reason == "closed: Midsommarafton"


def test_override_closes_until_the_schedule_differs() -> None:
    schedule = office(override={"state": "closed", "until": "2027-01-07 08:00"})
    assert schedule.evaluate(at("2027-01-05 10:00")) == Verdict(
        False, "closed (manual override until 2027-01-07 08:00)", at("2027-01-07 08:00")
    )
    # Lapsing at 06:00 changes nothing until the office opens at 08:00.
    early = office(override={"state": "closed", "until": "2027-01-07 06:00"})
    assert early.evaluate(at("2027-01-05 10:00")).until == at("2027-01-07 08:00")


def test_an_expired_override_is_ignored() -> None:
    schedule = office(override={"state": "closed", "until": "2027-01-07 08:00"})
    assert schedule.evaluate(at("2027-01-07 09:00")) == Verdict(
        True, "open (weekly hours)", at("2027-01-07 17:00")
    )


def test_an_override_without_end_holds() -> None:
    schedule = office(override={"state": "closed"})
    assert schedule.evaluate(at("2027-06-23 10:00")) == Verdict(
        False, "closed (manual override)", None
    )


def test_an_override_until_in_another_zone() -> None:
    schedule = office(override={"state": "open", "until": "2027-06-25T10:00:00Z"})
    verdict = schedule.evaluate(at("2027-06-25 10:00"))
    assert verdict == Verdict(
        True, "open (manual override until 2027-06-25 12:00)", at("2027-06-25 12:00")
    )


# --- daylight saving time (Europe/Stockholm, 2027) ----------------------------------------------


def test_spring_forward_opens_when_the_clock_jumps() -> None:
    # 2027-03-28 (a Sunday): 02:00 CET becomes 03:00 CEST; 02:00-02:59 never happens.
    schedule = Schedule(weekly={"sunday": ["02:00-03:30"]}, holidays=None)
    before = at("2027-03-28 01:59")
    assert schedule.evaluate(before) == Verdict(
        False, "closed (weekly hours)", at("2027-03-28 03:00")
    )
    jump = datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert schedule.evaluate(jump) == Verdict(True, "open (weekly hours)", at("2027-03-28 03:30"))
    assert not schedule.evaluate(jump - timedelta(seconds=1)).open
    assert schedule.open_intervals(date(2027, 3, 28), date(2027, 3, 28)) == [
        (at("2027-03-28 03:00"), at("2027-03-28 03:30"))
    ]


def test_spring_forward_a_range_inside_the_skipped_hour_never_opens() -> None:
    schedule = Schedule(weekly={"sunday": ["02:10-02:50"]}, holidays=None)
    assert schedule.open_intervals(date(2027, 3, 28), date(2027, 3, 28)) == []
    assert not schedule.evaluate(datetime(2027, 3, 28, 1, 0, tzinfo=UTC)).open


def test_fall_back_keeps_open_through_the_repeated_hour() -> None:
    # 2027-10-31 (a Sunday): 03:00 CEST becomes 02:00 CET; 02:00-02:59 happens twice.
    schedule = Schedule(weekly={"sunday": ["02:00-03:30"]}, holidays=None)
    assert not schedule.evaluate(at("2027-10-31 01:59")).open
    first = at("2027-10-31 02:15")
    second = at("2027-10-31 02:15", fold=1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    for instant in (first, second):
        assert schedule.evaluate(instant) == Verdict(
            True, "open (weekly hours)", at("2027-10-31 03:30")
        )
    assert not schedule.evaluate(at("2027-10-31 03:30")).open
    [(opened, closed)] = schedule.open_intervals(date(2027, 10, 31), date(2027, 10, 31))
    assert closed.astimezone(UTC) - opened.astimezone(UTC) == timedelta(hours=2, minutes=30)


def test_office_hours_keep_the_wall_clock_across_dst() -> None:
    schedule = office()  # 2027-03-29 is Annandag påsk: the first workday in summer time is the 30th
    assert schedule.evaluate(datetime(2027, 3, 30, 6, 0, tzinfo=UTC)).open  # 08:00 CEST
    assert not schedule.evaluate(datetime(2027, 3, 30, 5, 59, tzinfo=UTC)).open
    monday = schedule.evaluate(at("2027-10-29 17:00")).until
    assert monday == datetime(2027, 11, 1, 7, 0, tzinfo=UTC)  # 08:00 CET


# --- configuration -----------------------------------------------------------------------------

COMPANY_YAML = """
timezone: Europe/Stockholm
weekly:
  monday: ["08:00-17:00"]
  tuesday: ["08:00-17:00"]
  wednesday: ["08:00-17:00"]
  thursday: ["08:00-17:00"]
  friday: "08:00-16:00"
special_days:
  - date: 2027-06-04
    hours: ["08:00-15:00"]
  - from: 2027-07-01
    to: 2027-07-31
    weekdays: [monday, tuesday, wednesday, thursday, friday]
    hours: ["09:00-15:00"]
    name: sommartider
holidays:
  country: SE
  closed: true
  eves_closed: true
  except: [Trettondedag jul, 2027-12-31]
override:
  state: closed
  until: 2027-01-04 08:00
"""


def test_a_company_yaml_file() -> None:
    schedule = Schedule.model_validate(yaml.safe_load(COMPANY_YAML))
    assert schedule.evaluate(at("2027-01-04 07:00")).reason == (
        "closed (manual override until 2027-01-04 08:00)"
    )
    assert schedule.evaluate(at("2027-01-06 10:00")).open
    assert schedule.evaluate(at("2027-06-04 15:30")).reason == "closed: special day 2027-06-04"
    assert schedule.evaluate(at("2027-07-09 15:30")).reason == "closed: sommartider"
    assert schedule.evaluate(at("2027-12-31 15:30")).open
    assert not schedule.evaluate(at("2027-12-17 16:30")).open


def test_the_yaml_file_round_trips() -> None:
    schedule = Schedule.model_validate(yaml.safe_load(COMPANY_YAML))
    dumped = yaml.safe_dump(schedule.model_dump(by_alias=True, mode="json"), allow_unicode=True)
    assert Schedule.model_validate(yaml.safe_load(dumped)) == schedule
    assert "08:00-17:00" in dumped


def test_the_defaults_are_swedish_and_closed() -> None:
    schedule = Schedule()
    assert schedule.timezone == "Europe/Stockholm"
    assert schedule.holidays is not None
    assert (schedule.holidays.country, schedule.holidays.closed) == ("SE", True)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"weekly": {"monday": ["25:00-26:00"]}}, "bad time '25:00'"),
        ({"weekly": {"monday": ["08:60-17:00"]}}, "bad time '08:60'"),
        ({"weekly": {"monday": ["24:30-02:00"]}}, "bad time '24:30'"),
        ({"weekly": {"monday": ["8-17"]}}, "bad time '8'"),
        ({"weekly": {"monday": ["08:00"]}}, "bad range '08:00'"),
        ({"weekly": {"monday": [800]}}, "bad range 800"),
        ({"weekly": {"monday": ["10:00-10:00"]}}, "empty range '10:00-10:00'"),
        ({"weekly": {"monday": ["24:00-02:00"]}}, "24:00 can only end a range"),
        ({"weekly": {"mondag": ["08:00-17:00"]}}, "unknown weekday 'mondag'"),
        ({"weekly": {"Monday": ["08:00-17:00"]}}, "unknown weekday 'Monday'"),
        ({"timezone": "Europe/Stokholm"}, "unknown timezone 'Europe/Stokholm'"),
        ({"timezone": "../etc/passwd"}, "unknown timezone"),
        ({"holidays": {"country": "XX"}}, "unknown holiday country 'XX'"),
        ({"holidays": {"except": ["Midsomarafton"]}}, "unknown holiday 'Midsomarafton' for SE"),
        ({"holidays": {"closed": True, "sundays": True}}, "sundays"),
        ({"special_days": [{"hours": []}]}, "needs 'date', or both 'from' and 'to'"),
        ({"special_days": [{"from": "2027-07-01"}]}, "needs 'date', or both 'from' and 'to'"),
        (
            {"special_days": [{"date": "2027-07-01", "from": "2027-07-01", "to": "2027-07-02"}]},
            "either 'date' or 'from'/'to'",
        ),
        (
            {"special_days": [{"from": "2027-07-31", "to": "2027-07-01"}]},
            "end before they start: from 2027-07-31 to 2027-07-01",
        ),
        (
            {"special_days": [{"from": "2027-07-01", "to": "2027-07-31", "weekdays": ["lördag"]}]},
            "unknown weekday 'lördag'",
        ),
        (
            {
                "special_days": [
                    {"from": "2027-07-01", "to": "2027-07-20"},
                    {"from": "2027-07-10", "to": "2027-07-31"},
                ]
            },
            "special days overlap: special days 2027-07-01..2027-07-20 and",
        ),
        (
            {"special_days": [{"date": "2027-06-04"}, {"date": "2027-06-04"}]},
            "special days overlap",
        ),
        ({"override": {"state": "öppet"}}, "'open' or 'closed'"),
    ],
)
def test_bad_settings_name_the_problem(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Schedule.model_validate(settings)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        office().evaluate(datetime(2027, 6, 23, 10, 0))


def test_settings_are_frozen() -> None:
    schedule = office()
    with pytest.raises(ValidationError):
        schedule.timezone = "UTC"  # type: ignore[misc]
