"""A user's personal contacts through the API (U4): added, searched, changed, removed,
imported from a phone's vCard file and exported; refusals name their field; nobody
reaches another user's contacts."""

from __future__ import annotations

from tests.services.test_contacts import PHONE_EXPORT
from tests.web.conftest import Web

BASE = "/api/v1/me/contacts"


def test_contacts_through_the_api(web: Web) -> None:
    with web.login("1002@acme.example") as bo:
        made = bo.post(
            BASE,
            json={
                "name": "Eva Lind",
                "organisation": "Lind & Co",
                "numbers": [{"kind": "mobile", "number": "070-174 06 05"}],
            },
        )
        bad = bo.post(BASE, json={"name": "X", "numbers": [{"kind": "mobile", "number": "hi"}]})
        imported = bo.post(
            f"{BASE}/import", files={"file": ("phone.vcf", PHONE_EXPORT, "text/vcard")}
        )
        not_vcard = bo.post(f"{BASE}/import", files={"file": ("x.vcf", b"hello", "text/plain")})
        found = bo.get(BASE, params={"q": "berg"}).json()["items"]
        everyone = bo.get(BASE).json()["items"]
        contact_id = made.json()["id"]
        changed = bo.put(f"{BASE}/{contact_id}", json={"name": "Eva Lind-Berg"})
        exported = bo.get(f"{BASE}/export.vcf")
    assert made.status_code == 201, made.text
    assert made.json()["numbers"] == [{"kind": "mobile", "number": "+46701740605"}]
    assert bad.status_code == 422 and "numbers.0.number" in bad.json()["detail"]
    assert imported.json()["added"] == 2 and imported.json()["skipped"]
    assert not_vcard.status_code == 422
    assert [c["name"] for c in found] == ["Olof Berg"]
    assert [c["name"] for c in everyone] == ["Eva Lind", "Eva Lind", "Olof Berg"]
    assert changed.json()["name"] == "Eva Lind-Berg"
    assert exported.headers["content-type"].startswith("text/vcard")
    assert exported.text.count("BEGIN:VCARD") == 3 and "FN:Eva Lind-Berg" in exported.text

    with web.login("1001@acme.example") as anna:  # someone else's contact is nobody's
        assert anna.get(BASE).json()["items"] == []
        assert anna.put(f"{BASE}/{contact_id}", json={"name": "Mine now"}).status_code == 404
        assert anna.delete(f"{BASE}/{contact_id}").status_code == 404
    with web.login("1002@acme.example") as bo:
        assert bo.delete(f"{BASE}/{contact_id}").status_code == 204
        assert len(bo.get(BASE).json()["items"]) == 2
    with web.login("provider@vaxel.test") as provider:
        assert provider.get(BASE).status_code == 404
