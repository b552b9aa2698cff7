"""Queue statistics (S9, A10) through the API: a company admin's report over HTTP, in the
company's zone, another company's calls never in it, bad parameters a 422 problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.web.conftest import Web
from vaxel.services import call_records, queue_stats
from vaxel.services.call_records import NewCallRecord
from vaxel.services.companies import get_company
from vaxel.services.queue_stats import NewQueueVisit
from vaxel.store import Store

QUEUES = "/api/v1/companies/{}/statistics/queues"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm


def visit(store: Store, domain: str, n: int, outcome: str, wait: float, group: str) -> None:
    company = get_company(store, domain).id
    entered = T0 + timedelta(minutes=n)
    left = entered + timedelta(seconds=wait)
    answered = left if outcome == "answered" else None
    queue_stats.write_visit(store, NewQueueVisit(
        company_id=company, group=group, call_id=f"q{n}", caller="+46701740605",
        entered_at=entered, left_at=left, outcome=outcome, answered_at=answered,
        answered_by="1002" if answered else "",
    ))  # fmt: skip
    if answered is not None:  # the call's record: 60 s with the member
        call_records.write_record(store, NewCallRecord(
            company_id=company, call_id=f"q{n}", caller="+46701740605", callee="+46812345600",
            started_at=entered, answered_at=entered, ended_at=answered + timedelta(seconds=60),
            disposition="answered", hangup_side="caller", cause_code=200,
        ))  # fmt: skip


def seed_visits(web: Web) -> None:
    for n, outcome, wait in [(1, "answered", 10.0), (2, "answered", 30.0),
                             (3, "abandoned", 45.0), (4, "timeout", 120.0)]:  # fmt: skip
        visit(web.store, "acme.example", n, outcome, wait, "sales")
    visit(web.store, "acme.example", 5, "answered", 2.0, "support")
    visit(web.store, "acme.example", 60 * 24, "abandoned", 7.0, "sales")  # the next day
    visit(web.store, "other.example", 6, "abandoned", 99.0, "sales")


def test_the_admin_sees_each_groups_figures_for_the_day(web: Web) -> None:
    seed_visits(web)
    with web.login("1001@acme.example") as admin:
        response = admin.get(QUEUES.format("acme.example"), params={"from": "2026-12-01",
                                                                   "to": "2026-12-01"})  # fmt: skip
        assert response.status_code == 200, response.text
        report = response.json()
        sales_only = admin.get(
            QUEUES.format("acme.example"),
            params={"from": "2026-12-01T10:00", "to": "2026-12-02", "group": "sales",
                    "service_level": 30},
        ).json()  # fmt: skip
    assert report["timezone"] == "Europe/Stockholm"
    assert report["since"] == "2026-12-01T00:00:00+01:00"
    assert report["until"] == "2026-12-02T00:00:00+01:00"
    sales, support = report["groups"]
    assert sales == {
        "group": "sales", "offered": 4, "answered": 2, "abandoned": 1,
        "abandoned_wait_average": 45.0, "abandoned_wait_max": 45.0,
        "overflowed": 1, "timed_out": 1, "ended": 0, "callback_failed": 0,
        "wait_latest": 30.0, "wait_average": 20.0, "wait_p90": 30.0,
        "service_level": 25.0, "handling_average": 60.0,
    }  # fmt: skip
    assert (support["group"], support["offered"], support["answered"]) == ("support", 1, 1)
    [sales_then] = sales_only["groups"]  # from 10:00 in Stockholm: all of them, the next day
    assert (sales_then["offered"], sales_then["service_level"]) == (5, 40.0)


def test_bad_parameters_are_a_422_problem(web: Web) -> None:
    url = QUEUES.format("acme.example")
    with web.login("1001@acme.example") as admin:
        bad_day = admin.get(url, params={"from": "2026-02-30"})
        backwards = admin.get(url, params={"from": "2026-12-02", "to": "2026-12-01"})
        too_long = admin.get(url, params={"from": "2024-01-01", "to": "2026-12-01"})
        bad_level = admin.get(url, params={"service_level": "-5"})
    for response, says in [(bad_day, "from: give a date"), (backwards, "after from"),
                           (too_long, "366 days"), (bad_level, "")]:  # fmt: skip
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert says in response.text


def test_only_the_companys_admins_see_its_statistics(web: Web) -> None:
    seed_visits(web)
    with web.login("1002@acme.example") as user:
        assert user.get(QUEUES.format("acme.example")).status_code == 403
    with web.login("2001@other.example") as stranger:
        assert stranger.get(QUEUES.format("acme.example")).status_code == 404
        theirs = stranger.get(
            QUEUES.format("other.example"), params={"from": "2026-12-01", "to": "2026-12-01"}
        ).json()
    assert [(g["group"], g["offered"], g["abandoned"]) for g in theirs["groups"]] == [
        ("sales", 1, 1),
    ]  # fmt: skip
    with web.login("provider@vaxel.test") as provider:
        assert provider.get(QUEUES.format("acme.example")).status_code == 200
