"""The operator console (A16) in Chromium on `vaxel serve`, with real phones: two callers
(pjsua2) wait in the queue "line"; Anna, the receptionist, answers the SECOND from the
console (her phone, a baresip, rings showing that caller, and they hear each other), then
does an announced transfer to Cecilia (a baresip): Cecilia's phone rings showing Anna,
Anna and Cecilia talk while the caller waits without hearing them, Anna completes it and
the caller and Cecilia hear each other; Anna's phone is free, and the first caller still
waits in line throughout.

Acme of tests/integration/acme.py with a console section (Anna is its operator), on a
server of its own: the main number's menu key 5 is the queue "line" (member 1002, Björn,
not registered: nobody rings, the callers wait). The second caller is Björn calling in
from an unregistered phone; the first a caller from outside on the carrier's trunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.acme import ALWAYS, DESCRIPTION, DOMAIN, MAIN, PASSWORDS, Mailbox, company
from tests.integration.audio import RATE, write_wav
from tests.integration.baresip import Baresip, established
from tests.integration.peers import Server, rtp_ports
from tests.integration.pjsua import PjPhone, close_all, heard_of, hears_voice
from tests.integration.test_api_takes_effect import voice
from tests.integration.test_api_transfer import token
from tests.integration.test_pages_browser import ARGS, CHROMIUM, refused, serious_violations
from tests.integration.test_queue_stats import CALLER, queue_in

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

CONSOLE = """console: {{operators: ["1001"], shortcuts: {{answer: "F2", consult: "F4"}}}}
"""


@pytest.fixture(scope="module")
def acme(
    tmp_path_factory: pytest.TempPathFactory, smtp: tuple[int, Mailbox]
) -> Iterator[tuple[Server, int]]:
    data, trunk = company(tmp_path_factory.mktemp("acme-console"), ALWAYS, smtp[0],
                          DESCRIPTION + CONSOLE)  # fmt: skip
    server = Server(data).start("--rtp-ports", rtp_ports())
    yield server, trunk
    server.stop()


@pytest.fixture
def page(acme: tuple[Server, int]) -> Iterator[Any]:
    server, _ = acme
    password = "web password 1001"
    token(server, "1001", "user")  # Anna's web login (an operator, not an admin)
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(base_url=server.web, locale="en-GB",
                                      viewport={"width": 1600, "height": 1000})  # fmt: skip
        context.add_cookies([{"name": "vaxel_lang", "value": "en", "url": server.web}])
        opened = context.new_page()
        problems: list[str] = []
        opened.on("console", lambda m: problems.append(m.text) if refused(m) else None)
        opened.on("pageerror", lambda e: problems.append(str(e)))
        opened.goto("/login?next=/console")
        opened.get_by_label("Login (extension@domain or e-mail)", exact=True).fill(f"1001@{DOMAIN}")
        opened.get_by_label("Password", exact=True).fill(password)
        opened.get_by_role("button", name="Log in").click()
        opened.goto("/console")
        yield opened
        context.close()
        browser.close()
    assert problems == []  # no script error, nothing refused by the CSP


@pytest.fixture
def baresips(acme: tuple[Server, int], tmp_path: Path) -> Iterator[dict[str, Baresip]]:
    """Anna's and Cecilia's phones, each saying a voice of its own; both ring until
    answered (answermode manual)."""
    server, _ = acme
    started: dict[str, Baresip] = {}
    for ext, seed in (("1001", 41), ("1003", 43)):
        folder = tmp_path / ext
        folder.mkdir()
        source = write_wav(folder / "voice.wav", voice(60.0, seed))
        phone = Baresip(folder, server, ext, PASSWORDS[ext], DOMAIN, answermode="manual",
                        audio_source=source, audio_codecs="PCMA")  # fmt: skip
        started[ext] = phone
        phone.start()
        phone.register()
        event = phone.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
        assert event is not None and event["type"] == "REGISTER_OK", phone.log_text()
    yield started
    for phone in started.values():
        phone.stop()


def test_the_console_answers_the_second_caller_and_transfers_announced(
    acme: tuple[Server, int], page: Any, baresips: dict[str, Baresip], tmp_path: Path
) -> None:
    expect = playwright_api.expect
    server, trunk = acme
    anna, cecilia = baresips["1001"], baresips["1003"]
    calls = page.locator("#calls li")
    expect(page.locator("#legend")).to_contain_text("F2")  # the legend shows the keys
    expect(page.locator("#state")).to_have_text("Live")
    first = PjPhone(server.address, CALLER, "", "carrier.test", port=trunk, register=False,
                    name="carrier")  # fmt: skip
    second = PjPhone(server.address, "1002", PASSWORDS["1002"], DOMAIN, register=False)
    try:
        queue_in(server, first, MAIN)
        expect(calls).to_have_count(1, timeout=10_000)
        waiting = queue_in(server, second, MAIN)
        expect(calls).to_have_count(2, timeout=10_000)
        expect(calls.nth(0)).to_contain_text(CALLER)
        expect(calls.nth(1)).to_contain_text("1002")
        expect(calls.nth(1)).to_contain_text("In queue line")
        assert serious_violations(page) == []  # axe-core: none serious or critical

        # Answer the second caller: a click chooses it, F2 answers.
        calls.nth(1).click()
        page.keyboard.press("F2")
        incoming = anna.event({"CALL_INCOMING"}, timeout=15)
        assert incoming is not None, anna.log_text()
        assert "1002" in str(incoming["peeruri"]), incoming  # her phone shows the caller
        anna.accept()
        established(anna)
        said = voice(3.0, seed=47)
        second.play(waiting, said)
        anna_voice = voice(60.0, 41)
        assert hears_voice(second, waiting, anna_voice, RATE) >= RATE  # he hears Anna
        talking = page.locator('#calls li[data-state="talking"]')
        expect(talking).to_contain_text("1002")
        expect(page.locator('#calls li[data-state="queued"]')).to_contain_text(CALLER)

        # Ask Cecilia first: her number in the box, F4; her phone shows Anna calling.
        page.locator("#target").fill("1003")
        page.keyboard.press("F4")
        asked = cecilia.event({"CALL_INCOMING"}, timeout=15)
        assert asked is not None, cecilia.log_text()
        assert "1001" in str(asked["peeruri"]), asked
        cecilia.accept()
        established(cecilia)
        expect(page.locator('#calls li[data-state="consulting"]')).to_contain_text("1003")
        cecilia_voice = voice(60.0, 43)
        second.play(waiting, voice(1.0, seed=48))  # (he talks on meanwhile)
        # While Anna asks, the caller hears music, not Cecilia.
        assert heard_of(cecilia_voice, second.heard(waiting)) < RATE // 10
        page.screenshot(path=str(tmp_path / "console-consulting.png"))

        # Complete: Anna's phone is free, the caller and Cecilia hear each other.
        page.get_by_role("button", name="Complete transfer").click()
        closed = anna.event({"CALL_CLOSED"}, timeout=15)
        assert closed is not None, anna.log_text()
        assert hears_voice(second, waiting, cecilia_voice, RATE) >= RATE
        expect(page.locator('#calls li[data-state="talking"]')).to_have_count(0)
        expect(page.locator('#calls li[data-state="consulting"]')).to_have_count(0)
        expect(calls).to_have_count(1)  # the first caller waits on
        second.hangup(waiting)
        assert cecilia.event({"CALL_CLOSED"}, timeout=15) is not None, cecilia.log_text()
    finally:
        close_all([first, second])


def test_search_then_drag_the_call_onto_a_colleague_transfers_it_blind(
    acme: tuple[Server, int], page: Any, baresips: dict[str, Baresip]
) -> None:
    """The search filters the colleagues as Anna types; she answers the caller with the
    Answer button and drags the call onto Cecilia: Cecilia's phone rings showing the
    caller, Anna's call ends, and the caller hears Cecilia."""
    expect = playwright_api.expect
    server, _ = acme
    anna, cecilia = baresips["1001"], baresips["1003"]
    colleagues = page.locator("#colleagues li")
    expect(colleagues).to_have_count(3)
    page.locator("#search").fill("cec")
    expect(page.locator("#colleagues li:visible")).to_have_count(1)
    row = page.locator('#colleagues li[data-ext="1003"]')
    expect(row).to_be_visible()
    expect(row.locator(".line")).to_have_text("Free")
    expect(row.get_by_role("link", name="Chat")).to_have_attribute("href", "/phone#chat=1003")
    expect(row.get_by_role("link", name="SMS")).to_have_count(0)  # no mobile number known
    anna_sms = page.locator('#colleagues li[data-ext="1001"] a[href^="sms:"]')  # (filtered out)
    expect(anna_sms).to_have_attribute("href", re.compile(r"^sms:(\+46|0)70.?174.?06.?10$"))
    caller = PjPhone(server.address, "1002", PASSWORDS["1002"], DOMAIN, register=False)
    try:
        waiting = queue_in(server, caller, MAIN)
        queued = page.locator('#calls li[data-state="queued"]')
        expect(queued).to_have_count(1, timeout=10_000)
        queued.click()
        page.get_by_role("button", name="Answer").click()
        incoming = anna.event({"CALL_INCOMING"}, timeout=15)
        assert incoming is not None, anna.log_text()
        anna.accept()
        established(anna)
        talking = page.locator('#calls li[data-state="talking"]')
        expect(talking).to_have_count(1)
        expect(page.locator('#colleagues li[data-ext="1001"]')).to_be_hidden()  # (filtered)
        talking.drag_to(row)
        asked = cecilia.event({"CALL_INCOMING"}, timeout=15)
        assert asked is not None, cecilia.log_text()
        assert "1002" in str(asked["peeruri"]), asked  # the caller, transferred
        cecilia.accept()
        established(cecilia)
        assert anna.event({"CALL_CLOSED"}, timeout=15) is not None, anna.log_text()
        assert hears_voice(caller, waiting, voice(60.0, 43), RATE) >= RATE
        expect(row.locator(".line")).to_have_text("On the phone")  # live, by the events
        caller.hangup(waiting)
        assert cecilia.event({"CALL_CLOSED"}, timeout=15) is not None, cecilia.log_text()
    finally:
        close_all([caller])
