"""A user's diversion shortcuts through the API (U9): kept, listed, applied (the diversion
the switch then says), removed; another user's are not found; audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.web.conftest import Web
from vaxel.services import diversions
from vaxel.services.companies import get_company


def test_a_shortcut_is_kept_applied_and_removed(web: Web) -> None:
    acme = get_company(web.store, "acme.example").id
    with web.login("1002@acme.example") as bo:
        lunch = bo.post("/api/v1/me/shortcuts", json={"text": "Lunch", "minutes": 60})
        meeting = bo.post("/api/v1/me/shortcuts",
                          json={"status": "meeting", "at": "15:30", "scope": "fixed"})  # fmt: skip
        bad = bo.post("/api/v1/me/shortcuts", json={"status": "meeting", "at": "3 pm"})
        listed = bo.get("/api/v1/me/shortcuts").json()["items"]
        applied = bo.post(f"/api/v1/me/shortcuts/{lunch.json()['id']}/apply")
    assert lunch.status_code == 201, lunch.text
    assert lunch.json() | {"id": 0} == {"id": 0, "status": "lunch", "text": "", "minutes": 60,
                                        "at": None, "scope": "all"}  # fmt: skip
    assert meeting.json()["scope"] == "fixed" and meeting.json()["at"] == "15:30"
    assert bad.status_code == 422 and "not HH:MM" in bad.json()["detail"]
    assert [s["status"] for s in listed] == ["lunch", "meeting"]
    assert applied.status_code == 200 and applied.json()["status"] == "lunch"
    info = diversions.get_diversion(web.store, acme, "1002", datetime.now(UTC))
    assert info is not None and info.until is not None
    assert abs(info.until - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(minutes=1)

    with web.login("1001@acme.example") as anna:  # another user: not found, nothing changes
        assert anna.post(f"/api/v1/me/shortcuts/{meeting.json()['id']}/apply").status_code == 404
        assert anna.delete(f"/api/v1/me/shortcuts/{meeting.json()['id']}").status_code == 404
        log = anna.get("/api/v1/companies/acme.example/audit").json()["items"]
    assert [e["action"] for e in log[:3]] == ["diversion.set", "shortcut.add", "shortcut.add"]
    with web.login("1002@acme.example") as bo:
        assert bo.delete(f"/api/v1/me/shortcuts/{lunch.json()['id']}").status_code == 204
        assert [s["status"] for s in bo.get("/api/v1/me/shortcuts").json()["items"]] == ["meeting"]
    with web.login("provider@vaxel.test") as provider:
        assert provider.get("/api/v1/me/shortcuts").status_code == 404
