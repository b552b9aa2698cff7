"""Numbers, flows, menus, schedules, groups, voicemail and prompts through the API (S1,
S3, S5, S6, S8, P8): each named part of the description, with its ETag and its errors."""

from __future__ import annotations

import io
import shutil
import wave
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tests.web.conftest import Web
from vaxel.services import configuration, voicemail
from vaxel.services.companies import get_company

BASE = "/api/v1/companies/acme.example"


def test_a_menu_is_created_read_replaced_with_its_etag_and_removed(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        menu = {"prompt": "hello", "keys": {"1": {"group": "sales"}, "2": {"user": "1003"}}}
        missing_prompt = admin.put(f"{BASE}/menus/main", json=menu)
        admin.put(f"{BASE}/prompts/hello", json={"text": "Hej och välkommen."})
        made = admin.put(f"{BASE}/menus/main", json=menu)
        read = admin.get(f"{BASE}/menus/main")
        menu["keys"]["3"] = {"voicemail": "1002"}
        no_etag = admin.put(f"{BASE}/menus/main", json=menu)
        replaced = admin.put(
            f"{BASE}/menus/main", json=menu, headers={"If-Match": read.headers["etag"]}
        )
        stale = admin.put(
            f"{BASE}/menus/main", json=menu, headers={"If-Match": read.headers["etag"]}
        )
        listed = admin.get(f"{BASE}/menus").json()["items"]
        bad_key = admin.put(
            f"{BASE}/menus/other", json={"prompt": "hello", "keys": {"x": "hangup"}}
        )
        bad_name = admin.put(f"{BASE}/menus/Main Menu", json=menu)
        unknown = admin.get(f"{BASE}/menus/nope")
        flow = admin.put(f"{BASE}/flows/main", json={"menu": "main"}, headers={"If-Match": "*"})
        in_use = admin.delete(f"{BASE}/menus/main")
    assert missing_prompt.status_code == 422
    assert missing_prompt.json()["errors"] == ['menus.main.prompt: unknown prompt "hello"']
    assert made.status_code == 201 and read.status_code == 200
    assert read.json() == {
        "prompt": "hello",
        "keys": {"1": {"group": "sales"}, "2": {"user": "1003"}},
    }
    assert no_etag.status_code == 428
    assert replaced.status_code == 200 and stale.status_code == 412
    assert listed["main"]["keys"]["3"] == {"voicemail": "1002"}
    assert bad_key.status_code == 422 and "unknown key 'x'" in bad_key.json()["errors"][0]
    assert bad_name.status_code == 422 and unknown.status_code == 404
    assert flow.status_code == 200
    assert in_use.status_code == 422 and in_use.json()["errors"] == [
        'flows.main.menu: unknown menu "main"'
    ]
    stored = configuration.load_document(web.store, get_company(web.store, "acme.example").id)
    assert stored is not None and stored.flows["main"].menu == "main"
    assert (web.data / "prompts" / "acme.example" / "hello.wav").is_file()  # spoken at apply


def test_numbers_are_keyed_by_e164_and_belong_to_one_company(web: Web) -> None:
    with web.login("provider@vaxel.test") as provider:
        acme_range = {"items": [{"first": "+46812345600", "last": "+46812345699"}]}
        assert provider.put(f"{BASE}/number-ranges", json=acme_range).status_code == 200
    with web.login("1001@acme.example") as admin:
        added = admin.put(
            f"{BASE}/numbers/+46812345601", json={"number": "08-123 456 01", "user": "1002"}
        )
        mismatch = admin.put(
            f"{BASE}/numbers/+46812345602", json={"number": "+46812345609", "user": "1002"}
        )
        listed = admin.get(f"{BASE}/numbers").json()["items"]
    assert added.status_code == 201, added.text
    assert mismatch.status_code == 422
    assert sorted(listed) == ["+46812345600", "+46812345601"]
    with web.login("2001@other.example") as theirs:
        taken = theirs.put("/api/v1/companies/other.example/numbers/+46812345601",
                           json={"number": "+46812345601", "user": "2001"})  # fmt: skip
    assert taken.status_code == 422
    assert taken.json()["errors"] == ["numbers.0.number: +46812345601 belongs to another company"]


def test_trunks_are_the_providers(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        seen = admin.get(f"{BASE}/trunks").json()["items"]
        refused = admin.put(
            f"{BASE}/trunks/carrier", json={"host": "198.51.100.7"}, headers={"If-Match": "*"}
        )
    assert seen["carrier"]["host"] == "127.0.0.1" and "password" not in seen["carrier"]
    assert refused.status_code == 403
    with web.login("provider@vaxel.test") as provider:
        trunk = {"host": "198.51.100.7", "username": "acme"}
        moved = provider.put(f"{BASE}/trunks/carrier", json=trunk, headers={"If-Match": "*"})
    assert moved.status_code == 200, moved.text
    stored = configuration.load_document(web.store, get_company(web.store, "acme.example").id)
    assert stored is not None and stored.trunks["carrier"].password == "trunk-pw"  # kept


def test_group_members_log_in_and_out(web: Web) -> None:
    with web.login("1002@acme.example") as bo:
        before = bo.get(f"{BASE}/groups/sales/members").json()
        out = bo.put(f"{BASE}/groups/sales/members/1002", json={"logged_in": False})
        other = bo.put(f"{BASE}/groups/sales/members/1003", json={"logged_in": False})
        after = bo.get(f"{BASE}/groups/sales/members").json()
    assert before == {"group": "sales", "members": [
        {"ext": "1002", "name": "Bo User", "logged_in": True},
        {"ext": "1003", "name": "Cia Colleague", "logged_in": True},
    ]}  # fmt: skip
    assert out.status_code == 200 and other.status_code == 403
    assert [m["logged_in"] for m in after["members"]] == [False, True]
    with web.login("1001@acme.example") as admin:
        cia = admin.put(f"{BASE}/groups/sales/members/1003", json={"logged_in": False})
        not_member = admin.put(f"{BASE}/groups/sales/members/1001", json={"logged_in": True})
    assert cia.status_code == 200 and not_member.status_code == 404


def test_the_schedule_preview_names_the_holidays(web: Web) -> None:
    office = {
        "weekly": {
            d: ["08:00-17:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
        }
    }
    with web.login("1001@acme.example") as admin:
        assert admin.put(f"{BASE}/schedules/office", json=office).status_code == 201
        year = admin.get(
            f"{BASE}/schedules/office/preview", params={"from": "2027-06-24", "days": 3}
        )
    days = year.json()["days"]
    assert [(d["date"], d["open"], d["hours"]) for d in days] == [
        ("2027-06-24", True, ["08:00-17:00"]),
        ("2027-06-25", False, []),
        ("2027-06-26", False, []),
    ]
    assert days[1]["exception"] and "Midsommar" in days[1]["reason"]
    assert days[2]["reason"] == "Midsommardagen" or "Midsommar" in days[2]["reason"]


def _wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    samples = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(samples.tobytes())
    return out.getvalue()


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox converts uploads")
def test_an_upload_is_checked_by_decoding_and_a_bad_one_keeps_the_old_prompt(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        good = admin.post(f"{BASE}/prompts/welcome/upload",
                          files={"file": ("../../etc/x.wav", _wav(), "audio/wav")})  # fmt: skip
        assert good.status_code == 200, good.text
        assert good.json() == {"file": "welcome.wav"}  # named by the server, never the browser
        played = admin.get(f"{BASE}/prompts/welcome/audio")
        not_audio = {"file": ("w.wav", b"this is not audio at all", "audio/wav")}
        bad = admin.post(f"{BASE}/prompts/welcome/upload", files=not_audio)
        empty = admin.post(
            f"{BASE}/prompts/welcome/upload", files={"file": ("w.wav", b"", "audio/wav")}
        )
        after = admin.get(f"{BASE}/prompts/welcome/audio")
        spoken = admin.post(f"{BASE}/prompts/preview", json={"text": "Hej", "language": "sv"})
    assert played.status_code == 200 and played.headers["content-type"] == "audio/wav"
    assert played.content[:4] == b"RIFF"
    assert bad.status_code == 422 and "not a WAV, MP3, FLAC or OGG" in bad.json()["detail"]
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    assert after.content == played.content  # the old prompt stays
    assert spoken.status_code == 200 and spoken.content[:4] == b"RIFF"
    uploads = web.data / "uploads" / "acme.example"
    assert sorted(p.name for p in uploads.iterdir()) == ["welcome.wav"]


def test_a_body_over_the_limit_is_refused_before_it_is_read(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        huge = admin.post(f"{BASE}/prompts/welcome/upload", content=b"x" * (26 * 1024 * 1024),
                          headers={"Content-Type": "multipart/form-data; boundary=x"})  # fmt: skip
    assert huge.status_code == 413 and "at most 25 MB" in huge.json()["detail"]


def _message(web: Web, box: str, tmp: Path) -> int:
    company = get_company(web.store, "acme.example")
    path = web.data / "voicemail" / str(company.id) / box / "m1.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_wav())
    saved = voicemail.save_message(
        web.store, company.id, box, caller="+46701234567", caller_name="Kund",
        received_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC), duration_seconds=1.0, path=path,
    )  # fmt: skip
    return saved.id


def test_a_user_hears_marks_and_deletes_their_voicemail_but_no_one_elses(
    web: Web, tmp_path: Path
) -> None:
    mine = _message(web, "1002", tmp_path)
    theirs = _message(web, "1003", tmp_path)
    box = f"{BASE}/voicemail/1002/messages"
    with web.login("1002@acme.example") as bo:
        boxes = bo.get("/api/v1/me/voicemail").json()["items"]
        listed = bo.get(box).json()
        audio = bo.get(f"{box}/{mine}/audio")
        heard = bo.patch(f"{box}/{mine}", json={"heard": True})
        other_box = bo.get(f"{BASE}/voicemail/1003/messages")
        by_id_elsewhere = bo.get(f"{box}/{theirs}/audio")
        gone = bo.delete(f"{box}/{mine}")
    assert boxes == [{"box": "1002", "shared": False, "new": 1, "old": 0}]
    assert listed["new"] == 1 and listed["items"][0]["caller_name"] == "Kund"
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    assert heard.json()["heard"] is True
    assert other_box.status_code == 404 and by_id_elsewhere.status_code == 404
    assert gone.status_code == 204
    company = get_company(web.store, "acme.example")
    assert voicemail.counts(web.store, company.id, "1002") == (0, 0)
    with web.login("1001@acme.example") as admin:
        assert admin.get(f"{BASE}/voicemail/1003/messages").json()["new"] == 1


def test_a_company_admin_uses_only_numbers_of_the_companys_ranges(web: Web) -> None:
    ranges = f"{BASE}/number-ranges"
    with web.login("1001@acme.example") as admin:
        refused = admin.put(
            f"{BASE}/numbers/+46812345610", json={"number": "+46812345610", "user": "1002"}
        )
        not_theirs = admin.put(ranges, json={"items": [{"first": "08-123 456 00",
                                                         "last": "08-123 456 99"}]})  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        "numbers.1.number: +46812345610 is not in your company's number ranges; ask the"
        " service provider for it"
    ]
    assert not_theirs.status_code == 403
    with web.login("provider@vaxel.test") as provider:
        given = provider.put(ranges, json={"items": [{"first": "08-123 456 00",
                                                      "last": "08-123 456 99"}]})  # fmt: skip
        overlap = provider.put("/api/v1/companies/other.example/number-ranges",
                               json={"items": [{"first": "+46812345650",
                                                "last": "+46812345700"}]})  # fmt: skip
        backwards = provider.put(ranges, json={"items": [{"first": "+46812345699",
                                                          "last": "+46812345600"}]})  # fmt: skip
    assert given.status_code == 200
    assert given.json() == {"items": [{"first": "+46812345600", "last": "+46812345699"}]}
    assert overlap.status_code == 409 and "overlaps another company" in overlap.json()["detail"]
    assert (
        backwards.status_code == 422 and "give the first number first" in backwards.json()["detail"]
    )
    with web.login("1001@acme.example") as admin:
        inside = admin.put(
            f"{BASE}/numbers/+46812345610", json={"number": "+46812345610", "user": "1002"}
        )
        outside = admin.put(
            f"{BASE}/numbers/+46812340000", json={"number": "+46812340000", "user": "1002"}
        )
        seen = admin.get(ranges).json()
    assert inside.status_code == 201, inside.text
    assert outside.status_code == 422
    assert seen == given.json()
