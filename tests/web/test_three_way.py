"""U12: a third party added to a call from the API: the call becomes a room of three; only
a party of the call may, another company's user gets 404, and without a switch 503.

The switch's side is a real call on a switch in memory; the web asks it what the running
switch's link would (app.py `_add_party`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.features.conftest import PROMPTS, USERS
from tests.features.test_conference import HEARD, ROOMS, levels, talk
from tests.features.test_three_way import connected
from tests.memory import MemorySwitch
from tests.web.conftest import PASSWORD, Web
from vaxel.features.three_way import add_party
from vaxel.services import accounts, companies


@pytest.fixture
def switch(tmp_path: Path, tone_prompts: Path, web: Web) -> Iterator[MemorySwitch]:
    made = MemorySwitch(
        tmp_path / "switch", tone_prompts, description=ROOMS, prompts=PROMPTS, user_names=USERS
    )
    acme = companies.get_company(web.store, "acme.example").id

    async def add(company_id: int, extension: str, call_id: str, to: str) -> tuple[str, object]:
        # (the test's thread waits for the HTTP answer meanwhile: the switch is idle)
        company = made.core.directory.company(1) if company_id == acme else None
        return add_party(company, made.calls.get(call_id), extension, to)

    web.context.add_party = add
    yield made
    web.context.add_party = None
    made.close()


def test_a_party_adds_a_colleague_and_the_three_talk(web: Web, switch: MemorySwitch) -> None:
    call, phones = connected(switch)
    cecilia = switch.phone("1003")
    with web.token("1002@acme.example", ["read", "write", "calls"]) as bo:
        added = bo.post(f"/api/v1/calls/{call.id}/add", json={"to": "1003"})
    assert added.status_code == 202, added.text
    assert added.json() == {"call_id": call.id, "to": "1003"}
    switch.until(lambda: cecilia.ringing() is not None, 2)
    cecilia.pick_up()
    switch.advance(0.6)
    phones["1003"] = cecilia
    before = talk(switch, phones)
    for ext, phone in phones.items():
        heard = levels(phone, before[ext])
        assert all(heard[other] > HEARD for other in phones if other != ext), (ext, heard)


def test_only_a_party_adds_anyone_and_the_scope_is_needed(web: Web, switch: MemorySwitch) -> None:
    call, _ = connected(switch)
    switch.phone("1003")
    path = f"/api/v1/calls/{call.id}/add"
    with web.login("2001@other.example") as other:  # another company's user
        assert other.post(path, json={"to": "2002"}).status_code == 404
    accounts.set_user_account(web.store, "acme.example", "1003", password=PASSWORD, role="user")
    with web.token("1003@acme.example", ["read", "write", "calls"]) as cia:  # not on the call
        assert cia.post(path, json={"to": "1001"}).status_code == 404
    with web.token("1001@acme.example", ["read", "write"]) as anna:  # no calls scope
        assert anna.post(path, json={"to": "1003"}).status_code == 403
    with web.login("1001@acme.example") as anna:
        assert anna.post("/api/v1/calls/nope/add", json={"to": "1003"}).status_code == 404
        assert anna.post(path, json={"to": "1099"}).status_code == 404
    assert call.bridged is not None


def test_without_a_switch_no_call_is_there(web: Web) -> None:
    with web.login("1001@acme.example") as anna:
        assert anna.post("/api/v1/calls/x/add", json={"to": "1003"}).status_code == 503
