"""The operator console's page (A16): /console for the company's admins and its named
operators (others 403), in Swedish and English, with no inline script (the pages' CSP),
its words for the script in a JSON block; its script and style are served."""

from __future__ import annotations

import json
import re

from tests.web.conftest import Web
from tests.web.pages import log_in
from vaxel.services import configuration
from vaxel.web.pages.base import CSP


def page_data(page: str) -> dict[str, object]:
    found = re.search(r'id="console-data">(.*?)</script>', page)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


def test_the_console_page_for_an_admin_in_both_languages(web: Web) -> None:
    with log_in(web, "1001@acme.example") as anna:
        page = anna.get("/console")
        assert page.status_code == 200, page.text
        assert page.headers["content-security-policy"] == CSP
        scripts = re.findall(r"<script([^>]*)>", page.text)
        assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
        data = page_data(page.text)
        assert data["extension"] == "1001"
        texts = data["texts"]
        assert isinstance(texts, dict)
        assert "console.action.answer" in texts and "phone.line.talking" in texts
        anna.get("/language", params={"lang": "en", "next": "/console"})
        english = anna.get("/console").text
        sv = anna.get("/language", params={"lang": "sv", "next": "/console"})
        assert sv.status_code in (200, 303)
        swedish = anna.get("/console").text
        assert "Operator console" in english and "Telefonistkonsol" in swedish
        assert page_data(swedish)["texts"]["console.action.answer"] == "Svara"  # type: ignore[index]
        script = anna.get("/static/console/console.js")
        assert script.status_code == 200 and "/api/v1/console" in script.text
        assert anna.get("/static/console/console.css").status_code == 200


def test_a_plain_user_may_not_and_a_named_operator_may(web: Web) -> None:
    with log_in(web, "1002@acme.example") as bo:
        assert bo.get("/console").status_code == 403
    data, _ = configuration.export_data(web.store, "acme.example")
    data["console"] = {"operators": ["1002"]}
    configuration.apply_config(web.store, configuration.parse_config(data))
    with log_in(web, "1002@acme.example") as bo:
        assert bo.get("/console").status_code == 200


def test_the_console_is_linked_for_those_who_may_use_it(web: Web) -> None:
    with log_in(web, "1001@acme.example") as anna:  # an admin: in the menu and on /me
        assert 'href="/console"' in anna.get("/admin").text
        assert 'href="/console"' in anna.get("/me").text
    with log_in(web, "1002@acme.example") as bo:  # a plain user: nowhere
        assert 'href="/console"' not in bo.get("/me").text
    data, _ = configuration.export_data(web.store, "acme.example")
    data["console"] = {"operators": ["1002"]}
    configuration.apply_config(web.store, configuration.parse_config(data))
    with log_in(web, "1002@acme.example") as bo:  # an operator: on /me
        assert 'href="/console"' in bo.get("/me").text
