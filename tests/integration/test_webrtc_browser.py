"""Browser calls (U1, O2): JsSIP in Chromium, with WebRTC media, calls a baresip phone
through the switch, and the other way round.

The browser's microphone is Chromium's fake capture device playing a 1 kHz sine; the
baresip phone sends a 600 Hz one. The browser's leg is DTLS-SRTP with ICE (the switch an
ICE-lite agent), the phone's plain G.711 RTP: each must hear the other's tone, taken
from what it really received (baresip's recording of the call, and the browser's remote
track read frame by frame in the page), and not its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.audio import RATE, read_wav
from tests.integration.baresip import Baresip
from tests.integration.conftest import DOMAIN, USERS
from tests.integration.peers import Server
from tests.integration.test_websocket_browser import ARGS, CHROMIUM, JSSIP
from tests.integration.tone_rooms import received, sine_sources
from tests.integration.websocket_sip import ws_url
from tests.rtp.test_mixer import level_at

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
    pytest.mark.skipif(not JSSIP.exists(), reason="JsSIP is not vendored: run tools/vendor.py"),
]

BROWSER_HZ, PHONE_HZ, THIRD_HZ = 1000.0, 600.0, 1400.0

# The page's phone: registers, then calls or answers; keeps what the remote track plays.
PHONE = """async ([url, uri, password]) => {
  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(url)], uri, password,
    register: true, user_agent: "JsSIP WebRTC test",
  });
  window.heard = [];
  window.outcome = {};
  // The fake microphone's sine as it is: no echo cancelling, noise suppression or gain.
  window.MIC = { audio: { echoCancellation: false, noiseSuppression: false,
                          autoGainControl: false }, video: false };
  const capture = async (track) => {
    // Chromium decodes a remote track's audio only while something plays it.
    const element = new Audio();
    element.srcObject = new MediaStream([track]);
    await element.play();
    // The decoded audio, frame by frame (insertable streams).
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (window.recording) {
        const samples = new Float32Array(value.numberOfFrames);
        value.copyTo(samples, { planeIndex: 0, format: "f32-planar" });
        window.heard.push(Array.from(samples));
        window.heardFrames += value.numberOfFrames;
      }
      window.sampleRate = value.sampleRate;
      value.close();
    }
  };
  window.sessions = [];
  ua.on("newRTCSession", (e) => {
    window.session = e.session;
    window.sessions.push(e.session);
    e.session.on("confirmed", () => {
      window.outcome.confirmed = true;
      capture(e.session.connection.getReceivers()[0].track).catch((error) => {
        window.outcome.capture = String(error);
      });
    });
    e.session.on("ended", (x) => { window.outcome.ended = x.cause; });
    e.session.on("failed", (x) => { window.outcome.failed = x.cause; });
    if (e.originator === "remote") {
      e.session.answer({ mediaConstraints: window.MIC });
    }
  });
  const registered = new Promise((resolve) => {
    ua.on("registered", () => resolve("registered"));
    ua.on("registrationFailed", (e) => resolve("failed: " + e.cause));
  });
  ua.start();
  window.ua = ua;
  return await registered;
}"""

CALL = """([target, opusOnly]) => {
  // A browser that insists on Opus offers nothing else (its 48 kHz telephone-event too).
  const insist = (e) => {
    if (opusOnly && e.originator === "local" && e.type === "offer") {
      e.sdp = e.sdp.replace(/^(m=audio \\d+ [A-Z/]+) .*$/m, "$1 111 110");
    }
  };
  window.ua.call(target, { mediaConstraints: window.MIC, pcConfig: { iceServers: [] },
                           eventHandlers: { sdp: insist } });
}"""

STATS = """async () => {
  const report = await window.session.connection.getStats();
  const out = {};
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") out.received = s.packetsReceived;
    if (s.type === "outbound-rtp" && s.kind === "audio") out.sent = s.packetsSent;
    if (s.type === "transport") out.dtls = s.dtlsState;
    if (s.type === "codec") out.codecs = (out.codecs || []).concat([s.mimeType]);
  });
  return out;
}"""


@pytest.fixture(scope="module")
def server(provisioned: Path) -> Iterator[Server]:
    srv = Server(provisioned).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tones")
    return sine_sources(folder, {"browser": BROWSER_HZ, "phone": PHONE_HZ, "third": THIRD_HZ})


@pytest.fixture(scope="module")
def browser(tones: dict[str, Path]) -> Iterator[Any]:
    """One Chromium for the module (starting one is the costly part), its microphone the
    browser's tone."""
    args = [
        *ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={tones['browser']}",
        "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
    ]  # fmt: skip
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh context per test: its own page, JsSIP and calls."""
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    assert errors == []


def start_phone(folder: Path, server: Server, ext: str, tone: Path) -> Baresip:
    """A registered baresip phone of `ext` sending `tone` and recording what it hears."""
    started = Baresip(
        folder / ext, server, ext, USERS[ext][1], DOMAIN,
        snd_path=folder / ext / "rec", audio_source=tone, audio_codecs="PCMA",
    )  # fmt: skip
    started.start()
    started.register()
    event = started.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
    assert event is not None and event["type"] == "REGISTER_OK", started.log_text()
    return started


@pytest.fixture
def phone(tmp_path: Path, server: Server, tones: dict[str, Path]) -> Iterator[Baresip]:
    started: list[Baresip] = []
    try:
        started.append(start_phone(tmp_path, server, "1002", tones["phone"]))
        yield started[0]
    finally:
        for each in started:
            each.stop()


def register(page: Any, server: Server) -> None:
    """The page (on the web's own origin) loads JsSIP and registers as 1001 over /ws."""
    page.goto(f"{server.web}/api/v1/health")
    page.add_script_tag(url="/static/vendor/jssip/jssip.min.js")
    uri = f"sip:1001@{DOMAIN}"
    assert page.evaluate(PHONE, [ws_url(server), uri, USERS["1001"][1]]) == "registered"


def wait_for(page: Any, expression: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{expression} stayed false: {page.evaluate('window.outcome')}")


def browser_heard(page: Any, seconds: float = 2.0) -> np.ndarray:
    """What the browser's remote track played for `seconds`, as samples at 8 kHz (Chromium
    decodes G.711 at 8 kHz; another rate is decimated: the tones are far below 4 kHz)."""
    page.evaluate("window.heard = []; window.heardFrames = 0; window.recording = true")
    deadline = time.monotonic() + 10
    while page.evaluate("window.heardFrames / (window.sampleRate || 1)") < seconds:
        assert time.monotonic() < deadline, (
            page.evaluate(STATS),
            page.evaluate("[window.outcome, window.sampleRate]"),
        )
        time.sleep(0.1)
    chunks = page.evaluate("window.recording = false; window.heard")
    audio = np.concatenate([np.asarray(chunk, np.float64) for chunk in chunks])
    rate = page.evaluate("window.sampleRate")
    return audio[:: max(1, round(rate / RATE))] * 32768


def wait_phone_heard(phone: Baresip, samples: int = RATE * 2) -> None:
    """Until the phone has received `samples` of audio (its recording grows as it does)."""
    deadline = time.monotonic() + 15
    while received(phone) < samples:
        assert time.monotonic() < deadline, phone.log_text()
        time.sleep(0.1)


def hang_up_and_read(phone: Baresip, since: int = RATE // 2) -> np.ndarray:
    """What the phone heard of its last call from sample `since` (by default past the first
    packets), read once it hung up and its recording is closed."""
    phone.hangup()
    phone.event({"CALL_CLOSED"}, timeout=10)
    phone.wait_recordings_closed()
    return read_wav(phone.recorded("dec")[-1]).astype(np.float64)[since:]


def assert_tones(browser: np.ndarray, phone: np.ndarray) -> None:
    assert level_at(browser, PHONE_HZ) > 1000, level_at(browser, PHONE_HZ)
    assert level_at(browser, BROWSER_HZ) < 100, level_at(browser, BROWSER_HZ)
    assert level_at(phone, BROWSER_HZ) > 1000, level_at(phone, BROWSER_HZ)
    assert level_at(phone, PHONE_HZ) < 100, level_at(phone, PHONE_HZ)


def test_a_browser_calls_a_baresip_phone_with_audio_both_ways(
    server: Server, page: Any, phone: Baresip
) -> None:
    register(page, server)
    page.evaluate(CALL, [f"sip:1002@{DOMAIN}", False])
    wait_for(page, "window.outcome.confirmed")
    heard = browser_heard(page)
    wait_phone_heard(phone)
    stats = page.evaluate(STATS)
    assert stats["dtls"] == "connected", stats
    assert any("PCMA" in codec for codec in stats.get("codecs", [])), stats  # no transcoding
    assert_tones(heard, hang_up_and_read(phone))


def test_a_baresip_phone_calls_a_browser_with_audio_both_ways(
    server: Server, page: Any, phone: Baresip
) -> None:
    register(page, server)
    phone.dial(f"sip:1001@{DOMAIN}")
    wait_for(page, "window.outcome.confirmed")
    heard = browser_heard(page)
    wait_phone_heard(phone)
    assert page.evaluate(STATS)["dtls"] == "connected"
    assert_tones(heard, hang_up_and_read(phone))


def test_the_browser_sends_keys_holds_and_resumes(
    server: Server, page: Any, phone: Baresip
) -> None:
    """Keys by RFC 4733 from the browser reach the phone; the switch answers the browser's
    hold with recvonly, and on resuming the call carries audio again on the same DTLS
    association."""
    register(page, server)
    page.evaluate(CALL, [f"sip:1002@{DOMAIN}", False])
    wait_for(page, "window.outcome.confirmed")
    assert level_at(browser_heard(page, 1.0), PHONE_HZ) > 1000
    page.evaluate("window.session.sendDTMF('15', { transportType: 'RFC2833' })")
    for _ in range(2):
        assert phone.event({"CALL_DTMF_START"}, timeout=5) is not None, phone.log_text()
    keys = [event["param"] for event in phone.events if event["type"] == "CALL_DTMF_START"]
    assert keys == ["1", "5"]
    page.evaluate("window.held = false; window.session.on('hold', () => { window.held = true; });")
    page.evaluate("window.session.hold()")
    wait_for(page, "window.held")
    # The switch's answer to the hold: it sends a holder nothing.
    wait_for(page, "window.session.connection.currentRemoteDescription.sdp.includes('recvonly')")
    page.evaluate("window.resumed = false;"
                  "window.session.on('unhold', () => { window.resumed = true; });"
                  "window.session.unhold()")  # fmt: skip
    wait_for(page, "window.resumed")
    assert level_at(browser_heard(page, 1.0), PHONE_HZ) > 1000
    stats = page.evaluate(STATS)
    assert stats["dtls"] == "connected", stats
    phone.hangup()


def test_a_browser_that_insists_on_opus_is_transcoded_to_g711(
    server: Server, page: Any, phone: Baresip
) -> None:
    """Opus only in the browser's offer: the switch answers Opus and transcodes to the phone's
    A-law at the browser's leg; each still hears the other's tone, and keys still arrive."""
    register(page, server)
    page.evaluate(CALL, [f"sip:1002@{DOMAIN}", True])
    wait_for(page, "window.outcome.confirmed")
    stats = page.evaluate(STATS)
    assert stats.get("codecs") and all("opus" in c for c in stats["codecs"]), stats
    heard = browser_heard(page)
    wait_phone_heard(phone)
    page.evaluate("window.session.sendDTMF('7', { transportType: 'RFC2833' })")
    assert phone.event({"CALL_DTMF_START"}, timeout=5) is not None, phone.log_text()
    assert [e["param"] for e in phone.events if e["type"] == "CALL_DTMF_START"] == ["7"]
    assert_tones(heard, hang_up_and_read(phone))


def test_the_browser_transfers_its_call_to_a_colleague(
    tmp_path: Path, server: Server, page: Any, phone: Baresip, tones: dict[str, Path]
) -> None:
    """A blind transfer from the browser (REFER, as the softphone's drag and drop sends it):
    the phone it talked to and the colleague it named then talk to each other."""
    colleague = start_phone(tmp_path, server, "1003", tones["third"])
    try:
        register(page, server)
        page.evaluate(CALL, [f"sip:1002@{DOMAIN}", False])
        wait_for(page, "window.outcome.confirmed")
        page.evaluate(f"window.session.refer('sip:1003@{DOMAIN}')")
        wait_for(page, "window.outcome.ended")  # the switch ends the browser's call
        event = colleague.event({"CALL_ESTABLISHED", "CALL_CLOSED"}, timeout=15)
        assert event is not None and event["type"] == "CALL_ESTABLISHED", colleague.log_text()
        wait_phone_heard(colleague)
        heard = hang_up_and_read(colleague)
        assert level_at(heard, PHONE_HZ) > 1000, level_at(heard, PHONE_HZ)
        assert level_at(heard, BROWSER_HZ) < 100  # the browser is gone
    finally:
        colleague.stop()


def test_the_browser_announces_a_transfer(
    tmp_path: Path, server: Server, page: Any, phone: Baresip, tones: dict[str, Path]
) -> None:
    """An announced transfer from the browser: it holds the phone, calls the colleague, then
    joins them (REFER with Replaces, RFC 3891); both of its calls end, the two talk."""
    colleague = start_phone(tmp_path, server, "1003", tones["third"])
    try:
        register(page, server)
        page.evaluate(CALL, [f"sip:1002@{DOMAIN}", False])
        wait_for(page, "window.outcome.confirmed")
        page.evaluate("window.sessions[0].hold()")
        wait_for(page, "window.sessions[0].isOnHold().local")
        page.evaluate("window.outcome.confirmed = false")
        page.evaluate(CALL, [f"sip:1003@{DOMAIN}", False])
        wait_for(page, "window.outcome.confirmed")
        page.evaluate("window.sessions[0].refer(window.sessions[1].remote_identity.uri,"
                      " { replaces: window.sessions[1] })")  # fmt: skip
        wait_for(page, "window.sessions.every((s) => s.isEnded())")
        joined = received(colleague)  # what it heard of the browser, before the join
        wait_phone_heard(colleague, joined + RATE * 2)
        heard = hang_up_and_read(colleague, since=joined + RATE // 2)
        assert level_at(heard, PHONE_HZ) > 1000, level_at(heard, PHONE_HZ)
        assert level_at(heard, BROWSER_HZ) < 100  # the browser is gone
    finally:
        colleague.stop()


def test_the_phone_holds_the_browser_and_takes_it_back(
    server: Server, page: Any, phone: Baresip
) -> None:
    """While the phone holds, the browser hears the switch's music on hold (played into its
    DTLS-SRTP leg), not the phone; taken back, it hears the phone again."""
    register(page, server)
    page.evaluate(CALL, [f"sip:1002@{DOMAIN}", False])
    wait_for(page, "window.outcome.confirmed")
    assert level_at(browser_heard(page, 1.0), PHONE_HZ) > 1000
    assert phone.hold()["ok"], phone.log_text()
    deadline = time.monotonic() + 10
    while level_at(heard := browser_heard(page, 1.0), PHONE_HZ) > 100:
        assert time.monotonic() < deadline, "the phone was still heard on hold"
    assert np.sqrt(np.mean(heard**2)) > 100  # music, not silence
    assert phone.resume()["ok"], phone.log_text()
    deadline = time.monotonic() + 10
    while level_at(browser_heard(page, 1.0), PHONE_HZ) < 1000:
        assert time.monotonic() < deadline, "the phone was not heard again"
    assert page.evaluate(STATS)["dtls"] == "connected"
    phone.hangup()
