"""A6 over real HTTP: recorded calls listed and downloaded through the API (an admin all
of the company, a user their own calls, the provider none, another company's 404), every
download in the audit log, the admin's page with a player for each; and controlling a
call's recording needs a running switch."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.web.conftest import Web
from tests.web.pages import log_in, text_of
from vaxel.media.call_recording import CallRecording
from vaxel.services import recordings
from vaxel.services.companies import get_company


class Pacer:
    def subscribe(self, tick: object) -> None:
        pass

    def unsubscribe(self, tick: object) -> None:
        pass


def recorded(web: Web, domain: str, caller: str, callee: str) -> int:
    """A real (short, silent) recording file in the company's folder, and its row."""
    company = get_company(web.store, domain)
    path = web.data / "recordings" / domain / "2027-01-15" / f"{caller}-{callee}.wav"
    recording = CallRecording(path, Pacer())
    for _ in range(25):
        recording.tick()
    recording.close()
    new = recordings.NewRecording(
        company_id=company.id, call_id="cd" * 16, caller=caller, callee=callee,
        started_at=datetime(2027, 1, 15, 9, 0, tzinfo=UTC), duration_seconds=0.5, path=path,
    )  # fmt: skip
    return recordings.add(web.store, new)


def test_admins_hear_the_companys_recordings_users_their_own_every_listen_audited(
    web: Web,
) -> None:
    mine = recorded(web, "acme.example", "1002", "1003")
    colleagues = recorded(web, "acme.example", "1003", "+46701740605")
    theirs = recorded(web, "other.example", "2001", "+46701740605")
    listed = "/api/v1/companies/acme.example/recordings"
    with web.login("1001@acme.example") as admin:
        items = admin.get(listed).json()["items"]
        assert [i["id"] for i in items] == [colleagues, mine]
        got = admin.get(f"{listed}/{colleagues}")
        assert got.status_code == 200 and got.headers["content-type"] == "audio/wav"
        assert got.content[:4] == b"RIFF" and len(got.content) == 44 + 25 * 640
        assert admin.get(f"{listed}/{theirs}").status_code == 404  # another company's
        assert admin.get("/api/v1/companies/other.example/recordings").status_code == 404
        audit = admin.get("/api/v1/companies/acme.example/audit").json()["items"]
    assert [(e["action"], e["target"]) for e in audit if e["action"] == "recording.listen"] == [
        ("recording.listen", str(colleagues))
    ]
    with web.login("1002@acme.example") as user:
        assert [i["id"] for i in user.get(listed).json()["items"]] == [mine]
        assert user.get(f"{listed}/{mine}").status_code == 200
        assert user.get(f"{listed}/{colleagues}").status_code == 404  # not his call
    with web.login("provider@vaxel.test") as provider:
        assert provider.get(listed).status_code == 403
        assert provider.get(f"{listed}/{mine}").status_code == 403


def test_a_recording_whose_file_is_gone_is_404(web: Web) -> None:
    gone = recorded(web, "acme.example", "1002", "1003")
    (found,) = recordings.search(web.store, get_company(web.store, "acme.example").id)
    Path(found.path).unlink()
    with web.login("1001@acme.example") as admin:
        answer = admin.get(f"/api/v1/companies/acme.example/recordings/{gone}")
    assert answer.status_code == 404


def test_without_a_running_switch_a_calls_recording_cannot_be_changed(web: Web) -> None:
    with web.login("1002@acme.example") as user:
        answer = user.post(f"/api/v1/calls/{'a' * 32}/recording", json={"action": "start"})
        assert answer.status_code == 503, answer.text
        bad = user.post("/api/v1/calls/not-a-call/recording", json={"action": "start"})
        assert bad.status_code == 422
    with web.login("provider@vaxel.test") as provider:
        answer = provider.post(f"/api/v1/calls/{'a' * 32}/recording", json={"action": "stop"})
        assert answer.status_code == 404


def test_the_admins_page_lists_recordings_with_a_player_each(web: Web) -> None:
    with log_in(web, "1001@acme.example") as client:
        assert "No recorded calls." in text_of(client.get("/admin/recordings").text)
        first = recorded(web, "acme.example", "1002", "1003")
        page = client.get("/admin/recordings").text
        player = f'src="/api/v1/companies/acme.example/recordings/{first}"'
        assert f'<audio controls preload="none" {player}' in page
        assert "1002" in text_of(page) and 'href="/admin/recordings"' in page
    with log_in(web, "1002@acme.example") as client:
        assert client.get("/admin/recordings").status_code == 403
        assert 'href="/admin/recordings"' not in client.get("/me").text
    with log_in(web, "provider@vaxel.test") as client:
        assert client.get("/admin/recordings?company=acme.example").status_code == 403
