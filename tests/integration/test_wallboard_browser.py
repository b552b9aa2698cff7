"""The wallboard (A11) in Chromium on `vaxel serve`, with a real caller (pjsua2): a TV opens
`/wallboard#<token>` with no login; it shows the caller waiting in the queue group "line",
turns the longest wait red once they waited past the description's 3 s, and back when they
hang up (no serious accessibility violation, by axe-core); the token revoked, the page
says so at its next update and shows no figures.

Acme of tests/integration/acme.py with a wallboard section, on a server of its own: the
main number's menu key 5 is the queue "line" (member 1002, Björn, not registered here, so
nobody rings and the caller waits).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.acme import ALWAYS, DESCRIPTION, DOMAIN, MAIN, Mailbox, company
from tests.integration.peers import Server, rtp_ports
from tests.integration.pjsua import PjPhone, close_all
from tests.integration.test_api_transfer import token
from tests.integration.test_pages_browser import ARGS, CHROMIUM, refused, serious_violations
from tests.integration.test_queue_stats import queue_in

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

WALLBOARD = """wallboard: {{queues: [line], theme: contrast,
            thresholds: {{longest_wait: {{amber: 1, red: 3}}}}}}
"""


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]) -> Iterator[Server]:
    data, _ = company(tmp_path_factory.mktemp("acme-wallboard"), ALWAYS, smtp[0],
                      DESCRIPTION + WALLBOARD)  # fmt: skip
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server
    server.stop()


@pytest.fixture
def page(acme: Server) -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(base_url=acme.web, locale="en-GB",
                                      viewport={"width": 1920, "height": 1080})  # fmt: skip
        opened = context.new_page()
        problems: list[str] = []
        opened.on("console", lambda m: problems.append(m.text) if refused(m) else None)
        opened.on("pageerror", lambda e: problems.append(str(e)))
        yield opened
        context.close()
        browser.close()
    assert problems == []  # no script error, nothing refused by the CSP


def test_a_tv_shows_a_waiting_caller_and_turns_red_past_the_threshold(
    acme: Server, page: Any, tmp_path: Path
) -> None:
    expect = playwright_api.expect
    admin = {"Authorization": f"Bearer {token(acme, '1001', 'admin')}"}
    with httpx.Client(base_url=acme.web, timeout=30, headers=admin) as api:
        made = api.post(f"/api/v1/companies/{DOMAIN}/wallboard/tokens", json={"name": "TV"})
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    assert url == f"{acme.web}/wallboard#{made.json()['token']}"
    page.goto(url)  # no login: the token alone
    line = page.locator('section[data-group="line"]')
    waiting = line.locator('[data-metric="waiting"] .value')
    longest = line.locator('[data-metric="longest_wait"]')
    expect(waiting).to_have_text("0")
    expect(page.locator("body")).to_have_class("theme-contrast")
    expect(page.locator('section[data-group="queue"]')).to_have_count(0)  # not shown
    assert made.json()["token"] not in page.content()
    assert serious_violations(page) == []  # axe-core: none serious or critical

    anna = PjPhone(acme.address, "1001", "anna-secret-1", DOMAIN, register=False)
    try:
        call = queue_in(acme, anna, MAIN)
        joined = time.monotonic()
        expect(waiting).to_have_text("1")
        expect(longest).not_to_have_attribute("data-alarm", "red")
        expect(longest).to_have_attribute("data-alarm", "red", timeout=10_000)
        assert time.monotonic() - joined > 2.5  # red past 3 s, not before
        page.screenshot(path=str(tmp_path / "wallboard-red.png"))
        anna.hangup(call)
        anna.state(call, "DISCONNECTED")
    finally:
        close_all([anna])
    expect(waiting).to_have_text("0")
    expect(longest).not_to_have_attribute("data-alarm", "red")
    expect(longest.locator(".value")).to_have_text("\u2013")  # (en dash: none waits)

    with httpx.Client(base_url=acme.web, timeout=30, headers=admin) as api:
        revoked = api.delete(f"/api/v1/companies/{DOMAIN}/wallboard/tokens/{made.json()['id']}")
    assert revoked.status_code == 204
    expect(page.locator("#state")).to_have_attribute("data-state", "gone", timeout=10_000)
    expect(page.locator("section.queue")).to_have_count(0)
