"""The web pages end to end with a softphone we did not write: what a company admin
makes in the browser is what a real baresip call meets (S7, S1, S3, S5).

The variant of test_pages_end_to_end.py (pjsua2) with baresip on both sides: a real
`vaxel serve` (its web on a free port), Acme AB applied with `vaxel config apply` and its
admin's web login made with `vaxel company admin`; Debian's Chromium driven by
Playwright. The carrier's side is a baresip on the trunk's address, the new user's phone
a baresip registered with the password set in the web.

In the browser the admin adds a user (SIP password, web login), a menu whose key 1 rings
that user, a schedule, a call flow that goes through the schedule to the menu (and, when
closed, plays the closed prompt and takes a message), and points the main number at it.

The schedule does not depend on the wall clock: it is open or closed by special days
from today to tomorrow (a special day wins over holidays and weekly hours), so the test
passes on any day, a public holiday too, and across midnight.

a) Open ("Open house", 00:00-24:00): the carrier's caller to the main number hears the new
   menu's prompt (code for code the prompt file; not the old main menu), presses 1 (RFC
   4733), and the new user's baresip rings with the caller's number (the old main menu's
   key 1 rang a group); it answers, and each side hears what the other sends, code for code.
b) Closed ("Stocktaking", no hours): the next caller hears the closed prompt whole (the
   recording correlates with the prompt file), then the box's greeting; no menu, and the
   user's phone does not ring.

No sleeps: the pages are awaited with Playwright's expect, the phones' events and audio
with their own deadlines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.acme import DOMAIN, MAIN
from tests.integration.audio import RATE, correlation
from tests.integration.baresip import Baresip
from tests.integration.peers import Server
from tests.integration.test_pages_browser import CHROMIUM, browser  # noqa: F401  (a fixture)
from tests.integration.test_pages_end_to_end import (  # noqa: F401  (fixtures)
    ADMIN_PASSWORD,
    accessible,
    acme,
    log_in,
    pages,
    patient,
)
from tests.integration.test_softphone_main_number import (
    CALLER,
    Phones,
    closed,
    established,
    exact,
    heard,
    press,
    prompt,
    sent,
    sources,  # noqa: F401  (a fixture)
    wait_heard,
)
from vaxel.media.player import load_prompt

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

NEW_SIP = "erik-sip-secret-5"
NEW_WEB = "eriks web password"
ZONE = ZoneInfo("Europe/Stockholm")  # a schedule's zone when none is given


@pytest.fixture
def phones(acme: Server, tmp_path: Path) -> Iterator[Phones]:  # noqa: F811
    made = Phones(acme, acme.trunk, tmp_path)  # type: ignore[attr-defined]
    yield made
    made.stop()


def new_item(admin: Any, section: str, name: str, button: str) -> None:
    """Open the form of a new item from its section's list (menus, schedules, flows)."""
    admin.get_by_role("navigation").get_by_role("link", name=section).click()
    admin.get_by_label("Name of a new one", exact=True).fill(name)
    admin.get_by_role("button", name=button).click()


def special_days(admin: Any, name: str, hours: str) -> None:
    """Add a special day from today to tomorrow (the company's today: a run that crosses
    midnight still falls in it) on the open schedule page."""
    today = datetime.now(ZONE).date()
    admin.get_by_label("Date (or first date)", exact=True).fill(today.isoformat())
    admin.get_by_label("Last date (for a range)", exact=True).fill(
        (today + timedelta(days=1)).isoformat()
    )
    admin.get_by_label("Hours", exact=True).fill(hours)
    admin.get_by_label("Name", exact=True).fill(name)
    admin.get_by_role("button", name="Add the special day").click()
    playwright_api.expect(admin.get_by_role("status")).to_have_text("Saved.")


def test_what_the_web_makes_is_what_a_baresip_call_meets(
    acme: Server,  # noqa: F811
    pages: Callable[[], Any],  # noqa: F811
    phones: Phones,
    sources: dict[str, Path],  # noqa: F811
    system_prompts: Path,
    tmp_path: Path,
) -> None:
    expect = playwright_api.expect
    admin = pages()
    log_in(admin, f"1001@{DOMAIN}", ADMIN_PASSWORD)
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Overview")

    # A user with a SIP password and a web login ...
    admin.goto("/admin/users/new")
    admin.get_by_label("Extension", exact=True).fill("1005")
    admin.get_by_label("Name", exact=True).fill("Erik Ek")
    admin.get_by_label("SIP password", exact=True).fill(NEW_SIP)
    admin.get_by_label("Role", exact=True).select_option("user")
    admin.get_by_label("Web password", exact=True).fill(NEW_WEB)
    admin.get_by_role("button", name="Add the user").click()
    expect(admin.get_by_role("status")).to_have_text("The user was added.")

    # ... a menu whose key 1 rings them ...
    new_item(admin, "Menus", "desk", "Add a menu")
    admin.get_by_label("Prompt played", exact=True).select_option("welcome")
    admin.get_by_label("What key 1 leads to", exact=True).select_option("user")
    admin.get_by_label("Name for key 1", exact=True).fill("1005")
    admin.locator("#f-default-kind").select_option("voicemail")
    admin.locator("#f-default-target").fill("reception")
    admin.get_by_role("button", name="Add", exact=True).click()
    expect(admin.get_by_role("status")).to_have_text("Added.")

    # ... a schedule: weekdays in the week, and open from today to tomorrow ...
    new_item(admin, "Opening hours", "desk", "Add a schedule")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        admin.get_by_label(day, exact=True).fill("08:00-17:00")
    admin.get_by_role("button", name="Add", exact=True).click()
    expect(admin.get_by_role("status")).to_have_text("Added.")
    special_days(admin, "Open house", "00:00-24:00")
    expect(admin.locator("#now-state")).to_contain_text("Open")
    accessible(admin)

    # ... a call flow through that schedule to that menu, closed: a prompt, then a box ...
    new_item(admin, "Call flows", "desk", "Add a call flow")
    admin.get_by_label("Opening hours", exact=True).select_option("desk")
    admin.get_by_label("Menu", exact=True).select_option("desk")
    admin.get_by_label("Prompt played", exact=True).select_option("closed")
    admin.get_by_label("Then calls go to", exact=True).select_option("voicemail")
    admin.get_by_label("Its name", exact=True).fill("reception")
    accessible(admin)
    admin.get_by_role("button", name="Add", exact=True).click()
    expect(admin.get_by_role("status")).to_have_text("Added.")

    # ... and the main number now leads to that flow.
    admin.get_by_role("navigation").get_by_role("link", name="Numbers").click()
    admin.get_by_label(f"Name for {MAIN}", exact=True).fill("desk")
    admin.get_by_role("button", name=f"Save {MAIN}").click()
    expect(admin.get_by_role("status")).to_have_text("Saved.")
    admin.get_by_role("navigation").get_by_role("link", name="Call flows").click()
    expect(admin.locator("main li", has_text="desk")).to_contain_text(MAIN)

    # a) Open: the new menu answers, its key 1 rings the new user's baresip.
    erik = Baresip(  # registers with the SIP password set in the web
        tmp_path / "1005", acme, "1005", NEW_SIP, DOMAIN, answermode="manual",
        audio_source=sources["1003"], snd_path=tmp_path / "1005" / "rec", audio_codecs="PCMA",
    )  # fmt: skip
    phones.started.append(erik)
    erik.start().register()
    registered = erik.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
    assert registered is not None and registered["type"] == "REGISTER_OK", erik.log_text()
    caller = phones.carrier(sources["caller"])
    menu = load_prompt(prompt(acme, "welcome"))  # the new menu's prompt
    main_menu = load_prompt(prompt(acme, "menu"))  # the old flow's menu
    caller.dial(f"sip:{MAIN}@{acme.address}")
    established(caller)
    assert wait_heard(caller, menu, RATE // 2) >= RATE // 2, "not the new menu"
    press(caller, "1")
    ringing = erik.event({"CALL_INCOMING"}, timeout=10)
    assert ringing is not None, "key 1 did not ring the new user"
    assert str(ringing["peeruri"]).startswith(f"sip:{CALLER}@"), ringing
    erik.accept()
    established(erik)
    voice = load_prompt(sources["1003"])
    assert wait_heard(caller, voice, 2 * RATE) >= 2 * RATE, "the new user unheard"
    assert wait_until(lambda: exact(sent(caller), heard(erik)) >= 2 * RATE), "caller unheard"
    caller.hangup()
    closed(caller, erik)
    assert exact(menu, heard(caller)) >= 0.3 * RATE  # cut short by the key
    assert exact(main_menu, heard(caller)) < 0.1 * RATE, "the old main menu played"

    # b) Closed by the schedule: the closed prompt, whole, then the reception box.
    admin.get_by_role("navigation").get_by_role("link", name="Opening hours").click()
    admin.get_by_role("link", name="desk").click()
    admin.get_by_role("button", name="Remove Open house").click()
    expect(admin.get_by_role("status")).to_have_text("Saved.")
    special_days(admin, "Stocktaking", "")
    expect(admin.locator("#now-state")).to_contain_text("Closed")
    expect(admin.locator("#now-state")).to_contain_text("Stocktaking")
    accessible(admin)
    closed_prompt = load_prompt(prompt(acme, "closed"))
    greeting = load_prompt(system_prompts / "en" / "vm-greeting-shared.wav")
    caller.dial(f"sip:{MAIN}@{acme.address}")
    established(caller)
    assert wait_heard(caller, closed_prompt, RATE) >= RATE, "not told it is closed"
    assert wait_heard(caller, greeting, RATE // 2) >= RATE // 2, "no voicemail greeting"
    caller.hangup()
    closed(caller)
    received = heard(caller)
    coefficient, lag, overlap = correlation(closed_prompt, received)
    assert coefficient > 0.99 and overlap == len(closed_prompt), (coefficient, lag, overlap)
    assert exact(closed_prompt, received) >= 0.8 * len(closed_prompt)
    assert exact(menu, received) < 0.1 * RATE, "the menu played while closed"
    assert exact(main_menu, received) < 0.1 * RATE, "the old main menu played"
    assert erik.event({"CALL_INCOMING"}, timeout=0.5) is None, "the new user's phone rang"


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether `condition` came true before the deadline (looked at every 0.1 s)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
