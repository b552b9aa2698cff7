"""The web pages in a real browser (S7, U9, U7, U11): Debian's Chromium driven by Playwright.

A company admin logs in, adds a user, sees the error for a bad value next to its field
and searches the users as they type (htmx, under the pages' Content-Security-Policy),
and goes through the pages of the description; a user sets "Lunch until 13:00" with
one press and sees it, in their status and in the colleagues' list, and opens their
voicemail and settings; the company settings, the whole description, a user's devices
and removal, the API tokens and the provider's page of a company, on a phone's width.
Each page is checked with axe-core (vendored by
tools/vendor.py): no serious or critical accessibility violation. The admin's users
page and a schedule's year are saved as docs/screenshots/admin-users.png and
admin-schedule-year.png for the README when VAXEL_SCREENSHOTS=1 (otherwise into the
test's folder, so a test run leaves the tree as it was).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.web.conftest import PASSWORD, Web, seed, serve
from vaxel.store import Store

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "src" / "vaxel" / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOT = ROOT / "docs" / "screenshots" / "admin-users.png"
CALENDAR = ROOT / "docs" / "screenshots" / "admin-schedule-year.png"
# Background networking makes Chromium hang on a machine without internet.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Web]:
    store = Store.open(tmp_path, url=f"sqlite:///{tmp_path / 'vaxel.db'}")
    data = tmp_path / "data"
    data.mkdir()
    seed(store, data)
    try:
        with serve(store, data) as web:
            yield web
    finally:
        store.close()


@pytest.fixture
def page(browser: Any, site: Web) -> Iterator[Any]:
    context = browser.new_context(base_url=site.base, locale="en-GB",
                                  viewport={"width": 1280, "height": 800})  # fmt: skip
    context.add_cookies([{"name": "vaxel_lang", "value": "en", "url": site.base}])
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if refused(m) else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    yield opened
    context.close()
    assert problems == []  # no script error, nothing refused by the CSP


def refused(message: Any) -> bool:
    """A console error other than a page answered 4xx on purpose (a form with errors)."""
    expected = "the server responded with a status of 4"
    return bool(message.type == "error" and expected not in message.text)


def log_in(page: Any, login: str) -> None:
    page.goto("/login")
    page.get_by_label("Login (extension@domain or e-mail)", exact=True).fill(login)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not AXE.exists():
        pytest.skip("axe-core is not vendored: run tools/vendor.py")
    # A page still loading (a form's answer on its way) has no document to add to yet.
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")  # 'self': the CSP allows
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(" ")).join(", ")})`)"""
    )
    return list(found)


def test_an_admin_adds_a_user_and_sees_the_error_for_a_bad_value(page: Any, tmp_path: Path) -> None:
    expect = playwright_api.expect
    log_in(page, "1001@acme.example")
    expect(page).to_have_url(page.url.split("/admin")[0] + "/admin")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    assert serious_violations(page) == []

    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    expect(page.get_by_role("cell", name="Cia Colleague")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Add a user").click()
    assert serious_violations(page) == []
    page.get_by_label("Extension", exact=True).fill("1004")
    page.get_by_label("Name", exact=True).fill("Dan Dahl")
    page.get_by_label("SIP password", exact=True).fill("sip-secret-4")
    page.get_by_label("When busy to", exact=True).fill("1002")
    page.get_by_label("Role", exact=True).select_option("user")
    page.get_by_label("Web password", exact=True).fill("dans web password")
    page.get_by_role("button", name="Add the user").click()
    expect(page.get_by_role("status")).to_have_text("The user was added.")

    page.get_by_label("Ring time in seconds", exact=True).fill("30")
    page.get_by_label("On no answer to", exact=True).fill("1099")
    page.get_by_role("button", name="Save").click()
    field = page.get_by_label("On no answer to", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("1099")
    expect(page.locator("#err-forwarding-no_answer")).to_have_text(
        'users.3.forwarding.no_answer: unknown user "1099"'
    )
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    assert serious_violations(page) == []

    # The users, searched as one types (htmx swaps the rows in).
    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    expect(page.get_by_role("cell", name="Dan Dahl")).to_be_visible()
    page.get_by_label("Search by extension or name", exact=True).press_sequentially("cia")
    expect(page.get_by_role("cell", name="Bo User")).to_have_count(0)
    expect(page.get_by_role("cell", name="Cia Colleague")).to_be_visible()
    expect(page).to_have_url(page.url.split("?")[0] + "?q=cia")
    page.get_by_label("Search by extension or name", exact=True).fill("")
    page.goto("/admin/users")
    shot = SCREENSHOT if os.environ.get("VAXEL_SCREENSHOTS") == "1" else tmp_path / "users.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)

    for path in ("/admin/calls", "/admin/audit", "/admin/recordings"):
        page.goto(path)
        assert serious_violations(page) == [], path


def test_a_user_sets_lunch_until_13_and_sees_it(page: Any) -> None:
    expect = playwright_api.expect
    page.set_viewport_size({"width": 375, "height": 740})  # a phone
    log_in(page, "1002@acme.example")
    expect(page.get_by_role("heading", level=1)).to_have_text("My status")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Lunch until 13:00").click()
    expect(page.get_by_role("status")).to_have_text("Your status is set.")
    now = datetime.now(ZoneInfo("Europe/Stockholm"))
    until = "13:00" if now.hour < 13 else "tomorrow 13:00"
    expect(page.locator("#my-status")).to_have_text(f"Lunch until {until}")
    expect(page.locator("#directory li", has_text="Bo User")).to_contain_text(
        f"Lunch until {until}"
    )
    wide = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    assert not wide  # nothing sideways to scroll on a phone
    assert serious_violations(page) == []
    page.get_by_role("button", name="I am back").click()
    expect(page.locator("#my-status")).to_have_text("Available: your phones ring.")

    page.goto("/language?lang=sv&next=/me")
    expect(page.get_by_role("heading", level=1)).to_have_text("Min status")
    assert serious_violations(page) == []


def test_the_admin_s_parts_of_the_description_are_accessible(page: Any, tmp_path: Path) -> None:
    """Each admin page of the description (S7: numbers, menus, schedules with the year's
    calendar, groups, shared boxes, prompts with a player), and a form with an error
    marked on it, has no serious or critical axe-core finding; a prompt's text plays in
    the browser before it is saved (the CSP lets the player load this site's sound)."""
    expect = playwright_api.expect
    log_in(page, "1001@acme.example")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    for name in (
        "Numbers",
        "Call flows",
        "Menus",
        "Opening hours",
        "Groups",
        "Voicemail boxes",
        "Prompts",
    ):
        page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert serious_violations(page) == [], name

    page.goto("/admin/numbers")
    page.get_by_label("Number", exact=True).fill("08-123 456 01")
    page.get_by_label("Leads to a", exact=True).select_option("user")
    page.get_by_label("Flow name or extension", exact=True).fill("1099")
    page.get_by_role("button", name="Add the number").click()
    expect(page.locator("#err-number, #err-target").first).to_be_visible()
    assert serious_violations(page) == []

    page.goto("/admin/schedules/new?name=office")
    page.get_by_label("Monday", exact=True).fill("08:00-17:00")
    page.get_by_label("Tuesday", exact=True).fill("8-17")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_label("Tuesday", exact=True)).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []
    page.get_by_label("Tuesday", exact=True).fill("08:00-17:00")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Added.")
    expect(page.locator("table.calendar").first).to_be_visible()
    assert serious_violations(page) == []
    shot = CALENDAR if os.environ.get("VAXEL_SCREENSHOTS") == "1" else tmp_path / "year.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.locator(".months").screenshot(path=str(shot))

    page.goto("/admin/groups/sales")
    page.get_by_role("button", name="Log Cia Colleague out").click()
    expect(page.get_by_role("button", name="Log Cia Colleague in")).to_be_visible()
    assert serious_violations(page) == []
    page.goto("/admin/flows/main")
    assert serious_violations(page) == []
    page.goto("/admin/voicemail/new?name=desk")
    assert serious_violations(page) == []
    page.goto("/admin/menus/new?name=front")
    assert serious_violations(page) == []

    page.goto("/admin/prompts")
    page.locator("#p-name").fill("hello")
    page.get_by_label("Text to speak", exact=True).fill("Hello, and welcome.")
    page.get_by_role("button", name="Hear it first").click()
    player = page.locator("audio#preview")
    expect(player).to_be_visible()
    seconds = player.evaluate(
        """audio => new Promise(done => {
            if (audio.readyState >= 1) return done(audio.duration);
            audio.onloadedmetadata = () => done(audio.duration);
            audio.onerror = () => done(-1);
        })"""
    )
    assert seconds > 0.5, seconds
    assert serious_violations(page) == []


def test_the_user_web_s_voicemail_and_settings_are_accessible(page: Any) -> None:
    """My voicemail and my settings (U7, U8, U11), with a forwarding error marked."""
    expect = playwright_api.expect
    page.set_viewport_size({"width": 375, "height": 740})  # a phone
    log_in(page, "1002@acme.example")
    expect(page.get_by_role("heading", level=1)).to_have_text("My status")
    page.get_by_role("navigation").get_by_role("link", name="My voicemail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My voicemail")
    assert serious_violations(page) == []
    page.get_by_role("navigation").get_by_role("link", name="My settings").click()
    page.get_by_label("When busy to", exact=True).fill("1099")
    page.get_by_role("button", name="Save").first.click()
    field = page.get_by_label("When busy to", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#err-forwarding-busy")).to_have_text('busy: unknown user "1099"')
    assert serious_violations(page) == []
    wide = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    assert not wide  # nothing sideways to scroll on a phone


def _narrow(page: Any) -> bool:
    """Nothing sideways to scroll (a phone's 375 px)."""
    return not page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")


def test_the_company_settings_description_users_and_tokens_are_accessible(page: Any) -> None:
    """The company settings with an error marked, the whole description with its errors
    listed, a user's devices and the confirmation of a removal, and the API tokens with a
    new one shown (S7, P8), on a phone's width: axe-core finds nothing serious."""
    expect = playwright_api.expect
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, "1001@acme.example")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    page.get_by_role("navigation").get_by_role("link", name="Company", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Company settings")
    assert serious_violations(page) == [] and _narrow(page)
    page.get_by_label("Time zone", exact=True).fill("Europe/Stockhlom")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_label("Time zone", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#err-timezone")).to_contain_text("company.timezone: unknown timezone")
    assert serious_violations(page) == [] and _narrow(page)

    page.get_by_role("navigation").get_by_role("link", name="Description", exact=True).click()
    box = page.get_by_label("Description (YAML)", exact=True)
    expect(box).to_have_value(re.compile(r"name: Acme AB"))
    assert serious_violations(page) == [] and _narrow(page)
    box.fill(box.input_value().replace("- '1003'", "- '1099'", 1))
    page.get_by_role("button", name="Save the description").click()
    expect(page.locator("#config-errors")).to_contain_text('unknown user "1099"')
    assert serious_violations(page) == [] and _narrow(page)

    page.goto("/admin/users/1002")
    expect(page.get_by_role("heading", name="Devices")).to_be_visible()
    assert serious_violations(page) == [] and _narrow(page)
    page.get_by_role("link", name="Remove this user").click()
    expect(page.get_by_role("button", name="Yes, remove 1002")).to_be_visible()
    assert serious_violations(page) == [] and _narrow(page)

    page.get_by_role("navigation").get_by_role("link", name="API tokens").click()
    page.get_by_label("Name", exact=True).fill("backup")
    page.get_by_role("button", name="Make a token").last.click()
    expect(page.get_by_label("Your new token", exact=True)).to_have_value(re.compile("^vx"))
    expect(page.get_by_role("button", name="Revoke backup")).to_be_visible()
    assert serious_violations(page) == [] and _narrow(page)


def test_the_provider_s_company_page_is_accessible(page: Any) -> None:
    """The provider's page of a company, a trunk's page with an error and the provider's
    admins with an error (S7, P1, P6)."""
    expect = playwright_api.expect
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, "provider@vaxel.test")
    page.goto("/admin/companies")
    page.get_by_role("link", name="Provider settings: acme.example").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("the provider's settings")
    assert serious_violations(page) == [] and _narrow(page)
    page.get_by_label("First number", exact=True).fill("+4681234")
    page.get_by_role("button", name="Add the range").click()
    expect(page.locator("#err-ranges-first")).to_contain_text("too short")
    assert serious_violations(page) == [] and _narrow(page)
    page.get_by_role("link", name="carrier", exact=True).click()
    page.get_by_label("Port", exact=True).fill("99999")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#err-port")).to_contain_text("trunks.carrier.port")
    assert serious_violations(page) == [] and _narrow(page)
    page.get_by_role("navigation").get_by_role("link", name="Provider admins").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("The provider's administrators")
    page.get_by_label("E-mail", exact=True).fill("eva@vaxel.test")
    page.get_by_label("Web password", exact=True).fill("short")
    page.get_by_role("button", name="Add an administrator").click()
    expect(page.locator("#err-password")).to_contain_text("too short")
    assert serious_violations(page) == [] and _narrow(page)
