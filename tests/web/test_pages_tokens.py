"""API tokens from the browser (P8, O2), for a user, a company admin and the provider:
made with a name and scopes, shown exactly once, working with the API as made, listed
with when they were last used, and revoked; each change audited."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import Client, Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.services import audit
from vaxel.services.companies import get_company


def _token_of(page: str) -> str:
    found = re.search(r'<input id="made" type="text" readonly value="([^"]+)"', page)
    assert found is not None, text_of(page)
    return found.group(1)


def _make(client: Client, name: str, scopes: list[str]) -> tuple[int, str]:
    csrf = csrf_of(client.get("/tokens").text)
    made = client.post("/tokens", data={"csrf": csrf, "name": name, "scopes": scopes})
    return made.status_code, made.text


@pytest.mark.parametrize(
    ("login", "api"),
    [("1002@acme.example", "/api/v1/me/settings"),
     ("1001@acme.example", "/api/v1/companies/acme.example/users"),
     ("provider@vaxel.test", "/api/v1/companies")],
)  # fmt: skip
def test_every_account_makes_uses_and_revokes_a_token(web: Web, login: str, api: str) -> None:
    with log_in(web, login) as client:
        assert 'href="/tokens"' in client.get("/tokens").text  # in the navigation
        status, page = _make(client, "backup script", ["read"])
        assert status == 200 and "The token backup script is made." in text_of(page)
        token = _token_of(page)
        assert "shown only this once" in text_of(page)
        listed = client.get("/tokens").text
        assert "backup script" in listed and token not in listed  # never shown again
        assert "never" in text_of(listed)
        with Client(base_url=web.base, timeout=30,
                    headers={"Authorization": f"Bearer {token}"}) as program:  # fmt: skip
            assert program.get(api).status_code == 200
            write = program.post("/api/v1/tokens", json={"name": "x", "scopes": ["write"]})
            assert write.status_code == 403  # read only, as made
            listed = text_of(client.get("/tokens").text)
            assert "never" not in listed  # last used: now
            token_id = re.search(r'action="/tokens/(\d+)/revoke"', client.get("/tokens").text)
            assert token_id is not None
            csrf = csrf_of(client.get("/tokens").text)
            revoked = client.post(f"/tokens/{token_id.group(1)}/revoke", data={"csrf": csrf})
            assert (
                revoked.status_code == 303 and revoked.headers["location"] == "/tokens?done=revoked"
            )
            assert "it no longer works" in text_of(client.get("/tokens?done=revoked").text)
            assert program.get(api).status_code == 401
    domain = login.split("@")[1]
    company_id = None if domain == "vaxel.test" else get_company(web.store, domain).id
    if company_id is not None:
        actions = [e.action for e in audit.entries(web.store, company_id, limit=5)]
        assert actions[:2] == ["token.revoke", "token.create"]


def test_a_token_needs_a_name_and_a_scope(web: Web) -> None:
    with log_in(web, "1002@acme.example") as client:
        status, page = _make(client, "", [])
        assert status == 422
        assert "name: give the token a name" in text_of(page)
        assert "scopes: choose at least one scope" in text_of(page)
        assert 'id="made"' not in page
        status, page = _make(client, "x", ["admin"])
        assert status == 422 and "choose at least one scope" in text_of(page)
        assert "You have no API tokens." in text_of(client.get("/tokens").text)


def test_tokens_are_the_accounts_own(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        assert _make(admin, "admins", ["read", "write"])[0] == 200
        mine = re.search(r'action="/tokens/(\d+)/revoke"', admin.get("/tokens").text)
        assert mine is not None
    with log_in(web, "1002@acme.example") as user:
        assert "admins" not in user.get("/tokens").text
        csrf = csrf_of(user.get("/tokens").text)
        other = user.post(f"/tokens/{mine.group(1)}/revoke", data={"csrf": csrf})
        assert other.status_code == 404
        forged = user.post("/tokens", data={"csrf": "forged", "name": "x", "scopes": ["read"]})
        assert forged.status_code == 403
    with log_in(web, "1001@acme.example") as admin:
        assert "admins" in admin.get("/tokens").text
    assert (
        Client(base_url=web.base, timeout=30, follow_redirects=False)
        .get("/tokens")
        .headers["location"]
        .startswith("/login")
    )
