"""Users through the API (P1, P3, P8): one entry of the description, same checks."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, Web
from vaxel.services import configuration, registrations, users
from vaxel.services.companies import get_company
from vaxel.services.registrations import Binding

USERS = "/api/v1/companies/acme.example/users"


def test_the_list_pages_in_extension_order_and_filters(web: Web) -> None:
    with web.login("1002@acme.example") as user:
        first = user.get(USERS, params={"limit": 2}).json()
        rest = user.get(USERS, params={"limit": 2, "after": first["next_after"]}).json()
        by_name = user.get(USERS, params={"q": "cia"}).json()
        by_ext = user.get(USERS, params={"q": "100"}).json()
        bad = user.get(USERS, params={"limit": 0})
    assert [u["ext"] for u in first["items"]] == ["1001", "1002"]
    assert first["items"][0] == {"ext": "1001", "name": "Anna Admin", "ring_time": 30,
                                 "role": "admin"}  # fmt: skip
    assert [u["ext"] for u in rest["items"]] == ["1003"] and rest["next_after"] is None
    assert [u["ext"] for u in by_name["items"]] == ["1003"]
    assert len(by_ext["items"]) == 3
    assert bad.status_code == 422
    assert bad.json()["errors"] == ["query.limit: Input should be greater than or equal to 1"]


def test_one_user_with_devices_and_etag_and_no_secrets(web: Web) -> None:
    company = get_company(web.store, "acme.example")
    user = users.find_sip_user(web.store, "acme.example", "1003")
    assert user is not None
    far = 4_000_000_000.0
    binding = Binding("sip:1003@127.0.0.1:5099", far, None, "c1", 1, user_agent="Yealink T46")
    registrations.replace_bindings(web.store, company.id, user.user_id, [binding])
    with web.login("1001@acme.example") as admin:
        got = admin.get(f"{USERS}/1003")
    assert got.status_code == 200 and got.headers["etag"].startswith('"')
    body = got.json()
    assert body["user"]["name"] == "Cia Colleague"
    assert "pin" not in body["user"].get("voicemail", {}) and "password" not in body["user"]
    assert body["devices"] == [
        {"contact": "sip:1003@127.0.0.1:5099", "source": "", "user_agent": "Yealink T46",
         "expires_at": "2096-10-02T07:06:40Z"}
    ]  # fmt: skip


def test_a_user_sees_only_their_own_settings(web: Web) -> None:
    with web.login("1002@acme.example") as user:
        own = user.get(f"{USERS}/1002")
        other = user.get(f"{USERS}/1003")
        change = user.put(f"{USERS}/1002", json={"ext": "1002", "name": "x"},
                          headers={"If-Match": "*"})  # fmt: skip
    assert own.status_code == 200
    assert other.status_code == 403 and change.status_code == 403


def test_add_change_and_remove_a_user_as_config_apply_would(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        no_password = admin.post(USERS, json={"ext": "1004", "name": "Dan"})
        added = admin.post(USERS, json={"ext": "1004", "name": "Dan", "password": "dans-sip-pw"})
        twice = admin.post(USERS, json={"ext": "1004", "name": "Dan", "password": "dans-sip-pw"})
        assert added.status_code == 201, added.text
        assert "password" not in added.json()["user"]
        etag = added.headers["etag"]
        changed = admin.put(
            f"{USERS}/1004",
            json={"ext": "1004", "name": "Dan Dansson", "ring_time": 20,
                  "forwarding": {"busy": "1001"}},
            headers={"If-Match": etag},
        )  # fmt: skip
        stale = admin.put(f"{USERS}/1004", json={"ext": "1004", "name": "Old"},
                          headers={"If-Match": etag})  # fmt: skip
        no_etag = admin.put(f"{USERS}/1004", json={"ext": "1004", "name": "Old"})
        renamed_ext = admin.put(f"{USERS}/1004", json={"ext": "1005", "name": "x"},
                                headers={"If-Match": "*"})  # fmt: skip
        bad_forward = admin.put(f"{USERS}/1004",
                                json={"ext": "1004", "name": "D", "forwarding": {"busy": "9999"}},
                                headers={"If-Match": "*"})  # fmt: skip
        in_group = admin.delete(f"{USERS}/1003")
        removed = admin.delete(f"{USERS}/1004")
        gone = admin.get(f"{USERS}/1004")
    assert no_password.status_code == 422 and no_password.json()["errors"] == ["password: needed"]
    assert twice.status_code == 409
    assert changed.status_code == 200, changed.text
    assert changed.json()["user"]["forwarding"] == {"busy": "1001"}
    assert stale.status_code == 412 and no_etag.status_code == 428
    assert renamed_ext.status_code == 422
    assert bad_forward.status_code == 422
    assert bad_forward.json()["errors"][0].startswith("users.3.forwarding.busy:")
    assert in_group.status_code == 422
    assert in_group.json()["errors"] == ['groups.sales.members.1: unknown user "1003"']
    assert removed.status_code == 204 and gone.status_code == 404
    assert users.find_sip_user(web.store, "acme.example", "1004") is None


def test_a_new_users_sip_password_registers_and_is_never_shown(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        admin.post(USERS, json={"ext": "1004", "name": "Dan", "password": "dans-sip-pw"})
        exported = admin.get("/api/v1/companies/acme.example/config").text
    user = users.find_sip_user(web.store, "acme.example", "1004")
    assert user is not None
    from vaxel.sip.digest import ha1

    assert user.ha1["MD5"] == ha1("1004", "acme.example", "dans-sip-pw", "MD5")
    assert "dans-sip-pw" not in exported
    text = configuration.export_config(web.store, "acme.example")
    assert "dans-sip-pw" not in text


def test_an_admin_gives_a_colleague_a_web_login_and_role(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        given = admin.put(f"{USERS}/1003/account",
                          json={"password": "cias web pass", "role": "admin",
                                "email": "Cia@Acme.example"})  # fmt: skip
        self_demote = admin.put(f"{USERS}/1001/account", json={"role": "user"})
        unknown = admin.put(f"{USERS}/1099/account", json={"role": "user"})
        bad_role = admin.put(f"{USERS}/1003/account", json={"role": "root"})
    assert given.status_code == 200
    assert given.json() == {"login": "1003@acme.example", "role": "admin",
                            "email": "cia@acme.example"}  # fmt: skip
    assert self_demote.status_code == 422 and unknown.status_code == 404
    assert bad_role.status_code == 422
    with web.login("cia@acme.example", "cias web pass") as cia:
        assert cia.get("/api/v1/me").json()["role"] == "admin"
    with web.login("1002@acme.example", PASSWORD) as user:
        refused = user.put(f"{USERS}/1002/account", json={"role": "admin"})
    assert refused.status_code == 403


def test_an_admin_cannot_remove_themselves(web: Web) -> None:
    with web.login("1001@acme.example") as admin:
        self_delete = admin.delete(f"{USERS}/1001")
        data = admin.get("/api/v1/companies/acme.example/config").json()
        data["users"] = [u for u in data["users"] if u["ext"] != "1001"]
        self_drop = admin.put("/api/v1/companies/acme.example/config", json=data,
                              headers={"If-Match": "*"})  # fmt: skip
    assert self_delete.status_code == 422 and "yourself" in self_delete.json()["detail"]
    assert self_drop.status_code == 422 and "yourself" in self_drop.json()["errors"][0]
