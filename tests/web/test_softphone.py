"""U1, O2: `GET /api/v1/me/softphone`, the browser softphone's own SIP credential."""

from __future__ import annotations

import hashlib
import re

from tests.web.conftest import PASSWORD, SIP_PASSWORD, Web
from vaxel.services import users
from vaxel.services.companies import get_company


def _desk_ha1(ext: str) -> str:
    return hashlib.md5(f"{ext}:acme.example:{SIP_PASSWORD}".encode()).hexdigest()


def test_the_softphone_gets_a_credential_of_its_own_never_the_desk_one(web: Web) -> None:
    with web.login("1002@acme.example") as bo:
        first = bo.get("/api/v1/me/softphone")
        again = bo.get("/api/v1/me/softphone")
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    body = first.json()
    assert {k: v for k, v in body.items() if k != "ha1"} == {
        "uri": "sip:1002@acme.example",
        "authorization_user": "1002-web",
        "realm": "acme.example",
        "ws_path": "/ws",
        "display_name": "Bo User",
        "extension": "1002",
        "domain": "acme.example",
        "caller_ids": {"main": "+46812345600"},  # what Bo's calls may show (U8)
    }
    assert re.fullmatch(r"[0-9a-f]{32}", body["ha1"])
    assert again.json() == body  # made once, then the same
    assert SIP_PASSWORD not in first.text and _desk_ha1("1002") not in first.text
    found = users.find_sip_user(web.store, "acme.example", "1002")
    assert found is not None and found.web_ha1 is not None
    assert found.web_ha1["MD5"] == body["ha1"] and found.ha1["MD5"] == _desk_ha1("1002")


def test_each_user_gets_their_own_and_a_provider_admin_none(web: Web) -> None:
    with web.login("1001@acme.example") as anna:
        annas = anna.get("/api/v1/me/softphone").json()
    with web.login("2001@other.example") as olle:
        olles = olle.get("/api/v1/me/softphone").json()
    with web.login("provider@vaxel.test") as provider:
        none = provider.get("/api/v1/me/softphone")
    with web.client() as nobody:
        anonymous = nobody.get("/api/v1/me/softphone")
    assert annas["authorization_user"] == "1001-web" and olles["realm"] == "other.example"
    assert annas["ha1"] != olles["ha1"]
    assert none.status_code == 404 and anonymous.status_code == 401


def test_a_token_needs_the_calls_scope(web: Web) -> None:
    with web.token("1002@acme.example", ["read", "write"]) as reader:
        refused = reader.get("/api/v1/me/softphone")
    with web.token("1002@acme.example", ["read", "calls"]) as caller:
        given = caller.get("/api/v1/me/softphone")
    assert refused.status_code == 403 and "'calls'" in refused.json()["detail"]
    assert "ha1" not in refused.text
    assert given.status_code == 200 and given.json()["authorization_user"] == "1002-web"


def test_logging_out_everywhere_or_a_new_password_revokes_it(web: Web) -> None:
    company = get_company(web.store, "acme.example").id

    def web_ha1() -> str | None:
        found = users.find_sip_user(web.store, "acme.example", "1002")
        return found.web_ha1["MD5"] if found and found.web_ha1 else None

    with web.login("1002@acme.example") as bo:
        first = bo.get("/api/v1/me/softphone").json()["ha1"]
        assert bo.post("/api/v1/logout-everywhere").status_code == 200
    assert web_ha1() is None
    with web.login("1002@acme.example") as bo:
        second = bo.get("/api/v1/me/softphone").json()["ha1"]
        changed = bo.put("/api/v1/me/password", json={"current": PASSWORD, "new": "a new one!"})
        assert changed.status_code == 204
    assert second != first and web_ha1() is None
    assert users.browser_credential(web.store, company, "1002")[2] not in (first, second)


def test_the_credential_is_not_in_the_users_list_or_the_exported_description(web: Web) -> None:
    with web.login("1001@acme.example") as anna:
        ha1 = anna.get("/api/v1/me/softphone").json()["ha1"]
        listed = anna.get("/api/v1/companies/acme.example/users")
        exported = anna.get("/api/v1/companies/acme.example/config")
    assert listed.status_code == 200 and ha1 not in listed.text
    assert exported.status_code == 200 and ha1 not in exported.text
