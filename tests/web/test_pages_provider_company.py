"""The provider's page of a company (S7, P1, P6, O2), over real HTTP: number ranges,
limits, trunks and the outbound trunk, the mail server and the SMS gateway with their
secrets write-only, and the company's admins; all 404 to anyone but the provider."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import Client, Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.services import accounts, audit, configuration, number_ranges
from vaxel.services.companies import get_company

BASE = "/provider/companies/acme.example"
PAGES = ["/provider", BASE, f"{BASE}/trunks/carrier", f"{BASE}/trunks/new",
         "/provider/companies/other.example"]  # fmt: skip
POSTS = ["ranges", "ranges/remove", "outbound", "outbound-trunk", "mail", "sms", "admins",
         "trunks/carrier", "trunks/new", "trunks/remove"]  # fmt: skip


def _data(web: Web) -> dict[str, Any]:
    return configuration.export_data(web.store, "acme.example")[0]


def _stored(web: Web) -> Any:
    document = configuration.load_document(web.store, get_company(web.store, "acme.example").id)
    assert document is not None
    return document


def _tag(page: str, action: str) -> str:
    """The ETag in the form that posts to `action`."""
    form = page[page.index(f'action="{action}"') :]
    found = re.search(r'name="tag" value="([^"]*)"', form)
    assert found is not None
    return found.group(1).replace("&#34;", '"')


def _post(client: Client, action: str, page_path: str = BASE, **fields: Any) -> Any:
    page = client.get(page_path).text
    data = {"csrf": csrf_of(page), **fields}
    if 'name="tag"' in page[page.index(f'action="{action}"') :][:400]:
        data.setdefault("tag", _tag(page, action))
    return client.post(action, data=data)


@pytest.mark.parametrize("login", ["1001@acme.example", "1002@acme.example"])
def test_every_provider_page_is_404_to_a_company(web: Web, login: str) -> None:
    with log_in(web, login) as client:
        csrf = csrf_of(client.get("/me").text)
        for path in PAGES:
            response = client.get(path)
            assert response.status_code == 404, path
            assert "provider's settings" not in text_of(response.text)
        for action in POSTS:
            for data in ({"csrf": csrf, "first": "+46812345600", "ext": "1001"}, {}):
                response = client.post(f"{BASE}/{action}", data=data)
                assert response.status_code == 404, action
    assert number_ranges.ranges_of(web.store, get_company(web.store, "acme.example").id) == []
    assert accounts.roles_of(web.store, get_company(web.store, "acme.example").id,
                             ["1002"]) == {"1002": "user"}  # fmt: skip


def test_number_ranges_are_added_refused_when_they_overlap_and_removed(web: Web) -> None:
    other = get_company(web.store, "other.example")
    theirs = number_ranges.parse_range("+46812345700", "+46812345799")
    number_ranges.set_ranges(web.store, other.id, [theirs])
    with log_in(web, "provider@vaxel.test") as provider:
        added = _post(provider, f"{BASE}/ranges", first="08-123 456 00", last="08-123 456 99")
        assert added.status_code == 303, text_of(added.text)
        assert "+46812345600 \u2013 +46812345699" in text_of(provider.get(BASE).text)
        overlap = _post(provider, f"{BASE}/ranges", first="+46812345750", last="+46812345760")
        assert overlap.status_code == 422
        at = overlap.text.index('id="err-ranges-first"')
        assert "+46812345750-+46812345760 overlaps another company's numbers" in text_of(
            overlap.text[at : at + 300]
        )
        assert 'value="+46812345750"' in overlap.text  # what was typed stays
        bad = _post(provider, f"{BASE}/ranges", first="+46812345899", last="+46812345800")
        assert bad.status_code == 422 and "give the first number first" in text_of(bad.text)
        short = _post(provider, f"{BASE}/ranges", first="+4681234")
        assert short.status_code == 422 and "too short" in text_of(short.text)
        removed = _post(provider, f"{BASE}/ranges/remove", first="+46812345600",
                        last="+46812345699")  # fmt: skip
        assert removed.status_code == 303
    company = get_company(web.store, "acme.example")
    assert number_ranges.ranges_of(web.store, company.id) == []
    actions = [e.action for e in audit.entries(web.store, company.id, limit=2)]
    assert actions == ["number_ranges.set", "number_ranges.set"]


def test_the_limits_are_checkboxes_and_a_number(web: Web) -> None:
    with log_in(web, "provider@vaxel.test") as provider:
        page = provider.get(BASE).text
        emergency = page[page.index('id="f-class-emergency"') :].split(">", 1)[0]
        assert "checked disabled" in emergency  # always allowed
        saved = _post(provider, f"{BASE}/outbound", allowed=["national", "mobile"],
                      max_concurrent_calls="3")  # fmt: skip
        assert saved.status_code == 303, text_of(saved.text)
        bad = _post(provider, f"{BASE}/outbound", allowed=["national"], max_concurrent_calls="-1")
        assert bad.status_code == 422
        at = bad.text.index('id="err-outbound-max_concurrent_calls"')
        assert "outbound.max_concurrent_calls: " in text_of(bad.text[at : at + 300])
    assert _data(web)["outbound"] == {"allowed": ["emergency", "mobile", "national"],
                                      "max_concurrent_calls": 3}  # fmt: skip


def test_a_trunk_is_changed_without_its_password_shown_or_lost(web: Web) -> None:
    with log_in(web, "provider@vaxel.test") as provider:
        page = provider.get(f"{BASE}/trunks/carrier").text
        assert "trunk-pw" not in page and "One is stored and never shown" in text_of(page)
        action = f"{BASE}/trunks/carrier"
        fields = {"host": "192.0.2.10", "port": "5080", "transport": "tcp", "username": "acme"}
        kept = _post(provider, action, action, **fields)
        assert kept.status_code == 303, text_of(kept.text)
        assert _stored(web).trunks["carrier"].password == "trunk-pw"
        renamed = _post(provider, action, action, **{**fields, "username": "acme2"})
        assert renamed.status_code == 422
        at = renamed.text.index('id="err-password"')
        assert "trunks.carrier.password: needed, as the username changed" in text_of(
            renamed.text[at : at + 300]
        )
        registration = {"registration.username": "r1", "registration.password": "reg-secret",
                        "registration.expires": "300"}  # fmt: skip
        new = _post(provider, f"{BASE}/trunks/new", f"{BASE}/trunks/new", name="backup",
                    host="192.0.2.20", transport="udp", **registration)  # fmt: skip
        assert new.status_code == 303, text_of(new.text)
        assert "reg-secret" not in provider.get(f"{BASE}/trunks/backup").text
        chosen = _post(provider, f"{BASE}/outbound-trunk", outbound_trunk="backup")
        assert chosen.status_code == 303, text_of(chosen.text)
        in_use = _post(provider, f"{BASE}/trunks/remove", name="backup",
                       tag=_tag(provider.get(BASE).text, f"{BASE}/trunks/remove"))  # fmt: skip
        assert in_use.status_code == 422 and "outbound_trunk" in text_of(in_use.text)
    trunks = _data(web)["trunks"]
    assert trunks["carrier"] == {"host": "192.0.2.10", "port": 5080, "transport": "tcp",
                                 "username": "acme"}  # fmt: skip
    assert _stored(web).trunks["backup"].registration.password == "reg-secret"
    assert _data(web)["outbound_trunk"] == "backup"
    entry = audit.entries(web.store, get_company(web.store, "acme.example").id, limit=1)[0]
    assert entry.action == "outbound_trunk.put" and "trunk-pw" not in str(entry.after)
    with log_in(web, "provider@vaxel.test") as provider:  # P2, O2: a carrier over TLS
        tls = {"host": "192.0.2.30", "port": "5061", "transport": "tls",
               "ca_file": "/etc/vaxel/carrier.pem"}  # fmt: skip
        made = _post(provider, f"{BASE}/trunks/new", f"{BASE}/trunks/new", name="secure", **tls)
        assert made.status_code == 303, text_of(made.text)
        page = provider.get(f"{BASE}/trunks/secure").text
        assert '<option value="tls" selected>' in page and "/etc/vaxel/carrier.pem" in page
        wrong = _post(provider, f"{BASE}/trunks/new", f"{BASE}/trunks/new", name="plain",
                      host="192.0.2.31", transport="udp", ca_file="/etc/ca.pem")  # fmt: skip
        assert wrong.status_code == 422 and "ca_file is for transport: tls" in text_of(wrong.text)
    assert _data(web)["trunks"]["secure"] == {"host": "192.0.2.30", "port": 5061,
                                              "transport": "tls",
                                              "ca_file": "/etc/vaxel/carrier.pem"}  # fmt: skip


def test_mail_and_sms_secrets_are_write_only(web: Web) -> None:
    with log_in(web, "provider@vaxel.test") as provider:
        mail = {"host": "smtp.example", "port": "587", "sender": "vm@acme.example",
                "starttls": "on", "username": "vm"}  # fmt: skip
        needs = _post(provider, f"{BASE}/mail", **mail)
        assert needs.status_code == 422 and 'id="err-mail-password"' in needs.text
        assert _post(provider, f"{BASE}/mail", **mail, password="mail-pw").status_code == 303
        assert _post(provider, f"{BASE}/mail", **{**mail, "port": "2525"}).status_code == 303
        sms = {"url_template": "https://sms.example/send?to={to}&msg={text}", "method": "GET",
               "timeout": "5", "content_type": "application/x-www-form-urlencoded"}  # fmt: skip
        bad = _post(provider, f"{BASE}/sms", **sms, headers="no colon here")
        assert bad.status_code == 422 and "write each header as" in text_of(bad.text)
        made = _post(provider, f"{BASE}/sms", **sms, headers="Authorization: Bearer sms-key")
        assert made.status_code == 303, text_of(made.text)
        assert _post(provider, f"{BASE}/sms", **{**sms, "timeout": "9"}).status_code == 303
        page = provider.get(BASE).text
        assert "mail-pw" not in page and "sms-key" not in page
    stored = _stored(web)
    assert stored.mail is not None and stored.mail.port == 2525
    assert stored.mail.password == "mail-pw"
    assert stored.sms is not None and stored.sms.timeout == 9
    assert stored.sms.headers == {"Authorization": "Bearer sms-key"}
    with log_in(web, "provider@vaxel.test") as provider:
        assert _post(provider, f"{BASE}/sms", **sms, remove="1").status_code == 303
    assert "sms" not in _data(web)


def test_the_provider_makes_and_revokes_a_company_admin(web: Web) -> None:
    company = get_company(web.store, "acme.example")
    with log_in(web, "provider@vaxel.test") as provider:
        made = _post(provider, f"{BASE}/admins", ext="1003", password="cias web password")
        assert made.status_code == 303, text_of(made.text)
        page = text_of(provider.get(f"{BASE}?done=admin").text)
        assert "The user is a company admin now." in page and "1003 Cia Colleague" in page
        unknown = _post(provider, f"{BASE}/admins", ext="1099")
        assert unknown.status_code == 422 and "unknown user 1099" in text_of(unknown.text)
    assert accounts.roles_of(web.store, company.id, ["1003"]) == {"1003": "admin"}
    with log_in(web, "1003@acme.example", "cias web password") as cia:
        assert cia.get("/admin/users").status_code == 200
    with log_in(web, "provider@vaxel.test") as provider:
        revoked = _post(provider, f"{BASE}/admins", ext="1003", revoke="1")
        assert revoked.status_code == 303
    assert accounts.roles_of(web.store, company.id, ["1003"]) == {"1003": "user"}
    entries = audit.entries(web.store, company.id, limit=2)
    assert [(e.action, e.target) for e in entries] == [("user.account", "1003")] * 2
    assert "cias web password" not in str([e.after for e in entries])
