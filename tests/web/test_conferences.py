"""A3: a conference room in use, steered from the API: who is in it, mute, kick, lock, end;
only the company's administrators, and never another company's room.

The switch's side is a real room on a switch in memory (phones that dialled it and gave
the PIN); the web asks it what the running switch's link would (app.py `_conference`:
`room_action` on the company the web names)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.features.conftest import PROMPTS, USERS
from tests.features.test_conference import ROOMS, join, levels, talk
from tests.memory import MemorySwitch, contains
from tests.web.conftest import Web
from vaxel.features.conference import room_action
from vaxel.services import companies

BASE = "/api/v1/companies/acme.example/conferences/weekly"


@pytest.fixture
def switch(tmp_path: Path, tone_prompts: Path, web: Web) -> Iterator[MemorySwitch]:
    """A switch with Acme's rooms, answering the web's questions about Acme's rooms."""
    made = MemorySwitch(
        tmp_path / "switch", tone_prompts, description=ROOMS, prompts=PROMPTS, user_names=USERS
    )
    acme = companies.get_company(web.store, "acme.example").id

    async def conference(
        company_id: int, name: str, action: str, participant: str, value: bool
    ) -> tuple[str, object]:
        # (the test's thread waits for the HTTP answer meanwhile: the switch is idle)
        company = made.core.directory.company(1) if company_id == acme else None
        return room_action(company, name, action, participant, value)

    web.context.conference = conference
    yield made
    web.context.conference = None
    made.close()


def test_an_admin_sees_who_is_in_the_room_mutes_kicks_locks_and_ends_it(
    web: Web, switch: MemorySwitch
) -> None:
    phones = {ext: join(switch, ext) for ext in ("1001", "1002", "1003")}
    switch.advance(0.6)
    with web.login("1001@acme.example") as admin:
        shown = admin.get(f"{BASE}/participants")
        assert shown.status_code == 200, shown.text
        room = shown.json()
        assert room["locked"] is False
        assert [(p["party"], p["moderator"], p["muted"]) for p in room["participants"]] == [
            ("1001", False, False), ("1002", False, False), ("1003", False, False),
        ]  # fmt: skip
        ids = {p["party"]: p["id"] for p in room["participants"]}

        muted = admin.post(f"{BASE}/participants/{ids['1002']}/mute", json={"muted": True})
        assert muted.status_code == 200, muted.text
        before = talk(switch, phones)
        assert levels(phones["1001"], before["1001"])["1002"] < 150  # Björn is not heard
        assert levels(phones["1001"], before["1001"])["1003"] > 1000

        kicked = admin.post(f"{BASE}/participants/{ids['1003']}/kick")
        assert kicked.status_code == 200
        assert [p["party"] for p in kicked.json()["participants"]] == ["1001", "1002"]
        switch.until(lambda: phones["1003"].requests("BYE"), 2)

        locked = admin.post(f"{BASE}/lock", json={"locked": True})
        assert locked.json()["locked"] is True
        late = switch.phone("1004")
        late.dial("800")
        late.answered()
        switch.advance(0.1)
        late.press("4711#")
        switch.until(lambda: late.requests("BYE"), 5)
        assert contains(late.heard(), switch.system("conf-locked"))

        ended = admin.post(f"{BASE}/end")
        assert ended.status_code == 200
        assert ended.json()["participants"] == []
        for ext in ("1001", "1002"):
            switch.until(lambda ext=ext: phones[ext].requests("BYE"), 5)  # type: ignore[misc]
        assert admin.post(f"{BASE}/lock", json={"locked": True}).status_code == 409
        assert admin.get(f"{BASE}/participants").json()["participants"] == []
        missing = admin.get("/api/v1/companies/acme.example/conferences/nope/participants")
        assert missing.status_code == 404
        log = admin.get("/api/v1/companies/acme.example/audit").json()
        actions = {entry["action"] for entry in log["items"]}
        assert {"conference.mute", "conference.kick", "conference.lock", "conference.end"} <= (
            actions
        )


def test_only_the_companys_admins_steer_its_rooms(web: Web, switch: MemorySwitch) -> None:
    join(switch, "1001")
    with web.login("1002@acme.example") as user:
        assert user.get(f"{BASE}/participants").status_code == 403
        assert user.post(f"{BASE}/end").status_code == 403
    with web.login("2001@other.example") as other:
        assert other.get(f"{BASE}/participants").status_code == 404  # as for no company
        assert other.post(f"{BASE}/end").status_code == 404
    with web.login("1001@acme.example") as admin:
        assert len(admin.get(f"{BASE}/participants").json()["participants"]) == 1
        assert admin.post(f"{BASE}/participants/99/kick").status_code == 404


def test_without_a_switch_the_rooms_are_not_there(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        assert admin.get(f"{BASE}/participants").status_code == 503
