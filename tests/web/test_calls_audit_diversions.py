"""Call records (S9), the audit log (P8) and diversions (U9) through the API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from tests.web.conftest import Web
from vaxel.services import call_records, diversions
from vaxel.services.call_records import NewCallRecord
from vaxel.services.companies import get_company

CALLS = "/api/v1/companies/acme.example/calls"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _records(web: Web) -> None:
    acme = get_company(web.store, "acme.example").id
    other = get_company(web.store, "other.example").id

    def call(n: int, caller: str, callee: str, disposition: str, company: int = acme) -> None:
        call_records.write_record(web.store, NewCallRecord(
            company_id=company, call_id=f"c{n}", caller=caller, callee=callee,
            started_at=T0 + timedelta(minutes=n), ended_at=T0 + timedelta(minutes=n, seconds=30),
            disposition=disposition, hangup_side="caller",
            cause_code=200 if disposition == "answered" else 487,
            answered_at=T0 + timedelta(minutes=n, seconds=5)
            if disposition == "answered" else None,
            answered_by=callee if disposition == "answered" else "",
        ))  # fmt: skip

    call(1, "1001", "1002", "answered")
    call(2, "+46701234567", "+46812345600", "canceled")
    call(3, '=HYPERLINK("http://x")', "1003", "no-answer")
    call(4, "1003", "1001", "answered")
    call(5, "2001", "2002", "answered", company=other)


def test_calls_filter_by_time_user_number_and_disposition(web: Web) -> None:
    _records(web)
    with web.login("1001@acme.example") as admin:

        def ids(**params: object) -> list[str]:
            response = admin.get(CALLS, params=params)
            assert response.status_code == 200, response.text
            return [c["call_id"] for c in response.json()["items"]]

        assert ids() == ["c4", "c3", "c2", "c1"]
        assert ids(user="1002") == ["c1"]
        assert ids(number="0701234") == [] and ids(number="701234") == ["c2"]
        assert ids(disposition="answered") == ["c4", "c1"]
        since = (T0 + timedelta(minutes=2)).isoformat()
        until = (T0 + timedelta(minutes=4)).isoformat()
        assert ids(since=since, until=until) == ["c3", "c2"]
        page = admin.get(CALLS, params={"limit": 3}).json()
        assert page["next_before"] is not None
        assert ids(before=page["next_before"]) == ["c1"]
        bad = admin.get(CALLS, params={"disposition": "lost"})
        naive = admin.get(CALLS, params={"since": "2026-12-01T09:00:00"})
    assert bad.status_code == 422 and "unknown disposition 'lost'" in bad.json()["detail"]
    assert naive.status_code == 422 and "UTC offset" in naive.json()["detail"]


def test_a_user_sees_only_their_own_calls(web: Web) -> None:
    _records(web)
    with web.login("1002@acme.example") as user:
        mine = user.get(CALLS).json()["items"]
        asked_for_others = user.get(CALLS, params={"user": "1003"}).json()["items"]
    assert [c["call_id"] for c in mine] == ["c1"]
    assert [c["call_id"] for c in asked_for_others] == ["c1"]


def test_the_csv_has_every_call_and_no_formula_runs_in_a_spreadsheet(web: Web) -> None:
    _records(web)
    with web.login("1001@acme.example") as admin:
        response = admin.get(f"{CALLS}.csv", params={"disposition": "no-answer"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["call_id"] for r in rows] == ["c3"]
    assert rows[0]["caller"] == '\'=HYPERLINK("http://x")'


def test_every_change_is_in_the_audit_log_without_secrets(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        admin.post("/api/v1/companies/acme.example/users",
                   json={"ext": "1004", "name": "Dan", "password": "dans-sip-pw"})  # fmt: skip
        admin.put("/api/v1/companies/acme.example/users/1004/account",
                  json={"password": "dans web pass"})  # fmt: skip
        log = admin.get("/api/v1/companies/acme.example/audit").json()["items"]
        exported = admin.get("/api/v1/companies/acme.example/audit.csv")
    assert [(e["action"], e["target"], e["actor"]) for e in log] == [
        ("user.account", "1004", "1001@acme.example"),
        ("user.create", "1004", "1001@acme.example"),
    ]
    assert log[0]["source"] == "127.0.0.1" and log[0]["after"] == {"password": "changed"}
    assert log[1]["after"]["name"] == "Dan" and log[1]["before"] is None
    assert "dans-sip-pw" not in exported.text and "dans web pass" not in exported.text
    assert "user.create" in exported.text
    with web.login("1002@acme.example") as user:
        assert user.get("/api/v1/companies/acme.example/audit").status_code == 403


def test_a_config_replacement_is_logged_with_before_and_after(web: Web) -> None:
    with web.login("provider@vaxel.test") as provider:
        url = "/api/v1/companies/acme.example/config"
        data = provider.get(url).json()
        data["company"]["name"] = "Acme Nytt AB"
        assert provider.put(url, json=data, headers={"If-Match": "*"}).status_code == 200
    with web.login("1001@acme.example") as admin:
        entry = admin.get("/api/v1/companies/acme.example/audit").json()["items"][0]
    assert entry["actor"] == "provider@vaxel.test" and entry["action"] == "config.replace"
    assert entry["before"]["company"]["name"] == "Acme AB"
    assert entry["after"]["company"]["name"] == "Acme Nytt AB"
    assert "trunk-pw" not in str(entry)


def test_lunch_until_one_from_the_api_reaches_the_switchs_store(web: Web) -> None:
    until = datetime.now(UTC) + timedelta(hours=2)
    with web.login("1002@acme.example") as user:
        assert user.get("/api/v1/me/diversion").json() is None
        set_ = user.put("/api/v1/me/diversion", json={"text": "Lunch", "until": until.isoformat()})
        custom = user.get("/api/v1/me/diversion").json()
        past = user.put("/api/v1/me/diversion", json={"text": "Lunch", "until": T0.isoformat()})
        presets = user.get("/api/v1/diversion-presets").json()
        colleagues = user.get("/api/v1/companies/acme.example/diversions").json()["items"]
    assert set_.status_code == 200, set_.text
    assert set_.json()["status"] == "lunch" and set_.json()["said"]["sv"] == "är på lunch"
    assert custom["until"] == until.isoformat().replace("+00:00", "Z")
    assert past.status_code == 422 and "has passed" in past.json()["detail"]
    assert {p["status"] for p in presets} >= {"lunch", "meeting", "away", "custom"}
    assert [d["extension"] for d in colleagues] == ["1002"]
    acme = get_company(web.store, "acme.example").id
    stored = diversions.get_diversion(web.store, acme, "1002", datetime.now(UTC))
    assert stored is not None and stored.status == "lunch"
    with web.login("1002@acme.example") as user:
        own_words = user.put("/api/v1/me/diversion", json={"text": "är på kundbesök"})
        assert own_words.json()["status"] == "custom"
        assert user.delete("/api/v1/me/diversion").status_code == 204
        assert user.get("/api/v1/me/diversion").json() is None


def test_the_receptionist_diverts_a_colleague_and_a_user_cannot(web: Web) -> None:
    url = "/api/v1/companies/acme.example/users/1003/diversion"
    with web.login("1001@acme.example") as admin:
        done = admin.put(url, json={"status": "meeting"})
        unknown = admin.put(url.replace("1003", "1099"), json={"status": "meeting"})
    assert done.status_code == 200 and done.json()["until"] is None
    assert unknown.status_code == 404
    with web.login("1002@acme.example") as user:
        assert user.put(url, json={"status": "away"}).status_code == 403
        assert user.delete(url).status_code == 403
    with web.login("provider@vaxel.test") as provider:
        assert provider.get("/api/v1/me/diversion").status_code == 404


def test_a_diversion_for_the_fixed_numbers_only(web: Web) -> None:
    """U9: "reachable on the mobile, not on the fixed number": the scope is kept, shown to
    colleagues, audited; an unknown scope is refused and changes nothing."""
    with web.login("1002@acme.example") as user:
        fixed = user.put("/api/v1/me/diversion", json={"text": "Lunch", "scope": "fixed"})
        bad = user.put("/api/v1/me/diversion", json={"text": "Away", "scope": "desk"})
        colleagues = user.get("/api/v1/companies/acme.example/diversions").json()["items"]
    assert fixed.status_code == 200 and fixed.json()["scope"] == "fixed"
    assert bad.status_code == 422 and "unknown scope 'desk'" in bad.json()["detail"]
    assert [(d["extension"], d["scope"]) for d in colleagues] == [("1002", "fixed")]
    acme = get_company(web.store, "acme.example").id
    stored = diversions.get_diversion(web.store, acme, "1002", datetime.now(UTC))
    assert stored is not None and stored.scope == "fixed" and stored.status == "lunch"
    with web.login("1001@acme.example") as admin:
        log = admin.get("/api/v1/companies/acme.example/audit").json()["items"]
    assert log[0]["action"] == "diversion.set" and log[0]["after"]["scope"] == "fixed"
