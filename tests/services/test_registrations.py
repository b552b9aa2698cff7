"""P3: registrar bindings persisted across restarts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from vaxel.services import NotFound
from vaxel.services.companies import add_company
from vaxel.services.registrations import (
    Binding,
    WriteBehind,
    all_bindings,
    delete_expired,
    list_registrations,
    load_bindings,
    replace_bindings,
)
from vaxel.services.users import UserInfo, add_user
from vaxel.store import Store

NOW = 1_800_000_000.0


def _binding(
    contact: str, expires_at: float = NOW + 3600, instance_id: str | None = None
) -> Binding:
    return Binding(contact, expires_at, None, "call-1@192.0.2.4", 1, instance_id)


@pytest.fixture
def users(store: Store) -> tuple[UserInfo, UserInfo, UserInfo]:
    add_company(store, "acme.example", "Acme AB")
    add_company(store, "beta.example", "Beta AB")
    return (
        add_user(store, "acme.example", "1001", "Anna Svensson", "password-1"),
        add_user(store, "acme.example", "1002", "Erik Lindqvist", "password-2"),
        add_user(store, "beta.example", "1001", "Bo Ek", "password-3"),
    )


def test_replace_and_load_round_trip(store: Store, users: tuple[UserInfo, ...]) -> None:
    anna = users[0]
    full = Binding(
        contact='<sip:1001@192.0.2.4:5062;transport=tcp;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";reg-id=1',
        expires_at=NOW + 600.25,
        q=0.7,
        call_id="a84b4c76e66710@pc33.atlanta.example",
        cseq=314159,
        instance_id="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>",
        reg_id=1,
        received="tcp:192.0.2.4:50112",
        path=("<sip:p1.example.com;lr>", '"Edge, one" <sip:p2.example.com;lr>'),
        user_agent="Linphone/5.2 (Ubuntu) LinphoneCore/5.2",
    )
    minimal = _binding("<sip:1001@[2001:db8::9]:5060>")
    replace_bindings(store, anna.company_id, anna.id, [full, minimal])
    assert load_bindings(store, anna.id) == [full, minimal]


def test_replace_replaces_everything(store: Store, users: tuple[UserInfo, ...]) -> None:
    anna, erik, _ = users
    replace_bindings(
        store, anna.company_id, anna.id, [_binding("<sip:a@1>"), _binding("<sip:b@2>")]
    )
    replace_bindings(store, erik.company_id, erik.id, [_binding("<sip:e@3>")])
    replace_bindings(store, anna.company_id, anna.id, [_binding("<sip:c@4>")])
    assert [b.contact for b in load_bindings(store, anna.id)] == ["<sip:c@4>"]
    replace_bindings(store, anna.company_id, anna.id, [])
    assert load_bindings(store, anna.id) == []
    assert [b.contact for b in load_bindings(store, erik.id)] == ["<sip:e@3>"]


def test_replace_is_one_transaction(store: Store, users: tuple[UserInfo, ...]) -> None:
    anna = users[0]
    replace_bindings(store, anna.company_id, anna.id, [_binding("<sip:a@1>")])
    broken = dataclasses.replace(_binding("<sip:b@2>"), call_id=None)  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        replace_bindings(store, anna.company_id, anna.id, [_binding("<sip:c@3>"), broken])
    assert [b.contact for b in load_bindings(store, anna.id)] == ["<sip:a@1>"]


def test_binding_cannot_cross_tenants(store: Store, users: tuple[UserInfo, ...]) -> None:
    anna, _, bo = users
    with pytest.raises(NotFound):  # Bo's user id under Acme's company id
        replace_bindings(store, anna.company_id, bo.id, [_binding("<sip:x@1>")])
    assert load_bindings(store, bo.id) == []
    with pytest.raises(NotFound):
        replace_bindings(store, anna.company_id, 999_999, [_binding("<sip:x@1>")])


def test_list_registrations_is_per_company(store: Store, users: tuple[UserInfo, ...]) -> None:
    anna, erik, bo = users
    replace_bindings(store, erik.company_id, erik.id, [_binding("<sip:erik@1>")])
    replace_bindings(store, anna.company_id, anna.id, [_binding("<sip:anna@1>")])
    replace_bindings(store, bo.company_id, bo.id, [_binding("<sip:bo@1>")])
    acme = [(ext, b.contact) for ext, b in list_registrations(store, "ACME.example")]
    assert acme == [("1001", "<sip:anna@1>"), ("1002", "<sip:erik@1>")]
    beta = [(ext, b.contact) for ext, b in list_registrations(store, "beta.example")]
    assert beta == [("1001", "<sip:bo@1>")]
    with pytest.raises(NotFound):
        list_registrations(store, "x.test")


def test_delete_expired(store: Store, users: tuple[UserInfo, ...]) -> None:
    anna, erik, _ = users
    replace_bindings(
        store,
        anna.company_id,
        anna.id,
        [_binding("<sip:old@1>", NOW - 1), _binding("<sip:edge@1>", NOW), _binding("<sip:new@1>")],
    )
    replace_bindings(store, erik.company_id, erik.id, [_binding("<sip:old@2>", NOW - 5)])
    assert delete_expired(store, NOW) == 3
    assert all_bindings(store) == {anna.id: [_binding("<sip:new@1>")]}
    assert delete_expired(store, NOW) == 0


def test_bindings_survive_a_restart(
    store: Store, users: tuple[UserInfo, ...], tmp_path: Path
) -> None:
    anna, erik, bo = users
    replace_bindings(
        store, anna.company_id, anna.id, [_binding("<sip:a@1>"), _binding("<sip:a@2>")]
    )
    replace_bindings(store, bo.company_id, bo.id, [_binding("<sip:bo@1>", instance_id="<urn:x>")])
    before = all_bindings(store)
    store.close()
    with Store.open(tmp_path, url=store.url) as again:
        assert all_bindings(again) == before
        assert set(before) == {anna.id, bo.id}
        assert load_bindings(again, erik.id) == []
        assert [b.instance_id for b in before[bo.id]] == ["<urn:x>"]


def test_deleting_a_user_cascades(store: Store, users: tuple[UserInfo, ...]) -> None:
    from vaxel.store import User

    anna = users[0]
    replace_bindings(store, anna.company_id, anna.id, [_binding("<sip:a@1>")])
    with store.session() as session:
        session.delete(session.get(User, anna.id))
    assert all_bindings(store) == {}


def test_long_peer_supplied_text_is_stored(store: Store, users: tuple[UserInfo, ...]) -> None:
    anna = users[0]
    long = "x" * 5000
    binding = Binding(f"<sip:{long}@1>", NOW + 60, None, long, 1, f"<urn:{long}>", None,
                      "udp:192.0.2.4:5060", (f"<sip:{long};lr>",), long)  # fmt: skip
    replace_bindings(store, anna.company_id, anna.id, [binding])
    assert load_bindings(store, anna.id) == [binding]


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_write_behind_batches_until_taken(store: Store, users: tuple[UserInfo, ...]) -> None:
    anna, erik, bo = users
    writer = WriteBehind(store, clock=_Clock())
    writer(anna.company_id, anna.id, [_binding("<sip:1001@192.0.2.4:5062>")])
    writer(erik.company_id, erik.id, [_binding("<sip:1002@192.0.2.5:5062>")])
    writer(bo.company_id, bo.id, [_binding("<sip:1001@192.0.2.6:5062>")])
    writer(anna.company_id, anna.id, [_binding("<sip:1001@192.0.2.4:6000>")])  # newest wins
    assert writer.due
    assert load_bindings(store, anna.id) == []  # nothing written before the batch
    writer.write(writer.take())
    assert not writer.due
    assert [b.contact for b in load_bindings(store, anna.id)] == ["<sip:1001@192.0.2.4:6000>"]
    assert [b.contact for b in load_bindings(store, erik.id)] == ["<sip:1002@192.0.2.5:5062>"]
    assert [b.contact for b in load_bindings(store, bo.id)] == ["<sip:1001@192.0.2.6:5062>"]
    writer(erik.company_id, erik.id, [])  # a removed device is a change: written at once
    writer.write(writer.take())
    assert load_bindings(store, erik.id) == []


def test_write_behind_coalesces_refreshes(store: Store, users: tuple[UserInfo, ...]) -> None:
    anna = users[0]
    clock = _Clock()
    writer = WriteBehind(store, refresh_interval=30.0, clock=clock)
    writer(anna.company_id, anna.id, [_binding("<sip:1001@192.0.2.4:5062>", NOW + 600)])
    writer.write(writer.take())
    for step in range(1, 4):  # refreshes that only move the expiry time
        clock.now = step
        writer(anna.company_id, anna.id, [_binding("<sip:1001@192.0.2.4:5062>", NOW + 600 + step)])
        assert not writer.due
        writer.write(writer.take())
    assert [b.expires_at for b in load_bindings(store, anna.id)] == [NOW + 600]
    clock.now = 31.0
    assert writer.due
    writer.write(writer.take())
    assert [b.expires_at for b in load_bindings(store, anna.id)] == [NOW + 603]
    # A refresh still waiting is written by a flush (shutdown).
    writer(anna.company_id, anna.id, [_binding("<sip:1001@192.0.2.4:5062>", NOW + 700)])
    writer.flush()
    assert [b.expires_at for b in load_bindings(store, anna.id)] == [NOW + 700]
    # After the database dropped the binding (expiry), the same device is a change again.
    writer.forget([anna.id])
    writer(anna.company_id, anna.id, [_binding("<sip:1001@192.0.2.4:5062>", NOW + 800)])
    assert writer.due


def test_write_behind_spreads_a_large_refresh_batch(
    store: Store, users: tuple[UserInfo, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vaxel.services.registrations.BATCH", 2)
    clock = _Clock()
    writer = WriteBehind(store, refresh_interval=30.0, clock=clock)
    for user in users:
        writer(user.company_id, user.id, [_binding(f"<sip:{user.id}@192.0.2.4>", NOW + 60)])
    writer.write(writer.take())
    for user in users:  # three refreshes
        writer(user.company_id, user.id, [_binding(f"<sip:{user.id}@192.0.2.4>", NOW + 90)])
    clock.now = 31.0
    assert len(writer.take()) == 2
    assert len(writer.take()) == 1
    assert writer.take() == []
