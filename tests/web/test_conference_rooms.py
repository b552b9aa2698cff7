"""A3: conference rooms as a resource of the API, beside their live control: created,
read with an ETag, replaced, removed; their PINs write-only (never read back, never in
an ETag, the audit log or an export), kept by a PUT that leaves them out, removed by
`null`; the same errors as `vaxel config apply`; another company's admin sees nothing."""

from __future__ import annotations

import json

from tests.web.conftest import Web
from vaxel.services import configuration, voicemail
from vaxel.services.companies import get_company

BASE = "/api/v1/companies/acme.example"


def _stored_room(web: Web, name: str):  # type: ignore[no-untyped-def]
    stored = configuration.load_document(web.store, get_company(web.store, "acme.example").id)
    assert stored is not None
    return stored.conferences.get(name)


def test_a_room_is_created_read_replaced_and_removed_with_its_pins_write_only(
    web: Web,
) -> None:
    room = {"extension": "800", "pin": "4711", "moderator_pin": "9999", "max_participants": 6}
    with web.login("1001@acme.example") as admin:
        made = admin.put(f"{BASE}/conferences/weekly", json=room)
        read = admin.get(f"{BASE}/conferences/weekly")
        listed = admin.get(f"{BASE}/conferences").json()["items"]
        exported = admin.get(f"{BASE}/config", headers={"Accept": "application/yaml"}).text
        # Replaced without the PINs: they stay as they were.
        kept = admin.put(
            f"{BASE}/conferences/weekly",
            json={"extension": "801", "max_participants": 8},
            headers={"If-Match": read.headers["etag"]},
        )
        after_keep = _stored_room(web, "weekly")
        # `pin: null` removes the PIN; the moderator's PIN, left out, stays.
        removed = admin.put(
            f"{BASE}/conferences/weekly",
            json={"extension": "801", "pin": None},
            headers={"If-Match": kept.headers["etag"]},
        )
        after_remove = _stored_room(web, "weekly")
        log = admin.get(f"{BASE}/audit").json()["items"]
        deleted = admin.delete(f"{BASE}/conferences/weekly")
        gone = admin.get(f"{BASE}/conferences/weekly")
    assert made.status_code == 201, made.text
    assert made.json() == {"extension": "800", "max_participants": 6}
    assert read.json() == {"extension": "800", "max_participants": 6}
    assert listed == {"weekly": {"extension": "800", "max_participants": 6}}
    assert "4711" not in exported and "9999" not in exported and "weekly" in exported
    assert kept.status_code == 200, kept.text
    assert after_keep.extension == "801"
    assert voicemail.verify_pin(after_keep.pin, "4711")
    assert voicemail.verify_pin(after_keep.moderator_pin, "9999")
    assert removed.status_code == 200, removed.text
    assert after_remove.pin is None and voicemail.verify_pin(after_remove.moderator_pin, "9999")
    assert deleted.status_code == 204 and gone.status_code == 404
    assert _stored_room(web, "weekly") is None
    puts = [entry for entry in log if entry["action"] == "conferences.put"]
    assert [entry["after"].get("pin") for entry in puts] == ["(removed)", None, "(set)"]
    text = json.dumps(log)
    assert "4711" not in text and "9999" not in text and "scrypt" not in text


def test_the_etag_does_not_tell_the_pin(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        one = admin.put(f"{BASE}/conferences/a", json={"extension": "800", "pin": "1111"})
        two = admin.put(f"{BASE}/conferences/b", json={"extension": "801", "pin": "2222"})
        again = admin.put(
            f"{BASE}/conferences/a",
            json={"extension": "800", "pin": "3333"},
            headers={"If-Match": one.headers["etag"]},
        )
    assert one.status_code == two.status_code == 201
    assert again.status_code == 200
    # The same room with another PIN: the same ETag; the PIN leaves no trace in it.
    assert again.headers["etag"] == one.headers["etag"]
    assert voicemail.verify_pin(_stored_room(web, "a").pin, "3333")


def test_a_bad_room_gets_the_errors_config_apply_prints_and_changes_nothing(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        short_pin = admin.put(f"{BASE}/conferences/r", json={"extension": "800", "pin": "12"})
        both = {"extension": "800", "pin": "1234", "moderator_pin": "1234"}
        same_pins = admin.put(f"{BASE}/conferences/r", json=both)
        taken = admin.put(f"{BASE}/conferences/r", json={"extension": "1002"})
        nowhere = admin.put(f"{BASE}/conferences/r", json={})
        too_many = admin.put(f"{BASE}/conferences/r", json={"extension": "800",
                                                            "max_participants": 500})  # fmt: skip
        bad_name = admin.put(f"{BASE}/conferences/Big Room", json={"extension": "800"})
        listed = admin.get(f"{BASE}/conferences").json()["items"]
    for answer in (short_pin, same_pins, taken, nowhere, too_many, bad_name):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "1234" not in answer.text
    assert short_pin.json()["errors"] == ["pin: a PIN is 4 to 8 digits"]
    assert taken.json()["errors"] == ["conferences.r.extension: 1002 is user 1002's"]
    assert nowhere.json()["errors"] == [
        "conferences.r: give it an extension, or a number of numbers (conference: r)"
    ]
    assert listed == {}


def test_a_room_a_number_leads_to_cannot_be_removed(web: Web) -> None:
    with web.login("provider@vaxel.test") as provider:
        acme_range = {"items": [{"first": "+46812345600", "last": "+46812345699"}]}
        assert provider.put(f"{BASE}/number-ranges", json=acme_range).status_code == 200
    with web.login("1001@acme.example") as admin:
        assert admin.put(f"{BASE}/conferences/board", json={}).status_code == 422
        number = {"number": "+46812345650", "conference": "board"}
        first = admin.put(f"{BASE}/numbers/+46812345650", json=number)
        assert first.status_code == 422  # the room is not there yet
        assert admin.put(f"{BASE}/conferences/board", json={"extension": "810"}).status_code == 201
        assert admin.put(f"{BASE}/numbers/+46812345650", json=number).status_code == 201
        in_use = admin.delete(f"{BASE}/conferences/board")
    assert in_use.status_code == 422
    assert in_use.json()["errors"] == ['numbers.1.conference: unknown conference "board"']


def test_only_the_companys_admins_see_and_change_its_rooms(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        admin.put(f"{BASE}/conferences/weekly", json={"extension": "800", "pin": "4711"})
    with web.login("1002@acme.example") as user:
        assert user.get(f"{BASE}/conferences").status_code == 403
        assert user.put(f"{BASE}/conferences/x", json={"extension": "801"}).status_code == 403
    with web.login("2001@other.example") as other:
        assert other.get(f"{BASE}/conferences").status_code == 404
        assert other.get(f"{BASE}/conferences/weekly").status_code == 404
        assert other.delete(f"{BASE}/conferences/weekly").status_code == 404
        theirs = other.get("/api/v1/companies/other.example/conferences").json()["items"]
    assert theirs == {}
    assert _stored_room(web, "weekly") is not None
