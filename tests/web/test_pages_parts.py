"""The company admin's pages for the parts of the description (S7: S1 numbers, S3 menus,
S5 schedules, S8 groups, S6 shared boxes, S4 prompts), over real HTTP: a bad value is
shown next to its field with the path `vaxel config apply` prints, a good one lands in
the description (or the services), a form read before someone else's change is refused,
and another company's pages are 404."""

from __future__ import annotations

import html
import io
import shutil
import wave
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from tests.web.conftest import Client, Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.services import configuration, number_ranges, pauses, presence_settings
from vaxel.services.companies import get_company

SPEECH = pytest.mark.skipif(
    shutil.which("sox") is None or shutil.which("espeak-ng") is None,
    reason="prompts are spoken by espeak-ng and converted by sox",
)


def _section(web: Web, section: str) -> Any:
    data, _ = configuration.export_data(web.store, "acme.example")
    return data.get(section, {})


def _error(page: str, field_id: str) -> str:
    """The text of the error shown under a field (its id, as aria-describedby names it)."""
    at = page.index(f'id="err-{field_id}">')
    assert f"err-{field_id}" in page[:at]  # a field names it in aria-describedby
    start = at + len(f'id="err-{field_id}">')
    return text_of(page[start : page.index("</p>", start)])


def _post(client: Client, page: str, action: str, **fields: str) -> Any:
    """Submit a form of `page` (its CSRF token) with these fields."""
    return client.post(action, data={"csrf": csrf_of(client.get(page).text), **fields})


def test_numbers_are_added_pointed_elsewhere_and_removed(web: Web) -> None:
    company = get_company(web.store, "acme.example")
    with log_in(web, "1001@acme.example") as admin:
        outside = _post(admin, "/admin/numbers", "/admin/numbers",
                        number="08-123 456 01", kind="user", target="1002")  # fmt: skip
        assert "numbers.1.number: +46812345601 is not in your company's number ranges" in (
            _error(outside.text, "number")
        )
    wide = number_ranges.parse_range("+46812345600", "+46812345699")
    number_ranges.set_ranges(web.store, company.id, [wide])  # as the provider does
    with log_in(web, "1001@acme.example") as admin:
        listed = text_of(admin.get("/admin/numbers").text)
        assert "+46812345600" in listed
        bad = _post(admin, "/admin/numbers", "/admin/numbers",
                    number="08-123 456 01", kind="user", target="1099")  # fmt: skip
        assert bad.status_code == 422
        assert _error(bad.text, "target") == 'numbers.1.user: unknown user "1099"'
        assert 'value="08-123 456 01"' in bad.text  # what was typed stays
        room = _post(admin, "/admin/numbers", "/admin/numbers",
                     number="08-123 456 01", kind="conference", target="weekly")  # fmt: skip
        assert _error(room.text, "target") == 'numbers.1.conference: unknown conference "weekly"'
        made = _post(admin, "/admin/numbers", "/admin/numbers",
                     number="08-123 456 01", kind="user", target="1002")  # fmt: skip
        assert made.status_code == 303, text_of(made.text)
        assert {"number": "+46812345601", "user": "1002"} in _section(web, "numbers")
        assert made.headers["location"] == "/admin/numbers?done=created"
        twice = _post(admin, "/admin/numbers", "/admin/numbers",
                      number="+46812345601", kind="flow", target="main")  # fmt: skip
        assert _error(twice.text, "number") == "numbers.+46812345601: the name is taken"
        page = admin.get(made.headers["location"]).text
        assert "Added." in text_of(page)
        gone = _post(admin, "/admin/numbers", "/admin/numbers/remove", name="+46812345601",
                     tag=_tag(page, "+46812345601"))  # fmt: skip
        assert gone.status_code == 303
    assert [n["number"] for n in _section(web, "numbers")] == ["+46812345600"]


def test_a_call_flow_is_changed_with_its_errors_next_to_the_fields(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        assert "main +46812345600" in text_of(admin.get("/admin/flows").text)
        page = admin.get("/admin/flows/main").text
        fields = {"csrf": csrf_of(page), "tag": _hidden(page, "tag"),
                  "destination.kind": "group", "destination.target": "sales"}  # fmt: skip
        bad = admin.post("/admin/flows/main", data={**fields, "menu": "nope",
                         "closed.destination.kind": "voicemail",
                         "closed.destination.target": "1099"})  # fmt: skip
        assert bad.status_code == 422
        assert _error(bad.text, "menu") == 'flows.main.menu: unknown menu "nope"'
        assert _error(bad.text, "closed-destination") == (
            'flows.main.closed.destination: unknown voicemail box "1099"'
        )
        ok = admin.post("/admin/flows/main", data={**fields, "destination.kind": "user",
                        "destination.target": "1003", "closed.destination.kind": "voicemail",
                        "closed.destination.target": "1003"})  # fmt: skip
        assert ok.status_code == 303, text_of(ok.text)
    assert _section(web, "flows")["main"] == {
        "destination": {"user": "1003"}, "closed": {"destination": {"voicemail": "1003"}},
    }  # fmt: skip


def _tag(page: str, name: str) -> str:
    """The tag of the row form for `name` (its hidden `tag` after the name's field)."""
    at = page.index(f'value="{name}"')
    start = page.index('name="tag" value="', at) + len('name="tag" value="')
    return page[start : page.index('"', start)].replace("&#34;", '"')


@SPEECH
def test_a_menu_is_made_with_its_errors_next_to_the_keys_and_shown_in_the_tree(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        spoken = _post(admin, "/admin/prompts", "/admin/prompts/text",
                       name="hello", text="Hello.", language="en", number="7")  # fmt: skip
        assert spoken.status_code == 303, text_of(spoken.text)
        fields = {"name": "choice", "prompt": "hello", "timeout": "5", "retries": "2",
                  "default.kind": "hangup", "keys.1.kind": "user",
                  "keys.1.target": "1002"}  # fmt: skip
        bad = _post(admin, "/admin/menus/new?name=choice", "/admin/menus/new",
                    **{**fields, "retries": "9"})  # fmt: skip
        assert bad.status_code == 422
        assert _error(bad.text, "retries").startswith("menus.choice.retries: Input should be")
        bad = _post(admin, "/admin/menus/new?name=choice", "/admin/menus/new",
                    **{**fields, "keys.2.kind": "group", "keys.2.target": "nope"})  # fmt: skip
        assert _error(bad.text, "keys-2") == 'menus.choice.keys.2: unknown group "nope"'
        assert 'value="nope"' in bad.text
        made = _post(admin, "/admin/menus/new", "/admin/menus/new", **fields)
        assert made.status_code == 303, text_of(made.text)
        assert _section(web, "menus")["choice"]["keys"] == {"1": {"user": "1002"}}
        # The flow main leads to the group sales; the new menu stands on its own.
        tree = text_of(admin.get("/admin/menus").text)
        assert "call flow main group sales" in tree
        assert "menu choice key 1 → user 1002" in tree
        # A form read before someone else's change is refused, not saved over it.
        form = admin.get("/admin/menus/choice").text
        _post(admin, "/admin/menus/choice", "/admin/menus/choice",
              **{**fields, "keys.3.kind": "user", "keys.3.target": "1003"})  # fmt: skip
        stale = admin.post("/admin/menus/choice", data={"csrf": csrf_of(form), **fields,
                           "tag": _hidden(form, "tag")})  # fmt: skip
        assert stale.status_code == 422 and "Someone changed this" in text_of(stale.text)
    assert "3" in _section(web, "menus")["choice"]["keys"]


def _hidden(page: str, name: str) -> str:
    start = page.index(f'name="{name}" value="') + len(f'name="{name}" value="')
    return page[start : page.index('"', start)].replace("&#34;", '"')


def test_a_schedule_week_special_day_override_and_year_calendar(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        week = {f"weekly.{day}": "08:00-17:00" for day in ("monday", "wednesday", "friday")}
        bad = _post(admin, "/admin/schedules/new?name=office", "/admin/schedules/new/weekly",
                    name="office", **week, **{"weekly.tuesday": "25:00-26:00"})  # fmt: skip
        assert bad.status_code == 422
        assert _error(bad.text, "weekly-tuesday").startswith(
            "schedules.office.weekly.tuesday.0: bad time '25:00'"
        )
        made = _post(admin, "/admin/schedules/new", "/admin/schedules/new/weekly",
                     name="office", **week)  # fmt: skip
        assert made.status_code == 303, text_of(made.text)
        page = admin.get("/admin/schedules/office").text
        said = text_of(page)
        assert "Juldagen" in said and "Julafton" in said  # holidays and eves by name
        tag = _hidden(page, "tag")
        added = admin.post("/admin/schedules/office/special", data={
            "csrf": csrf_of(page), "tag": tag, "day.date": "2027-06-04", "day.hours": "",
            "day.name": "Company day"})  # fmt: skip
        assert added.status_code == 303, text_of(added.text)
        page = admin.get("/admin/schedules/office").text
        override = admin.post("/admin/schedules/office/override", data={
            "csrf": csrf_of(page), "tag": _hidden(page, "tag"), "override.state": "closed",
            "override.date": "2030-01-01", "override.time": "08:00"})  # fmt: skip
        assert override.status_code == 303
        assert "Closed" in text_of(admin.get("/admin/schedules/office").text)
        listed = admin.get("/admin/schedules")
        assert listed.status_code == 200
        assert "office — Closed · closed (manual override until 2030-01-01 08:00)" in text_of(
            listed.text
        )
    office = _section(web, "schedules")["office"]
    assert office["weekly"]["monday"] == ["08:00-17:00"]
    assert office["special_days"] == [{"date": "2027-06-04", "name": "Company day"}]
    assert office["override"] == {"state": "closed", "until": "2030-01-01T08:00:00"}


def test_a_group_is_changed_and_members_logged_in_and_out(web: Web) -> None:
    company = get_company(web.store, "acme.example")
    with log_in(web, "1001@acme.example") as admin:
        page = admin.get("/admin/groups/sales").text
        assert "Bo User" in text_of(page) and "logged in" in text_of(page)
        fields = {"tag": _hidden(page, "tag"), "members": "1003, 1002", "strategy": "sequential"}
        bad = admin.post("/admin/groups/sales",
                         data={"csrf": csrf_of(page), **fields, "ring_time": "500"})  # fmt: skip
        assert bad.status_code == 422
        assert _error(bad.text, "ring_time").startswith("groups.sales.ring_time: Input should be")
        ok = admin.post("/admin/groups/sales", data={"csrf": csrf_of(page), **fields,
                                                     "ring_time": "20"})  # fmt: skip
        assert ok.status_code == 303, text_of(ok.text)
        out = admin.post("/admin/groups/sales/login",
                         data={"csrf": csrf_of(page), "ext": "1003", "logged_in": "0"})  # fmt: skip
        assert out.status_code == 303
        shown = admin.get("/admin/groups/sales").text
        assert "Log Cia Colleague in" in shown
    assert _section(web, "groups")["sales"]["members"] == ["1003", "1002"]
    assert ("sales", "1003") in presence_settings.logged_out(web.store, company.id)


def test_a_paused_member_is_shown_and_the_admin_ends_the_pause(web: Web) -> None:
    """A5: the group's page says who paused and why; the admin's button ends the pause."""
    company = get_company(web.store, "acme.example")
    pauses.set_pause(web.store, company.id, "1003", "training", datetime.now(UTC))
    with log_in(web, "1001@acme.example") as admin:
        page = admin.get("/admin/groups/sales").text
        assert "logged in, paused (Training)" in text_of(page)
        ended = admin.post("/admin/groups/sales/unpause",
                           data={"csrf": csrf_of(page), "ext": "1003"})  # fmt: skip
        assert ended.status_code == 303
        shown = admin.get(ended.headers["location"]).text
        assert "The pause is ended." in text_of(shown) and "paused" not in text_of(shown)
    assert pauses.pauses(web.store, company.id) == {}


def test_the_admin_pauses_a_member_with_a_reason_from_the_groups_page(web: Web) -> None:
    """A5: a member not paused has a pause button with the company's reasons."""
    company = get_company(web.store, "acme.example")
    with log_in(web, "1001@acme.example", lang="sv") as admin:
        page = admin.get("/admin/groups/sales").text
        assert 'name="reason"' in page and "Lunch" in text_of(page)
        form = {"csrf": csrf_of(page), "ext": "1002", "reason": "lunch"}
        paused = admin.post("/admin/groups/sales/pause", data=form)
        assert paused.status_code == 303
        shown = admin.get(paused.headers["location"]).text
        assert "Medlemmen är pausad" in text_of(shown) and "pausad (Lunch)" in text_of(shown)
        form = {"csrf": csrf_of(page), "ext": "1003", "reason": "nap"}
        refused = admin.post("/admin/groups/sales/pause", data=form)
        assert refused.status_code == 422
    assert pauses.pauses(web.store, company.id)["1002"].reason == "lunch"
    assert "1003" not in pauses.pauses(web.store, company.id)


def test_a_groups_queue_and_overflow_are_set_from_its_page(web: Web) -> None:
    """S8: the queue (music, announcement, how often, the caller's place, the longest
    wait), a busy member's call waiting and the overflow, each error at its field."""
    with log_in(web, "1001@acme.example") as admin:
        page = admin.get("/admin/groups/sales").text
        assert 'id="f-queue" name="queue" type="checkbox"' in page  # off: no queue yet
        fields = {"csrf": csrf_of(page), "tag": _hidden(page, "tag"), "members": "1002, 1003",
                  "strategy": "parallel", "ring_time": "15", "busy_members": "call-waiting",
                  "queue": "on", "queue.announce_every": "3", "queue.max_wait": "90",
                  "queue.music": "nomusic", "overflow.kind": "voicemail",
                  "overflow.target": "1002", "queue.announce_position": "on"}  # fmt: skip
        bad = admin.post("/admin/groups/sales", data=fields)
        assert bad.status_code == 422
        assert _error(bad.text, "queue-announce_every").startswith(
            "groups.sales.queue.announce_every: Input should be greater than or equal to 5"
        )
        assert 'id="f-queue" name="queue" type="checkbox" checked' in bad.text  # as sent
        fields["queue.announce_every"] = "45"
        unknown = admin.post("/admin/groups/sales", data=fields)
        assert _error(unknown.text, "queue-music") == (
            'groups.sales.queue.music: unknown prompt "nomusic"'
        )
        fields["queue.music"] = ""
        ok = admin.post("/admin/groups/sales", data=fields)
        assert ok.status_code == 303, text_of(ok.text)
        shown = admin.get("/admin/groups/sales").text
        assert 'value="45"' in shown and 'value="90"' in shown
    assert _section(web, "groups")["sales"] == {
        "members": ["1002", "1003"], "busy_members": "call-waiting",
        "queue": {"announce_every": 45.0, "max_wait": 90.0},  # the caller's place: default
        "overflow": {"voicemail": "1002"},
    }  # fmt: skip
    with log_in(web, "1001@acme.example") as admin:
        page = admin.get("/admin/groups/sales").text
        off = admin.post("/admin/groups/sales", data={
            "csrf": csrf_of(page), "tag": _hidden(page, "tag"), "members": "1002, 1003",
            "strategy": "parallel", "ring_time": "15"})  # fmt: skip
        assert off.status_code == 303
    assert _section(web, "groups")["sales"] == {"members": ["1002", "1003"]}


def test_a_shared_box_with_members_mail_and_greeting(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        fields = {"name": "reception", "email": "desk@acme.example", "greeting": ""}
        bad = _post(admin, "/admin/voicemail/new?name=reception", "/admin/voicemail/new",
                    **fields, members="1001, 1099")  # fmt: skip
        assert bad.status_code == 422
        assert _error(bad.text, "members") == 'voicemail.reception.members.1: unknown user "1099"'
        made = _post(admin, "/admin/voicemail/new", "/admin/voicemail/new", **fields,
                     members="1001 1003")  # fmt: skip
        assert made.status_code == 303, text_of(made.text)
    box = _section(web, "voicemail")["reception"]
    assert box["members"] == ["1001", "1003"] and box["email"] == ["desk@acme.example"]


def _wav(seconds: float = 0.5) -> bytes:
    t = np.arange(int(8000 * seconds)) / 8000
    samples = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(samples.tobytes())
    return out.getvalue()


@SPEECH
def test_prompts_are_uploaded_checked_by_decoding_and_heard_before_saving(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        page = admin.get("/admin/prompts").text
        refused = admin.post("/admin/prompts/upload", data={"csrf": csrf_of(page),
                             "upload_name": "welcome"},
                             files={"file": ("welcome.wav", b"not audio at all",
                                             "audio/wav")})  # fmt: skip
        assert refused.status_code == 422
        assert _error(refused.text, "file").startswith("prompts.welcome.file: ")
        assert "welcome" not in _section(web, "prompts")
        taken = admin.post("/admin/prompts/upload", data={"csrf": csrf_of(page),
                           "upload_name": "welcome"},
                           files={"file": ("mine.wav", _wav(), "audio/wav")})  # fmt: skip
        assert taken.status_code == 303, text_of(taken.text)
        listed = admin.get("/admin/prompts").text
        player = "/api/v1/companies/acme.example/prompts/welcome/audio"
        assert f'src="{player}"' in listed
        heard = admin.get(player)
        assert heard.status_code == 200 and heard.headers["content-type"] == "audio/wav"
        spoken = admin.post("/admin/prompts/hear", data={"csrf": csrf_of(listed), "name": "hi",
                            "text": "Hello there.", "language": "en"})  # fmt: skip
        assert spoken.status_code == 200
        src = _hidden_attr(spoken.text, 'id="preview" controls src="')
        preview = admin.get(src)
        assert preview.status_code == 200 and preview.content[:4] == b"RIFF"
        assert "hi" not in _section(web, "prompts")  # hearing it keeps nothing
    assert _section(web, "prompts")["welcome"]["file"] == "welcome.wav"


def _hidden_attr(page: str, before: str) -> str:
    start = page.index(before) + len(before)
    return html.unescape(page[start : page.index('"', start)])


@pytest.mark.parametrize("path", ["/admin/numbers", "/admin/flows", "/admin/flows/main",
                                  "/admin/menus", "/admin/schedules",
                                  "/admin/groups", "/admin/groups/sales", "/admin/voicemail",
                                  "/admin/prompts"])  # fmt: skip
def test_another_company_s_parts_are_404(web: Web, path: str) -> None:
    with log_in(web, "1001@acme.example") as admin:
        assert admin.get(path).status_code == 200  # the company's own admin sees it
    with log_in(web, "provider@vaxel.test") as provider:  # the provider names the company
        assert provider.get(path, params={"company": "acme.example"}).status_code == 200
    with log_in(web, "2001@other.example") as other:
        assert other.get(path, params={"company": "acme.example"}).status_code == 404
        if path in ("/admin/groups/sales", "/admin/flows/main"):
            assert other.get(path).status_code == 404  # their company has no such group
    with log_in(web, "1002@acme.example") as user:
        assert user.get(path).status_code == 403  # a plain user of the company


def test_a_groups_page_keeps_the_queue_settings_it_does_not_show(web: Web) -> None:
    """A5, A7: wrap-up and the queue's rules (set in the description) outlive a save of
    the group's page, which shows neither; the page offers every strategy."""
    data, _ = configuration.export_data(web.store, "acme.example")
    data["groups"]["sales"]["queue"] = {"max_wait": 60, "wrap_up": 10, "join_empty": False,
                                        "max_length": 3}  # fmt: skip
    data["groups"]["sales"]["tiers"] = {"1003": 2}
    configuration.apply_config(web.store, configuration.parse_config(data))
    with log_in(web, "1001@acme.example") as admin:
        page = admin.get("/admin/groups/sales").text
        for strategy in ("ring-all", "fixed-order", "round-robin", "longest-idle", "fewest-calls"):
            assert f'<option value="{strategy}"' in page
        saved = admin.post("/admin/groups/sales", data={
            "csrf": csrf_of(page), "tag": _hidden(page, "tag"), "members": "1002, 1003",
            "strategy": "round-robin", "ring_time": "15", "queue": "on",
            "queue.announce_every": "30", "queue.max_wait": "90"})  # fmt: skip
        assert saved.status_code == 303, text_of(saved.text)
    sales = _section(web, "groups")["sales"]
    assert sales["strategy"] == "round-robin" and sales["tiers"] == {"1003": 2}
    assert sales["queue"] == {"max_wait": 90.0, "wrap_up": 10.0, "join_empty": False,
                              "max_length": 3, "announce_position": False}  # fmt: skip
