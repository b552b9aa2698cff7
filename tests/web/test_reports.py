"""Call statistics and saved report sets (S9, A10) through the API: the scripted calls'
figures per agent, per number and over time; CSV and PDF downloads; report sets kept per
company, written by its admins only; bad input a problem+json."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest

from tests.services.test_call_stats import script
from tests.web.conftest import BOTH_DATABASES, Web

BASE = "/api/v1/companies/{}/statistics"
MONDAY = {"from": "2026-12-07", "to": "2026-12-08"}  # the scripted calls' days


def seed(web: Web) -> None:
    script(web.store, "acme.example", group="sales")  # the seeded company's group
    script(web.store, "other.example", group="sales")


@BOTH_DATABASES
def test_the_admin_sees_each_agents_calls_and_the_totals(web: Web) -> None:
    seed(web)
    with web.login("1001@acme.example") as admin:
        response = admin.get(BASE.format("acme.example") + "/agents", params=MONDAY)
        assert response.status_code == 200, response.text
        report = response.json()
        group = admin.get(BASE.format("acme.example") + "/agents",
                          params={**MONDAY, "group": "sales"}).json()  # fmt: skip
    assert report["timezone"] == "Europe/Stockholm"
    anna, bo, cia = report["agents"]
    assert anna == {"ext": "1001", "name": "Anna Admin", "inbound": 0, "inbound_answered": 0,
                    "missed": 0, "outbound": 2, "outbound_answered": 2,
                    "talk_seconds": 50.0}  # fmt: skip
    assert (bo["inbound"], bo["inbound_answered"], bo["outbound"], bo["talk_seconds"]) == (
        2, 2, 1, 80.0,
    )  # fmt: skip
    assert (cia["inbound"], cia["missed"], cia["talk_seconds"]) == (2, 1, 120.0)
    assert report["totals"] == {"calls": 7, "inbound": 4, "inbound_answered": 2, "missed": 2,
                                "outbound": 3, "outbound_answered": 2,
                                "talk_seconds": 230.0}  # fmt: skip
    assert [a["ext"] for a in group["agents"]] == ["1002", "1003"]
    assert group["totals"]["inbound"] == 3


def test_numbers_and_the_series_by_day(web: Web) -> None:
    seed(web)
    url = BASE.format("acme.example")
    with web.login("1001@acme.example") as admin:
        numbers = admin.get(url + "/numbers", params=MONDAY).json()["numbers"]
        days = admin.get(url + "/series", params={**MONDAY, "interval": "day"}).json()
        hours = admin.get(url + "/series", params={**MONDAY, "interval": "hour"}).json()
    assert [(n["number"], n["calls"], n["answered"]) for n in numbers] == [
        ("+46812345600", 2, 1), ("1003", 2, 1),
    ]  # fmt: skip
    monday, tuesday = days["buckets"]
    assert monday["start"] == "2026-12-07T00:00:00+01:00"
    assert (monday["inbound"], monday["outbound"], tuesday["outbound"]) == (4, 2, 1)
    assert len(hours["buckets"]) == 48


def test_bad_parameters_are_a_problem(web: Web) -> None:
    url = BASE.format("acme.example")
    with web.login("1001@acme.example") as admin:
        answers = [
            (admin.get(url + "/agents", params={"user": "abc"}), 422, ""),
            (admin.get(url + "/agents", params={"user": "1999"}), 422, "no user"),
            (admin.get(url + "/agents", params={"group": "nope"}), 404, "no group"),
            (admin.get(url + "/numbers", params={"number": "--"}), 422, "digits"),
            (admin.get(url + "/series", params={"from": "2026-01-01", "to": "2026-12-01",
                                                "interval": "hour"}), 422, "hours"),
            (admin.get(url + "/export", params={"reports": "cdr"}), 422, ""),
            (admin.post(url + "/report-sets", json={"name": "x", "reports": []}), 422, ""),
            (admin.post(url + "/report-sets", json={"name": "x", "reports": ["agents"],
                                                    "schedule": "daily"}), 422, "address"),
        ]  # fmt: skip
    for response, status, says in answers:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert says in response.text


def test_the_csv_download_parses_back_with_formulas_guarded(web: Web) -> None:
    seed(web)
    with web.login("1001@acme.example") as admin:
        response = admin.get(BASE.format("acme.example") + "/export",
                             params={**MONDAY, "reports": ["numbers", "agents"]})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="statistics-2026-12-07.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["Samtal per nummer"]
    assert rows[2] == ["'+46812345600", "2", "1", "1", "60.0"]
    assert ["1002", "Bo User", "2", "2", "0", "1", "0", "80.0"] in rows


def made_set(name: str = "Kundtjänst veckovis") -> dict[str, object]:
    return {"name": name, "reports": ["agents", "queues"], "period": "last-week",
            "group": "sales", "schedule": "weekly", "emails": ["chef@acme.example"]}  # fmt: skip


def test_report_sets_are_written_by_the_companys_admins_only(web: Web) -> None:
    url = BASE.format("acme.example") + "/report-sets"
    with web.login("1001@acme.example") as admin:
        created = admin.post(url, json=made_set())
        assert created.status_code == 201, created.text
        saved = created.json()
        assert admin.post(url, json=made_set()).status_code == 409
        changed = admin.put(f"{url}/{saved['id']}", json={**made_set("Ledning månadsvis"),
                                                          "schedule": "monthly"})  # fmt: skip
        assert changed.status_code == 200, changed.text
        listed = admin.get(url).json()
    assert saved["group"] == "sales" and saved["mailed_for"] is not None
    assert [(s["name"], s["schedule"]) for s in listed] == [("Ledning månadsvis", "monthly")]
    with web.login("1002@acme.example") as user:
        assert user.get(url).status_code == 403
        assert user.post(url, json=made_set("Mine")).status_code == 403
        assert user.delete(f"{url}/{saved['id']}").status_code == 403
    with web.login("2001@other.example") as stranger:
        theirs = BASE.format("other.example") + "/report-sets"
        assert stranger.get(url).status_code == 404
        assert stranger.get(f"{theirs}/{saved['id']}").status_code == 404  # not by its id
        assert stranger.delete(f"{theirs}/{saved['id']}").status_code == 404
        assert stranger.get(theirs).json() == []
    with web.login("1001@acme.example") as admin:
        assert admin.delete(f"{url}/{saved['id']}").status_code == 204
        assert admin.get(f"{url}/{saved['id']}").status_code == 404


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_a_saved_set_downloads_as_pdf(web: Web) -> None:
    seed(web)
    url = BASE.format("acme.example") + "/report-sets"
    body = {**made_set(), "period": "last-30-days", "schedule": "", "emails": []}
    with web.login("1001@acme.example") as admin:
        saved = admin.post(url, json=body).json()
        response = admin.get(f"{url}/{saved['id']}/export", params={"format": "pdf"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=response.content,
                          capture_output=True, check=True).stdout.decode()  # fmt: skip
    assert "Kundtjänst veckovis" in text and "Samtal per agent" in text
    assert "Filter: grupp sales" in text
