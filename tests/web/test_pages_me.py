"""The user web (U9, U4, A5), over real HTTP: "Lunch until 13:00" set with one press, seen
by colleagues in the directory and by the switch (services.diversions); cleared. My queues:
log in and out of each, pause with a reason and resume."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.web.conftest import Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.services import companies, diversions, pauses, presence_settings

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _acme(web: Web) -> int:
    return companies.get_company(web.store, "acme.example").id


def test_lunch_until_13_is_seen_by_colleagues_and_the_switch(web: Web) -> None:
    with log_in(web, "1002@acme.example") as bo:
        page = bo.get("/me").text
        assert "Lunch until 13:00" in page  # the shortcut button
        done = bo.post("/me/diversion", data={"csrf": csrf_of(page), "shortcut": "lunch_13"})
        assert done.status_code == 303 and done.headers["location"] == "/me?done=set_ok"
        mine = text_of(bo.get(done.headers["location"]).text)
        assert "Your status is set." in mine
    info = diversions.get_diversion(web.store, _acme(web), "1002", datetime.now(UTC))
    assert info is not None and info.status == "lunch"
    assert info.until is not None
    local = info.until.astimezone(STOCKHOLM)
    assert (local.hour, local.minute) == (13, 0)
    assert info.until > datetime.now(UTC)
    with log_in(web, "1001@acme.example") as anna:
        directory = text_of(anna.get("/me").text)
        shown = "13:00" if local.date() == datetime.now(STOCKHOLM).date() else "tomorrow 13:00"
        assert f"1002 Bo User Lunch until {shown}" in directory
        assert "1003 Cia Colleague Available" in directory
        # In Swedish too.
        anna.cookies.set("vaxel_lang", "sv")
        assert "Bo User Lunch till" in text_of(anna.get("/me").text)
    # Every colleague sees the same list through the API.
    assert "1002" in diversions.active_diversions(web.store, _acme(web), datetime.now(UTC))


def test_own_text_with_an_end_date_and_clearing_it(web: Web) -> None:
    with log_in(web, "1002@acme.example") as bo:
        csrf = csrf_of(bo.get("/me").text)
        tomorrow = datetime.now(STOCKHOLM).date().toordinal() + 2
        day = datetime.fromordinal(tomorrow).date().isoformat()
        done = bo.post("/me/diversion", data={"csrf": csrf, "status": "custom",
                                              "text": "At a customer <b>", "date": day,
                                              "time": "10:15"})  # fmt: skip
        assert done.status_code == 303
        page = bo.get("/me").text
        assert "At a customer &lt;b&gt;" in page
        assert "10:15" in text_of(page)
        info = diversions.get_diversion(web.store, _acme(web), "1002", datetime.now(UTC))
        assert info is not None and info.status == "custom" and info.text == "At a customer <b>"
        cleared = bo.post("/me/diversion/clear", data={"csrf": csrf})
        assert cleared.headers["location"] == "/me?done=cleared"
        assert "Available: your phones ring." in text_of(bo.get("/me").text)
    assert diversions.get_diversion(web.store, _acme(web), "1002", datetime.now(UTC)) is None


def test_a_bad_diversion_is_explained_and_nothing_set(web: Web) -> None:
    with log_in(web, "1002@acme.example") as bo:
        csrf = csrf_of(bo.get("/me").text)
        empty = bo.post("/me/diversion", data={"csrf": csrf, "status": "custom", "text": ""})
        assert empty.status_code == 422
        assert "a custom diversion needs a text" in text_of(empty.text)
        past = bo.post("/me/diversion", data={"csrf": csrf, "status": "meeting",
                                              "date": "2020-01-01", "time": "10:00"})  # fmt: skip
        assert "the end time has passed" in text_of(past.text)
        forged = bo.post("/me/diversion", data={"csrf": "nope", "shortcut": "lunch_13"})
        assert forged.status_code == 403
    assert diversions.get_diversion(web.store, _acme(web), "1002", datetime.now(UTC)) is None


def test_the_directory_is_searched_as_one_types(web: Web) -> None:
    with log_in(web, "1002@acme.example") as bo:
        found = bo.get("/me", params={"q": "cia"}, headers={"HX-Request": "true"})
        assert "Cia Colleague" in found.text and "Anna Admin" not in found.text
        assert "<html" not in found.text
        assert "Olle" not in bo.get("/me", params={"q": "olle"}).text  # another company


def test_a_provider_admin_has_no_status_page(web: Web) -> None:
    with log_in(web, "provider@vaxel.test") as client:
        assert client.get("/me").status_code == 404


def test_a_status_for_the_fixed_numbers_only(web: Web) -> None:
    """U9: the form says which calls a status applies to; colleagues see it."""
    with log_in(web, "1002@acme.example") as bo:
        page = bo.get("/me").text
        assert "Applies to calls to" in text_of(page)
        done = bo.post("/me/diversion", data={"csrf": csrf_of(page), "status": "meeting",
                                              "scope": "fixed"})  # fmt: skip
        assert done.status_code == 303
        assert "Meeting (fixed numbers only)" in text_of(bo.get("/me").text)
        bad = bo.post("/me/diversion", data={"csrf": csrf_of(page), "status": "meeting",
                                             "scope": "desk"})  # fmt: skip
        assert bad.status_code == 422 and "unknown scope" in text_of(bad.text)
    info = diversions.get_diversion(web.store, _acme(web), "1002", datetime.now(UTC))
    assert info is not None and info.scope == "fixed" and info.status == "meeting"
    with log_in(web, "1001@acme.example") as anna:
        anna.cookies.set("vaxel_lang", "sv")
        assert "Bo User Möte (bara fasta nummer)" in text_of(anna.get("/me").text)


def test_my_shortcuts_are_saved_pressed_and_removed(web: Web) -> None:
    """U9: "Lunch 1 h" and "Meeting until 15:30 (fixed numbers only)" kept, one press sets
    the diversion, another removes the shortcut; a bad one is explained."""
    with log_in(web, "1002@acme.example") as bo:
        csrf = csrf_of(bo.get("/me").text)
        saved = bo.post("/me/shortcuts", data={"csrf": csrf, "status": "lunch", "minutes": "60"})
        assert saved.status_code == 303 and saved.headers["location"] == "/me?done=shortcut_saved"
        bo.post("/me/shortcuts", data={"csrf": csrf, "status": "meeting", "at": "15:30",
                                       "scope": "fixed"})  # fmt: skip
        bad = bo.post("/me/shortcuts", data={"csrf": csrf, "status": "lunch", "minutes": "x"})
        assert bad.status_code == 422
        assert "whole number of minutes" in text_of(bad.text)
        page = bo.get("/me").text
        shown = text_of(page)
        assert "Lunch 1 h" in shown and "Meeting until 15:30 (fixed numbers only)" in shown
        first = page.index('action="/me/shortcuts/') + len('action="/me/shortcuts/')
        shortcut_id = page[first : page.index("/", first)]
        done = bo.post(f"/me/shortcuts/{shortcut_id}/apply", data={"csrf": csrf})
        assert done.headers["location"] == "/me?done=set_ok"
        info = diversions.get_diversion(web.store, _acme(web), "1002", datetime.now(UTC))
        assert info is not None and info.status == "lunch" and info.until is not None
        removed = bo.post(f"/me/shortcuts/{shortcut_id}/remove", data={"csrf": csrf})
        assert removed.headers["location"] == "/me?done=shortcut_removed"
        assert "Lunch 1 h" not in text_of(bo.get("/me").text)
        bo.cookies.set("vaxel_lang", "sv")
        assert "Möte till 15:30 (bara fasta nummer)" in text_of(bo.get("/me").text)


def test_starred_colleagues_come_first_in_the_directory(web: Web) -> None:
    """U4: a star beside each colleague; the starred ones first, also when searching."""
    with log_in(web, "1001@acme.example") as anna:
        page = anna.get("/me").text
        before = text_of(page)
        assert before.index("1002 Bo User") < before.index("1003 Cia Colleague")
        starred = anna.post("/me/favourites/1003/star", data={"csrf": csrf_of(page), "q": ""})
        assert starred.status_code == 303 and starred.headers["location"] == "/me#dir"
        page = anna.get("/me").text
        shown = text_of(page)
        assert shown.index("1003 Cia Colleague") < shown.index("1002 Bo User")
        assert 'aria-pressed="true" aria-label="Favourite: Cia Colleague"' in page
        found = anna.get("/me", params={"q": "c"}, headers={"HX-Request": "true"}).text
        assert "Cia Colleague" in found and "Bo User" not in found
        anna.post("/me/favourites/1003/unstar", data={"csrf": csrf_of(page)})
        again = text_of(anna.get("/me").text)
        assert again.index("1002 Bo User") < again.index("1003 Cia Colleague")
        assert (
            anna.post("/me/favourites/2001/star", data={"csrf": csrf_of(page)}).status_code == 404
        )


def test_my_queues_log_in_and_out_and_pause_with_a_reason(web: Web) -> None:
    """A5: Bo's queue (sales) with its login button, and the pause with the company's
    reasons; what he presses is what the switch reads (services.presence_settings, pauses)."""
    with log_in(web, "1002@acme.example") as bo:
        page = bo.get("/me").text
        assert "Logged in to sales" in text_of(page)
        csrf = csrf_of(page)
        out = bo.post("/me/groups/sales", data={"csrf": csrf, "on": "0"})
        assert out.status_code == 303 and out.headers["location"] == "/me?done=logged_out#queues"
        assert ("sales", "1002") in presence_settings.logged_out(web.store, _acme(web))
        assert "Logged out of sales" in text_of(bo.get("/me").text)
        assert bo.post("/me/groups/sales", data={"csrf": csrf, "on": "1"}).status_code == 303
        assert presence_settings.logged_out(web.store, _acme(web)) == set()
        paused = bo.post("/me/pause", data={"csrf": csrf, "reason": "admin"})
        assert paused.status_code == 303
        assert pauses.pauses(web.store, _acme(web))["1002"].reason == "admin"
        bo.cookies.set("vaxel_lang", "sv")
        assert "Pausad (Administration)" in text_of(bo.get("/me").text)
        refused = bo.post("/me/pause", data={"csrf": csrf, "reason": "fika"})
        assert refused.status_code == 422 and "fika" in text_of(refused.text)
        assert pauses.pauses(web.store, _acme(web))["1002"].reason == "admin"  # kept
        assert bo.post("/me/pause", data={"csrf": csrf, "off": "1"}).status_code == 303
        assert pauses.pauses(web.store, _acme(web)) == {}
        assert bo.post("/me/groups/sales", data={"csrf": "wrong", "on": "0"}).status_code == 403
    with log_in(web, "1001@acme.example") as anna:  # in no queue: no such card
        assert "My queues" not in anna.get("/me").text
        csrf = csrf_of(anna.get("/me").text)
        assert anna.post("/me/groups/sales", data={"csrf": csrf, "on": "0"}).status_code == 404
