"""Voicemail boxes (S6, U7, O2): PINs stored hashed, quotas, and the retention sweep, on
SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vaxel.services.companies import add_company
from vaxel.services.company_config import CompanyConfig, parse_config
from vaxel.services.configuration import apply_config
from vaxel.services.voicemail import (
    box_full,
    counts,
    expire_by_retention,
    expire_messages,
    hash_pin,
    list_messages,
    new_path,
    save_message,
    verify_pin,
)
from vaxel.store import Store

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


# -- PINs ---------------------------------------------------------------------------------------


def test_a_pin_is_stored_salted_and_checked() -> None:
    first, second = hash_pin("4711"), hash_pin("4711")
    # salted: equal PINs look different; the PIN is no part of what is kept (its digits may
    # turn up inside the hex digest by chance, which says nothing).
    assert first != second and "4711" not in first.split("$")
    assert verify_pin(first, "4711") and verify_pin(second, "4711")
    for wrong in ("4712", "", "47111", "0000"):
        assert not verify_pin(first, wrong)


def test_a_pin_still_stored_in_clear_keeps_working() -> None:
    # A description kept in memory (or one written before PINs were hashed).
    assert verify_pin("4711", "4711") and not verify_pin("4711", "4712")


def test_a_broken_or_costly_stored_hash_never_matches() -> None:
    assert not verify_pin("scrypt$not-a-hash", "4711")
    stored = hash_pin("4711")
    _, _n, r, p, salt, digest = stored.split("$")
    assert not verify_pin(f"scrypt${2**20}${r}${p}${salt}${digest}", "4711")  # would stall


def test_a_pin_check_takes_about_a_millisecond() -> None:
    """It runs on the event loop: it must not hold it for more than a millisecond or two."""
    stored = hash_pin("12345678")
    verify_pin(stored, "12345678")
    best = min(_timed(lambda: verify_pin(stored, "12345679")) for _ in range(20))
    assert best < 0.002, f"a PIN check took {best * 1000:.2f} ms"


def _timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


# -- quotas -------------------------------------------------------------------------------------

DESCRIPTION = {
    "company": {"domain": "acme.example", "name": "Acme AB"},
    "users": [
        {"ext": "1001", "name": "Anna", "password": "anna-secret-1",
         "voicemail": {"quota": {"messages": 2}}},
        {"ext": "1002", "name": "Björn", "password": "bjorn-secret-2"},
    ],
    "voicemail": {"reception": {"members": ["1001"], "quota": {"messages": None, "seconds": 60}}},
}  # fmt: skip


def _config() -> CompanyConfig:
    return parse_config(DESCRIPTION)


def _leave(store: Store, folder: Path, company_id: int, box: str, seconds: float,
           received_at: datetime = NOW) -> Path:  # fmt: skip
    path = new_path(folder, company_id, box)
    path.write_bytes(b"RIFF")
    save_message(
        store, company_id, box, caller="+46701740605", caller_name="", received_at=received_at,
        duration_seconds=seconds, path=path,
    )  # fmt: skip
    return path


def test_a_box_is_full_at_its_quota_of_messages(store: Store, tmp_path: Path) -> None:
    config = _config()
    apply_config(store, config)
    assert not box_full(store, 1, "1001", config)
    _leave(store, tmp_path, 1, "1001", 10)
    assert not box_full(store, 1, "1001", config)
    _leave(store, tmp_path, 1, "1001", 10)
    assert box_full(store, 1, "1001", config)
    assert not box_full(store, 1, "1002", config)  # another box, the default quota (100)


def test_a_box_is_full_at_its_quota_of_seconds(store: Store, tmp_path: Path) -> None:
    config = _config()
    apply_config(store, config)
    for _ in range(3):
        _leave(store, tmp_path, 1, "reception", 19.5)
    assert not box_full(store, 1, "reception", config)  # 58.5 s of 60
    _leave(store, tmp_path, 1, "reception", 2)
    assert box_full(store, 1, "reception", config)


def test_the_default_quota_is_100_messages(store: Store, tmp_path: Path) -> None:
    config = _config()
    apply_config(store, config)
    for _ in range(99):
        _leave(store, tmp_path, 1, "1002", 1)
    assert not box_full(store, 1, "1002", config)
    _leave(store, tmp_path, 1, "1002", 1)
    assert box_full(store, 1, "1002", config)


def test_another_companys_messages_do_not_fill_a_box(store: Store, tmp_path: Path) -> None:
    config = _config()
    apply_config(store, config)
    other = add_company(store, "other.example", "Other AB")
    for _ in range(3):
        _leave(store, tmp_path, other.id, "1001", 10)
    assert not box_full(store, 1, "1001", config)


# -- retention ----------------------------------------------------------------------------------


def test_old_messages_and_their_files_are_deleted(store: Store, tmp_path: Path) -> None:
    apply_config(store, _config())
    other = add_company(store, "other.example", "Other AB")
    old = _leave(store, tmp_path, 1, "1001", 5, NOW - timedelta(days=31))
    kept = _leave(store, tmp_path, 1, "1001", 5, NOW - timedelta(days=29))
    theirs = _leave(store, tmp_path, other.id, "1001", 5, NOW - timedelta(days=400))
    assert expire_messages(store, 1, timedelta(days=30), NOW) == 1
    assert not old.exists() and kept.exists() and theirs.exists()
    assert [m.path for m in list_messages(store, 1, "1001")] == [kept]
    assert counts(store, other.id, "1001") == (1, 0)  # another company's are left alone
    assert expire_messages(store, 1, timedelta(days=30), NOW) == 0


def test_the_sweep_follows_each_companys_retention(store: Store, tmp_path: Path) -> None:
    apply_config(store, parse_config({**DESCRIPTION, "company": {
        "domain": "acme.example", "name": "Acme AB", "voicemail_retention_days": 7}}))  # fmt: skip
    keeps = {"company": {"domain": "other.example", "name": "Other AB"}}
    apply_config(store, parse_config(keeps))  # no retention: kept until deleted
    old = _leave(store, tmp_path, 1, "reception", 5, NOW - timedelta(days=8))
    young = _leave(store, tmp_path, 1, "reception", 5, NOW - timedelta(days=6))
    ancient = _leave(store, tmp_path, 2, "1001", 5, NOW - timedelta(days=3000))
    assert expire_by_retention(store, NOW) == 1
    assert (old.exists(), young.exists(), ancient.exists()) == (False, True, True)


def test_retention_needs_an_aware_time(store: Store) -> None:
    with pytest.raises(ValueError, match="aware"):
        expire_messages(store, 1, timedelta(days=1), datetime(2027, 1, 1))
