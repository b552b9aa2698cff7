"""P1/P3: users, their digest credentials, and tenant isolation of lookups."""

from __future__ import annotations

import hashlib
import re
import time

import pytest

from vaxel.services import Conflict, Invalid, NotFound
from vaxel.services.accounts import set_user_account
from vaxel.services.companies import add_company
from vaxel.services.users import (
    SipUser,
    SipUserCache,
    add_user,
    browser_credential,
    find_sip_user,
    list_users,
    revoke_browser_credential,
    set_password,
)
from vaxel.services.web_sessions import end_all_sessions
from vaxel.store import Store, User


def _ha1(name: str, user: str, realm: str, password: str) -> str:
    return hashlib.new(name, f"{user}:{realm}:{password}".encode()).hexdigest()


@pytest.fixture
def two_companies(store: Store) -> Store:
    add_company(store, "acme.example", "Acme AB")
    add_company(store, "beta.example", "Beta AB")
    return store


def test_add_and_list(two_companies: Store) -> None:
    store = two_companies
    add_user(store, "acme.example", "1002", "Erik Lindqvist", "password-2")
    added = add_user(store, "Acme.Example", "1001", "Anna Svensson", "password-1")
    assert (added.extension, added.display_name) == ("1001", "Anna Svensson")
    assert [(u.extension, u.display_name) for u in list_users(store, "acme.example")] == [
        ("1001", "Anna Svensson"),
        ("1002", "Erik Lindqvist"),
    ]
    assert list_users(store, "beta.example") == []


def test_only_ha1s_are_stored(two_companies: Store) -> None:
    add_user(two_companies, "acme.example", "1001", "Anna Svensson", "hemligt-lösen")
    with two_companies.session(read_only=True) as session:
        user = session.query(User).one()
        assert user.ha1_md5 == _ha1("md5", "1001", "acme.example", "hemligt-lösen")
        assert user.ha1_sha256 == _ha1("sha256", "1001", "acme.example", "hemligt-lösen")
        columns = [getattr(user, c.key) for c in User.__table__.columns]
        assert "hemligt-lösen" not in columns


def test_find_sip_user(two_companies: Store) -> None:
    added = add_user(two_companies, "acme.example", "1001", "Anna Svensson", "password-1")
    found = find_sip_user(two_companies, "ACME.example", "1001")
    assert found is not None
    assert (found.company_domain, found.user_id, found.extension, found.display_name) == (
        "acme.example",
        added.id,
        "1001",
        "Anna Svensson",
    )
    assert found.company_id == added.company_id
    assert found.ha1 == {
        "MD5": _ha1("md5", "1001", "acme.example", "password-1"),
        "SHA-256": _ha1("sha256", "1001", "acme.example", "password-1"),
    }


def test_find_sip_user_unknown(two_companies: Store) -> None:
    add_user(two_companies, "acme.example", "1001", "Anna Svensson", "password-1")
    assert find_sip_user(two_companies, "nowhere.example", "1001") is None
    assert find_sip_user(two_companies, "acme.example", "1009") is None
    assert find_sip_user(two_companies, "beta.example", "1001") is None


def test_tenant_isolation(two_companies: Store) -> None:
    """The same extension in two companies: separate users, realms and secrets."""
    store = two_companies
    acme = add_user(store, "acme.example", "1001", "Anna Svensson", "same-password")
    beta = add_user(store, "beta.example", "1001", "Bo Ek", "same-password")
    assert acme.id != beta.id
    found_acme = find_sip_user(store, "acme.example", "1001")
    found_beta = find_sip_user(store, "beta.example", "1001")
    assert found_acme is not None and found_beta is not None
    assert (found_acme.user_id, found_acme.display_name) == (acme.id, "Anna Svensson")
    assert (found_beta.user_id, found_beta.display_name) == (beta.id, "Bo Ek")
    assert found_acme.ha1 != found_beta.ha1  # the realm differs
    assert [u.display_name for u in list_users(store, "beta.example")] == ["Bo Ek"]


def test_duplicate_extension(two_companies: Store) -> None:
    add_user(two_companies, "acme.example", "1001", "Anna Svensson", "password-1")
    with pytest.raises(
        Conflict, match=re.escape('extension 1001 already exists in "acme.example"')
    ):
        add_user(two_companies, "acme.example", "1001", "Someone Else", "password-2")
    found = find_sip_user(two_companies, "acme.example", "1001")
    assert found is not None and found.display_name == "Anna Svensson"


def test_unknown_company(store: Store) -> None:
    with pytest.raises(NotFound, match=re.escape('unknown company "x.test"')):
        add_user(store, "x.test", "1001", "Anna Svensson", "password-1")
    with pytest.raises(NotFound):
        list_users(store, "x.test")


@pytest.mark.parametrize(
    "extension", ["1", "123456789", "10a1", "", " 1001", "\u0661\u0660\u0660\u0661", "1001\n"]
)
def test_invalid_extension(two_companies: Store, extension: str) -> None:
    with pytest.raises(Invalid, match="invalid extension"):
        add_user(two_companies, "acme.example", extension, "Anna", "password-1")
    assert list_users(two_companies, "acme.example") == []


@pytest.mark.parametrize("password", ["", "1234567", "x" * 129, "new\nline-password"])
def test_invalid_password(two_companies: Store, password: str) -> None:
    with pytest.raises(Invalid, match="password"):
        add_user(two_companies, "acme.example", "1001", "Anna", password)
    assert list_users(two_companies, "acme.example") == []


def test_set_password(two_companies: Store) -> None:
    add_user(two_companies, "acme.example", "1001", "Anna Svensson", "password-1")
    set_password(two_companies, "acme.example", "1001", "password-new")
    found = find_sip_user(two_companies, "acme.example", "1001")
    assert found is not None
    assert found.ha1["MD5"] == _ha1("md5", "1001", "acme.example", "password-new")
    with pytest.raises(NotFound, match="unknown extension 1002"):
        set_password(two_companies, "acme.example", "1002", "password-new")
    with pytest.raises(NotFound):  # 1001 exists only in acme
        set_password(two_companies, "beta.example", "1001", "password-new")
    with pytest.raises(Invalid):
        set_password(two_companies, "acme.example", "1001", "short")


def _eventually(check, timeout: float = 3.0) -> bool:  # type: ignore[no-untyped-def]
    """Poll `check` (PostgreSQL caches revalidate on a 200 ms probe, SQLite at once)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_sip_user_cache_sees_changes_made_by_another_process(two_companies: Store) -> None:
    add_user(two_companies, "acme.example", "1001", "Anna Svensson", "password-1")
    cache = SipUserCache(two_companies)
    assert cache("ACME.example", "1001") == find_sip_user(two_companies, "acme.example", "1001")
    assert cache("acme.example", "1077") is None  # unknown users are cached too
    other = Store.open(url=two_companies.url)  # another process: the CLI, the web API
    try:
        add_user(other, "acme.example", "1077", "Ny Användare", "password-77")
        assert _eventually(lambda: cache("acme.example", "1077") is not None)
        before = cache("acme.example", "1001")
        set_password(other, "acme.example", "1001", "a-new-password")
        assert _eventually(lambda: cache("acme.example", "1001") != before)
        assert cache("acme.example", "1001") == find_sip_user(other, "acme.example", "1001")
    finally:
        other.close()


def test_ring_time_defaults_to_30_seconds(two_companies: Store) -> None:
    added = add_user(two_companies, "acme.example", "1001", "Anna Svensson", "password-1")
    assert added.ring_seconds == 30
    assert [u.ring_seconds for u in list_users(two_companies, "acme.example")] == [30]
    found = find_sip_user(two_companies, "acme.example", "1001")
    assert found is not None and found.ring_seconds == 30


@pytest.mark.parametrize("seconds", [5, 45, 300])
def test_ring_time_is_stored_and_found(two_companies: Store, seconds: int) -> None:
    added = add_user(two_companies, "acme.example", "1001", "Anna", "password-1", seconds)
    assert added.ring_seconds == seconds
    assert [u.ring_seconds for u in list_users(two_companies, "acme.example")] == [seconds]
    found = find_sip_user(two_companies, "acme.example", "1001")
    assert found is not None and found.ring_seconds == seconds
    assert SipUserCache(two_companies)("acme.example", "1001") == found


@pytest.mark.parametrize("seconds", [4, 301, 0, -30, 30.5, True, "30"])
def test_invalid_ring_time(two_companies: Store, seconds: object) -> None:
    with pytest.raises(Invalid, match=r"invalid ring time .*: use 5 to 300 seconds"):
        add_user(two_companies, "acme.example", "1001", "Anna", "password-1", seconds)  # type: ignore[arg-type]
    assert list_users(two_companies, "acme.example") == []


def test_sip_user_keeps_working_positionally() -> None:
    """Callers that build a SipUser without a ring time get the default."""
    user = SipUser(1, "acme.example", 2, "1001", "Anna", {"MD5": "x"})
    assert user.ring_seconds == 30


def test_sip_user_cache_sees_a_ring_time_change(two_companies: Store) -> None:
    add_user(two_companies, "acme.example", "1001", "Anna Svensson", "password-1")
    cache = SipUserCache(two_companies)
    assert cache("acme.example", "1001").ring_seconds == 30  # type: ignore[union-attr]
    other = Store.open(url=two_companies.url)  # a hand-written fix elsewhere: the trigger bumps
    try:
        with other.session() as session:
            session.query(User).filter(User.extension == "1001").update({"ring_seconds": 12})
        assert _eventually(lambda: cache("acme.example", "1001").ring_seconds == 12)  # type: ignore[union-attr]
    finally:
        other.close()


# -- the browser softphone's own credential (U1, O2) ------------------------------------------


def _web(store: Store, extension: str) -> object:
    """The user's browser HA1s, as the registrar's lookup gives them."""
    found = find_sip_user(store, "acme.example", extension)
    return found.web_ha1 if found is not None else None


def test_a_browser_credential_is_made_once_and_kept_beside_the_desk_one(
    two_companies: Store,
) -> None:
    added = add_user(two_companies, "acme.example", "1001", "Anna Svensson", "desk-password")
    assert _web(two_companies, "1001") is None  # none made yet
    username, realm, md5 = browser_credential(two_companies, added.company_id, "1001")
    assert (username, realm) == ("1001-web", "acme.example")
    assert re.fullmatch(r"[0-9a-f]{32}", md5)
    assert browser_credential(two_companies, added.company_id, "1001") == (username, realm, md5)
    found = find_sip_user(two_companies, "acme.example", "1001")
    assert found is not None and found.web_ha1 is not None
    assert found.web_ha1["MD5"] == md5 and found.web_ha1["SHA-256"] != found.ha1["SHA-256"]
    assert found.ha1["MD5"] == _ha1("md5", "1001", "acme.example", "desk-password")
    # Only the digest check knows the browser's username: no lookup of a colleague does.
    assert find_sip_user(two_companies, "acme.example", "1001-web") is None
    with two_companies.session(read_only=True) as session:
        user = session.query(User).one()
        assert (user.web_ha1_md5, len(user.web_ha1_sha256 or "")) == (md5, 64)


def test_browser_credentials_differ_per_user_and_company(two_companies: Store) -> None:
    acme = add_user(two_companies, "acme.example", "1001", "Anna", "desk-password")
    beta = add_user(two_companies, "beta.example", "1001", "Bo", "desk-password")
    other = add_user(two_companies, "acme.example", "1002", "Erik", "desk-password")
    made = {
        browser_credential(two_companies, u.company_id, u.extension)[2] for u in (acme, beta, other)
    }
    assert len(made) == 3
    with pytest.raises(NotFound):
        browser_credential(two_companies, beta.company_id, "1002")


def test_revoking_a_browser_credential_leaves_the_desk_phone(two_companies: Store) -> None:
    added = add_user(two_companies, "acme.example", "1001", "Anna", "desk-password")
    first = browser_credential(two_companies, added.company_id, "1001")
    assert revoke_browser_credential(two_companies, added.company_id, "1001")
    assert not revoke_browser_credential(two_companies, added.company_id, "1001")
    assert _web(two_companies, "1001") is None
    assert find_sip_user(two_companies, "acme.example", "1001") is not None  # the desk phone's
    assert browser_credential(two_companies, added.company_id, "1001")[2] != first[2]


def test_logging_out_everywhere_and_a_new_web_password_revoke_it(two_companies: Store) -> None:
    added = add_user(two_companies, "acme.example", "1001", "Anna", "desk-password")
    account = set_user_account(two_companies, "acme.example", "1001", password="web-password")
    browser_credential(two_companies, added.company_id, "1001")
    end_all_sessions(two_companies, account.id)
    assert _web(two_companies, "1001") is None
    browser_credential(two_companies, added.company_id, "1001")
    set_user_account(two_companies, "acme.example", "1001", password="another-password")
    assert _web(two_companies, "1001") is None
    browser_credential(two_companies, added.company_id, "1001")
    set_user_account(two_companies, "acme.example", "1001", role="admin")  # no new password
    assert _web(two_companies, "1001") is not None


def test_sip_user_cache_sees_a_browser_credential_made_and_revoked(two_companies: Store) -> None:
    added = add_user(two_companies, "acme.example", "1001", "Anna", "desk-password")
    cache = SipUserCache(two_companies)
    assert cache("acme.example", "1001").web_ha1 is None  # type: ignore[union-attr]
    other = Store.open(url=two_companies.url)  # the web process makes it
    try:
        md5 = browser_credential(other, added.company_id, "1001")[2]
        web = lambda: cache("acme.example", "1001").web_ha1  # type: ignore[union-attr]  # noqa: E731
        assert _eventually(lambda: web() is not None)
        assert web()["MD5"] == md5  # type: ignore[index]
        revoke_browser_credential(other, added.company_id, "1001")
        assert _eventually(lambda: web() is None)
    finally:
        other.close()
