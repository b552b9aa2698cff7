"""A5: agents' pauses and the agents list from the API (web/api/agents.py): a user pauses
and unpauses themselves with one of the company's reasons (stored, published, audited),
an admin anyone; another's pause is 403 for a user, an unknown agent or company 404, an
unknown reason 422, each as problem+json. The agents list is the switch's answer: on a
switch in memory it shows a pause made by phone, a diversion's pause and a login code's
logout; without a switch 503."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.features.conftest import PROMPTS, USERS, variant
from tests.features.test_codes import code
from tests.memory import MemorySwitch
from tests.web.conftest import Web
from vaxel.app import _agents
from vaxel.bus import AgentPaused
from vaxel.services import companies, pauses
from vaxel.store.models import AuditEntry

PROBLEM = "application/problem+json"


def test_a_user_pauses_with_a_reason_and_unpauses(web: Web) -> None:
    told: list[AgentPaused] = []
    web.bus.subscribe(AgentPaused, told.append)
    acme = companies.get_company(web.store, "acme.example").id
    with web.login("1002@acme.example") as bo:
        paused = bo.put("/api/v1/me/pause", json={"reason": "lunch"})
        assert paused.status_code == 200, paused.text
        assert paused.json() == {"extension": "1002", "paused": True, "reason": "lunch",
                                 "words": {"sv": "Lunch", "en": "Lunch"}}  # fmt: skip
        assert bo.get("/api/v1/me/pause").json()["reason"] == "lunch"
        assert pauses.pauses(web.store, acme)["1002"].reason == "lunch"
        assert bo.delete("/api/v1/me/pause").status_code == 204
        assert bo.get("/api/v1/me/pause").json()["paused"] is False
    assert pauses.pauses(web.store, acme) == {}
    with web.store.session(read_only=True) as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.company_id == acme).order_by(AuditEntry.id)
        ).all()
    assert [a for a in actions if a.startswith("agent.")] == ["agent.pause", "agent.unpause"]
    deadline = time.monotonic() + 5.0  # published on the server's loop: wait for it
    while len(told) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [(e.extension, e.reason) for e in told] == [("1002", "lunch"), ("1002", None)]


def test_an_unknown_reason_is_refused_naming_the_companys(web: Web) -> None:
    with web.login("1002@acme.example") as bo:
        refused = bo.put("/api/v1/me/pause", json={"reason": "fika"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    assert "lunch" in refused.json()["detail"]
    acme = companies.get_company(web.store, "acme.example").id
    assert pauses.pauses(web.store, acme) == {}  # nothing lost, nothing half-done


def test_a_user_pauses_only_themselves_and_an_admin_anyone(web: Web) -> None:
    with web.login("1002@acme.example") as bo:
        other = bo.put("/api/v1/companies/acme.example/agents/1003/pause", json={})
        assert other.status_code == 403 and other.headers["content-type"] == PROBLEM
        unknown = bo.put("/api/v1/companies/acme.example/agents/1099/pause", json={})
        assert unknown.status_code == 403  # a user learns nothing of who exists
        own = bo.put("/api/v1/companies/acme.example/agents/1002/pause", json={})
        assert own.status_code == 200 and own.json()["reason"] == ""
    with web.login("1001@acme.example") as anna:
        done = anna.put("/api/v1/companies/acme.example/agents/1003/pause",
                        json={"reason": "admin"})  # fmt: skip
        assert done.status_code == 200, done.text
        missing = anna.put("/api/v1/companies/acme.example/agents/1099/pause", json={})
        assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
        assert anna.delete("/api/v1/companies/acme.example/agents/1003/pause").status_code == 204
    with web.login("2001@other.example") as olle:  # another company's admin
        foreign = olle.put("/api/v1/companies/acme.example/agents/1002/pause", json={})
        assert foreign.status_code == 404
        assert olle.delete("/api/v1/companies/acme.example/agents/1002/pause").status_code == 404
        assert olle.get("/api/v1/companies/acme.example/agents").status_code == 404
    acme = companies.get_company(web.store, "acme.example").id
    assert {ext: p.reason for ext, p in pauses.pauses(web.store, acme).items()} == {"1002": ""}


def test_without_a_switch_there_is_no_agents_list(web: Web) -> None:
    with web.login("1002@acme.example") as bo:
        answer = bo.get("/api/v1/companies/acme.example/agents")
    assert answer.status_code == 503 and answer.headers["content-type"] == PROBLEM


@pytest.fixture
def switch(tmp_path: Path, tone_prompts: Path, web: Web) -> Iterator[MemorySwitch]:
    described = variant('queue: {members: ["1002"]', 'queue: {members: ["1002"], login_code: "3"')
    made = MemorySwitch(tmp_path / "switch", tone_prompts, description=described,
                        prompts=PROMPTS, user_names=USERS)  # fmt: skip
    acme = companies.get_company(web.store, "acme.example").id
    answer = _agents(made.core)

    async def agents(company_id: int) -> object:
        # (the web's Acme is the switch's company 1; any other company is not on it)
        return answer(1 if company_id == acme else 99)

    web.context.agents = agents  # type: ignore[assignment]
    yield made
    web.context.agents = None
    made.close()


def test_the_agents_list_shows_each_agents_state_per_queue(web: Web, switch: MemorySwitch) -> None:
    bjorn, cecilia = switch.phone("1002"), switch.phone("1003")
    code(switch, bjorn, "*472")  # Björn: a break
    code(switch, cecilia, "*22*2*1530#")  # Cecilia: in a meeting until 15:30
    with web.login("1002@acme.example") as bo:
        listed = bo.get("/api/v1/companies/acme.example/agents")
    assert listed.status_code == 200, listed.text
    found = {agent["ext"]: agent for agent in listed.json()["items"]}
    assert list(found) == ["1002", "1003"]
    assert found["1002"]["name"] == "Björn"
    assert found["1002"]["paused"] is True and found["1002"]["reason"] == "break"
    assert [q["group"] for q in found["1002"]["queues"]] == ["queue", "sales", "support"]
    assert found["1003"]["state"] == {"state": "paused", "reason": "meeting", "diverted": True,
                                      "until": None}  # fmt: skip
    code(switch, bjorn, "*47")  # back
    code(switch, bjorn, "*463")  # but out of the queue
    with web.login("1001@acme.example") as anna:
        listed = anna.get("/api/v1/companies/acme.example/agents")
    again = {agent["ext"]: agent for agent in listed.json()["items"]}
    queues = {q["group"]: q for q in again["1002"]["queues"]}
    assert queues["queue"]["logged_in"] is False
    assert queues["queue"]["state"]["state"] == "logged-out"
    assert queues["sales"]["state"]["state"] == "free"
    assert again["1002"]["state"]["state"] == "free"
