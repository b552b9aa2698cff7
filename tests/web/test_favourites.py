"""A user's favourite colleagues through the API (U4): starred, listed with their diversion,
unstarred; another company's extension is unknown; audited."""

from __future__ import annotations

from tests.web.conftest import Web


def test_favourites_are_starred_listed_and_unstarred(web: Web) -> None:
    with web.login("1002@acme.example") as bo:
        assert bo.put("/api/v1/me/favourites/1003").status_code == 204
        assert bo.put("/api/v1/me/favourites/1001").status_code == 204
        assert bo.put("/api/v1/me/favourites/1001").status_code == 204  # again: no change
        other = bo.put("/api/v1/me/favourites/2001")  # Other AB's user
        own = bo.put("/api/v1/me/favourites/1002")
    with web.login("1001@acme.example") as anna:  # an admin diverts Cia
        anna.put("/api/v1/companies/acme.example/users/1003/diversion", json={"status": "away"})
        log = anna.get("/api/v1/companies/acme.example/audit").json()["items"]
    with web.login("1002@acme.example") as bo:
        listed = bo.get("/api/v1/me/favourites").json()["items"]
        assert bo.delete("/api/v1/me/favourites/1001").status_code == 204
        after = bo.get("/api/v1/me/favourites").json()["items"]
    assert other.status_code == 404 and "2001" in other.json()["detail"]
    assert own.status_code == 422
    assert [(f["extension"], f["name"]) for f in listed] == [
        ("1001", "Anna Admin"), ("1003", "Cia Colleague")]  # fmt: skip
    assert listed[0]["diversion"] is None and listed[1]["diversion"]["status"] == "away"
    assert [f["extension"] for f in after] == ["1003"]
    assert [e["action"] for e in log if e["action"].startswith("favourite")] == [
        "favourite.add", "favourite.add"]  # fmt: skip
    with web.login("provider@vaxel.test") as provider:
        assert provider.get("/api/v1/me/favourites").status_code == 404
