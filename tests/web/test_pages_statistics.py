"""The statistics page (S9, A10) rendered by the server: the scripted calls' figures in
its tables, the chart's figures as JSON for the script (no inline script), Swedish and
English, a saved set opening its own filters, and only for the company's admins."""

from __future__ import annotations

import html
import json
import re
from zoneinfo import ZoneInfo

from tests.services.test_call_stats import script
from tests.web.conftest import Web
from tests.web.pages import log_in, text_of
from vaxel.services import report_sets
from vaxel.services.companies import get_company
from vaxel.services.report_sets import SetRequest

DAYS = "/admin/statistics?from=2026-12-07&to=2026-12-08"


def chart_of(page: str) -> dict[str, object]:
    found = re.search(r'data-chart="([^"]*)"', page)
    assert found is not None
    return dict(json.loads(html.unescape(found.group(1))))


def test_the_admin_sees_the_figures_and_the_charts_data(web: Web) -> None:
    script(web.store, "acme.example", group="sales")
    with log_in(web, "1001@acme.example") as client:
        response = client.get(DAYS + "&group=sales")
        client.cookies.set("vaxel_lang", "sv")
        swedish = client.get(DAYS).text
    assert response.status_code == 200, response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page = text_of(response.text)
    assert "sales 3 2 1" in page  # offered, answered, abandoned
    assert "1002 Bo User 1 1 0 1 60" in page  # through the group only
    chart = chart_of(response.text)
    assert chart["labels"] == ["2026-12-07", "2026-12-08"]
    assert "<script>" not in response.text  # the chart is drawn by /static/statistics.js
    assert "Samtal per agent" in text_of(swedish)
    assert chart_of(swedish)["series"] == [
        {"label": "Inkommande besvarade", "data": [2, 0]},
        {"label": "missade", "data": [2, 0]},
        {"label": "utgående", "data": [2, 1]},
    ]


def test_a_saved_set_opens_with_its_filters(web: Web) -> None:
    company = get_company(web.store, "acme.example").id
    saved = report_sets.create(
        web.store, company,
        SetRequest(name="Ledning", reports=["agents"], period="last-week", user="1002"),
        ZoneInfo("Europe/Stockholm"), web.context.now(),
    )  # fmt: skip
    with log_in(web, "1001@acme.example") as client:
        page = client.get(f"/admin/statistics?set={saved.id}").text
        missing = client.get("/admin/statistics?set=99999")
    assert 'value="1002"' in page and "Ledning" in text_of(page)
    assert missing.status_code == 404


def test_only_the_companys_admins_see_the_page(web: Web) -> None:
    with log_in(web, "1002@acme.example") as user:
        assert user.get("/admin/statistics").status_code == 403
    with log_in(web, "2001@other.example") as stranger:
        assert stranger.get("/admin/statistics?company=acme.example").status_code == 404
