"""Tenant isolation (P8, O2): an admin of one company gets 404 for every resource of
another, exactly as for one that does not exist, by every method, through the API and
its file downloads (CSV)."""

from __future__ import annotations

import pytest

from tests.web.conftest import BOTH_DATABASES, Web
from tests.web.pages import csrf_of, log_in
from vaxel.services import configuration

pytestmark = BOTH_DATABASES

# Every company-scoped resource, read and written.
RESOURCES = [
    ("GET", "/api/v1/companies/{d}"),
    ("GET", "/api/v1/companies/{d}/config"),
    ("PUT", "/api/v1/companies/{d}/config"),
    ("GET", "/api/v1/companies/{d}/settings"),
    ("PUT", "/api/v1/companies/{d}/settings"),
    ("GET", "/api/v1/companies/{d}/users"),
    ("POST", "/api/v1/companies/{d}/users"),
    ("GET", "/api/v1/companies/{d}/users/2001"),
    ("PUT", "/api/v1/companies/{d}/users/2001"),
    ("DELETE", "/api/v1/companies/{d}/users/2001"),
    ("PUT", "/api/v1/companies/{d}/users/2001/account"),
    ("GET", "/api/v1/companies/{d}/calls"),
    ("GET", "/api/v1/companies/{d}/calls.csv"),
    ("GET", "/api/v1/companies/{d}/statistics/queues"),
    ("GET", "/api/v1/companies/{d}/audit"),
    ("GET", "/api/v1/companies/{d}/audit.csv"),
    ("GET", "/api/v1/companies/{d}/diversions"),
    ("PUT", "/api/v1/companies/{d}/users/2001/diversion"),
    ("DELETE", "/api/v1/companies/{d}/users/2001/diversion"),
    ("GET", "/api/v1/companies/{d}/numbers"),
    ("PUT", "/api/v1/companies/{d}/menus/main"),
    ("GET", "/api/v1/companies/{d}/schedules/office/preview"),
    ("GET", "/api/v1/companies/{d}/groups/sales/members"),
    ("GET", "/api/v1/companies/{d}/number-ranges"),
    ("GET", "/api/v1/companies/{d}/voicemail/2001/messages"),
    ("GET", "/api/v1/companies/{d}/voicemail/2001/messages/1/audio"),
    ("DELETE", "/api/v1/companies/{d}/voicemail/2001/messages/1"),
    ("GET", "/api/v1/companies/{d}/prompts/welcome/audio"),
    ("POST", "/api/v1/companies/{d}/prompts/preview"),
]

BODIES = {
    "/api/v1/companies/{d}/config": {"company": {"domain": "other.example", "name": "Mine"}},
    "/api/v1/companies/{d}/settings": {"domain": "other.example", "name": "Mine"},
    "/api/v1/companies/{d}/users": {"ext": "2002", "name": "Spy", "password": "spy-password"},
    "/api/v1/companies/{d}/users/2001": {"ext": "2001", "name": "Hijacked"},
    "/api/v1/companies/{d}/users/2001/account": {"password": "taken over!", "role": "admin"},
    "/api/v1/companies/{d}/users/2001/diversion": {"text": "Lunch"},
    "/api/v1/companies/{d}/menus/main": {"prompt": "x", "keys": {}},
    "/api/v1/companies/{d}/prompts/preview": {"text": "hej"},
}


@pytest.mark.parametrize("login", ["1001@acme.example", "1002@acme.example"])
def test_another_companys_resources_do_not_exist(web: Web, login: str) -> None:
    with web.login(login) as client:
        for method, template in RESOURCES:
            kwargs: dict[str, object] = {"headers": {"If-Match": "*"}}
            if template in BODIES and method in ("PUT", "POST"):
                kwargs["json"] = BODIES[template]
            theirs = client.request(method, template.format(d="other.example"), **kwargs)
            unknown = client.request(method, template.format(d="nowhere.example"), **kwargs)
            assert theirs.status_code == 404, (method, template, theirs.text)
            assert theirs.json()["detail"] == 'no company "other.example"'
            assert unknown.json()["detail"] == 'no company "nowhere.example"'
            assert "Olle" not in theirs.text
    # Nothing of theirs changed.
    with web.login("2001@other.example") as owner:
        user = owner.get("/api/v1/companies/other.example/users/2001").json()["user"]
        assert user["name"] == "Olle Other"
        assert owner.get("/api/v1/companies/other.example/diversions").json()["items"] == []
        assert owner.get("/api/v1/companies/other.example/audit").json()["items"] == []


def test_a_token_is_as_confined_as_its_owner(web: Web) -> None:
    with web.token("1001@acme.example", ["read", "write"]) as client:
        assert client.get("/api/v1/companies/acme.example/users").status_code == 200
        assert client.get("/api/v1/companies/other.example/users").status_code == 404


def test_the_provider_reaches_every_company(web: Web) -> None:
    with web.login("provider@vaxel.test") as provider:
        for domain in ("acme.example", "other.example"):
            assert provider.get(f"/api/v1/companies/{domain}/users").status_code == 200
            assert provider.get(f"/api/v1/companies/{domain}/config").status_code == 200


# The pages of another company's resources (S7): 404 for its admin's pages, as for a
# company that does not exist; a user meets 403 on every admin page, whichever company.
PAGES = [
    ("GET", "/admin/company?company={d}"),
    ("POST", "/admin/company?company={d}"),
    ("GET", "/admin/config?company={d}"),
    ("GET", "/admin/config.yaml?company={d}"),
    ("POST", "/admin/config?company={d}"),
    ("GET", "/admin/users/2001?company={d}"),
    ("GET", "/admin/users/2001/remove?company={d}"),
    ("POST", "/admin/users/2001/remove?company={d}"),
    ("GET", "/provider/companies/{d}"),
    ("GET", "/provider/companies/{d}/trunks/new"),
    ("POST", "/provider/companies/{d}/ranges"),
    ("POST", "/provider/companies/{d}/outbound"),
    ("POST", "/provider/companies/{d}/mail"),
    ("POST", "/provider/companies/{d}/sms"),
    ("POST", "/provider/companies/{d}/admins"),
    ("POST", "/provider/companies/{d}/trunks/new"),
]


@pytest.mark.parametrize("login", ["1001@acme.example", "1002@acme.example"])
def test_another_companys_pages_do_not_exist(web: Web, login: str) -> None:
    with log_in(web, login) as client:
        csrf = csrf_of(client.get("/tokens").text)
        data = {"csrf": csrf, "name": "Mine", "body": "company: {domain: x, name: y}",
                "ext": "2001", "first": "+46812345600", "host": "192.0.2.1"}  # fmt: skip
        for method, template in PAGES:
            for domain in ("other.example", "nowhere.example"):
                path = template.format(d=domain)
                response = client.request(method, path, data=data if method == "POST" else None)
                wanted = (404,) if login.startswith("1001") or "/provider" in path else (403,)
                assert response.status_code in wanted, (method, path, response.status_code)
                assert "Olle" not in response.text and "Other AB" not in response.text
    theirs, _ = configuration.export_data(web.store, "other.example")
    assert theirs["company"] == {"domain": "other.example", "name": "Other AB"}
