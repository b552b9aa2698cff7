"""The statistics page in a real browser (S9, A10): Debian's Chromium driven by Playwright.
A company admin opens the page for the scripted calls' days: Chart.js (vendored, under
the pages' Content-Security-Policy: no script refused, no script error) draws the chart
on its canvas with the day's figures, the tables agree, the page reads in Swedish too,
and axe-core finds no serious accessibility violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_pages_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    browser,
    log_in,
    page,
    playwright_api,
    serious_violations,
    site,
)
from tests.services.test_call_stats import script
from tests.web.conftest import Web

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
CHARTJS = Path(__file__).resolve().parents[2] / "src/vaxel/web/static/vendor/chartjs"
DAYS = "/admin/statistics?from=2026-12-07&to=2026-12-08&interval=day"


def chart_data(shown: Any) -> dict[str, Any]:
    """What Chart.js itself holds for the page's canvas (once it has drawn it)."""
    shown.wait_for_function("() => document.getElementById('stats-chart').dataset.drawn")
    return dict(shown.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById("stats-chart"));
            return {labels: chart.data.labels, type: chart.config.type,
                    sets: chart.data.datasets.map(d => [d.label, d.data]),
                    width: chart.width, height: chart.height};
        }"""
    ))  # fmt: skip


def test_the_admin_sees_the_calls_charted_by_day(page: Any, site: Web) -> None:  # noqa: F811
    if not (CHARTJS / "chart.umd.min.js").exists():
        pytest.skip("Chart.js is not vendored: run tools/vendor.py")
    expect = playwright_api.expect
    script(site.store, "acme.example", group="sales")
    log_in(page, "1001@acme.example")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    page.get_by_role("navigation").get_by_role("link", name="Statistics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistics")
    page.goto(DAYS)
    drawn = chart_data(page)
    assert drawn["type"] == "bar" and drawn["labels"] == ["2026-12-07", "2026-12-08"]
    assert drawn["sets"] == [["Inbound answered", [2, 0]], ["missed", [2, 0]],
                             ["outbound", [2, 1]]]  # fmt: skip
    assert drawn["width"] > 0 and drawn["height"] > 0
    bo = page.locator("#stats-agents tbody tr", has_text="Bo User")
    expect(bo.locator("td")).to_have_text(["2", "2", "0", "1", "80"])
    assert serious_violations(page) == []
    page.get_by_role("link", name="Svenska").click()  # back to the same figures
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistik")
    swedish = chart_data(page)
    assert swedish["sets"][0] == ["Inkommande besvarade", [2, 0]]
