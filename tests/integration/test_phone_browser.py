"""The softphone /phone in a real browser against `vaxel serve` (U1, U3, U4, U9, U7, U12, O2,
A5).

Debian's Chromium (fake microphone), driven by Playwright, logs users of Acme AB in and
opens /phone; the phones of their colleagues are baresip. What is checked is what a user
would see, and what the switch then says:

* the page registers with the browser's own credential (`vaxel registrations` lists the
  binding of `Vaxel softphone`), and the desk phone's SIP password is nowhere in it;
  its manifest and service worker make it installable; axe-core finds no serious or
  critical violation in any view;
* two browsers chat: what Björn types appears in Cecilia's page and in her
  /api/v1/me/chats, her answer in his; a group made in his page gets his message to
  her page (unread until she opens it); a SIP MESSAGE from a baresip phone reaches
  the page;
* a colleague's line (Anna's baresip calling Cecilia's baresip) changes live in Björn's
  page: calling, ringing, on the phone, free; a diversion pressed in the page is what the
  API returns, and logging out of an answering group in the page is what the API says;
* an agent's pause with a reason pressed in the page is what the API says, and a pause
  made through the API shows in the page live (A5);
* a call to Cecilia that nobody answers rings her page, is first among her missed calls,
  and the message the caller leaves is in her voicemail list, played and marked heard;
* with WebRTC media: Björn dials on the keypad, his keys reach the baresip phone (RFC
  4733), his hold is what Anna's page shows of his line, his hang-up ends the call; he
  answers a call in the page and drops it on Anna in his list (blind transfer), adds a
  third from the page (three-way), and transfers after talking to the target first
  (REFER with Replaces).

No sleeps: pages are awaited with Playwright's expect, phones with their own deadlines.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest

from tests.integration.acme import ALWAYS, DOMAIN, PASSWORDS, Mailbox, company, wait_messages
from tests.integration.audio import RATE
from tests.integration.baresip import Baresip
from tests.integration.peers import Server, rtp_ports, vaxel_cli
from tests.integration.phone import Phone
from tests.integration.test_pages_browser import ARGS, CHROMIUM, refused, serious_violations

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

WEB = {"1001": "anna web password", "1002": "bjorn web password", "1003": "cecilia web pw"}
MEDIA = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]) -> Iterator[Server]:
    """Acme AB on `vaxel serve`; Anna is its admin, Björn and Cecilia users with web logins
    (Björn rings 30 s, Cecilia 5 s: the description's ring times)."""
    data, trunk = company(tmp_path_factory.mktemp("acme-phone"), ALWAYS, smtp[0])
    made = vaxel_cli(data, "company", "admin", DOMAIN, "--ext", "1001", "--password", WEB["1001"])
    assert made.returncode == 0, made.stderr
    server = Server(data).start("--rtp-ports", rtp_ports())
    server.trunk = trunk  # type: ignore[attr-defined]
    with api(server, "1001") as anna:
        for ext in ("1002", "1003"):
            given = anna.put(f"/api/v1/companies/{DOMAIN}/users/{ext}/account",
                             json={"password": WEB[ext], "role": "user"})  # fmt: skip
            assert given.status_code == 200, given.text
    yield server
    server.stop()


@contextmanager
def api(server: Server, ext: str) -> Iterator[httpx.Client]:
    """A client logged in to the API as the user (CSRF token set)."""
    with httpx.Client(base_url=server.web, timeout=30) as client:
        login = client.post(
            "/api/v1/login", json={"login": f"{ext}@{DOMAIN}", "password": WEB[ext]}
        )
        assert login.status_code == 200, login.text
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*ARGS, *MEDIA]
        )
        yield launched
        launched.close()


@pytest.fixture(autouse=True)
def patient() -> Iterator[None]:
    """A busy machine starts a call more slowly than Playwright's 5 s default."""
    playwright_api.expect.set_options(timeout=20_000)
    yield
    playwright_api.expect.set_options(timeout=5_000)


@pytest.fixture
def phone_of(browser: Any, acme: Server) -> Iterator[Callable[[str], Any]]:
    """Opens /phone logged in as a user, each in a browser context of its own; no script
    error and nothing the CSP refused on any of them."""
    problems: list[str] = []
    contexts: list[Any] = []

    def open_phone(ext: str) -> Any:
        context = browser.new_context(
            base_url=acme.web, locale="en-GB", timezone_id="Europe/Stockholm"
        )
        context.add_cookies([{"name": "vaxel_lang", "value": "en", "url": acme.web}])
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if unexpected(m) else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto("/login?next=/phone")
        page.get_by_label("Login (extension@domain or e-mail)", exact=True).fill(f"{ext}@{DOMAIN}")
        page.get_by_label("Password", exact=True).fill(WEB[ext])
        page.get_by_role("button", name="Log in").click()
        playwright_api.expect(page).to_have_url(f"{acme.web}/phone")
        registered(page)
        return page

    yield open_phone
    for context in contexts:
        context.close()
    assert problems == []


def unexpected(message: Any) -> bool:
    """A console error, except Chromium saying that an incognito context (every Playwright
    context is one) has no Push API: the page then says push could not be set up."""
    return refused(message) and "Push API in incognito mode" not in message.text


def registered(page: Any) -> None:
    playwright_api.expect(page.locator("#reg")).to_have_text("Ready: calls ring here")


def view(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Phone").get_by_role("button", name=name).click()


@pytest.fixture
def baresips(acme: Server, tmp_path: Path) -> Iterator[Callable[..., Baresip]]:
    started: list[Baresip] = []

    def start(ext: str, contacts: str = "", **options: Any) -> Baresip:
        """A baresip registered as `ext`; `contacts` is its contact list (contact.so)."""
        phone = Baresip(tmp_path / f"b{ext}-{len(started)}", acme, ext, PASSWORDS[ext], DOMAIN,
                        **options)  # fmt: skip
        if contacts:
            (phone.folder / "contacts").write_text(contacts)
        started.append(phone.start())
        phone.register()
        assert phone.event({"REGISTER_OK"}, timeout=15) is not None, phone.log_text()
        return phone

    yield start
    for phone in started:
        phone.stop()


def test_the_phone_registers_with_its_own_credential_and_is_installable(
    phone_of: Callable[[str], Any], acme: Server
) -> None:
    page = phone_of("1002")
    listing = vaxel_cli(acme.data, "registrations", "--company", DOMAIN).stdout
    line = next(line for line in listing.splitlines() if "Vaxel softphone" in line)
    assert "1002" in line and " ws:127.0.0.1:" in line, listing
    # The desk phone's password is in no page, script or answer the browser got.
    assert PASSWORDS["1002"] not in page.content()
    with api(acme, "1002") as bjorn:
        softphone = bjorn.get("/api/v1/me/softphone").json()
    assert softphone["authorization_user"] == "1002-web" and PASSWORDS["1002"] not in str(softphone)
    # Installable: a manifest, a service worker controlling /phone, no installability error.
    scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == f"{acme.web}/phone"
    cdp = page.context.new_cdp_session(page)
    parsed = cdp.send("Page.getAppManifest")
    assert parsed["errors"] == [] and parsed["manifest"]["display"] == "kStandalone", parsed
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Playwright's browser contexts are incognito ones, where nothing is installed; that
    # is the only objection (a missing manifest, icon or worker would be another).
    assert [e["errorId"] for e in errors] == ["in-incognito"], errors
    manifest = page.evaluate(
        "async () => (await fetch(document.querySelector('link[rel=manifest]').href)).headers"
        ".get('content-type')"
    )
    assert manifest == "application/manifest+json"
    for name in ("Keypad", "Colleagues", "Chat", "Voicemail", "Calls", "Contacts", "Status"):
        view(page, name)
        assert serious_violations(page) == [], name
    page.set_viewport_size({"width": 390, "height": 800})  # a phone's width
    view(page, "Keypad")
    assert serious_violations(page) == []


def test_two_browsers_chat_and_a_phone_writes_to_the_page(
    phone_of: Callable[[str], Any], baresips: Callable[..., Baresip], acme: Server
) -> None:
    expect = playwright_api.expect
    bjorn = phone_of("1002")
    cecilia = phone_of("1003")
    view(bjorn, "Colleagues")
    bjorn.get_by_role("button", name="Chat with Cecilia Lind").click()
    expect(bjorn.locator("#chat-title")).to_have_text("Cecilia Lind")
    bjorn.get_by_label("Message", exact=True).fill("Lunch at twelve?")
    bjorn.get_by_role("button", name="Send").click()
    expect(bjorn.locator("#chat-messages")).to_contain_text("Lunch at twelve?")
    # Cecilia's page: the conversation appears live, and opening it shows the message.
    view(cecilia, "Chat")
    cecilia.locator("#chat-list").get_by_role("button", name="Björn Karlsson").click()
    expect(cecilia.locator("#chat-messages")).to_contain_text("Lunch at twelve?")
    with api(acme, "1003") as api_cecilia:
        chats = api_cecilia.get("/api/v1/me/chats").json()["items"]
    assert [(c["with"], c["last"]["text"]) for c in chats] == [("1002", "Lunch at twelve?")]
    # Her answer typed in the page reaches Björn's.
    cecilia.get_by_label("Message", exact=True).fill("Yes!")
    cecilia.get_by_role("button", name="Send").click()
    expect(bjorn.locator("#chat-messages")).to_contain_text("Yes!")

    # A group chat made in Björn's page: his message to the group (over SIP MESSAGE to
    # the group's address) is in Cecilia's page under the group.
    bjorn.get_by_text("New group chat").click()
    bjorn.get_by_label("Name of the group").fill("Lunch club")
    bjorn.get_by_label("Members (extensions, separated by commas)").fill("1003")
    bjorn.get_by_role("button", name="Make the group").click()
    expect(bjorn.locator("#chat-title")).to_have_text("Lunch club")
    bjorn.get_by_label("Message", exact=True).fill("Pizza on Friday")
    bjorn.get_by_role("button", name="Send").click()
    expect(bjorn.locator("#chat-messages")).to_contain_text("Pizza on Friday")
    group = cecilia.locator("#chat-list").get_by_role("button", name="Lunch club")
    expect(group).to_contain_text("1 unread")
    group.click()
    expect(cecilia.locator("#chat-messages")).to_contain_text("Pizza on Friday")
    expect(group).not_to_contain_text("unread")  # opened: read

    # A SIP MESSAGE from Anna's baresip phone reaches Björn's page.
    anna = baresips("1001", contacts=f'"Björn" <sip:1002@{DOMAIN}>\n', modules=("contact.so",))
    assert anna.request("message", "Written on a desk phone")["ok"]
    view(bjorn, "Chat")
    entry = bjorn.locator("#chat-list").get_by_role("button", name="Anna Svensson")
    expect(entry).to_contain_text("Written on a desk phone")
    entry.click()
    expect(bjorn.locator("#chat-messages")).to_contain_text("Written on a desk phone")
    # And back: Björn's answer typed in the page reaches Anna's baresip, which takes it (its
    # 200 to the switch's MESSAGE marks it delivered).
    bjorn.get_by_label("Message", exact=True).fill("Got it, thanks")
    bjorn.get_by_role("button", name="Send").click()
    expect(bjorn.locator("#chat-messages")).to_contain_text("Got it, thanks")
    deadline = time.monotonic() + 15
    with api(acme, "1002") as api_bjorn:
        while True:
            sent = api_bjorn.get("/api/v1/me/chats/1001").json()["items"][-1]
            if sent["text"] == "Got it, thanks" and sent["delivered_at"]:
                break
            assert time.monotonic() < deadline, (sent, anna.log_text())
            time.sleep(0.1)


def line_of(page: Any, ext: str) -> Any:
    return page.locator(f'#colleague-list li[data-ext="{ext}"] .line')


def test_colleagues_lines_live_and_my_status_and_groups(
    phone_of: Callable[[str], Any], baresips: Callable[..., Baresip], acme: Server
) -> None:
    expect = playwright_api.expect
    bjorn = phone_of("1002")
    view(bjorn, "Colleagues")
    expect(line_of(bjorn, "1001")).to_have_text("Free")
    anna = baresips("1001")
    cecilia = baresips("1003", answermode="manual")
    anna.dial(f"sip:1003@{DOMAIN}")
    expect(line_of(bjorn, "1001")).to_have_text("Calling")
    expect(line_of(bjorn, "1003")).to_have_text("Ringing")
    assert cecilia.event({"CALL_INCOMING"}, timeout=15) is not None, cecilia.log_text()
    cecilia.accept()
    expect(line_of(bjorn, "1001")).to_have_text("On the phone")
    expect(line_of(bjorn, "1003")).to_have_text("On the phone")
    anna.hangup()
    expect(line_of(bjorn, "1001")).to_have_text("Free")
    expect(line_of(bjorn, "1003")).to_have_text("Free")
    # The search finds Cecilia by her name, and nobody else.
    bjorn.get_by_label("Search colleagues", exact=True).fill("ceci")
    expect(bjorn.locator("#colleague-list li:visible")).to_have_count(1)
    expect(bjorn.locator("#colleague-list li:visible")).to_contain_text("Cecilia Lind")

    # "Lunch until 13:00" pressed in the page is what the API then says.
    view(bjorn, "Status")
    bjorn.get_by_role("button", name="Lunch until 13:00").click()
    expect(bjorn.locator("#my-diversion")).to_contain_text("Lunch until")
    with api(acme, "1002") as api_bjorn:
        diversion = api_bjorn.get("/api/v1/me/diversion").json()
        assert diversion["status"] == "lunch"
        until = datetime.fromisoformat(diversion["until"]).astimezone(ZoneInfo("Europe/Stockholm"))
        assert (until.hour, until.minute) == (13, 0)
        bjorn.get_by_role("button", name="I am back").click()
        expect(bjorn.locator("#my-diversion")).to_have_text("Available: your phones ring.")
        assert api_bjorn.get("/api/v1/me/diversion").json() is None

        # Out of the answering group "sales" and in again, in the page.
        members = f"/api/v1/companies/{DOMAIN}/groups/sales/members"

        def in_sales() -> bool:
            found = api_bjorn.get(members).json()["members"]
            return next(m["logged_in"] for m in found if m["ext"] == "1002")

        box = bjorn.get_by_label("Logged in to sales", exact=True)
        expect(box).to_be_checked()
        box.uncheck()
        assert eventually(lambda: not in_sales())
        box.check()
        assert eventually(in_sales)


def test_an_agent_pauses_with_a_reason_in_the_page_and_resumes(
    phone_of: Callable[[str], Any], acme: Server
) -> None:
    """A5: the pause pressed in the page is what the API says, and a pause made elsewhere
    (the API, as the phone's *47 would) shows in the page live (agent.paused)."""
    expect = playwright_api.expect
    bjorn = phone_of("1002")
    view(bjorn, "Status")
    state = bjorn.locator("#my-pause")
    expect(state).to_have_text("Not paused: your queues offer you their calls.")
    bjorn.get_by_label("Pause reason", exact=True).select_option(label="Admin work")
    bjorn.get_by_role("button", name="Pause", exact=True).click()
    expect(state).to_have_text("Paused (Admin work): no queue offers you a call.")
    with api(acme, "1002") as api_bjorn:
        assert api_bjorn.get("/api/v1/me/pause").json()["reason"] == "admin"
        bjorn.get_by_role("button", name="Resume", exact=True).click()
        expect(state).to_have_text("Not paused: your queues offer you their calls.")
        assert api_bjorn.get("/api/v1/me/pause").json()["paused"] is False
        assert api_bjorn.put("/api/v1/me/pause", json={"reason": "lunch"}).status_code == 200
        expect(state).to_have_text("Paused (Lunch): no queue offers you a call.")
        assert api_bjorn.delete("/api/v1/me/pause").status_code == 204
        expect(state).to_have_text("Not paused: your queues offer you their calls.")


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Whether `check` becomes true within `timeout` (the page's request is under way)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_missed_call_comes_first_and_its_message_plays(
    phone_of: Callable[[str], Any],
    baresips: Callable[..., Baresip],
    acme: Server,
    tmp_path: Path,
) -> None:
    expect = playwright_api.expect
    cecilia = phone_of("1003")  # rings 5 s, then her voicemail takes the call
    speech = tmp_path / "speech.wav"
    tone(speech, seconds=14.0)
    anna = baresips("1001", audio_source=speech)
    anna.dial(f"sip:1003@{DOMAIN}")
    screen = cecilia.locator("#call-screen")
    expect(screen).to_be_visible()
    expect(screen.locator("#call-title")).to_have_text("Incoming call")
    expect(screen.locator("#call-peer")).to_have_text("Anna Svensson (1001)")
    expect(screen.locator("#call-state")).to_have_text("Call ended")  # nobody answered
    assert anna.event({"CALL_CLOSED"}, timeout=40) is not None, anna.log_text()
    assert len(wait_messages(acme.data, "1003", 1, timeout=15)) == 1

    view(cecilia, "Calls")
    expect(cecilia.locator("#missed-list li").first).to_contain_text("From Anna Svensson (1001)")
    view(cecilia, "Voicemail")
    message = cecilia.locator("#voicemail-boxes li").first
    expect(message).to_contain_text("New: From Anna Svensson (1001)")
    source = message.locator("audio").get_attribute("src")
    played = cecilia.evaluate(
        "async (src) => { const r = await fetch(src);"
        " return [r.status, r.headers.get('content-type')]; }",
        source,
    )
    assert played == [200, "audio/wav"]
    message.get_by_role("button", name="Mark as heard").click()
    expect(cecilia.locator("#voicemail-boxes li").first).not_to_contain_text("New:")
    with api(acme, "1003") as api_cecilia:
        messages = api_cecilia.get(f"/api/v1/companies/{DOMAIN}/voicemail/1003/messages").json()
    assert [m["heard"] for m in messages["items"]] == [True]
    assert serious_violations(cecilia) == []


def tone(path: Path, seconds: float) -> None:
    """A 440 Hz tone as 8 kHz mono 16-bit WAV: what the caller says into the box."""
    import wave

    t = np.arange(int(RATE * seconds)) / RATE
    samples = (6000 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())


def call_screen(page: Any) -> Any:
    return page.locator("#call-screen")


def test_the_page_calls_sends_keys_holds_and_hangs_up(
    phone_of: Callable[[str], Any], baresips: Callable[..., Baresip]
) -> None:
    """Björn dials Cecilia's baresip on the keypad; his keys reach her phone (RFC 4733),
    his hold is what Anna's page shows of his line, and his hang-up ends her call."""
    expect = playwright_api.expect
    cecilia = baresips("1003")  # answers at once
    anna = phone_of("1001")
    view(anna, "Colleagues")
    bjorn = phone_of("1002")
    keys = bjorn.locator("#dial-keys")
    for key in "1003":
        keys.get_by_role("button", name=key, exact=True).click()
    expect(bjorn.get_by_label("Number or extension")).to_have_value("1003")
    bjorn.locator("#dial-form").get_by_role("button", name="Call", exact=True).click()
    screen = call_screen(bjorn)
    expect(screen.locator("#call-state")).to_have_text("On the phone")
    expect(screen.locator("#call-peer")).to_contain_text("1003")
    assert cecilia.event({"CALL_ESTABLISHED"}, timeout=15) is not None, cecilia.log_text()
    expect(line_of(anna, "1002")).to_have_text("On the phone")

    screen.get_by_role("button", name="Keys").click()
    for key in "15":
        screen.locator("#dtmf-keys").get_by_role("button", name=key, exact=True).click()
        assert cecilia.event({"CALL_DTMF_START"}, timeout=10) is not None, cecilia.log_text()
    pressed = [e["param"] for e in cecilia.events if e["type"] == "CALL_DTMF_START"]
    assert pressed == ["1", "5"]

    screen.get_by_role("button", name="Hold").click()
    expect(screen.get_by_role("button", name="Resume")).to_have_attribute("aria-pressed", "true")
    expect(line_of(anna, "1002")).to_have_text("On hold")
    screen.get_by_role("button", name="Resume").click()
    expect(line_of(anna, "1002")).to_have_text("On the phone")
    screen.get_by_role("button", name="Mute").click()
    expect(screen.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "true")
    screen.get_by_role("button", name="Hang up").click()
    assert cecilia.event({"CALL_CLOSED"}, timeout=15) is not None, cecilia.log_text()
    expect(screen.locator("#call-state")).to_have_text("Call ended")
    expect(line_of(anna, "1002")).to_have_text("Free")
    expect(screen).to_be_hidden()


def test_an_answered_call_dropped_on_a_colleague_is_transferred(
    phone_of: Callable[[str], Any], baresips: Callable[..., Baresip]
) -> None:
    """Cecilia's baresip calls Björn's page; he answers there, then drags the call onto
    Anna in his colleagues' list: Anna's phone takes the call (a blind REFER), his ends."""
    expect = playwright_api.expect
    anna = baresips("1001")  # answers at once
    cecilia = baresips("1003")
    bjorn = phone_of("1002")
    view(bjorn, "Colleagues")
    cecilia.dial(f"sip:1002@{DOMAIN}")
    screen = call_screen(bjorn)
    expect(screen.locator("#call-title")).to_have_text("Incoming call")
    expect(screen.locator("#call-peer")).to_have_text("Cecilia Lind (1003)")
    screen.get_by_role("button", name="Answer").click()
    expect(screen.locator("#call-state")).to_have_text("On the phone")
    assert cecilia.event({"CALL_ESTABLISHED"}, timeout=15) is not None, cecilia.log_text()
    screen.locator("#call-card").drag_to(bjorn.locator('#colleague-list li[data-ext="1001"]'))
    assert anna.event({"CALL_ESTABLISHED"}, timeout=20) is not None, anna.log_text()
    expect(bjorn.locator("#notice")).to_have_text("Transferred to 1001.")
    expect(screen).to_be_hidden()
    expect(line_of(bjorn, "1001")).to_have_text("On the phone")
    expect(line_of(bjorn, "1003")).to_have_text("On the phone")
    anna.hangup()
    assert cecilia.event({"CALL_CLOSED"}, timeout=15) is not None, cecilia.log_text()


def test_a_third_is_added_from_the_page(
    phone_of: Callable[[str], Any], baresips: Callable[..., Baresip]
) -> None:
    """In a call with Cecilia's phone, Björn adds Anna from the page (the API's add, with
    the call's id from the live events): her phone rings and answers, and after Björn
    hangs up the two go on (Anna's hang-up ends Cecilia's call)."""
    expect = playwright_api.expect
    anna = baresips("1001")
    cecilia = baresips("1003")
    bjorn = phone_of("1002")
    bjorn.get_by_label("Number or extension").fill("1003")
    bjorn.locator("#dial-form").get_by_role("button", name="Call", exact=True).click()
    screen = call_screen(bjorn)
    expect(screen.locator("#call-state")).to_have_text("On the phone")
    assert cecilia.event({"CALL_ESTABLISHED"}, timeout=15) is not None, cecilia.log_text()
    screen.get_by_role("button", name="Add someone").click()
    screen.get_by_label("Add to the call").fill("1001")
    screen.locator("#add-form").get_by_role("button", name="Add to the call").click()
    expect(bjorn.locator("#notice")).to_have_text("Ringing 1001: when they answer you are three.")
    assert anna.event({"CALL_ESTABLISHED"}, timeout=20) is not None, anna.log_text()
    screen.get_by_role("button", name="Hang up").click()
    expect(screen).to_be_hidden()
    anna.hangup()
    assert cecilia.event({"CALL_CLOSED"}, timeout=15) is not None, cecilia.log_text()


def test_an_announced_transfer_from_the_page(
    phone_of: Callable[[str], Any], baresips: Callable[..., Baresip]
) -> None:
    """Björn talks to Cecilia's phone, puts her on hold and calls Anna's phone first
    ("Talk to them first"), then completes the transfer (REFER with Replaces): his two
    calls end, Cecilia and Anna talk (Anna's hang-up ends Cecilia's call)."""
    expect = playwright_api.expect
    anna = baresips("1001")
    cecilia = baresips("1003")
    watcher = phone_of("1001")
    view(watcher, "Colleagues")
    bjorn = phone_of("1002")
    bjorn.get_by_label("Number or extension").fill("1003")
    bjorn.locator("#dial-form").get_by_role("button", name="Call", exact=True).click()
    screen = call_screen(bjorn)
    expect(screen.locator("#call-state")).to_have_text("On the phone")
    assert cecilia.event({"CALL_ESTABLISHED"}, timeout=15) is not None, cecilia.log_text()
    screen.get_by_role("button", name="Transfer", exact=True).click()
    screen.get_by_label("Transfer to").fill("1001")
    screen.get_by_role("button", name="Talk to them first").click()
    assert anna.event({"CALL_ESTABLISHED"}, timeout=20) is not None, anna.log_text()
    expect(screen.locator("#call-peer")).to_contain_text("1001")
    expect(screen.locator("#call-state")).to_have_text("On the phone")
    screen.get_by_role("button", name="Complete the transfer").click()
    expect(bjorn.locator("#notice")).to_have_text("Transferred to 1001.")
    expect(screen).to_be_hidden()
    expect(line_of(watcher, "1002")).to_have_text("Free")
    expect(line_of(watcher, "1003")).to_have_text("On the phone")
    anna.hangup()
    assert cecilia.event({"CALL_CLOSED"}, timeout=15) is not None, cecilia.log_text()


def test_one_call_shows_the_number_chosen_for_it(
    phone_of: Callable[[str], Any], acme: Server
) -> None:
    """U8 per call: Anna (who shows her direct number) picks her mobile number for one call
    out; the carrier's INVITE shows it; her next call shows her direct number again."""
    expect = playwright_api.expect
    carrier = Phone(acme, "carrier", "", "127.0.0.1", port=acme.trunk)  # type: ignore[attr-defined]
    try:
        anna = phone_of("1001")
        choice = anna.get_by_label("This call shows", exact=True)
        choice.select_option(label="The mobile number: +46701740610")
        anna.get_by_label("Number or extension").fill("070-174 06 05")
        anna.locator("#dial-form").get_by_role("button", name="Call", exact=True).click()
        invite = carrier.wait_request("INVITE", timeout=15)
        assert invite.from_.uri.user == "+46701740610", invite.from_  # type: ignore[union-attr]
        assert invite.uri.user == "+46701740605"  # type: ignore[union-attr]
        carrier.reply(invite, 486)
        expect(call_screen(anna).locator("#call-state")).to_contain_text("The call failed")
        expect(call_screen(anna)).to_be_hidden()
        choice.select_option(label="As my settings say")
        anna.locator("#dial-form").get_by_role("button", name="Call", exact=True).click()
        again = carrier.wait_request("INVITE", timeout=15)
        assert again.from_.uri.user == "+46812345601", again.from_  # type: ignore[union-attr]
        carrier.reply(again, 486)
        expect(call_screen(anna).locator("#call-state")).to_contain_text("The call failed")
    finally:
        carrier.close()


def test_the_service_worker_shows_what_web_push_brings(
    phone_of: Callable[[str], Any], acme: Server
) -> None:
    """U1: a missed call pushed to the app (the message web/push.py sends) is a
    notification from its service worker, in the page's words, when no /phone page is in
    front. The push is handed to the worker by Chromium's DevTools protocol: there is no
    push service to go through without the internet."""
    page = phone_of("1002")
    page.context.grant_permissions(["notifications"], origin=acme.web)
    page.reload()
    registered(page)
    page.wait_for_function(
        "async () => !!(await (await caches.open('vaxel-phone-texts')).match('/phone/texts'))"
    )
    view(page, "Status")
    playwright_api.expect(page.locator("#notify-state")).to_contain_text("Notifications are on")
    cdp = page.context.new_cdp_session(page)
    found: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: found.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 15
    while not any(r["scopeURL"] == f"{acme.web}/phone" for r in found):
        assert time.monotonic() < deadline, found
        page.evaluate("1")  # lets the protocol's events in
    registration = next(r for r in found if r["scopeURL"] == f"{acme.web}/phone")
    page.goto("/me")  # the phone is not in front: the worker speaks
    message = {"kind": "missed", "call": "c1", "from": "1003", "name": "Cecilia Lind"}
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": acme.web, "registrationId": registration["registrationId"],
        "data": json.dumps(message),
    })  # fmt: skip
    shown = (
        "async () => (await (await navigator.serviceWorker.getRegistration('/phone'))"
        ".getNotifications()).map((n) => n.title)"
    )
    deadline = time.monotonic() + 15
    while "Missed call from Cecilia Lind (1003)" not in page.evaluate(shown):
        assert time.monotonic() < deadline, page.evaluate(shown)
        time.sleep(0.05)
