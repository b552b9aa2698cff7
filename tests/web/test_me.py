"""A user's own settings from the web (U7, U8, U11), as the phone's feature codes set them,
and forwarding by activity (U11)."""

from __future__ import annotations

from tests.web.conftest import Web
from vaxel.services import activities, presence_settings
from vaxel.services.companies import get_company


def test_forwarding_is_set_and_cleared_and_checked(web: Web) -> None:
    with web.login("1002@acme.example") as bo:
        start = bo.get("/api/v1/me/settings").json()
        busy = bo.put("/api/v1/me/forwarding", json={"busy": "1003", "no_answer": "070-123 45 67"})
        bad = bo.put("/api/v1/me/forwarding", json={"always": "0900123456", "busy": "1099"})
        own = bo.put("/api/v1/me/forwarding", json={"always": "1002"})
        cleared = bo.put("/api/v1/me/forwarding", json={"busy": None})
    assert start["forwarding"] == {"always": None, "busy": None, "no_answer": None}
    assert start["voicemail"] is True
    assert start["caller_id"] == {"show": "main", "per_device": {}}
    assert busy.status_code == 200, busy.text
    assert busy.json()["forwarding"] == {
        "always": None,
        "busy": "1003",
        "no_answer": "070-123 45 67",
    }
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        "always: your company does not allow calls to +46900123456",
        'busy: unknown user "1099"',
    ]
    assert own.status_code == 422 and "your own extension" in own.json()["errors"][0]
    assert cleared.json()["forwarding"]["busy"] is None
    company = get_company(web.store, "acme.example").id
    assert presence_settings.forwardings(web.store, company)["1002"] == {
        "busy": "", "no_answer": "070-123 45 67"}  # fmt: skip


def test_voicemail_and_caller_id(web: Web) -> None:
    with web.login("1002@acme.example") as bo:
        off = bo.put("/api/v1/me/voicemail", json={"enabled": False})
        missing_number = bo.put("/api/v1/me/caller-id", json={"show": "direct"})
        main = bo.put("/api/v1/me/caller-id", json={"show": "main", "per_device": {"desk": "main"}})
    assert off.json()["voicemail"] is False
    assert missing_number.status_code == 422
    assert missing_number.json()["errors"][0].startswith("users.1.caller_id")
    assert main.status_code == 200 and main.json()["caller_id"]["per_device"] == {"desk": "main"}
    with web.login("provider@vaxel.test") as provider:
        assert provider.get("/api/v1/me/settings").status_code == 404


def test_click_to_call_needs_the_calls_scope_and_a_running_switch(web: Web) -> None:
    with web.token("1002@acme.example", ["read", "write"]) as no_calls:
        refused = no_calls.post("/api/v1/calls", json={"to": "1001"})
    with web.login("1002@acme.example") as bo:
        no_switch = bo.post("/api/v1/calls", json={"to": "1001"})
        empty = bo.post("/api/v1/calls", json={"to": ""})
    with web.login("provider@vaxel.test") as provider:
        no_phone = provider.post("/api/v1/calls", json={"to": "1001"})
    assert refused.status_code == 403 and "'calls'" in refused.json()["detail"]
    assert no_switch.status_code == 503 and empty.status_code == 422
    assert no_phone.status_code == 404


def test_forwarding_by_activity_is_set_checked_and_cleared(web: Web) -> None:
    """U11: "Meeting" to a colleague, "Vacation" to a number; the checks of forwarding (a
    colleague, not oneself, a number the company allows), all or nothing; audited."""
    company = get_company(web.store, "acme.example").id
    with web.login("1002@acme.example") as bo:
        start = bo.get("/api/v1/me/settings").json()
        ok = bo.put("/api/v1/me/activity-forwarding",
                    json={"meeting": "1003", "vacation": "070-123 45 67"})  # fmt: skip
        bad = bo.put("/api/v1/me/activity-forwarding", json={
            "lunch": "0900123456", "sick": "1002", "away": "1099", "coffee": "1003"})  # fmt: skip
        cleared = bo.put("/api/v1/me/activity-forwarding", json={"vacation": None})
    assert start["activity_forwarding"] == {}
    assert ok.status_code == 200, ok.text
    assert ok.json()["activity_forwarding"] == {"meeting": "1003", "vacation": "070-123 45 67"}
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        "coffee: unknown status (use lunch, meeting, away, sick, vacation, custom)",
        "lunch: your company does not allow calls to +46900123456",
        "sick: that is your own extension",
        'away: unknown user "1099"',
    ]
    assert cleared.json()["activity_forwarding"] == {"meeting": "1003"}
    assert activities.activity_forwardings(web.store, company, "1002") == {"meeting": "1003"}
    with web.login("1001@acme.example") as admin:
        log = admin.get("/api/v1/companies/acme.example/audit").json()["items"]
    assert log[0]["action"] == "activity_forwarding.set"
    assert log[0]["before"] == {"meeting": "1003", "vacation": "070-123 45 67"}
    assert log[0]["after"] == {"meeting": "1003"}
    with web.login("provider@vaxel.test") as provider:
        assert provider.put("/api/v1/me/activity-forwarding", json={}).status_code == 404
