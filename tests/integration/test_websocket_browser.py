"""A third-party SIP client in a real browser (P2, U1, O2; RFC 7118): JsSIP, vendored by
tools/vendor.py, loaded in Chromium through Playwright from the web's own origin,
registers over `/ws` with digest, asks OPTIONS and subscribes to its voicemail box
(the switch's NOTIFY comes back over the same WebSocket). Calls from the browser need
WebRTC media, which comes later.

A page of another site cannot open the switch's WebSocket in a visitor's browser: the
handshake with its Origin is refused (Cross-Site WebSocket Hijacking).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import DOMAIN, USERS
from tests.integration.peers import Server, vaxel_cli
from tests.integration.websocket_sip import ws_url

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
JSSIP = ROOT / "src" / "vaxel" / "web" / "static" / "vendor" / "jssip" / "jssip.min.js"
# Background networking makes Chromium hang on a machine without internet.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
    pytest.mark.skipif(not JSSIP.exists(), reason="JsSIP is not vendored: run tools/vendor.py"),
]

# Registers, asks OPTIONS, subscribes to message-summary; every outcome, or why not.
SCRIPT = """async ([url, uri, password, domain]) => {
  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(url)], uri, password,
    register: true, user_agent: "JsSIP in Chromium",
  });
  const outcome = {};
  const registered = new Promise((resolve) => {
    ua.on("registered", (e) => resolve(e.response.status_code));
    ua.on("registrationFailed", (e) => resolve("failed: " + e.cause));
  });
  ua.start();
  outcome.register = await registered;
  outcome.options = await new Promise((resolve) => ua.sendOptions("sip:" + domain, null, {
    eventHandlers: {
      succeeded: (e) => resolve(e.response.status_code),
      failed: (e) => resolve("failed: " + e.cause),
    },
  }));
  const subscriber = ua.subscribe(uri, "message-summary", "application/simple-message-summary",
                                  { expires: 120 });
  outcome.notify = await new Promise((resolve) => {
    subscriber.on("notify", (final, request, body) => resolve(body));
    subscriber.on("terminated", (code, reason) => resolve("terminated: " + code + " " + reason));
    subscriber.subscribe();
  });
  subscriber.terminate();
  return outcome;
}"""

CROSS_SITE = """async (url) => new Promise((resolve) => {
  const socket = new WebSocket(url, "sip");
  socket.onopen = () => { socket.close(); resolve("opened"); };
  socket.onclose = (e) => resolve("closed " + e.code);
})"""


@pytest.fixture(scope="module")
def server(provisioned: Path) -> Iterator[Server]:
    srv = Server(provisioned).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    assert errors == []


def test_jssip_in_chromium_registers_over_ws_and_is_answered(
    server: Server, provisioned: Path, page: Any
) -> None:
    page.goto(f"{server.web}/api/v1/health")  # the web's own origin, as its pages will be
    page.add_script_tag(url="/static/vendor/jssip/jssip.min.js")
    outcome = page.evaluate(
        SCRIPT, [ws_url(server), f"sip:1001@{DOMAIN}", USERS["1001"][1], DOMAIN]
    )
    assert outcome["register"] == 200, outcome
    assert outcome["options"] == 200, outcome
    assert "Messages-Waiting:" in outcome["notify"], outcome  # the NOTIFY came back over /ws
    listing = vaxel_cli(provisioned, "registrations", "--company", DOMAIN).stdout
    assert "JsSIP in Chromium" in listing and " ws:127.0.0.1:" in listing, listing


def test_a_page_of_another_site_cannot_open_the_websocket(server: Server, page: Any) -> None:
    page.route(
        "http://evil.example/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>hi</p>"),
    )
    page.goto("http://evil.example/")  # answered by the route: nothing leaves the machine
    assert page.evaluate(CROSS_SITE, ws_url(server)) == "closed 1006"  # refused: HTTP 403
