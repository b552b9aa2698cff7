"""The service provider's administrators (P1, S7): listed, added and removed by a provider
admin through the API and the page, never oneself; a removed admin's session ends; a
company admin or user gets 403; each change in the provider's audit log."""

from __future__ import annotations

import pytest

from tests.web.conftest import Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.services import audit

PROVIDER = "provider@vaxel.test"


def test_the_provider_adds_lists_and_removes_an_admin_through_the_api(web: Web) -> None:
    with web.login(PROVIDER) as client:
        bad = client.post("/api/v1/admins", json={"email": "not an address", "password": "x" * 12})
        assert bad.status_code == 422 and "e-mail" in bad.json()["detail"]
        short = client.post("/api/v1/admins", json={"email": "eva@vaxel.test", "password": "x"})
        assert short.status_code == 422 and "password" in short.json()["detail"]
        made = client.post(
            "/api/v1/admins", json={"email": "Eva@Vaxel.test", "password": "a long password"}
        )
        assert made.status_code == 201, made.text
        eva = made.json()
        assert eva["email"] == "eva@vaxel.test" and "password" not in eva
        again = client.post(
            "/api/v1/admins", json={"email": "eva@vaxel.test", "password": "a long password"}
        )
        assert again.status_code == 409
        listed = client.get("/api/v1/admins").json()["items"]
        assert [a["email"] for a in listed] == ["eva@vaxel.test", PROVIDER]
        with web.login("eva@vaxel.test", "a long password") as eva_client:
            assert eva_client.get("/api/v1/companies").status_code == 200
            me = next(a for a in listed if a["email"] == PROVIDER)
            myself = client.delete(f"/api/v1/admins/{me['id']}")
            assert myself.status_code == 422 and "yourself" in myself.json()["detail"]
            assert client.delete(f"/api/v1/admins/{eva['id']}").status_code == 204
            assert eva_client.get("/api/v1/companies").status_code == 401  # her session ended
        assert client.delete(f"/api/v1/admins/{eva['id']}").status_code == 404
    actions = [(e.action, e.target) for e in audit.entries(web.store, None, limit=5)]
    assert ("admin.create", "eva@vaxel.test") in actions
    assert ("admin.delete", "eva@vaxel.test") in actions


@pytest.mark.parametrize("login", ["1001@acme.example", "1002@acme.example"])
def test_no_one_else_sees_or_changes_the_providers_admins(web: Web, login: str) -> None:
    with web.login(login) as client:
        assert client.get("/api/v1/admins").status_code == 403
        made = client.post("/api/v1/admins", json={"email": "x@y.test", "password": "x" * 12})
        assert made.status_code == 403
    with log_in(web, login) as browser:
        assert browser.get("/admin/admins").status_code == 403
        assert 'href="/admin/admins"' not in browser.get("/").text


@pytest.mark.parametrize(("lang", "added"), [("en", "Administrator added."),
                                             ("sv", "Administratören är tillagd.")])  # fmt: skip
def test_the_page_adds_and_removes_an_admin(web: Web, lang: str, added: str) -> None:
    with log_in(web, PROVIDER, lang=lang) as browser:
        page = browser.get("/admin/admins").text
        assert PROVIDER in text_of(page) and "/remove" not in page  # not oneself
        csrf = csrf_of(page)
        refused = browser.post("/admin/admins", data={"csrf": csrf, "email": "eva@vaxel.test",
                                                      "password": "short"})  # fmt: skip
        assert refused.status_code == 422
        assert "password too short" in text_of(refused.text)
        assert 'value="eva@vaxel.test"' in refused.text  # what was typed is kept
        forged = browser.post("/admin/admins", data={"csrf": "forged", "email": "x@y.test",
                                                     "password": "a long password"})  # fmt: skip
        assert forged.status_code == 403
        made = browser.post("/admin/admins", data={"csrf": csrf, "email": "eva@vaxel.test",
                                                   "password": "a long password"})  # fmt: skip
        assert made.status_code == 303
        page = browser.get(made.headers["location"]).text
        assert added in text_of(page) and "eva@vaxel.test" in text_of(page)
        eva = next(a for a in web.login(PROVIDER).get("/api/v1/admins").json()["items"]
                   if a["email"] == "eva@vaxel.test")  # fmt: skip
        removed = browser.post(f"/admin/admins/{eva['id']}/remove", data={"csrf": csrf})
        assert removed.status_code == 303
        assert "eva@vaxel.test" not in text_of(browser.get("/admin/admins").text)
