"""The company admin's and the provider's pages (S7, P1), over real HTTP: users listed,
searched, added and changed through the description (the same errors with the same
paths as `vaxel config apply`), isolation between companies, calls and the audit log."""

from __future__ import annotations

import html

from tests.web.conftest import PASSWORD, Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.services import accounts, configuration, users


def _user_of(web: Web, ext: str) -> dict[str, object]:
    data, _ = configuration.export_data(web.store, "acme.example")
    return next(user for user in data["users"] if user["ext"] == ext)


def test_dashboard_shows_users_numbers_and_calls(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        page = text_of(client.get("/admin").text)
        assert "Acme AB" in page and "+46812345600" in page
        assert "Users 3" in page


def test_users_are_listed_and_searched_as_one_types(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        page = client.get("/admin/users").text
        assert "Anna Admin" in page and "Cia Colleague" in page
        assert 'hx-get="/admin/users"' in page
        rows = client.get("/admin/users", params={"q": "cia"}, headers={"HX-Request": "true"})
        assert "Cia Colleague" in rows.text and "Bo User" not in rows.text
        assert "<html" not in rows.text  # only the rows, for htmx to swap in
        assert "Olle Other" not in client.get("/admin/users", params={"q": "olle"}).text


def test_an_admin_adds_a_user_with_a_web_login(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        form = client.get("/admin/users/new").text
        response = client.post(
            "/admin/users/new",
            data={"csrf": csrf_of(form), "ext": "1004", "name": "Dan Dahl", "ring_time": "25",
                  "password": "sip-secret-4", "forwarding.busy": "1002",
                  "caller_id.show": "main", "voicemail.enabled": "on", "web.role": "user",
                  "web.password": "a web password"},
        )  # fmt: skip
        assert response.status_code == 303, text_of(response.text)
        assert response.headers["location"] == "/admin/users/1004?done=created"
        shown = client.get(response.headers["location"]).text
        assert "The user was added." in text_of(shown)
        assert "sip-secret-4" not in shown and "a web password" not in shown
    entry = _user_of(web, "1004")
    assert entry["ring_time"] == 25 and entry["forwarding"] == {"busy": "1002"}
    assert users.find_sip_user(web.store, "acme.example", "1004") is not None
    assert accounts.authenticate(web.store, "1004@acme.example", "a web password") is not None
    with log_in(web, "1004@acme.example", "a web password") as dan:
        assert dan.get("/").headers["location"] == "/me"


def test_a_bad_value_is_shown_next_to_its_field_with_the_description_path(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        form = client.get("/admin/users/1003").text
        fields = {"csrf": csrf_of(form), "name": "Cia Colleague", "ring_time": "30",
                  "caller_id.show": "main", "voicemail.enabled": "on", "web.role": ""}  # fmt: skip
        response = client.post("/admin/users/1003", data={**fields, "forwarding.busy": "1099"})
        assert response.status_code == 422
        page = response.text
        # users.2 is 1003 in acme's description: the same path `vaxel config apply` prints.
        busy = page.index('id="err-forwarding-busy"')
        assert page.index('name="forwarding.busy"') < busy
        said = text_of(page[busy : busy + 200])
        assert 'users.2.forwarding.busy: unknown user "1099"' in said
        assert 'aria-describedby="err-forwarding-busy"' in page
        assert "Nothing was saved" in text_of(page)
        assert 'value="1099"' in page  # what was typed stays in the form
        response = client.post("/admin/users/1003", data={**fields, "ring_time": "500"})
        ring = response.text.index('id="err-ring_time"')
        assert (
            "users.2.ring_time: Input should be less than or equal to 300"
            in response.text[ring : ring + 200]
        )
    assert _user_of(web, "1003").get("forwarding", {}) == {}  # nothing changed
    assert _user_of(web, "1003").get("ring_time") != 500


def test_a_taken_extension_and_a_missing_password_are_refused(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        csrf = csrf_of(client.get("/admin/users/new").text)
        taken = client.post("/admin/users/new", data={"csrf": csrf, "ext": "1002", "name": "X",
                                                       "password": "sip-secret-9"})  # fmt: skip
        assert taken.status_code == 422
        assert "users.3.ext: the extension is taken" in text_of(taken.text)
        bare = client.post("/admin/users/new", data={"csrf": csrf, "ext": "1009", "name": "Y"})
        assert "password: a new user needs a SIP password" in text_of(bare.text)
    assert users.find_sip_user(web.store, "acme.example", "1009") is None


def test_a_change_without_the_token_is_refused(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        for data in ({}, {"csrf": "forged"}):
            response = client.post("/admin/users/1002", data={**data, "name": "Hacked"})
            assert response.status_code == 403
            assert "reload the page" in text_of(response.text)
    assert _user_of(web, "1002")["name"] == "Bo User"


def test_an_admin_sees_nothing_of_another_company(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        for path in ("/admin/users/2001", "/admin?company=other.example",
                     "/admin/users?company=other.example", "/admin/calls?company=other.example",
                     "/admin/audit?company=other.example",
                     "/admin/users/2001?company=other.example"):  # fmt: skip
            response = client.get(path)
            assert response.status_code == 404, path
            assert "Olle" not in response.text
        csrf = csrf_of(client.get("/me").text)
        response = client.post("/admin/users/2001?company=other.example",
                               data={"csrf": csrf, "name": "Taken over"})  # fmt: skip
        assert response.status_code == 404
    data, _ = configuration.export_data(web.store, "other.example")
    assert data["users"][0]["name"] == "Olle Other"


def test_an_admin_cannot_take_away_their_own_admin_role(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        form = client.get("/admin/users/1001").text
        response = client.post("/admin/users/1001", data={
            "csrf": csrf_of(form), "name": "Anna Admin", "ring_time": "30",
            "caller_id.show": "main", "web.role": "user"})  # fmt: skip
        assert response.status_code == 422
        assert "your own admin role" in text_of(response.text)


def test_calls_page_filters_and_links_the_csv(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        page = client.get("/admin/calls", params={"user": "1002", "disposition": "busy"}).text
        assert 'href="/api/v1/companies/acme.example/calls.csv?user=1002&amp;disposition=busy"' in (
            page
        )
        assert "No calls match." in text_of(page)
        csv = client.get("/api/v1/companies/acme.example/calls.csv?user=1002&disposition=busy")
        assert csv.status_code == 200 and csv.text.startswith("id,")


def test_changes_show_in_the_audit_log(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        form = client.get("/admin/users/1002").text
        client.post("/admin/users/1002", data={"csrf": csrf_of(form), "name": "Bo Berg",
                                               "ring_time": "20", "caller_id.show": "main",
                                               "web.role": "user"})  # fmt: skip
        page = text_of(client.get("/admin/audit").text)
        assert "1001@acme.example user.update 1002" in page


def test_the_provider_adds_a_company_and_opens_its_pages(web: Web) -> None:
    with log_in(web, "provider@vaxel.test") as client:
        page = client.get("/admin/companies").text
        assert "acme.example" in page and "other.example" in page
        bad = client.post("/admin/companies", data={"csrf": csrf_of(page), "domain": "not a domain",
                                                    "name": "Nope"})  # fmt: skip
        assert bad.status_code == 422
        assert 'invalid domain "not a domain"' in text_of(bad.text)
        fields = {"csrf": csrf_of(page), "domain": "new.example", "name": "New AB"}
        added = client.post("/admin/companies", data=fields)
        assert added.status_code == 303
        assert "new.example" in client.get("/admin/companies").text
        other = client.get("/admin/users", params={"company": "other.example"}).text
        assert "Olle Other" in other
        assert 'href="/admin/users/2001?company=other.example"' in other
    with log_in(web, "1001@acme.example") as admin:
        assert admin.post("/admin/companies", data={"csrf": "x"}).status_code == 403


def test_the_login_page_uses_the_password_of_the_web_not_of_sip(web: Web) -> None:
    with log_in(web, "1001@acme.example", PASSWORD) as client:
        assert client.get("/admin").status_code == 200


def test_an_edit_from_an_old_form_is_refused_not_overwriting(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        old = client.get("/admin/users/1003").text
        fields = {"name": "Cia Colleague", "caller_id.show": "main", "voicemail.enabled": "on",
                  "web.role": "", "csrf": csrf_of(old), "tag": _tag(old)}  # fmt: skip
        first = client.post("/admin/users/1003", data={**fields, "ring_time": "40"})
        assert first.status_code == 303
        second = client.post("/admin/users/1003", data={**fields, "ring_time": "50"})
        assert second.status_code == 422
        assert "Someone changed this user" in text_of(second.text)
    assert _user_of(web, "1003")["ring_time"] == 40


def _tag(page: str) -> str:
    start = page.index('name="tag" value="') + len('name="tag" value="')
    return html.unescape(page[start : page.index('"', start)])
