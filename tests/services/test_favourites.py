"""services/favourites (U4): colleagues a user starred, listed and searched, kept apart per
user and company, gone with either user; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from vaxel.services import companies, users
from vaxel.services.errors import Invalid, NotFound
from vaxel.services.favourites import (
    add_favourite,
    favourite_users,
    favourites,
    remove_favourite,
)
from vaxel.store import Store
from vaxel.store.models import User


@pytest.fixture
def two(store: Store) -> Store:
    """Acme (1001 to 1003) and Other (1001, 1004), ids 1 and 2."""
    companies.add_company(store, "acme.test", "Acme AB")
    companies.add_company(store, "other.test", "Other AB")
    for domain, ext, name in (
        ("acme.test", "1001", "Anna"), ("acme.test", "1002", "Bo"),
        ("acme.test", "1003", "Cia"), ("other.test", "1001", "Olle"),
        ("other.test", "1004", "Oskar"),
    ):  # fmt: skip
        users.add_user(store, domain, ext, name, "a-long-secret-1")
    return store


def test_star_list_search_and_unstar(two: Store) -> None:
    assert add_favourite(two, 1, "1001", "1003") is True
    assert add_favourite(two, 1, "1001", "1002") is True
    assert add_favourite(two, 1, "1001", "1002") is False  # starred already
    assert favourites(two, 1, "1001") == ["1002", "1003"]
    assert [u.display_name for u in favourite_users(two, 1, "1001")] == ["Bo", "Cia"]
    assert [u.extension for u in favourite_users(two, 1, "1001", "ci")] == ["1003"]
    assert [u.extension for u in favourite_users(two, 1, "1001", "1002")] == ["1002"]
    assert favourites(two, 1, "1002") == [] and favourites(two, 2, "1001") == []
    assert remove_favourite(two, 1, "1001", "1002") is True
    assert remove_favourite(two, 1, "1001", "1002") is False
    assert favourites(two, 1, "1001") == ["1003"]


def test_another_companys_user_is_unknown(two: Store) -> None:
    with pytest.raises(NotFound, match="1004"):  # Other's 1004: not Acme's
        add_favourite(two, 1, "1001", "1004")
    with pytest.raises(NotFound, match="1009"):
        add_favourite(two, 1, "1009", "1001")
    with pytest.raises(Invalid, match="yourself"):
        add_favourite(two, 1, "1001", "1001")
    assert favourites(two, 1, "1001") == []


def test_a_favourite_goes_with_the_colleague(two: Store) -> None:
    add_favourite(two, 1, "1001", "1002")
    add_favourite(two, 1, "1003", "1002")
    with two.session() as session:
        session.execute(delete(User).where(User.company_id == 1, User.extension == "1002"))
    assert favourites(two, 1, "1001") == [] and favourites(two, 1, "1003") == []
