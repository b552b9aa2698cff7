"""A3, S7: a conference room made on the admin's page takes effect on the next call.

In Debian's Chromium (Playwright), the company admin opens "Conference rooms" on a real
`vaxel serve`, adds a room with an extension and a PIN (a bad PIN first: the error is
shown at its field), and sees it listed with its PIN set, never shown. A phone (the
suite's Python phone, real SIP and RTP) then dials the room's extension and keys the
PIN as RFC 4733 events: the switch lets it in, and the room's list says who is in it.
A wrong PIN does not get in. The page passes axe-core.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.audio_phone import AudioPhone
from tests.integration.peers import Server
from tests.integration.test_pages_browser import ARGS, CHROMIUM, serious_violations
from tests.integration.tone_rooms import ADMIN, WEB_PASSWORD, admin_api, serving

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

DOMAIN = "rooms-page.vaxel.test"
PASSWORDS = {"1001": "anna-secret-1", "1002": "bjorn-secret-2"}
DESCRIPTION = f"""
company: {{domain: {DOMAIN}, name: Rooms AB, language: en}}
users:
  - {{ext: "1001", name: Anna Admin, password: {PASSWORDS["1001"]}}}
  - {{ext: "1002", name: Bjorn Caller, password: {PASSWORDS["1002"]}}}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("vaxel-room-page"), DESCRIPTION, DOMAIN) as srv:
        yield srv


@pytest.fixture
def page(server: Server) -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(base_url=server.web, locale="en-GB")
        context.add_cookies([{"name": "vaxel_lang", "value": "en", "url": server.web}])
        yield context.new_page()
        context.close()
        browser.close()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def dial_room(server: Server, pin: str) -> AudioPhone:
    """Björn dials the room's extension and keys `pin` and # once the switch answers."""
    phone = AudioPhone(server, "1002", PASSWORDS["1002"], DOMAIN)
    answer = phone.invite("800", phone.offer())
    assert answer.status == 200, answer.status
    phone.learn(answer.body)
    phone.press(pin + "#")
    return phone


def in_room(client: httpx.Client) -> list[str]:
    shown = client.get(f"/api/v1/companies/{DOMAIN}/conferences/weekly/participants")
    assert shown.status_code == 200, shown.text
    return [p["party"] for p in shown.json()["participants"]]


def test_a_room_made_on_the_page_lets_the_next_caller_in_with_its_pin(
    server: Server, page: Any, tmp_path: Path
) -> None:
    expect = playwright_api.expect
    page.goto("/login")
    page.get_by_label("Login (extension@domain or e-mail)", exact=True).fill(f"{ADMIN}@{DOMAIN}")
    page.get_by_label("Password", exact=True).fill(WEB_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")

    page.get_by_role("navigation").get_by_role("link", name="Conference rooms").click()
    expect(page.get_by_text("No conference rooms yet.")).to_be_visible()
    page.get_by_label("Name of a new one").fill("weekly")
    page.get_by_role("button", name="Add a room").click()
    page.get_by_label("Extension", exact=True).fill("800")
    page.get_by_label("New PIN (4 to 8 digits)").fill("47")
    page.get_by_role("button", name="Add", exact=True).click()
    error = page.locator("#err-pin")
    expect(error).to_have_text("conferences.weekly.pin: a PIN is 4 to 8 digits")
    expect(page.get_by_label("New PIN (4 to 8 digits)")).to_have_attribute(
        "aria-describedby", "hint-pin err-pin"
    )
    assert serious_violations(page) == []
    page.get_by_label("New PIN (4 to 8 digits)").fill("4711")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Added.")
    expect(page.get_by_label("New PIN (4 to 8 digits)")).to_have_value("")
    page.get_by_role("link", name="All conference rooms").click()
    row = page.locator("#room-weekly")
    expect(row).to_contain_text("800")
    expect(row.get_by_role("cell").nth(3)).to_have_text("set")
    expect(row).to_contain_text("nobody")
    assert "4711" not in page.content()
    assert serious_violations(page) == []

    with admin_api(server, DOMAIN) as api:
        wrong = dial_room(server, "1234")
        try:
            # Three wrong tries end the call; the room stays empty.
            wrong.press("1234#1234#")
            bye = wrong.wait_request("BYE", timeout=20)
            wrong.reply(bye, 200)
            assert in_room(api) == []
        finally:
            wrong.close()
        phone = dial_room(server, "4711")
        try:
            wait_for(lambda: in_room(api) == ["1002"], "Björn is not in the room")
            page.reload()
            expect(page.locator("#room-weekly")).to_contain_text("Bjorn Caller")
        finally:
            phone.request("BYE")
            phone.close()
