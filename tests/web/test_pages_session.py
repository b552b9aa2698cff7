"""The pages' login, logout, CSRF, start page by role and security headers (S7, U9),
over real HTTP."""

from __future__ import annotations

import httpx

from tests.web.conftest import PASSWORD, Web
from tests.web.pages import csrf_of, log_in, text_of


def test_a_page_without_a_session_sends_to_the_login(web: Web) -> None:
    with httpx.Client(base_url=web.base) as client:
        response = client.get("/admin/users?q=an")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fadmin%2Fusers%3Fq%3Dan"
        page = client.get("/login")
        assert page.status_code == 200
        assert '<label for="password">' in page.text


def test_login_sets_the_same_cookie_as_the_api_and_goes_where_asked(web: Web) -> None:
    with httpx.Client(base_url=web.base) as client:
        response = client.post(
            "/login",
            data={"login": "1001@acme.example", "password": PASSWORD, "next": "/admin/calls"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/calls"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("vaxel_session=")
        for flag in ("HttpOnly", "SameSite=strict", "Path=/"):
            assert flag.lower() in cookie.lower()
        # The session is the API's too.
        assert client.get("/api/v1/me").json()["login"] == "1001@acme.example"


def test_a_wrong_password_is_shown_next_to_the_form_and_counts(web: Web) -> None:
    with httpx.Client(base_url=web.base, cookies={"vaxel_lang": "en"}) as client:
        wrong = client.post("/login", data={"login": "1002@acme.example", "password": "nope"})
        assert wrong.status_code == 401
        assert "Wrong login or password." in text_of(wrong.text)
        assert 'value="1002@acme.example"' in wrong.text  # kept, the password is not
        for _ in range(10):
            last = client.post("/login", data={"login": "1002@acme.example", "password": "x"})
        assert last.status_code == 429  # the API's limiter
        assert "try again in" in text_of(last.text)


def test_an_outside_next_is_not_followed(web: Web) -> None:
    with httpx.Client(base_url=web.base) as client:
        response = client.post(
            "/login",
            data={"login": "1002@acme.example", "password": PASSWORD, "next": "//evil.example/"},
        )
        assert response.headers["location"] == "/me"


def test_start_page_by_role(web: Web) -> None:
    for login, home in (
        ("provider@vaxel.test", "/admin/companies"),
        ("1001@acme.example", "/admin"),
        ("1002@acme.example", "/me"),
    ):
        with log_in(web, login) as client:
            assert client.get("/").headers["location"] == home
            assert client.get(home).status_code == 200


def test_navigation_by_role(web: Web) -> None:
    with log_in(web, "1002@acme.example") as user:
        page = user.get("/me").text
        assert 'href="/me"' in page and "/admin/users" not in page
        assert user.get("/admin/users").status_code == 403
        assert user.get("/admin/companies").status_code == 403
    with log_in(web, "1001@acme.example") as admin:
        page = admin.get("/admin").text
        assert 'href="/admin/users"' in page and 'href="/admin/companies"' not in page
        assert admin.get("/admin/companies").status_code == 403


def test_logout_needs_the_csrf_token(web: Web) -> None:
    with log_in(web, "1002@acme.example") as client:
        page = client.get("/me").text
        refused = client.post("/logout", data={})
        assert refused.status_code == 403
        assert "reload the page" in text_of(refused.text)
        assert client.post("/logout", data={"csrf": "not-the-token"}).status_code == 403
        assert client.get("/me").status_code == 200  # still logged in
        out = client.post("/logout", data={"csrf": csrf_of(page)})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert client.get("/me").status_code == 303  # the session has ended
        assert client.get("/api/v1/me").status_code == 401


def test_every_form_of_a_page_carries_the_token(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        for path in ("/admin/users/new", "/admin/users/1002", "/me"):
            page = client.get(path).text
            forms = page.count('method="post"')
            assert forms >= 2, path
            assert page.count(f'name="csrf" value="{csrf_of(page)}"') == forms, path


def test_pages_carry_a_strict_content_security_policy(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        for path in ("/admin", "/admin/users", "/me", "/login"):
            response = client.get(path)
            policy = response.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy
            assert "frame-ancestors 'none'" in policy
            assert response.headers["cache-control"] == "no-store"
            assert "<script>" not in response.text  # no inline script at all
            assert " style=" not in response.text


def test_language_is_chosen_per_person_with_the_company_default(web: Web) -> None:
    with log_in(web, "1002@acme.example", lang="") as client:
        client.cookies.delete("vaxel_lang")
        assert "Min status" in client.get("/me").text  # acme's language: sv (the default)
        chosen = client.get("/language", params={"lang": "en", "next": "/me"})
        assert chosen.headers["location"] == "/me"
        client.cookies.set("vaxel_lang", chosen.cookies["vaxel_lang"])
        assert "My status" in client.get("/me").text


def test_user_text_is_escaped(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        page = client.get("/admin/users/1002").text
        response = client.post(
            "/admin/users/1002",
            data={"csrf": csrf_of(page), "name": "<script>alert(1)</script>", "ring_time": "30",
                  "caller_id.show": "main", "web.role": "user"},
        )  # fmt: skip
        assert response.status_code == 303, response.text
        shown = client.get("/admin/users").text
        assert "<script>alert(1)</script>" not in shown
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown


def test_before_login_the_browser_language_is_used(web: Web) -> None:
    with httpx.Client(base_url=web.base) as client:
        english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
        assert "<h1>Log in</h1>" in english.text and 'lang="en"' in english.text
        swedish = client.get("/login", headers={"Accept-Language": "sv-SE"})
        assert "<h1>Logga in</h1>" in swedish.text


def test_htmx_without_a_session_is_sent_to_the_login_page_whole(web: Web) -> None:
    with httpx.Client(base_url=web.base) as client:
        response = client.get("/admin/users?q=a", headers={"HX-Request": "true"})
        assert response.status_code == 204
        assert response.headers["hx-redirect"] == "/login?next=%2Fadmin%2Fusers%3Fq%3Da"


def test_another_sites_login_form_is_refused(web: Web) -> None:
    with httpx.Client(base_url=web.base) as client:
        response = client.post(
            "/login",
            data={"login": "1002@acme.example", "password": PASSWORD},
            headers={"Origin": "https://evil.example"},
        )
        assert response.status_code == 403 and "set-cookie" not in response.headers
        ours = client.post(
            "/login",
            data={"login": "1002@acme.example", "password": PASSWORD},
            headers={"Origin": web.base},
        )
        assert ours.status_code == 303
