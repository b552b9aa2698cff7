"""A user removed from the admin's pages, with a confirmation step, and a user's devices
with their live registrations on the user page (S7, P3, O2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.web.conftest import Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.services import accounts, audit, configuration, registrations, users
from vaxel.services.companies import get_company
from vaxel.services.registrations import Binding


def _exts(web: Web, domain: str = "acme.example") -> list[str]:
    data, _ = configuration.export_data(web.store, domain)
    return [user["ext"] for user in data["users"]]


def test_an_admin_removes_a_user_after_confirming(web: Web) -> None:
    accounts.set_user_account(web.store, "acme.example", "1003", password="cias web password")
    with log_in(web, "1001@acme.example") as admin:
        # 1003 is a member of the group sales: the description refuses, saying where.
        user_page = admin.get("/admin/users/1003").text
        assert 'href="/admin/users/1003/remove"' in user_page
        confirm = admin.get("/admin/users/1003/remove").text
        assert "Yes, remove 1003" in text_of(confirm)
        refused = admin.post("/admin/users/1003/remove", data={
            "csrf": csrf_of(confirm), "tag": _tag(confirm)})  # fmt: skip
        assert refused.status_code == 422
        said = text_of(refused.text)
        assert "The user was not removed" in said and "groups.sales.members" in said
        assert "1003" in _exts(web)
        # Out of the group, the same confirmation removes them.
        group = admin.get("/admin/groups/sales").text
        tag = group[group.index('name="tag" value="') + 18 :].split('"', 1)[0]
        out = admin.post("/admin/groups/sales", data={
            "csrf": csrf_of(group), "tag": tag.replace("&#34;", '"'), "members": "1002",
            "strategy": "parallel", "ring_time": "15"})  # fmt: skip
        assert out.status_code == 303, text_of(out.text)
        confirm = admin.get("/admin/users/1003/remove").text
        removed = admin.post("/admin/users/1003/remove", data={
            "csrf": csrf_of(confirm), "tag": _tag(confirm)})  # fmt: skip
        assert removed.status_code == 303, text_of(removed.text)
        assert removed.headers["location"] == "/admin/users?done=removed"
        listed = text_of(admin.get(removed.headers["location"]).text)
        assert "The user was removed." in listed and "Cia Colleague" not in listed
        assert admin.get("/admin/users/1003").status_code == 404
    assert "1003" not in _exts(web)
    assert users.find_sip_user(web.store, "acme.example", "1003") is None
    assert accounts.authenticate(web.store, "1003@acme.example", "cias web password") is None
    company = get_company(web.store, "acme.example")
    entry = audit.entries(web.store, company.id, limit=1)[0]
    assert (entry.action, entry.target, entry.actor) == ("user.delete", "1003", "1001@acme.example")


def _tag(page: str) -> str:
    at = page.index('name="tag" value="') + len('name="tag" value="')
    return page[at : page.index('"', at)].replace("&#34;", '"')


def test_an_admin_cannot_remove_themselves_or_without_the_token(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        own = admin.get("/admin/users/1001").text
        assert "/admin/users/1001/remove" not in own
        confirm = admin.get("/admin/users/1001/remove").text
        assert "You cannot remove yourself" in text_of(confirm) and "Yes, remove" not in confirm
        tried = admin.post("/admin/users/1001/remove", data={"csrf": csrf_of(own), "tag": ""})
        assert tried.status_code == 422 and "You cannot remove yourself" in text_of(tried.text)
        forged = admin.post("/admin/users/1002/remove", data={"csrf": "forged"})
        assert forged.status_code == 403
        theirs = admin.post("/admin/users/2001/remove?company=other.example",
                            data={"csrf": csrf_of(own)})  # fmt: skip
        assert theirs.status_code == 404
        assert admin.get("/admin/users/2001/remove?company=other.example").status_code == 404
    with log_in(web, "1002@acme.example") as user:
        assert user.get("/admin/users/1003/remove").status_code == 403
    assert _exts(web) == ["1001", "1002", "1003"] and _exts(web, "other.example") == ["2001"]


def test_a_stale_confirmation_is_refused(web: Web) -> None:
    with log_in(web, "1001@acme.example") as admin:
        confirm = admin.get("/admin/users/1002/remove").text
        form = admin.get("/admin/users/1002").text
        changed = admin.post("/admin/users/1002", data={
            "csrf": csrf_of(form), "tag": _tag(form), "name": "Bo Berg", "ring_time": "30",
            "caller_id.show": "main", "voicemail.enabled": "on", "web.role": "user"})  # fmt: skip
        assert changed.status_code == 303, text_of(changed.text)
        late = admin.post("/admin/users/1002/remove", data={
            "csrf": csrf_of(confirm), "tag": _tag(confirm)})  # fmt: skip
        assert late.status_code == 422 and "Someone changed this user" in text_of(late.text)
    assert "1002" in _exts(web)


def test_the_user_page_shows_the_registered_devices(web: Web) -> None:
    company = get_company(web.store, "acme.example")
    user = users.find_sip_user(web.store, "acme.example", "1002")
    assert user is not None
    soon = (datetime.now(UTC) + timedelta(minutes=30)).timestamp()
    live = Binding("sip:1002@192.0.2.4:5062;transport=tcp", soon, None, "c1", 1,
                   received="tcp:192.0.2.4:5062", user_agent="Yealink T46U <b>")  # fmt: skip
    gone = Binding("sip:1002@192.0.2.5:5060", 1_000.0, None, "c2", 1,
                   received="udp:192.0.2.5:5060", user_agent="Old phone")  # fmt: skip
    registrations.replace_bindings(web.store, company.id, user.user_id, [live, gone])
    with log_in(web, "1001@acme.example") as admin:
        page = admin.get("/admin/users/1002").text
        empty = text_of(admin.get("/admin/users/1003").text)
    rows = page[page.index('<table id="devices">') :]
    rows = text_of(rows[: rows.index("</table>")])
    assert "Yealink T46U <b>" in rows and "<b>" not in page.replace("&lt;b&gt;", "")
    assert "TCP" in rows and "192.0.2.4:5062" in rows
    assert "Old phone" not in rows  # expired: not registered now
    assert "No device is registered now." in empty


def test_the_admin_turns_a_users_call_waiting_off_and_on(web: Web) -> None:
    """U12: the user form's checkbox is the description's `call_waiting`."""

    def waiting() -> bool:
        data, _ = configuration.export_data(web.store, "acme.example")
        return next(u for u in data["users"] if u["ext"] == "1002").get("call_waiting", True)

    fields = {"name": "Björn", "ring_time": "30", "caller_id.show": "main",
              "voicemail.enabled": "on", "web.role": "user"}  # fmt: skip
    with log_in(web, "1001@acme.example") as admin:
        form = admin.get("/admin/users/1002").text
        assert 'name="call_waiting" type="checkbox" checked' in form  # on by default
        off = admin.post("/admin/users/1002", data={
            **fields, "csrf": csrf_of(form), "tag": _tag(form)})  # fmt: skip
        assert off.status_code == 303, text_of(off.text)
        assert waiting() is False
        form = admin.get("/admin/users/1002").text
        assert 'name="call_waiting" type="checkbox">' in form
        on = admin.post("/admin/users/1002", data={
            **fields, "call_waiting": "on", "csrf": csrf_of(form), "tag": _tag(form)})  # fmt: skip
        assert on.status_code == 303, text_of(on.text)
        assert waiting() is True
