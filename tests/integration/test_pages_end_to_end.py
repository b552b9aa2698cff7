"""The web pages end to end: what a company admin and a user change in the browser is
what a real call meets (S7, S1, S3, S5, U9, U7).

A real `vaxel serve` (its web on a free port), Acme AB applied with `vaxel config apply`
and its admin's web login made with `vaxel company admin`; Debian's Chromium driven by
Playwright; third-party phones (pjsua2, one process each) on the other side.

a) The admin adds a user with a SIP password and a web login, makes a menu whose key 1
   leads to that user and hangs it on key 1 of the main menu; a carrier's caller to the
   main number hears the main menu (code for code the prompt file), presses 1, hears the
   new menu, presses 1 again, and the new user's phone (registered with the password set
   in the web) rings.
b) The admin closes the office by hand (the schedule's override); the next caller hears
   the closed prompt.
c) The new user sets "Lunch until 13:00" on their own page; a colleague's call hears the
   diversion (the system prompt div-lunch), the phone does not ring, the caller leaves a
   message, and it is on the user's voicemail page, where its player's source answers
   200 audio/wav.

Every page passed through is checked with axe-core (no serious or critical violation).
No sleeps: the pages are awaited with Playwright's expect, the phones' events and audio
with their own deadlines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.acme import ALWAYS, DOMAIN, MAIN, PASSWORDS, Mailbox, company, wait_messages
from tests.integration.audio import RATE, g711_levels
from tests.integration.peers import Server, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone, close_all, hears
from tests.integration.test_pages_browser import (  # noqa: F401  (browser: a fixture)
    CHROMIUM,
    browser,
    refused,
    serious_violations,
)

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

ADMIN_PASSWORD = "admin web password"
NEW_SIP = "dag-sip-secret-4"
NEW_WEB = "dags web password"


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]) -> Iterator[Server]:
    data, trunk = company(tmp_path_factory.mktemp("acme-pages"), ALWAYS, smtp[0])
    made = vaxel_cli(data, "company", "admin", DOMAIN, "--ext", "1001", "--password",
                     ADMIN_PASSWORD)  # fmt: skip
    assert made.returncode == 0, made.stderr
    server = Server(data).start("--rtp-ports", rtp_ports())
    server.trunk = trunk  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def patient() -> Iterator[None]:
    """A busy machine applies a description more slowly than Playwright's 5 s default:
    the pages are awaited for longer (still for an event, never for a fixed time)."""
    playwright_api.expect.set_options(timeout=20_000)
    yield
    playwright_api.expect.set_options(timeout=5_000)


@pytest.fixture
def phones(acme: Server) -> Iterator[list[PjPhone]]:
    started: list[PjPhone] = []
    yield started
    close_all(started)


@pytest.fixture
def pages(browser: Any, acme: Server) -> Iterator[Callable[[], Any]]:  # noqa: F811
    """Opens browser pages, each in a context of its own (its own cookies); no script
    error, nothing the CSP refused, on any of them."""
    problems: list[str] = []
    contexts = []

    def new_page() -> Any:
        context = browser.new_context(base_url=acme.web, locale="en-GB")
        context.add_cookies([{"name": "vaxel_lang", "value": "en", "url": acme.web}])
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if refused(m) else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        return page

    yield new_page
    for context in contexts:
        context.close()
    assert problems == []


def log_in(page: Any, login: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Login (extension@domain or e-mail)", exact=True).fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def accessible(page: Any) -> None:
    assert serious_violations(page) == [], page.url


def carrier_phone(acme: Server) -> PjPhone:
    return PjPhone(
        acme.address, "+46701740605", "", "carrier.test", port=acme.trunk,  # type: ignore[attr-defined]
        register=False, name="carrier",
    )  # fmt: skip


def voice(seconds: float, seed: int) -> np.ndarray:
    """A tone in noise at A-law levels: what the caller says into the box."""
    t = np.arange(int(RATE * seconds)) / RATE
    rng = np.random.default_rng(seed)
    samples = 3000 * np.sin(2 * np.pi * 410 * t) + rng.normal(0, 800, t.size)
    return g711_levels(samples.astype(np.int16))


def test_what_the_web_changes_is_what_the_next_call_meets(
    acme: Server, pages: Callable[[], Any], phones: list[PjPhone], system_prompts: Path
) -> None:
    expect = playwright_api.expect
    admin = pages()
    log_in(admin, f"1001@{DOMAIN}", ADMIN_PASSWORD)
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Overview")

    # a) A user with a SIP password and a web login ...
    admin.goto("/admin/users/new")
    admin.get_by_label("Extension", exact=True).fill("1004")
    admin.get_by_label("Name", exact=True).fill("Dag Dahl")
    admin.get_by_label("SIP password", exact=True).fill(NEW_SIP)
    admin.get_by_label("Role", exact=True).select_option("user")
    admin.get_by_label("Web password", exact=True).fill(NEW_WEB)
    admin.get_by_role("button", name="Add the user").click()
    expect(admin.get_by_role("status")).to_have_text("The user was added.")

    # ... a menu whose key 1 rings them, on key 1 of the main menu.
    admin.get_by_role("navigation").get_by_role("link", name="Menus").click()
    accessible(admin)
    admin.get_by_label("Name of a new one", exact=True).fill("front")
    admin.get_by_role("button", name="Add a menu").click()
    admin.get_by_label("Prompt played", exact=True).select_option("welcome")
    admin.get_by_label("What key 1 leads to", exact=True).select_option("user")
    admin.get_by_label("Name for key 1", exact=True).fill("1004")
    admin.locator("#f-default-kind").select_option("voicemail")
    admin.locator("#f-default-target").fill("reception")
    accessible(admin)
    admin.get_by_role("button", name="Add", exact=True).click()
    expect(admin.get_by_role("status")).to_have_text("Added.")
    admin.goto("/admin/menus/main")
    admin.get_by_label("What key 1 leads to", exact=True).select_option("menu")
    admin.get_by_label("Name for key 1", exact=True).fill("front")
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.get_by_role("status")).to_have_text("Saved.")
    admin.get_by_role("link", name="All menus").click()
    expect(admin.locator(".tree")).to_contain_text("key 1 → menu front")
    accessible(admin)

    dag = PjPhone(acme.address, "1004", NEW_SIP, DOMAIN)  # the password set in the web
    phones.append(dag)
    dag.registered()
    carrier = carrier_phone(acme)
    phones.append(carrier)
    call = carrier.call(f"sip:{MAIN}@carrier.test")
    carrier.state(call, "CONFIRMED")
    prompts = acme.data / "prompts" / DOMAIN
    assert hears(carrier, call, prompts / "menu.wav", 0.3), "no main menu"
    carrier.clear(call)  # the welcome played before the menu: from here, the new menu's
    carrier.press(call, "1")
    assert hears(carrier, call, prompts / "welcome.wav", 0.3), "not the new menu"
    carrier.press(call, "1")
    ringing = dag.incoming(timeout=10)
    assert "+46701740605" in ringing["from"], ringing
    carrier.hangup(call)
    dag.state(ringing["call"], "DISCONNECTED", timeout=15)

    # b) Closed by hand: the next caller hears the closed prompt.
    admin.get_by_role("navigation").get_by_role("link", name="Opening hours").click()
    accessible(admin)
    admin.get_by_role("link", name="office").click()
    expect(admin.locator("#now-state")).to_contain_text("Open")
    admin.get_by_label("State", exact=True).select_option("closed")
    admin.get_by_role("button", name="Set", exact=True).click()
    expect(admin.get_by_role("status")).to_have_text("Saved.")
    expect(admin.locator("#now-state")).to_contain_text("Closed")
    accessible(admin)
    call = carrier.call(f"sip:{MAIN}@carrier.test")
    carrier.state(call, "CONFIRMED")
    assert hears(carrier, call, prompts / "closed.wav", 0.5), "not told it is closed"
    carrier.hangup(call)

    # c) The new user's lunch, heard by a caller, who leaves a message for the web.
    user = pages()
    log_in(user, f"1004@{DOMAIN}", NEW_WEB)
    expect(user.get_by_role("heading", level=1)).to_have_text("My status")
    user.get_by_role("button", name="Lunch until 13:00").click()
    expect(user.get_by_role("status")).to_have_text("Your status is set.")
    anna = PjPhone(acme.address, "1001", PASSWORDS["1001"], DOMAIN, register=False)
    phones.append(anna)
    call = anna.call("1004")
    anna.state(call, "CONFIRMED")  # the switch answers for Dag
    en = system_prompts / "en"
    assert hears(anna, call, en / "div-lunch.wav", 0.5), "not told Dag is at lunch"
    assert dag.event("incoming", timeout=0.5) is None, "Dag's phone rang"
    anna.press(call, "1")
    assert hears(anna, call, en / "beep.wav", 1.0, wait=15), "no tone to speak after"
    anna.speak(call, voice(2.0, seed=41))
    anna.hangup(call)
    (left,) = wait_messages(acme.data, "1004", 1)
    assert left.caller == "1001", left

    user.get_by_role("navigation").get_by_role("link", name="My voicemail").click()
    message = user.locator(f"#message-{left.id}")
    expect(message).to_contain_text("1001")
    expect(message).to_contain_text("new")
    accessible(user)
    source = message.locator("audio").get_attribute("src")
    answer = user.request.get(source)
    assert answer.status == 200 and answer.headers["content-type"] == "audio/wav"
    assert answer.body()[:4] == b"RIFF"
    # ... and the browser's own player loads it (the page's CSP lets it): it knows how
    # long the message is.
    seconds = message.locator("audio").evaluate(
        """audio => new Promise(done => {
            audio.onloadedmetadata = () => done(audio.duration);
            audio.onerror = () => done(-1);
            audio.preload = "metadata";
            audio.load();
        })"""
    )
    assert seconds > 1.0, seconds
    message.get_by_role("button", name="Mark as heard").click()
    expect(user.get_by_role("status")).to_have_text("Marked as heard.")
    user.get_by_role("navigation").get_by_role("link", name="My settings").click()
    accessible(user)
