"""The rest of the user web over real HTTP (U7, U8, U11, U4): my voicemail played, marked
and deleted; my forwarding with the API's checks next to the field; voicemail on and off;
the caller ID; a new web password and logging out everywhere; a call button beside each
colleague (with no switch running, the page says calls need one)."""

from __future__ import annotations

import io
import wave
from datetime import UTC, datetime

import numpy as np

from tests.web.conftest import PASSWORD, Web
from tests.web.pages import csrf_of, log_in, text_of
from vaxel.features.click_to_call import ClickToCallError
from vaxel.services import accounts, activities, configuration, presence_settings, voicemail
from vaxel.services.companies import get_company


def _wav() -> bytes:
    t = np.arange(4000) / 8000
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes())
    return out.getvalue()


def _message(web: Web, box: str) -> int:
    company = get_company(web.store, "acme.example")
    path = web.data / "voicemail" / str(company.id) / box / "m1.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_wav())
    saved = voicemail.save_message(
        web.store, company.id, box, caller="+46701234567", caller_name="Kund",
        received_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC), duration_seconds=0.5, path=path,
    )  # fmt: skip
    return saved.id


def _error(page: str, field_id: str) -> str:
    marker = f'id="err-{field_id}">'
    start = page.index(marker) + len(marker)
    return text_of(page[start : page.index("</p>", start)])


def test_my_voicemail_plays_is_marked_heard_and_deleted(web: Web) -> None:
    mine = _message(web, "1002")
    theirs = _message(web, "1003")
    company = get_company(web.store, "acme.example")
    with log_in(web, "1002@acme.example") as bo:
        page = bo.get("/me/voicemail").text
        assert "Kund" in text_of(page) and "new" in text_of(page)
        src = f"/api/v1/companies/acme.example/voicemail/1002/messages/{mine}/audio"
        assert f'src="{src}"' in page
        played = bo.get(src)
        assert played.status_code == 200 and played.headers["content-type"] == "audio/wav"
        heard = bo.post(f"/me/voicemail/1002/{mine}/heard", data={"csrf": csrf_of(page)})
        assert heard.status_code == 303
        assert voicemail.get_message(web.store, company.id, mine).heard
        assert "Marked as heard." in text_of(bo.get(heard.headers["location"]).text)
        # Another user's message is not mine to touch, even by its number.
        assert bo.post(f"/me/voicemail/1003/{theirs}/delete",
                       data={"csrf": csrf_of(page)}).status_code == 404  # fmt: skip
        gone = bo.post(f"/me/voicemail/1002/{mine}/delete", data={"csrf": csrf_of(page)})
        assert gone.status_code == 303
    assert [m.id for m in voicemail.list_messages(web.store, company.id, "1002")] == []
    assert [m.id for m in voicemail.list_messages(web.store, company.id, "1003")] == [theirs]


def test_my_forwarding_voicemail_and_caller_id(web: Web) -> None:
    company = get_company(web.store, "acme.example")
    with log_in(web, "1002@acme.example") as bo:
        page = bo.get("/me/settings").text
        bad = bo.post("/me/settings/forwarding", data={
            "csrf": csrf_of(page), "forwarding.busy": "1099", "forwarding.always": ""})  # fmt: skip
        assert bad.status_code == 422
        assert _error(bad.text, "forwarding-busy") == 'busy: unknown user "1099"'
        assert 'value="1099"' in bad.text
        own = bo.post("/me/settings/forwarding", data={"csrf": csrf_of(page),
                      "forwarding.no_answer": "1002"})  # fmt: skip
        assert _error(own.text, "forwarding-no_answer") == "no_answer: that is your own extension"
        ok = bo.post("/me/settings/forwarding", data={"csrf": csrf_of(page),
                     "forwarding.busy": "1003"})  # fmt: skip
        assert ok.status_code == 303
        assert presence_settings.forwardings(web.store, company.id)["1002"]["busy"] == "1003"
        off = bo.post("/me/settings/voicemail", data={"csrf": csrf_of(page)})
        assert off.status_code == 303
        assert presence_settings.voicemail_switches(web.store, company.id)["1002"] is False
        mobile = bo.post("/me/settings/caller-id", data={"csrf": csrf_of(page),
                         "caller_id": "mobile"})  # fmt: skip
        assert mobile.status_code == 422
        assert "the user has no mobile" in _error(mobile.text, "caller_id")
        shown = text_of(bo.get("/me/settings").text)
        assert "Voicemail on" in shown


def test_forwarding_by_status(web: Web) -> None:
    """U11: one field per status; the API's checks next to the field; nothing half-saved."""
    company = get_company(web.store, "acme.example")
    with log_in(web, "1002@acme.example") as bo:
        page = bo.get("/me/settings").text
        assert "Forwarding by status" in text_of(page)
        bad = bo.post("/me/settings/activity", data={"csrf": csrf_of(page),
                      "activity.meeting": "1003", "activity.lunch": "1099"})  # fmt: skip
        assert bad.status_code == 422
        assert _error(bad.text, "activity-lunch") == 'lunch: unknown user "1099"'
        assert activities.activity_forwardings(web.store, company.id, "1002") == {}
        ok = bo.post("/me/settings/activity", data={
            "csrf": csrf_of(page), "activity.meeting": "1003"})  # fmt: skip
        assert ok.status_code == 303
        assert 'value="1003"' in bo.get("/me/settings").text
    assert activities.activity_forwardings(web.store, company.id, "1002") == {"meeting": "1003"}


def test_caller_id_per_kind_of_device(web: Web) -> None:
    """U8: a number of its own per kind of device, kept in the description; a number the
    user does not have is said at that device's field and nothing changes."""
    company = get_company(web.store, "acme.example")
    with log_in(web, "1002@acme.example") as bo:
        page = bo.get("/me/settings").text
        assert "From the desk phone" in text_of(page)
        missing = bo.post("/me/settings/caller-id", data={"csrf": csrf_of(page),
                          "caller_id": "main", "caller_id.mobile": "mobile"})  # fmt: skip
        assert missing.status_code == 422
        assert (
            _error(missing.text, "caller_id-mobile") == "caller_id.mobile: the user has no mobile"
        )
        ok = bo.post("/me/settings/caller-id", data={"csrf": csrf_of(page), "caller_id": "main",
                     "caller_id.desk": "main", "caller_id.softphone": ""})  # fmt: skip
        assert ok.status_code == 303
        shown = bo.get("/me/settings").text
        assert '<option value="main" selected>' in shown[shown.index('id="f-cid-desk"') :]
    config = configuration.load_document(web.store, company.id)
    assert config is not None
    user = next(u for u in config.users if u.ext == "1002")
    assert user.caller_id.show == "main" and user.caller_id.per_device == {"desk": "main"}


def test_a_new_password_and_logging_out_everywhere(web: Web) -> None:
    other = log_in(web, "1002@acme.example")
    with log_in(web, "1002@acme.example") as bo:
        page = bo.get("/me/settings").text
        wrong = bo.post("/me/settings/password", data={"csrf": csrf_of(page),
                        "current": "nope", "new": "a brand new password"})  # fmt: skip
        assert wrong.status_code == 422
        assert _error(wrong.text, "current") == "current: the current password is wrong"
        short = bo.post("/me/settings/password", data={"csrf": csrf_of(page),
                        "current": PASSWORD, "new": "short"})  # fmt: skip
        assert _error(short.text, "new").startswith("new: password too short")
        changed = bo.post("/me/settings/password", data={"csrf": csrf_of(page),
                          "current": PASSWORD, "new": "a brand new password"})  # fmt: skip
        assert changed.status_code == 303
        assert accounts.authenticate(web.store, "1002@acme.example", "a brand new password")
        assert other.get("/me").status_code == 303  # the other browser is logged out
        page = bo.get("/me/settings").text  # this one stays, with a new session
        assert "My settings" in text_of(page)
        again = log_in(web, "1002@acme.example", "a brand new password")
        out = bo.post("/me/settings/everywhere", data={"csrf": csrf_of(page)})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert again.get("/me").status_code == 303
        assert bo.get("/me").status_code == 303
    other.close()
    again.close()


def test_the_call_button_places_a_call_or_says_why_not(web: Web) -> None:
    with log_in(web, "1002@acme.example") as bo:
        page = bo.get("/me").text
        assert 'action="/me/call"' in page and 'aria-label="Call Cia Colleague"' in page
        no_switch = bo.post("/me/call", data={"csrf": csrf_of(page), "to": "1003"})
        assert "Could not call 1003: calls are placed only by a running switch" in text_of(
            no_switch.text
        )
        placed: list[tuple[int, str, str, str]] = []

        async def place(company_id: int, domain: str, ext: str, to: str) -> tuple[str, str]:
            if to == "1099":
                raise ClickToCallError(404, "no such user 1099")
            placed.append((company_id, domain, ext, to))
            return "call-1", to

        web.context.place_call = place
        try:
            called = bo.post("/me/call", data={"csrf": csrf_of(page), "to": "1003"})
            assert called.status_code == 303
            assert "answer to call 1003" in text_of(bo.get(called.headers["location"]).text)
            unknown = bo.post("/me/call", data={"csrf": csrf_of(page), "to": "1099"})
            assert unknown.status_code == 404
            assert "Could not call 1099: no such user 1099" in text_of(unknown.text)
        finally:
            web.context.place_call = None
    assert [p[2:] for p in placed] == [("1002", "1003")]


def test_the_user_web_is_404_for_another_company_and_a_provider(web: Web) -> None:
    theirs = _message(web, "1002")
    with log_in(web, "2001@other.example") as olle:
        page = olle.get("/me/voicemail").text
        assert "Kund" not in page
        assert olle.post(f"/me/voicemail/1002/{theirs}/heard",
                         data={"csrf": csrf_of(page)}).status_code == 404  # fmt: skip
    with log_in(web, "provider@vaxel.test") as provider:
        assert provider.get("/me/voicemail").status_code == 404
        assert provider.get("/me/settings").status_code == 404
