"""The whole description from the browser (S7, P7, O2): shown and downloaded as `vaxel
config export` prints it (no secret), saved onto the version it was read from (a stale
save keeps the admin's text), errors listed with their paths, the provider's sections
closed to a company admin."""

from __future__ import annotations

import html
import re
from typing import Any

from tests.web.conftest import Client, Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.services import audit, configuration
from vaxel.services.companies import get_company


def _form(client: Client, query: str = "") -> dict[str, str]:
    """The page's form as the browser would send it unchanged."""
    page = client.get("/admin/config" + query).text
    body = re.search(r'<textarea id="f-body"[^>]*>(.*?)</textarea>', page, re.S)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert body is not None and version is not None
    return {"csrf": csrf_of(page), "version": version.group(1), "body": html.unescape(body[1])}


def _errors(page: str) -> list[str]:
    found = re.search(r'<ul id="config-errors">(.*?)</ul>', page, re.S)
    assert found is not None, text_of(page)
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", found.group(1))]


def _data(web: Web, domain: str = "acme.example") -> dict[str, Any]:
    return configuration.export_data(web.store, domain)[0]


def test_the_description_is_shown_and_downloaded_as_exported_without_secrets(web: Web) -> None:
    exported = configuration.export_config(web.store, "acme.example")
    with log_in(web, "1001@acme.example") as admin:
        form = _form(admin)
        download = admin.get("/admin/config.yaml")
    assert form["body"] == exported
    assert download.status_code == 200 and download.text == exported
    assert download.headers["content-type"].startswith("application/yaml")
    assert download.headers["content-disposition"] == 'attachment; filename="acme.example.yaml"'
    for secret in ("trunk-pw", "4321", "sip-secret-1", "argon2"):
        assert secret not in form["body"]


def test_an_admin_saves_a_changed_description_and_the_secrets_stay(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        form = _form(admin)
        body = form["body"].replace("  sales:\n    members:\n    - '1002'\n    - '1003'\n",
                                    "  sales:\n    members:\n    - '1003'\n    - '1002'\n"
                                    "    strategy: sequential\n")  # fmt: skip
        assert body != form["body"]
        saved = admin.post("/admin/config", data={**form, "body": body})
        assert saved.status_code == 303, text_of(saved.text)
        assert saved.headers["location"] == "/admin/config?done=saved"
        assert "Saved." in text_of(admin.get(saved.headers["location"]).text)
    # the older spelling of fixed-order, kept working (A5), is saved as its new name
    assert _data(web)["groups"]["sales"] == {"members": ["1003", "1002"], "strategy": "fixed-order"}
    company = get_company(web.store, "acme.example")
    stored = configuration.load_document(web.store, company.id)
    assert stored is not None and stored.trunks["carrier"].password == "trunk-pw"
    pin = next(user for user in stored.users if user.ext == "1003").voicemail.pin
    assert pin is not None  # kept (hashed), though the text had none
    entry = audit.entries(web.store, company.id, limit=1)[0]
    assert (entry.action, entry.actor) == ("config.replace", "1001@acme.example")


def test_a_stale_save_is_refused_and_keeps_the_admins_text(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin, log_in(web, "1001@acme.example") as other:
        form = _form(admin)
        theirs = _form(other)
        changed = theirs["body"].replace("name: Bo User", "name: Bo Berg")
        assert other.post("/admin/config", data={**theirs, "body": changed}).status_code == 303
        mine = form["body"].replace("name: Cia Colleague", "name: Cia Carlsson")
        late = admin.post("/admin/config", data={**form, "body": mine})
        assert late.status_code == 409
        assert "Someone changed the description since you opened this page" in text_of(late.text)
        assert "Cia Carlsson" in late.text  # the admin's text, to copy
    names = {user["ext"]: user["name"] for user in _data(web)["users"]}
    assert names["1002"] == "Bo Berg" and names["1003"] == "Cia Colleague"


def test_errors_are_listed_with_their_paths_and_nothing_changes(web: Web) -> None:
    before = _data(web)
    with log_in(web, "1001@acme.example") as admin:
        form = _form(admin)
        broken = admin.post("/admin/config", data={**form, "body": "company: [unclosed\n"})
        assert broken.status_code == 422
        assert _errors(broken.text)[0].startswith("line 2: not valid YAML")
        unknown = form["body"].replace("    - '1003'\n", "    - '1099'\n", 1)
        refused = admin.post("/admin/config", data={**form, "body": unknown})
        assert refused.status_code == 422 and "Nothing was saved" in text_of(refused.text)
        assert any(line.startswith("groups.sales.members") for line in _errors(refused.text))
        assert "1099" in refused.text  # the text as sent, to correct
        trunk = form["body"].replace("host: 127.0.0.1", "host: 192.0.2.66")
        provider_part = admin.post("/admin/config", data={**form, "body": trunk})
        assert _errors(provider_part.text) == [
            "trunks: set by the service provider; leave it as it is"
        ]
        myself = re.sub(r"- ext: '1001'\n  name: Anna Admin\n", "", form["body"])
        alone = admin.post("/admin/config", data={**form, "body": myself})
        yourself = "users: you (1001) cannot remove yourself; ask another admin"
        assert _errors(alone.text) == [yourself]
        other = form["body"].replace("domain: acme.example", "domain: other.example")
        assert (
            "is not this company"
            in _errors(admin.post("/admin/config", data={**form, "body": other}).text)[0]
        )
    assert _data(web) == before


def test_the_provider_changes_a_trunk_through_it(web: Web) -> None:
    with log_in(web, "provider@vaxel.test") as provider:
        form = _form(provider, "?company=acme.example")
        trunk = form["body"].replace("host: 127.0.0.1", "host: 192.0.2.66")
        saved = provider.post("/admin/config?company=acme.example", data={**form, "body": trunk})
        assert saved.status_code == 303, text_of(saved.text)
        assert saved.headers["location"] == "/admin/config?company=acme.example&done=saved"
    assert _data(web)["trunks"]["carrier"]["host"] == "192.0.2.66"


def test_only_the_companys_admins_reach_it(web: Web) -> None:
    with log_in(web, "1002@acme.example") as user:
        assert user.get("/admin/config").status_code == 403
        assert user.get("/admin/config.yaml").status_code == 403
    with log_in(web, "1001@acme.example") as admin:
        form = _form(admin)
        for path in ("/admin/config?company=other.example",
                     "/admin/config.yaml?company=other.example"):  # fmt: skip
            response = admin.get(path)
            assert response.status_code == 404 and "Olle" not in response.text
        theirs = admin.post("/admin/config?company=other.example", data=form)
        assert theirs.status_code == 404
        forged = admin.post("/admin/config", data={**form, "csrf": "forged"})
        assert forged.status_code == 403
