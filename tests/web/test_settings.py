"""The company's settings through the API (S7, P8): the description's `company` section,
read with its ETag and replaced with the same checks and paths as `vaxel config apply`."""

from __future__ import annotations

from tests.web.conftest import Web
from vaxel.services import audit, configuration
from vaxel.services.companies import get_company

URL = "/api/v1/companies/acme.example/settings"


def test_the_settings_are_read_and_replaced_with_their_etag(web: Web) -> None:
    wanted = {"domain": "acme.example", "name": "Acme Sverige AB", "timezone": "Europe/Helsinki",
              "language": "en", "support_number": "08-123 456 99",
              "voicemail_retention_days": 90, "operator": {"group": "sales"}}  # fmt: skip
    with web.login("1001@acme.example") as admin:
        read = admin.get(URL)
        without = admin.put(URL, json=wanted)
        changed = admin.put(URL, json=wanted, headers={"If-Match": read.headers["etag"]})
        stale = admin.put(URL, json=wanted, headers={"If-Match": read.headers["etag"]})
        again = admin.get(URL)
    assert read.status_code == 200
    assert read.json() == {"domain": "acme.example", "name": "Acme AB"}
    assert without.status_code == 428 and stale.status_code == 412
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**wanted, "support_number": "+46812345699"}
    assert again.json() == changed.json() and again.headers["etag"] == changed.headers["etag"]
    data, _ = configuration.export_data(web.store, "acme.example")
    assert data["company"]["timezone"] == "Europe/Helsinki"
    company = get_company(web.store, "acme.example")
    assert company.name == "Acme Sverige AB"  # the companies table too
    entry = audit.entries(web.store, company.id, limit=1)[0]
    assert (entry.action, entry.actor) == ("company.settings", "1001@acme.example")


def test_bad_settings_are_refused_with_their_paths_and_change_nothing(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        tag = {"If-Match": admin.get(URL).headers["etag"]}
        zone = admin.put(URL, json={"domain": "acme.example", "name": "Acme AB",
                                    "timezone": "Europe/Stockhlom"}, headers=tag)  # fmt: skip
        operator = admin.put(URL, json={"domain": "acme.example", "name": "Acme AB",
                                        "operator": {"group": "nobody"}}, headers=tag)  # fmt: skip
        domain = admin.put(URL, json={"domain": "other.example", "name": "Acme AB"}, headers=tag)
    assert zone.status_code == 422
    assert any("timezone" in line and "Stockhlom" in line for line in zone.json()["errors"])
    assert operator.status_code == 422
    assert operator.json()["errors"] == ['company.operator: unknown group "nobody"']
    assert domain.status_code == 422
    assert domain.json()["errors"] == ["company.domain: must be acme.example"]
    data, _ = configuration.export_data(web.store, "acme.example")
    assert data["company"] == {"domain": "acme.example", "name": "Acme AB"}


def test_a_user_may_not_read_or_change_the_settings(web: Web) -> None:
    with web.login("1002@acme.example") as user:
        assert user.get(URL).status_code == 403
        put = user.put(URL, json={"domain": "acme.example", "name": "Mine"},
                       headers={"If-Match": "*"})  # fmt: skip
        assert put.status_code == 403
