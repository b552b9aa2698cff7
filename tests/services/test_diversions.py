"""services/diversions (U9): set, read, end by itself, cleared, checked; on SQLite and
PostgreSQL (the `store` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vaxel.media.say import SYSTEM_PROMPTS
from vaxel.services import companies, users
from vaxel.services.diversions import (
    PRESETS,
    DiversionInfo,
    active_diversions,
    clear_diversion,
    get_diversion,
    next_time,
    next_weekday,
    set_diversion,
    status_of,
)
from vaxel.services.errors import Invalid, NotFound
from vaxel.store import READ_DIRECTORY_VERSION, Store

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2027, 1, 15, 9, 0, tzinfo=STOCKHOLM)
LUNCH = datetime(2027, 1, 15, 13, 0, tzinfo=STOCKHOLM)


@pytest.fixture
def two(store: Store) -> Store:
    """Acme (1001, 1002) and Other (1001), ids 1 and 2."""
    companies.add_company(store, "acme.test", "Acme AB")
    companies.add_company(store, "other.test", "Other AB")
    for domain, ext in (("acme.test", "1001"), ("acme.test", "1002"), ("other.test", "1001")):
        users.add_user(store, domain, ext, f"User {ext}", "a-long-secret-1")
    return store


def test_set_and_read_back(two: Store) -> None:
    info = set_diversion(two, 1, "1001", status="lunch", until=LUNCH, now=NOW)
    assert info == DiversionInfo("1001", "lunch", "", LUNCH.astimezone(UTC), False, NOW)
    assert info.until is not None and info.until.tzinfo is UTC
    assert get_diversion(two, 1, "1001", NOW) == info
    assert active_diversions(two, 1, NOW) == {"1001": info}
    assert get_diversion(two, 1, "1002", NOW) is None


def test_a_diversion_ends_by_itself_at_its_end_time(two: Store) -> None:
    set_diversion(two, 1, "1001", status="meeting", until=LUNCH, now=NOW)
    assert get_diversion(two, 1, "1001", LUNCH - timedelta(seconds=1)) is not None
    assert get_diversion(two, 1, "1001", LUNCH) is None
    assert active_diversions(two, 1, LUNCH) == {}


def test_a_new_diversion_replaces_the_old_and_clear_ends_it(two: Store) -> None:
    set_diversion(two, 1, "1001", status="lunch", until=LUNCH, now=NOW)
    later = NOW + timedelta(days=3)
    info = set_diversion(
        two, 1, "1001", status="custom", text=" på kundbesök ", until=later, ring=True, now=NOW
    )
    assert info.text == "på kundbesök" and info.ring
    assert get_diversion(two, 1, "1001", NOW) == info
    assert clear_diversion(two, 1, "1001") is True
    assert get_diversion(two, 1, "1001", NOW) is None
    assert clear_diversion(two, 1, "1001") is False


def test_without_an_end_time_it_lasts_until_cleared(two: Store) -> None:
    info = set_diversion(two, 1, "1001", status="away", until=None, now=NOW)
    assert get_diversion(two, 1, "1001", NOW + timedelta(days=400)) == info


def test_clearing_an_ended_diversion_says_none_was_active(two: Store) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    set_diversion(two, 1, "1001", status="lunch", until=past, now=past - timedelta(hours=1))
    assert clear_diversion(two, 1, "1001") is False


def test_companies_do_not_see_each_others_diversions(two: Store) -> None:
    acme = set_diversion(two, 1, "1001", status="lunch", until=LUNCH, now=NOW)
    assert get_diversion(two, 2, "1001", NOW) is None
    other = set_diversion(two, 2, "1001", status="sick", until=LUNCH, now=NOW)
    assert active_diversions(two, 1, NOW) == {"1001": acme}
    assert active_diversions(two, 2, NOW) == {"1001": other}
    assert clear_diversion(two, 2, "1001")
    assert get_diversion(two, 1, "1001", NOW) == acme
    with pytest.raises(NotFound, match="1002"):  # Other has no 1002
        set_diversion(two, 2, "1002", status="lunch", until=LUNCH, now=NOW)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "coffee"}, "unknown status 'coffee'"),
        ({"status": "custom"}, "needs a text"),
        ({"status": "custom", "text": "   "}, "needs a text"),
        ({"text": "x" * 101}, "keep it to 100"),
        ({"text": "två\nrader"}, "cannot be shown"),
        ({"until": datetime(2027, 1, 15, 13, 0)}, "time zone"),
        ({"until": NOW}, "has passed"),
        ({"until": NOW - timedelta(minutes=1)}, "has passed"),
        ({"until": NOW + timedelta(days=367)}, "more than a year"),
        ({"scope": "desk"}, "unknown scope 'desk'"),
    ],
)
def test_bad_diversions_are_refused_with_a_reason(
    two: Store, change: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"status": "lunch", "until": LUNCH, "now": NOW, **change}
    with pytest.raises(Invalid, match=message):
        set_diversion(two, 1, "1001", **arguments)  # type: ignore[arg-type]
    assert get_diversion(two, 1, "1001", NOW) is None


def test_an_unknown_user_is_not_found(two: Store) -> None:
    with pytest.raises(NotFound, match="unknown extension 1009"):
        set_diversion(two, 1, "1009", status="lunch", until=LUNCH, now=NOW)


def test_every_change_moves_the_directory_version(two: Store) -> None:
    read = two.scalar_reader(READ_DIRECTORY_VERSION)
    before = read()
    set_diversion(two, 1, "1001", status="lunch", until=LUNCH, now=NOW)
    assert read() > before
    between = read()
    clear_diversion(two, 1, "1001")
    assert read() > between


def test_the_presets_are_the_phrases_the_switch_says() -> None:
    assert {"lunch", "meeting", "away", "sick", "vacation", "custom"} <= set(PRESETS)
    for status, (sv, en) in PRESETS.items():
        if status != "custom":
            assert SYSTEM_PROMPTS[f"div-{status}"] == {"sv": sv, "en": en}


def test_typed_words_name_presets_in_either_language() -> None:
    assert status_of("Lunch") == ("lunch", "")
    assert status_of(" möte ") == ("meeting", "")
    assert status_of("Semester") == ("vacation", "")
    assert status_of("At a customer") == ("custom", "At a customer")


def test_the_next_clock_time_and_weekday_on_the_wall_clock() -> None:
    zone = ZoneInfo("Europe/Stockholm")
    wednesday = datetime(2027, 3, 3, 12, 0, tzinfo=zone)
    assert next_time(13, 0, wednesday) == datetime(2027, 3, 3, 13, 0, tzinfo=zone)
    assert next_time(11, 30, wednesday) == datetime(2027, 3, 4, 11, 30, tzinfo=zone)
    assert next_weekday(0, 8, 0, wednesday) == datetime(2027, 3, 8, 8, 0, tzinfo=zone)
    monday_early = datetime(2027, 3, 8, 7, 0, tzinfo=zone)
    assert next_weekday(0, 8, 0, monday_early) == datetime(2027, 3, 8, 8, 0, tzinfo=zone)
    monday_late = datetime(2027, 3, 8, 9, 0, tzinfo=zone)
    assert next_weekday(0, 8, 0, monday_late) == datetime(2027, 3, 15, 8, 0, tzinfo=zone)


def test_a_scope_is_kept_and_says_which_calls_it_applies_to(two: Store) -> None:
    info = set_diversion(two, 1, "1001", status="lunch", until=LUNCH, scope="fixed", now=NOW)
    assert get_diversion(two, 1, "1001", NOW) == info and info.scope == "fixed"
    assert info.applies(mobile_call=False) and not info.applies(mobile_call=True)
    mobile = set_diversion(two, 1, "1001", status="lunch", until=LUNCH, scope="mobile", now=NOW)
    assert mobile.applies(mobile_call=True) and not mobile.applies(mobile_call=False)
    every = set_diversion(two, 1, "1001", status="lunch", until=LUNCH, now=NOW)
    assert every.scope == "all" and every.applies(True) and every.applies(False)
