"""services/activities (U11): where a user's calls go while a diversion of a status is on;
set, replaced, cleared, kept apart per company, gone with the user; on SQLite and
PostgreSQL (the `store` fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from vaxel.services import companies, users
from vaxel.services.activities import (
    activity_forwardings,
    all_activity_forwardings,
    set_activity_forwarding,
)
from vaxel.services.errors import Invalid, NotFound
from vaxel.store import READ_DIRECTORY_VERSION, Store
from vaxel.store.models import User


@pytest.fixture
def two(store: Store) -> Store:
    """Acme (1001, 1002) and Other (1001), ids 1 and 2."""
    companies.add_company(store, "acme.test", "Acme AB")
    companies.add_company(store, "other.test", "Other AB")
    for domain, ext in (("acme.test", "1001"), ("acme.test", "1002"), ("other.test", "1001")):
        users.add_user(store, domain, ext, f"User {ext}", "a-long-secret-1")
    return store


def _version(store: Store) -> int:
    return int(store.scalar_reader(READ_DIRECTORY_VERSION)())


def test_set_replace_and_clear(two: Store) -> None:
    before = _version(two)
    set_activity_forwarding(two, 1, "1001", "meeting", "1002")
    set_activity_forwarding(two, 1, "1001", "vacation", " +46701740699 ")
    assert _version(two) > before  # the switch sees it on its next call
    assert activity_forwardings(two, 1, "1001") == {"meeting": "1002", "vacation": "+46701740699"}
    set_activity_forwarding(two, 1, "1001", "meeting", "+46701740600")
    set_activity_forwarding(two, 1, "1001", "vacation", None)
    assert activity_forwardings(two, 1, "1001") == {"meeting": "+46701740600"}
    set_activity_forwarding(two, 1, "1001", "meeting", "")
    assert activity_forwardings(two, 1, "1001") == {}


def test_companies_are_kept_apart(two: Store) -> None:
    set_activity_forwarding(two, 1, "1001", "lunch", "1002")
    set_activity_forwarding(two, 2, "1001", "lunch", "+46701740699")
    assert activity_forwardings(two, 2, "1001") == {"lunch": "+46701740699"}
    assert all_activity_forwardings(two) == {
        1: {"1001": {"lunch": "1002"}},
        2: {"1001": {"lunch": "+46701740699"}},
    }
    with pytest.raises(NotFound):  # Other has no 1002
        set_activity_forwarding(two, 2, "1002", "lunch", "1001")


@pytest.mark.parametrize(
    ("status", "target", "message"),
    [("coffee", "1002", "unknown status 'coffee'"), ("lunch", "1" * 41, "longer than 40")],
)
def test_bad_input_is_refused(two: Store, status: str, target: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        set_activity_forwarding(two, 1, "1001", status, target)
    assert activity_forwardings(two, 1, "1001") == {}


def test_it_goes_with_its_user(two: Store) -> None:
    set_activity_forwarding(two, 1, "1001", "sick", "1002")
    with two.session() as session:
        session.execute(delete(User).where(User.company_id == 1, User.extension == "1001"))
    assert activity_forwardings(two, 1, "1001") == {}
