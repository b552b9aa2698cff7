"""The operator console's API (A16): who may use it, the settings and shortcuts, the
colleagues to search, and how the switch's answers and refusals read over HTTP. The
switch is stood in for by a recorder here; the console's actions themselves are tested
in memory (tests/features/test_console.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import Web
from vaxel.features.console import ConsoleCall
from vaxel.features.transfer import TransferError
from vaxel.services import companies, configuration, diversions

SCOPES = ["read", "write", "calls"]


@pytest.fixture
def asked(web: Web) -> Iterator[list[tuple[Any, ...]]]:
    """What the web asked the stand-in switch."""
    seen: list[tuple[Any, ...]] = []

    async def console(
        company_id: int, operator: str, action: str, call_id: str, to: str
    ) -> tuple[str, object]:
        if action == "calls":
            seen.append((action, operator, company_id))
            return "ok", [ConsoleCall("c1", "queued", "+46701740605", "", 12.5, "sales", True)]
        if action == "busy":
            return "ok", ["1003"]
        seen.append((action, operator, call_id, to))
        if call_id == "gone":
            return "refused", (404, "no such call")
        return "ok", {"call_id": call_id}

    async def transfer(
        company_id: int, call_id: str, requester: str | None, party: str | None,
        admin: bool, to: str,
    ) -> tuple[str, str, str]:  # fmt: skip
        seen.append(("transfer", requester, call_id, to))
        if to == "404":
            raise TransferError(404, "no such user")
        return party or "", "+46701740605", to

    web.context.console = console
    web.context.transfer = transfer
    yield seen
    web.context.console = None
    web.context.transfer = None


def describe(web: Web, **sections: Any) -> None:
    data, _ = configuration.export_data(web.store, "acme.example")
    data.update(sections)
    configuration.apply_config(web.store, configuration.parse_config(data))


def test_admins_and_named_operators_only(web: Web, asked: list[tuple[Any, ...]]) -> None:
    with web.token("1002@acme.example", SCOPES) as bo:
        assert bo.get("/api/v1/console/calls").status_code == 403
        assert bo.post("/api/v1/console/calls/c1/answer").status_code == 403
    describe(web, console={"operators": ["1002"]})
    with web.token("1002@acme.example", SCOPES) as bo:
        calls = bo.get("/api/v1/console/calls")
        assert calls.status_code == 200, calls.text
        assert calls.json()["items"][0] == {
            "call_id": "c1", "state": "queued", "caller": "+46701740605", "caller_name": "",
            "waited": 12.5, "where": "sales", "answerable": True,
        }  # fmt: skip
    with web.token("1001@acme.example", SCOPES) as anna:  # an admin
        assert anna.get("/api/v1/console/calls").status_code == 200
    with web.token("2001@other.example", SCOPES) as olle:  # the other company's admin
        assert olle.get("/api/v1/console/calls").status_code == 200  # (his company's calls)
    with web.login("provider@vaxel.test") as provider:
        assert provider.get("/api/v1/console/calls").status_code == 404
    acme = companies.get_company(web.store, "acme.example").id
    other = companies.get_company(web.store, "other.example").id
    assert [a[:3] for a in asked] == [
        ("calls", "1002", acme), ("calls", "1001", acme), ("calls", "2001", other),
    ]  # fmt: skip


def test_without_a_switch_it_is_503(web: Web) -> None:
    with web.token("1001@acme.example", SCOPES) as anna:
        assert anna.get("/api/v1/console/calls").status_code == 503
        assert anna.post("/api/v1/console/calls/c1/answer").status_code == 503


def test_settings_give_the_shortcuts_and_the_park_orbits(web: Web) -> None:
    describe(web, console={"shortcuts": {"answer": "Ctrl+Shift+A"}}, park={"orbits": 3})
    with web.token("1001@acme.example", SCOPES) as anna:
        got = anna.get("/api/v1/console").json()
    assert got["operator"] == "1001" and got["park"] == "700"
    assert got["orbits"] == ["701", "702", "703"]
    assert got["shortcuts"]["answer"] == "Ctrl+Shift+A" and got["shortcuts"]["transfer"] == "F3"


def test_the_actions_go_to_the_switch_as_the_operator(
    web: Web, asked: list[tuple[Any, ...]]
) -> None:
    describe(web, park={})
    with web.token("1001@acme.example", SCOPES) as anna:
        assert anna.post("/api/v1/console/calls/c1/answer").status_code == 202
        assert anna.post("/api/v1/console/calls/gone/answer").status_code == 404
        consulted = anna.post("/api/v1/console/calls/c1/consult", json={"to": " 1003 "})
        assert consulted.status_code == 202
        assert anna.post("/api/v1/console/calls/c1/complete").status_code == 200
        assert anna.post("/api/v1/console/calls/c1/back").status_code == 200
        blind = anna.post("/api/v1/console/calls/c1/transfer", json={"to": "1003"})
        assert blind.status_code == 202 and blind.json()["detail"]["to"] == "1003"
        refused = anna.post("/api/v1/console/calls/c1/transfer", json={"to": "404"})
        assert refused.status_code == 404
        assert anna.post("/api/v1/console/calls/c1/park").status_code == 202
        assert anna.post("/api/v1/console/orbits/799/retrieve").status_code == 404
    with web.token("1001@acme.example", ["read"]) as reader:
        assert reader.post("/api/v1/console/calls/c1/answer").status_code == 403
    assert asked == [
        ("answer", "1001", "c1", ""), ("answer", "1001", "gone", ""),
        ("consult", "1001", "c1", "1003"), ("complete", "1001", "c1", ""),
        ("back", "1001", "c1", ""), ("transfer", "1001", "c1", "1003"),
        ("transfer", "1001", "c1", "404"), ("transfer", "1001", "c1", "700"),
    ]  # fmt: skip


def test_colleagues_with_line_diversion_and_contact_links(
    web: Web, asked: list[tuple[Any, ...]]
) -> None:
    data, _ = configuration.export_data(web.store, "acme.example")
    data["users"][1]["mobile"] = "+46701234567"
    data["users"][1]["voicemail"] = {"email": "bo@acme.example"}
    configuration.apply_config(web.store, configuration.parse_config(data))
    company = companies.get_company(web.store, "acme.example").id
    diversions.set_diversion(web.store, company, "1002", status="lunch", until=None,
                             now=web.context.now())  # fmt: skip
    with web.token("1001@acme.example", SCOPES) as anna:
        got = anna.get("/api/v1/console/colleagues").json()["items"]
    by_ext = {c["ext"]: c for c in got}
    assert set(by_ext) == {"1001", "1002", "1003"}
    bo = by_ext["1002"]
    assert (bo["email"], bo["mobile"], bo["calendar"]) == ("bo@acme.example", "+46701234567", None)
    assert bo["diversion"]["status"] == "lunch"
    assert by_ext["1003"]["line"] == "talking" and by_ext["1001"]["line"] == "idle"
