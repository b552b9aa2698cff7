"""The company settings page (S7, U9): the description's `company` section from the
browser, with the errors next to their fields, the domain only shown, a stale form
refused, and the change in the audit log."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import update

from tests.web.conftest import Client, Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.services import audit, configuration
from vaxel.services.companies import get_company
from vaxel.store.models import CompanyDocument, DirectoryVersion

FORM = {"name": "Acme AB", "timezone": "Europe/Stockholm", "language": "sv",
        "support_number": "", "operator.kind": "", "operator.target": "",
        "voicemail_retention_days": ""}  # fmt: skip


def _company(web: Web) -> dict[str, Any]:
    data, _ = configuration.export_data(web.store, "acme.example")
    return dict(data["company"])


def _tag(page: str) -> str:
    at = page.index('name="tag" value="') + len('name="tag" value="')
    return page[at : page.index('"', at)].replace("&#34;", '"')


def _post(client: Client, **fields: str) -> Any:
    page = client.get("/admin/company").text
    return client.post("/admin/company", data={"csrf": csrf_of(page), "tag": _tag(page),
                                               **FORM, **fields})  # fmt: skip


def test_an_admin_changes_the_company_settings(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        page = admin.get("/admin/company").text
        assert 'value="acme.example" readonly' in page and 'name="domain"' not in page
        assert 'value="Europe/Stockholm"' in page
        saved = _post(admin, name="Acme Sverige AB", timezone="Europe/Helsinki", language="en",
                      support_number="08-123 456 99", voicemail_retention_days="30",
                      **{"operator.kind": "group", "operator.target": "sales"})  # fmt: skip
        assert saved.status_code == 303, text_of(saved.text)
        assert saved.headers["location"] == "/admin/company?done=saved"
        shown = admin.get(saved.headers["location"]).text
        assert "Saved." in text_of(shown) and 'value="Acme Sverige AB"' in shown
    assert _company(web) == {"domain": "acme.example", "name": "Acme Sverige AB",
                             "timezone": "Europe/Helsinki", "language": "en",
                             "support_number": "+46812345699", "voicemail_retention_days": 30,
                             "operator": {"group": "sales"}}  # fmt: skip
    company = get_company(web.store, "acme.example")
    assert company.name == "Acme Sverige AB"
    entry = audit.entries(web.store, company.id, limit=1)[0]
    assert (entry.action, entry.actor) == ("company.settings", "1001@acme.example")


def test_bad_settings_are_shown_next_to_their_fields_and_nothing_changes(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        bad = _post(admin, timezone="Europe/Stockhlom", voicemail_retention_days="0")
        assert bad.status_code == 422
        page = bad.text
        assert 'aria-invalid="true"' in page and 'value="Europe/Stockhlom"' in page
        zone = page.index('id="err-timezone"')
        assert "company.timezone: unknown timezone 'Europe/Stockhlom'" in text_of(page[zone:][:200])
        days = page.index('id="err-voicemail_retention_days"')
        assert "company.voicemail_retention_days: " in page[days : days + 200]
        assert "Nothing was saved" in text_of(page)
        unknown = _post(admin, **{"operator.kind": "group", "operator.target": "nobody"})
        operator = text_of(unknown.text[unknown.text.index('id="err-operator"') :][:200])
        assert 'company.operator: unknown group "nobody"' in operator
        assert 'aria-describedby="hint-operator err-operator"' in unknown.text
        empty = _post(admin, name="")
        assert empty.status_code == 422 and 'id="err-name"' in empty.text
    assert _company(web) == {"domain": "acme.example", "name": "Acme AB"}


def test_a_form_read_before_another_change_is_refused(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        page = admin.get("/admin/company").text
        first = {"csrf": csrf_of(page), "tag": _tag(page), **FORM}
        assert admin.post("/admin/company", data={**first, "language": "en"}).status_code == 303
        late = admin.post("/admin/company", data={**first, "name": "Overwritten"})
        assert late.status_code == 422
        assert "Someone changed this" in text_of(late.text)
    assert _company(web)["name"] == "Acme AB" and _company(web)["language"] == "en"


def test_the_settings_page_is_for_admins_of_the_company(web: Web) -> None:
    with log_in(web, "1002@acme.example") as user:
        assert user.get("/admin/company").status_code == 403
    with log_in(web, "1001@acme.example") as admin:
        assert admin.get("/admin/company?company=other.example").status_code == 404
        csrf = csrf_of(admin.get("/admin/company").text)
        theirs = admin.post("/admin/company?company=other.example",
                            data={"csrf": csrf, **FORM, "name": "Taken"})  # fmt: skip
        assert theirs.status_code == 404
        forged = admin.post("/admin/company", data={**FORM, "name": "Forged"})
        assert forged.status_code == 403
    with log_in(web, "provider@vaxel.test") as provider:
        page = provider.get("/admin/company?company=other.example")
        assert page.status_code == 200 and "Other AB" in page.text
    assert _company(web)["name"] == "Acme AB"


def test_a_zone_stored_before_it_was_checked_is_shown_to_be_corrected(web: Web) -> None:
    """A description stored before unknown zones were refused still opens, with its zone
    in the field; saving it as it is shows the error there."""
    company = get_company(web.store, "acme.example")
    with web.store.session() as session:
        document = session.get(CompanyDocument, company.id)
        assert document is not None
        stored = json.loads(document.document)
        stored["company"]["timezone"] = "Mars/Olympus"
        document.document = json.dumps(stored)
        session.execute(update(DirectoryVersion).values(version=DirectoryVersion.version + 1))
    with log_in(web, "1001@acme.example") as admin:
        page = admin.get("/admin/company")
        assert page.status_code == 200 and 'value="Mars/Olympus"' in page.text
        again = _post(admin, timezone="Mars/Olympus")
        assert again.status_code == 422 and 'id="err-timezone"' in again.text
        assert _post(admin, timezone="Europe/Oslo").status_code == 303
    assert _company(web)["timezone"] == "Europe/Oslo"
