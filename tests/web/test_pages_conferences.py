"""A3, S7: the admin's conference room pages over real HTTP: a room is made, changed and
removed with its errors next to the fields; its PINs are write-only (never in the page,
blank keeps, the box removes); the list shows the numbers that lead to a room and who
is in it now (a real room on a switch in memory); another company's admin gets 404."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.features.test_conference import join
from tests.memory import MemorySwitch
from tests.web.conftest import Client, Web
from tests.web.pages import csrf_of, log_in, text_of
from tests.web.test_conferences import switch  # noqa: F401  (a fixture: a switch with rooms)
from vaxel.services import audit, configuration, number_ranges, voicemail
from vaxel.services.companies import get_company


def _room(web: Web, name: str) -> Any:
    stored = configuration.load_document(web.store, get_company(web.store, "acme.example").id)
    assert stored is not None
    return stored.conferences.get(name)


def _error(page: str, field_id: str) -> str:
    at = page.index(f'id="err-{field_id}">')
    start = at + len(f'id="err-{field_id}">')
    return text_of(page[start : page.index("</p>", start)])


def _hidden(page: str, name: str) -> str:
    start = page.index(f'name="{name}" value="') + len(f'name="{name}" value="')
    return page[start : page.index('"', start)].replace("&#34;", '"')


def _post(client: Client, page: str, action: str, **fields: str) -> Any:
    return client.post(action, data={"csrf": csrf_of(client.get(page).text), **fields})


def test_a_room_is_made_changed_and_removed_with_its_pins_write_only(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        empty = admin.get("/admin/conferences")
        assert empty.status_code == 200 and "No conference rooms yet." in text_of(empty.text)
        bad = _post(admin, "/admin/conferences/new?name=weekly", "/admin/conferences/new",
                    name="weekly", extension="1002", pin="12", moderator_pin="",
                    max_participants="2000")  # fmt: skip
        assert bad.status_code == 422
        assert _error(bad.text, "max_participants").startswith(
            "conferences.weekly.max_participants:"
        )
        assert _error(bad.text, "pin") == "conferences.weekly.pin: a PIN is 4 to 8 digits"
        assert 'value="12"' not in bad.text  # a PIN typed is not sent back either
        taken = _post(admin, "/admin/conferences/new?name=weekly", "/admin/conferences/new",
                      name="weekly", extension="1002", max_participants="6")  # fmt: skip
        assert taken.status_code == 422
        assert _error(taken.text, "extension") == (
            "conferences.weekly.extension: 1002 is user 1002's"
        )
        assert _room(web, "weekly") is None
        made = _post(admin, "/admin/conferences/new?name=weekly", "/admin/conferences/new",
                     name="weekly", extension="800", pin="4711", moderator_pin="9999",
                     max_participants="6")  # fmt: skip
        assert made.status_code == 303, text_of(made.text)
        assert made.headers["location"] == "/admin/conferences/weekly?done=created"
        page = admin.get(made.headers["location"]).text
        shown = re.sub(r'value="[^"]{20,}"', "", page)  # (not inside the random CSRF token)
        assert "4711" not in shown and "9999" not in shown and "scrypt" not in shown
        assert "One is set; it is never shown." in text_of(page)
        room = _room(web, "weekly")
        assert room.extension == "800" and room.max_participants == 6
        assert voicemail.verify_pin(room.pin, "4711")
        assert voicemail.verify_pin(room.moderator_pin, "9999")
        # Blank PIN fields keep the PINs; the box removes the moderator's.
        kept = admin.post("/admin/conferences/weekly", data={
            "csrf": csrf_of(page), "tag": _hidden(page, "tag"), "extension": "801",
            "pin": "", "moderator_pin": "", "moderator_pin.remove": "on",
            "max_participants": "8", "language": "en"})  # fmt: skip
        assert kept.status_code == 303, text_of(kept.text)
        room = _room(web, "weekly")
        assert room.extension == "801" and room.language == "en"
        assert voicemail.verify_pin(room.pin, "4711") and room.moderator_pin is None
        # Same PINs: said at the moderator's PIN.
        page = admin.get("/admin/conferences/weekly").text
        same = admin.post("/admin/conferences/weekly", data={
            "csrf": csrf_of(page), "tag": _hidden(page, "tag"), "extension": "801",
            "pin": "5555", "moderator_pin": "5555", "max_participants": "8"})  # fmt: skip
        assert same.status_code == 422
        assert _error(same.text, "moderator_pin") == (
            "conferences.weekly: pin and moderator_pin must differ"
        )
        listed = text_of(admin.get("/admin/conferences").text)
        assert "weekly 801 \u2013 set none 8" in listed
        log = audit.entries(web.store, get_company(web.store, "acme.example").id)
        assert [e.after.get("pin") for e in log if e.action == "conferences.put"] == [
            None, "(set)"
        ]  # fmt: skip
        assert log[0].after["moderator_pin"] == "(removed)"
        assert "4711" not in json.dumps([e.after for e in log])
        listing = admin.get("/admin/conferences").text
        gone = admin.post("/admin/conferences/remove", data={
            "csrf": csrf_of(listing), "name": "weekly",
            "tag": _hidden(listing[listing.index('value="weekly"'):], "tag")})  # fmt: skip
        assert gone.status_code == 303
    assert _room(web, "weekly") is None


def test_the_list_shows_the_numbers_of_a_room_and_who_is_in_it(
    web: Web,
    switch: MemorySwitch,  # noqa: F811
) -> None:
    company = get_company(web.store, "acme.example")
    wide = number_ranges.parse_range("+46812345600", "+46812345699")
    number_ranges.set_ranges(web.store, company.id, [wide])
    with web.login("1001@acme.example") as api:
        assert api.put("/api/v1/companies/acme.example/conferences/weekly",
                       json={"extension": "800", "pin": "4711"}).status_code == 201  # fmt: skip
        number = {"number": "+46812345650", "conference": "weekly"}
        assert api.put("/api/v1/companies/acme.example/numbers/+46812345650",
                       json=number).status_code == 201  # fmt: skip
    join(switch, "1001")
    join(switch, "1002")
    switch.advance(0.2)
    with log_in(web, "1001@acme.example") as admin:
        listed = text_of(admin.get("/admin/conferences").text)
    # The switch's own names for 1001 and 1002 (tests/features/conftest.py USERS).
    assert "In it now" in listed
    assert "weekly 800 +46812345650 set none 10 Anna, Björn Remove" in listed


def test_without_a_switch_the_list_says_it_does_not_know_who_is_in(web: Web) -> None:
    with web.login("1001@acme.example") as api:
        api.put("/api/v1/companies/acme.example/conferences/weekly", json={"extension": "800"})
    with log_in(web, "1001@acme.example", lang="sv") as admin:
        listed = text_of(admin.get("/admin/conferences").text)
    assert "Konferensrum" in listed and "okänt (växeln svarar inte)" in listed


@pytest.mark.parametrize("path", ["/admin/conferences", "/admin/conferences/weekly"])
def test_another_companys_rooms_are_404(web: Web, path: str) -> None:
    with web.login("1001@acme.example") as api:
        api.put("/api/v1/companies/acme.example/conferences/weekly", json={"extension": "800"})
    with log_in(web, "1001@acme.example") as admin:
        assert admin.get(path).status_code == 200
    with log_in(web, "2001@other.example") as other:
        assert other.get(path, params={"company": "acme.example"}).status_code == 404
        if path.endswith("weekly"):
            assert other.get(path).status_code == 404
    with log_in(web, "1002@acme.example") as user:
        assert user.get(path).status_code == 403


def test_a_change_without_the_csrf_token_is_refused(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        refused = admin.post("/admin/conferences/new", data={"name": "x", "extension": "800"})
    assert refused.status_code == 403
    assert _room(web, "x") is None


def test_a_meeting_is_booked_and_cancelled_on_the_rooms_page(web: Web) -> None:
    with web.login("1001@acme.example") as api:
        api.put("/api/v1/companies/acme.example/conferences/weekly",
                json={"extension": "800", "pin": "4711"})  # fmt: skip
    fields = {"title": "Board", "start": "2099-06-01T10:00", "duration_minutes": "30",
              "frequency": "weekly", "count": "3", "reminder_minutes": "15",
              "emails": "a@partner.test", "phones": "070-174 06 05"}  # fmt: skip
    with log_in(web, "1001@acme.example") as admin:
        page = "/admin/conferences/weekly"
        wrong = _post(admin, page, f"{page}/meetings", **fields, pin="1234")
        assert wrong.status_code == 422
        assert "pin: not the room's PIN" in text_of(wrong.text)
        assert 'value="Board"' in wrong.text and "1234" not in wrong.text
        booked = _post(admin, page, f"{page}/meetings", **fields, pin="4711")
        assert booked.status_code == 303, text_of(booked.text)
        shown = text_of(admin.get(booked.headers["location"]).text)
        assert "Booked: the invitations are sent." in shown
        assert "Board 2099-06-01 10:00 every week a@partner.test, +46701740605" in shown
        listing = admin.get(page).text
        meeting_id = listing[listing.index('id="meeting-') + 12 :].split('"')[0]
        gone = _post(admin, page, f"{page}/meetings/cancel", id=meeting_id)
        assert gone.status_code == 303
        assert "No meetings booked." in text_of(admin.get(page).text)
    with log_in(web, "2001@other.example") as other:
        refused = other.post("/admin/conferences/weekly/meetings/cancel",
                             data={"csrf": csrf_of(other.get("/admin/conferences").text),
                                   "id": meeting_id})  # fmt: skip
        assert refused.status_code == 404
