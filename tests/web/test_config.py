"""The whole description through the API (P7, P8): one model, two doors, with ETags."""

from __future__ import annotations

import yaml

from tests.web.conftest import Web
from vaxel.services import configuration, users
from vaxel.services.companies import get_company

CONFIG = "/api/v1/companies/acme.example/config"


def test_get_is_what_config_export_prints_with_the_version_as_etag(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        as_json = admin.get(CONFIG)
        as_yaml = admin.get(CONFIG, headers={"Accept": "application/yaml"})
    assert as_json.status_code == 200 and as_json.headers["etag"] == '"1"'
    exported = configuration.export_config(web.store, "acme.example")
    assert as_yaml.text == exported
    assert as_json.json() == yaml.safe_load(exported)
    # Secrets are never shown: the PIN, the trunk's password, any SIP password.
    assert "4321" not in as_json.text and "trunk-pw" not in as_json.text
    assert "sip-secret" not in as_json.text and "scrypt" not in as_json.text


def test_put_applies_and_a_second_admin_with_the_old_etag_gets_412(web: Web) -> None:
    with web.login("1001@acme.example") as first, web.login("1001@acme.example") as second:
        read = first.get(CONFIG)
        stale_copy = second.get(CONFIG).json()
        edited = read.json()
        edited["company"]["name"] = "Acme Sverige AB"
        applied = first.put(CONFIG, json=edited, headers={"If-Match": read.headers["etag"]})
        assert applied.status_code == 200 and applied.headers["etag"] == '"2"'
        assert applied.json()["company"]["name"] == "Acme Sverige AB"
        stale_copy["company"]["name"] = "Overwritten AB"
        late = second.put(CONFIG, json=stale_copy, headers={"If-Match": '"1"'})
        missing = second.put(CONFIG, json=stale_copy)
    assert late.status_code == 412 and late.headers["etag"] == '"2"'
    assert "changed since you read it" in late.json()["detail"]
    assert missing.status_code == 428 and "If-Match" in missing.json()["detail"]
    assert get_company(web.store, "acme.example").name == "Acme Sverige AB"


def test_yaml_goes_in_as_config_apply_takes_it_and_secrets_are_kept(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        read = admin.get(CONFIG, headers={"Accept": "application/yaml"})
        text = read.text.replace("Cia Colleague", "Cia Kollega")
        applied = admin.put(
            CONFIG,
            content=text.encode(),
            headers={"Content-Type": "application/yaml", "If-Match": read.headers["etag"]},
        )
    assert applied.status_code == 200, applied.text
    stored = configuration.load_document(web.store, get_company(web.store, "acme.example").id)
    assert stored is not None
    assert stored.users[2].name == "Cia Kollega"
    assert stored.users[2].voicemail.pin is not None  # the PIN left out was kept
    assert stored.trunks["carrier"].password == "trunk-pw"
    user = users.find_sip_user(web.store, "acme.example", "1003")
    assert user is not None  # the SIP password (HA1s) untouched
    assert user.display_name == "Cia Kollega"


def test_a_bad_description_gets_every_error_with_the_paths_config_apply_prints(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        data = admin.get(CONFIG).json()
        data["menus"] = {"main": {"prompt": "nope", "keys": {"1": {"group": "salj"}}}}
        data["users"][0]["ext"] = "1"
        bad = admin.put(CONFIG, json=data, headers={"If-Match": "*"})
        not_json = admin.put(
            CONFIG, content=b"{", headers={"Content-Type": "application/json", "If-Match": "*"}
        )
        not_yaml = admin.put(
            CONFIG, content=b"a: [", headers={"Content-Type": "application/yaml", "If-Match": "*"}
        )
        wrong_type = admin.put(
            CONFIG, content=b"x", headers={"Content-Type": "text/plain", "If-Match": "*"}
        )
        other = admin.put(
            CONFIG,
            json={"company": {"domain": "other.example", "name": "Mine now"}},
            headers={"If-Match": "*"},
        )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"] == ["users.0.ext: String should match pattern '^[0-9]{2,8}$'"]
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["detail"]
    assert not_yaml.status_code == 422 and "not valid YAML" in not_yaml.json()["errors"][0]
    assert wrong_type.status_code == 415
    assert other.status_code == 422 and "is not this company" in other.json()["errors"][0]
    assert get_company(web.store, "other.example").name == "Other AB"


def test_reference_errors_come_with_their_paths(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        data = admin.get(CONFIG).json()
        data["menus"] = {"main": {"prompt": "nope", "keys": {"1": {"group": "salj"}}}}
        bad = admin.put(CONFIG, json=data, headers={"If-Match": "*"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        'menus.main.prompt: unknown prompt "nope"',
        'menus.main.keys.1: unknown group "salj"',
    ]


def test_a_company_admin_cannot_change_trunks_but_the_provider_can(web: Web) -> None:
    provider_url = "/api/v1/companies/acme.example/config"
    with web.login("1001@acme.example") as admin:
        data = admin.get(CONFIG).json()
        data["trunks"]["carrier"]["host"] = "203.0.113.9"
        data["outbound"] = {"max_concurrent_calls": 500}
        refused = admin.put(CONFIG, json=data, headers={"If-Match": "*"})
        data = admin.get(CONFIG).json()
        data["sms"] = {"url_template": "http://127.0.0.1:9/steal?to={to}&m={text}"}
        no_sms = admin.put(CONFIG, json=data, headers={"If-Match": "*"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        "trunks: set by the service provider; leave it as it is",
        "outbound: set by the service provider; leave it as it is",
    ]
    assert no_sms.status_code == 422
    assert no_sms.json()["errors"] == ["sms: set by the service provider; leave it as it is"]
    with web.login("provider@vaxel.test") as provider:
        data = provider.get(provider_url).json()
        data["trunks"]["carrier"]["host"] = "203.0.113.9"
        assert provider.put(provider_url, json=data, headers={"If-Match": "*"}).status_code == 200
    stored = configuration.load_document(web.store, get_company(web.store, "acme.example").id)
    assert stored is not None and stored.trunks["carrier"].host == "203.0.113.9"
    assert stored.trunks["carrier"].password == "trunk-pw"


def test_a_plain_user_cannot_read_or_change_the_description(web: Web) -> None:
    with web.login("1002@acme.example") as user:
        read = user.get(CONFIG)
        write = user.put(CONFIG, json={}, headers={"If-Match": "*"})
    assert read.status_code == write.status_code == 403
    assert read.json()["detail"] == "only the company's administrators may do this"


def test_the_provider_adds_companies_and_a_company_admin_cannot(web: Web) -> None:
    with web.login("provider@vaxel.test") as provider:
        made = provider.post("/api/v1/companies", json={"domain": "New.Example", "name": "Ny AB"})
        again = provider.post("/api/v1/companies", json={"domain": "new.example", "name": "x"})
        bad = provider.post("/api/v1/companies", json={"domain": "-bad-", "name": "x"})
        listed = provider.get("/api/v1/companies", params={"q": "example", "limit": 2})
        rest = provider.get("/api/v1/companies", params={"after": listed.json()["next_after"]})
    assert made.status_code == 201 and made.json()["domain"] == "new.example"
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    assert bad.status_code == 422 and 'invalid domain "-bad-"' in bad.json()["detail"]
    domains = [c["domain"] for c in listed.json()["items"] + rest.json()["items"]]
    assert domains == ["acme.example", "new.example", "other.example"]
    with web.login("1001@acme.example") as admin:
        refused = admin.post("/api/v1/companies", json={"domain": "x.example", "name": "X"})
        own = admin.get("/api/v1/companies").json()["items"]
    assert refused.status_code == 403
    assert [c["domain"] for c in own] == ["acme.example"]
