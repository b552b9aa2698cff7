"""The demo company of `vaxel serve --demo` (P1)."""

from __future__ import annotations

import stat
from pathlib import Path

from vaxel.services.demo import DEMO_DOMAIN, PASSWORDS_FILE, ensure_demo
from vaxel.services.users import find_sip_user, list_users
from vaxel.sip.digest import ha1
from vaxel.store import Store


def test_creates_company_users_and_private_password_file(store: Store, tmp_path: Path) -> None:
    pairs = ensure_demo(store)
    assert [ext for ext, _ in pairs] == ["1001", "1002", "1003", "1004"]
    assert len({password for _, password in pairs}) == 4
    for ext, password in pairs:
        assert len(password) >= 8
        user = find_sip_user(store, DEMO_DOMAIN, ext)
        assert user is not None
        assert user.ha1["SHA-256"] == ha1(ext, DEMO_DOMAIN, password, "SHA-256")
    path = tmp_path / PASSWORDS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert all(password in path.read_text() for _, password in pairs)


def test_second_run_changes_nothing_and_returns_the_same_passwords(store: Store) -> None:
    first = ensure_demo(store)
    before = {
        u.extension: find_sip_user(store, DEMO_DOMAIN, u.extension)
        for u in list_users(store, DEMO_DOMAIN)
    }
    assert ensure_demo(store) == first
    after = {
        u.extension: find_sip_user(store, DEMO_DOMAIN, u.extension)
        for u in list_users(store, DEMO_DOMAIN)
    }
    assert after == before


def test_recreates_a_missing_user_only(store: Store, tmp_path: Path) -> None:
    from vaxel.store import User

    first = dict(ensure_demo(store))
    with store.session() as session:
        session.query(User).filter(User.extension == "1003").delete()
    second = dict(ensure_demo(store))
    assert second["1003"] != first["1003"]
    assert {k: v for k, v in second.items() if k != "1003"} == {
        k: v for k, v in first.items() if k != "1003"
    }
    user = find_sip_user(store, DEMO_DOMAIN, "1003")
    assert user is not None and user.ha1["MD5"] == ha1("1003", DEMO_DOMAIN, second["1003"], "MD5")


def test_without_the_password_file_nothing_is_reset(store: Store, tmp_path: Path) -> None:
    ensure_demo(store)
    (tmp_path / PASSWORDS_FILE).unlink()
    before = find_sip_user(store, DEMO_DOMAIN, "1001")
    assert ensure_demo(store) == []
    assert find_sip_user(store, DEMO_DOMAIN, "1001") == before


def test_the_demo_has_a_main_number_with_spoken_prompts(store: Store, tmp_path: Path) -> None:
    from vaxel.media.player import load_prompt
    from vaxel.services.companies import get_company
    from vaxel.services.configuration import load_document, number_owner

    ensure_demo(store)
    company = get_company(store, DEMO_DOMAIN)
    assert number_owner(store, "+46812345600") == company.id
    described = load_document(store, company.id)
    assert described is not None and set(described.menus["main"].keys) == {"1", "2", "9"}
    welcome = load_prompt(tmp_path / "prompts" / DEMO_DOMAIN / "welcome.wav")
    assert len(welcome) > 8000 * 0.5  # spoken: "Välkommen till Demo AB."
