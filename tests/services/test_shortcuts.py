"""services/shortcuts (U9): a user's saved diversions, checked, at most ten, kept apart per
user and company, and the end each works out when used; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from vaxel.services import companies, users
from vaxel.services.errors import Invalid, NotFound
from vaxel.services.shortcuts import (
    MAX_SHORTCUTS,
    Shortcut,
    add_shortcut,
    get_shortcut,
    list_shortcuts,
    remove_shortcut,
)
from vaxel.store import Store

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2027, 1, 15, 9, 0, tzinfo=STOCKHOLM)


@pytest.fixture
def two(store: Store) -> Store:
    """Acme (1001, 1002) and Other (1001), ids 1 and 2."""
    companies.add_company(store, "acme.test", "Acme AB")
    companies.add_company(store, "other.test", "Other AB")
    for domain, ext in (("acme.test", "1001"), ("acme.test", "1002"), ("other.test", "1001")):
        users.add_user(store, domain, ext, f"User {ext}", "a-long-secret-1")
    return store


def test_add_list_and_remove(two: Store) -> None:
    lunch = add_shortcut(two, 1, "1001", status="lunch", minutes=60)
    meeting = add_shortcut(two, 1, "1001", status="meeting", at="15:30", scope="fixed")
    visit = add_shortcut(two, 1, "1001", status="custom", text=" på kundbesök ")
    assert list_shortcuts(two, 1, "1001") == [lunch, meeting, visit]
    assert visit == Shortcut(visit.id, "custom", "på kundbesök", None, None, "all")
    assert list_shortcuts(two, 1, "1002") == [] and list_shortcuts(two, 2, "1001") == []
    assert get_shortcut(two, 1, "1001", meeting.id) == meeting
    assert remove_shortcut(two, 1, "1001", lunch.id) == lunch
    assert list_shortcuts(two, 1, "1001") == [meeting, visit]


def test_the_end_is_worked_out_when_used() -> None:
    assert Shortcut(1, "lunch", "", 60, None, "all").until(NOW) == datetime(
        2027, 1, 15, 10, 0, tzinfo=STOCKHOLM
    )
    assert Shortcut(1, "meeting", "", None, "15:30", "all").until(NOW) == datetime(
        2027, 1, 15, 15, 30, tzinfo=STOCKHOLM
    )
    assert Shortcut(1, "meeting", "", None, "08:00", "all").until(NOW) == datetime(
        2027, 1, 16, 8, 0, tzinfo=STOCKHOLM
    )  # passed: tomorrow
    assert Shortcut(1, "away", "", None, None, "all").until(NOW) is None


def test_another_users_shortcut_is_not_found(two: Store) -> None:
    mine = add_shortcut(two, 1, "1001", status="lunch", minutes=30)
    for company_id, ext in ((1, "1002"), (2, "1001")):
        with pytest.raises(NotFound):
            get_shortcut(two, company_id, ext, mine.id)
        with pytest.raises(NotFound):
            remove_shortcut(two, company_id, ext, mine.id)
    assert list_shortcuts(two, 1, "1001") == [mine]


def test_at_most_ten(two: Store) -> None:
    for minutes in range(1, MAX_SHORTCUTS + 1):
        add_shortcut(two, 1, "1001", status="lunch", minutes=minutes)
    with pytest.raises(Invalid, match="10 shortcuts already"):
        add_shortcut(two, 1, "1001", status="away")
    assert len(list_shortcuts(two, 1, "1001")) == MAX_SHORTCUTS
    add_shortcut(two, 1, "1002", status="away")  # another user's count is their own


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "coffee"}, "unknown status"),
        ({"status": "custom"}, "needs a text"),
        ({"minutes": 0}, "give 1 to"),
        ({"minutes": 60 * 24 * 15}, "give 1 to"),
        ({"at": "25:00"}, "not HH:MM"),
        ({"at": "9:00"}, "not HH:MM"),
        ({"minutes": 30, "at": "15:30"}, "not both"),
        ({"scope": "desk"}, "unknown scope"),
    ],
)
def test_bad_shortcuts_are_refused(two: Store, change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"status": "lunch", **change}
    with pytest.raises(Invalid, match=message):
        add_shortcut(two, 1, "1001", **arguments)  # type: ignore[arg-type]
    assert list_shortcuts(two, 1, "1001") == []
    with pytest.raises(NotFound):
        add_shortcut(two, 1, "1009", status="lunch")
