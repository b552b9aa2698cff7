"""The callback list (A5, A1) through the API: every user of the company reads it, another
company's callbacks never show, a bad status is a 422 problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.web.conftest import Web
from vaxel.services import callbacks
from vaxel.services.callbacks import CallbackChange
from vaxel.services.companies import get_company

LIST = "/api/v1/companies/{}/callbacks"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def change(web: Web, domain: str, key: str, status: str, minutes: int = 0) -> None:
    company = get_company(web.store, domain).id
    callbacks.write_change(web.store, CallbackChange(
        company_id=company, key=key, group="line", number="0701234567", caller="+46701234567",
        source="queue", requested_at=T0 + timedelta(minutes=minutes), status=status,
        attempts=1 if status != "waiting" else 0, agent="1002" if status != "waiting" else "",
        at=T0 + timedelta(minutes=minutes + 1),
    ))  # fmt: skip


def test_agents_see_the_companys_callbacks_as_they_move_on(web: Web) -> None:
    change(web, "acme.example", "a1", "waiting", 0)
    change(web, "acme.example", "a2", "waiting", 5)
    change(web, "acme.example", "a1", "done", 0)  # the same callback, served
    change(web, "other.example", "o1", "waiting", 1)
    with web.login("1002@acme.example") as agent:
        listed = agent.get(LIST.format("acme.example")).json()
        waiting = agent.get(LIST.format("acme.example"), params={"status": "waiting"}).json()
    assert [(c["key"], c["status"], c["agent"]) for c in listed] == [
        ("a1", "done", "1002"), ("a2", "waiting", ""),
    ]  # fmt: skip
    assert [c["key"] for c in waiting] == ["a2"]
    assert listed[0]["number"] == "0701234567" and listed[0]["source"] == "queue"


def test_another_companys_list_is_not_found_and_bad_status_is_422(web: Web) -> None:
    change(web, "acme.example", "a1", "waiting")
    with web.login("2001@other.example") as stranger:
        response = stranger.get(LIST.format("acme.example"))
        assert response.status_code == 404
        assert stranger.get(LIST.format("other.example")).json() == []
    with web.login("1001@acme.example") as admin:
        bad = admin.get(LIST.format("acme.example"), params={"status": "lost"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "unknown status" in bad.json()["detail"]
