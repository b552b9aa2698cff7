"""Logging in and out, CSRF, lockout and API tokens (P8), over real HTTP."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, Web


def test_login_sets_a_strict_httponly_cookie_and_returns_the_csrf_token(web: Web) -> None:
    with web.client() as client:
        response = client.post(
            "/api/v1/login", json={"login": "1001@ACME.example ", "password": PASSWORD}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["role"] == "admin" and body["extension"] == "1001"
        assert body["domain"] == "acme.example" and body["name"] == "Anna Admin"
        assert len(body["csrf_token"]) >= 40
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
        assert client.get("/api/v1/me").json()["login"] == "1001@acme.example"


def test_a_provider_admin_logs_in_with_their_email(web: Web) -> None:
    with web.login("Provider@vaxel.test") as client:
        me = client.get("/api/v1/me").json()
    assert me == {"login": "provider@vaxel.test", "role": "provider", "name": "provider@vaxel.test",
                  "domain": None, "extension": None, "email": "provider@vaxel.test"}  # fmt: skip


def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(web: Web) -> None:
    with web.client() as client:
        answers = [
            client.post("/api/v1/login", json={"login": login, "password": "wrong password"})
            for login in ("1001@acme.example", "9999@acme.example", "nobody@vaxel.test")
        ]
    assert {a.status_code for a in answers} == {401}
    assert {a.headers["content-type"] for a in answers} == {"application/problem+json"}
    assert {a.json()["detail"] for a in answers} == {"wrong login or password"}


def test_a_user_without_a_web_password_cannot_log_in(web: Web) -> None:
    """1003 has a SIP password only: it never opens the web."""
    with web.client() as client:
        response = client.post(
            "/api/v1/login", json={"login": "1003@acme.example", "password": "sip-secret-1"}
        )
    assert response.status_code == 401


def test_a_change_without_the_csrf_token_is_refused(web: Web) -> None:
    with web.login("1001@acme.example") as client:
        token = client.headers.pop("X-CSRF-Token")
        refused = client.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]})
        client.headers["X-CSRF-Token"] = token[:-1] + ("A" if token[-1] != "A" else "B")
        wrong = client.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]})
        client.headers["X-CSRF-Token"] = token
        accepted = client.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]})
    assert refused.status_code == wrong.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    assert accepted.status_code == 201


def test_logout_ends_the_session_and_logout_everywhere_ends_them_all(web: Web) -> None:
    first, second, third = (web.login("1002@acme.example") for _ in range(3))
    with first, second, third:
        assert first.post("/api/v1/logout").status_code == 204
        assert first.get("/api/v1/me").status_code == 401
        assert second.get("/api/v1/me").status_code == 200
        ended = second.post("/api/v1/logout-everywhere")
        assert ended.status_code == 200 and ended.json() == {"sessions_ended": 2}
        assert second.get("/api/v1/me").status_code == 401
        assert third.get("/api/v1/me").status_code == 401


def test_guessing_locks_the_account_but_not_for_a_place_it_logged_in_from(web: Web) -> None:
    """Five wrong passwords lock 1002 (never logged in from here) even with the right
    one; 1001, who logged in from this address before, is not locked out by guessing."""
    with web.client() as client:

        def attempt(login: str, password: str) -> int:
            response = client.post("/api/v1/login", json={"login": login, "password": password})
            return response.status_code

        assert attempt("1001@acme.example", PASSWORD) == 200
        for _ in range(5):
            assert attempt("1001@acme.example", "guess guess") == 401
        assert attempt("1001@acme.example", PASSWORD) == 200

        for _ in range(5):
            assert attempt("1002@acme.example", "guess guess") == 401
        locked = client.post(
            "/api/v1/login", json={"login": "1002@acme.example", "password": PASSWORD}
        )
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0
        assert "too many failed logins" in locked.json()["detail"]


def test_a_token_is_shown_once_works_by_bearer_and_stops_when_revoked(web: Web) -> None:
    with web.login("1001@acme.example") as session:
        made = session.post("/api/v1/tokens", json={"name": "crm", "scopes": ["read", "write"]})
        assert made.status_code == 201
        token = made.json()["token"]
        listed = session.get("/api/v1/tokens").json()["items"]
        assert [t["name"] for t in listed] == ["crm"] and "token" not in listed[0]
        bearer = {"Authorization": f"Bearer {token}"}
        with web.client() as client:
            assert client.get("/api/v1/me", headers=bearer).json()["login"] == "1001@acme.example"
            # No CSRF token for a bearer: no browser sends it by itself.
            assert client.post("/api/v1/logout-everywhere", headers=bearer).status_code == 200
            assert session.delete(f"/api/v1/tokens/{made.json()['id']}").status_code == 401
        with web.login("1001@acme.example") as again:
            assert again.delete(f"/api/v1/tokens/{made.json()['id']}").status_code == 204
        with web.client() as client:
            revoked = client.get("/api/v1/me", headers=bearer)
    assert revoked.status_code == 401
    assert revoked.headers["www-authenticate"].startswith("Bearer")


def test_a_read_token_cannot_change_anything_nor_make_a_stronger_token(web: Web) -> None:
    with web.token("1001@acme.example", ["read"]) as reader:
        assert reader.get("/api/v1/companies/acme.example/users").status_code == 200
        refused = reader.post("/api/v1/tokens", json={"name": "more", "scopes": ["write"]})
        assert refused.status_code == 403
        put = reader.put(
            "/api/v1/companies/acme.example/config", json={}, headers={"If-Match": "*"}
        )
    assert put.status_code == 403 and "scope" in put.json()["detail"]


def test_unknown_scopes_and_bad_bodies_get_their_message(web: Web) -> None:
    with web.login("1001@acme.example") as session:
        bad_scope = session.post("/api/v1/tokens", json={"name": "x", "scopes": ["admin"]})
        no_name = session.post("/api/v1/tokens", json={"scopes": ["read"]})
    assert bad_scope.status_code == 422 and "scopes must be some of" in bad_scope.json()["detail"]
    assert no_name.status_code == 422 and no_name.json()["errors"] == ["name: Field required"]


def test_changing_ones_password_needs_the_current_one_and_ends_other_sessions(web: Web) -> None:
    with web.login("1002@acme.example") as session, web.login("1002@acme.example") as other:
        wrong = session.put("/api/v1/me/password", json={"current": "nope", "new": "x" * 10})
        assert wrong.status_code == 403
        short = session.put("/api/v1/me/password", json={"current": PASSWORD, "new": "short"})
        assert short.status_code == 422 and "too short" in short.json()["detail"]
        done = session.put(
            "/api/v1/me/password", json={"current": PASSWORD, "new": "a new passphrase"}
        )
        assert done.status_code == 204
        assert other.get("/api/v1/me").status_code == 401
    web.login("1002@acme.example", "a new passphrase").close()


def test_health_for_anyone_and_metrics_for_the_provider(web: Web) -> None:
    with web.client() as anyone:
        assert anyone.get("/api/v1/health").json() == {"status": "ok"}
        assert anyone.get("/api/v1/metrics").status_code == 401
    with web.login("1001@acme.example") as admin:
        assert admin.get("/api/v1/metrics").status_code == 403
    with web.login("provider@vaxel.test") as provider:
        metrics = provider.get("/api/v1/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
