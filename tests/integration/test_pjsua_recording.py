"""A6 call recording on `vaxel serve`, with pjsua2 phones at both ends.

Calls to Björn are recorded always (stereo), calls to Cecilia on demand. Each phone
plays its own known signal; the recording's left channel must be what the caller said
and its right what the callee said: correlated at 0.99 or better once aligned. Anna
hears the announcement before Björn; Cecilia's *1 starts and pauses a recording, which
is silent for the pause.
"""

from __future__ import annotations

import contextlib
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.integration.audio import RATE
from tests.integration.peers import Server, rtp_ports, vaxel_cli
from tests.integration.pjsua import PjPhone, close_all, hears
from tests.integration.test_pjsua_calls import connect, voice

DOMAIN = "rec.vaxel.test"
PASSWORDS = {"1001": "anna-secret-1", "1002": "bjorn-secret-2", "1003": "cecilia-secret-3"}
DESCRIPTION = f"""
company: {{domain: {DOMAIN}, name: Rec AB}}
users:
  - {{ext: "1001", name: Anna, password: {PASSWORDS["1001"]}}}
  - {{ext: "1002", name: Björn, password: {PASSWORDS["1002"]}}}
  - {{ext: "1003", name: Cecilia, password: {PASSWORDS["1003"]}}}
recording: {{default: on-demand, users: {{"1002": always}}, format: stereo}}
"""
WEB = "web password 1"  # Anna is the company's admin, Björn and Cecilia users


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("recording")
    (tmp / "rec.yaml").write_text(DESCRIPTION)
    result = vaxel_cli(tmp / "data", "config", "apply", str(tmp / "rec.yaml"))
    assert result.returncode == 0, result.stderr
    for ext, role in (("1001", ()), ("1002", ("--revoke",)), ("1003", ("--revoke",))):
        made = vaxel_cli(
            tmp / "data", "company", "admin", DOMAIN, "--ext", ext, "--password", WEB, *role
        )
        assert made.returncode == 0, made.stderr
    srv = Server(tmp / "data").start("--rtp-ports", rtp_ports())
    yield srv
    srv.stop()


@pytest.fixture
def phones(server: Server) -> Iterator[dict[str, PjPhone]]:
    started = {ext: PjPhone(server.address, ext, pw, DOMAIN) for ext, pw in PASSWORDS.items()}
    for phone in started.values():
        phone.registered()
    yield started
    close_all(list(started.values()))


def recordings(server: Server) -> set[Path]:
    return set((server.data / "recordings" / DOMAIN).glob("*/*.wav"))


def new_recording(server: Server, before: set[Path], timeout: float = 10.0) -> Path:
    """The one recording made since `before`, once it is there."""
    deadline = time.monotonic() + timeout
    while not (recordings(server) - before):
        assert time.monotonic() < deadline, "no recording was made"
        time.sleep(0.05)
    (path,) = recordings(server) - before
    return path


def finished(path: Path, timeout: float = 10.0) -> Path:
    """The recording once the switch closed it (its header counts all it holds)."""
    deadline = time.monotonic() + timeout
    while True:
        with wave.open(str(path), "rb") as wav:
            complete = 44 + wav.getnframes() * wav.getnchannels() * 2 == path.stat().st_size
        if complete and wav.getnframes() > 0:
            return path
        assert time.monotonic() < deadline, "the recording was not finished"
        time.sleep(0.1)


def read_stereo(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (2, RATE, 2)
        data = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float64)
    return data[0::2], data[1::2]


def correlation(channel: np.ndarray, said: np.ndarray) -> float:
    """How well `said` matches the channel where it is best aligned (Pearson's r)."""
    size = 1 << int(np.ceil(np.log2(len(channel) + len(said))))
    spectrum = np.fft.rfft(channel, size) * np.conj(np.fft.rfft(said, size))
    lag = int(np.argmax(np.fft.irfft(spectrum, size)[: len(channel)]))
    part = channel[lag : lag + len(said)]
    return float(np.corrcoef(part, said[: len(part)])[0, 1])


def test_a_recorded_call_holds_the_caller_left_and_the_callee_right(
    server: Server, phones: dict[str, PjPhone], system_prompts: Path
) -> None:
    anna, bjorn = phones["1001"], phones["1002"]
    before = recordings(server)
    call, answered = connect(anna, bjorn)
    path = new_recording(server, before)
    assert hears(anna, call, system_prompts / "sv" / "call-recorded.wav", 1.0)
    said_anna, said_bjorn = voice(3, 51, 310), voice(3, 52, 470)
    anna.speak(call, said_anna)
    bjorn.speak(answered, said_bjorn)
    anna.hangup(call)
    bjorn.state(answered, "DISCONNECTED")
    left, right = read_stereo(finished(path))
    assert correlation(left, said_anna) >= 0.99
    assert correlation(right, said_bjorn) >= 0.99
    assert correlation(left, said_bjorn) < 0.2 and correlation(right, said_anna) < 0.2


def test_star_one_records_on_demand_and_a_pause_is_silence(
    server: Server, phones: dict[str, PjPhone]
) -> None:
    anna, cecilia = phones["1001"], phones["1003"]
    before = recordings(server)
    call, answered = connect(anna, cecilia)
    assert recordings(server) == before  # on demand: nothing yet
    cecilia.press(answered, "*1")  # starts
    path = new_recording(server, before)
    kept = voice(2, 61, 310)
    anna.speak(call, kept)
    cecilia.press(answered, "*15")  # pauses, then a key for Anna
    # A code's first key reaches Anna, the rest stays in the switch; keys are taken in
    # order, so once Anna has the 5 the switch has paused the recording.
    assert [anna.expect("dtmf", call=call)["digit"] for _ in "**5"] == ["*", "*", "5"]
    private = voice(2, 62, 530)
    anna.speak(call, private)
    anna.hangup(call)
    cecilia.state(answered, "DISCONNECTED")
    left, _ = read_stereo(finished(path))
    assert correlation(left, kept) >= 0.99
    # The pause is silence as long as it lasted: at least the 2 s said meanwhile.
    silent = np.flatnonzero(np.abs(left) > 0)
    tail = len(left) - (silent[-1] + 1 if len(silent) else 0)
    assert tail >= 2 * RATE


@contextlib.contextmanager
def logged_in(server: Server, ext: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.web, timeout=30) as client:
        answer = client.post("/api/v1/login", json={"login": f"{ext}@{DOMAIN}", "password": WEB})
        assert answer.status_code == 200, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        yield client


def test_the_api_starts_pauses_and_stops_a_calls_recording(
    server: Server, phones: dict[str, PjPhone]
) -> None:
    """Cecilia calls Anna from the API (click-to-call) and records the call from the API;
    Björn, not on the call, finds no such call; Anna, the admin, stops it."""
    anna, bjorn, cecilia = phones["1001"], phones["1002"], phones["1003"]
    before = recordings(server)
    with logged_in(server, "1003") as user, logged_in(server, "1002") as other:
        placed = user.post("/api/v1/calls", json={"to": "1001"})
        assert placed.status_code == 202, placed.text
        call_id = placed.json()["call_id"]
        url = f"/api/v1/calls/{call_id}/recording"
        mine = cecilia.incoming()
        cecilia.answer(mine["call"])
        theirs = anna.incoming()
        anna.answer(theirs["call"])
        anna.state(theirs["call"], "CONFIRMED")
        started = user.post(url, json={"action": "start"})
        assert started.status_code == 200, started.text
        assert started.json() == {"call_id": call_id, "recording": "recording"}
        path = new_recording(server, before)
        said = voice(2, 71, 390)
        anna.speak(theirs["call"], said)
        assert user.post(url, json={"action": "pause"}).json()["recording"] == "paused"
        assert other.post(url, json={"action": "start"}).status_code == 404  # not his call
        assert user.post(url, json={"action": "record"}).status_code == 422
        missing = f"/api/v1/calls/{'0' * 32}/recording"
        assert user.post(missing, json={"action": "start"}).status_code == 404
    with logged_in(server, "1001") as admin:
        stopped = admin.post(url, json={"action": "stop"})
        assert stopped.json()["recording"] == "stopped", stopped.text
        audit = admin.get(f"/api/v1/companies/{DOMAIN}/audit").json()["items"]
    assert {"recording.start", "recording.pause", "recording.stop"} <= {
        entry["action"] for entry in audit
    }
    finished(path)
    right = read_stereo(path)[1]  # Cecilia called (left), Anna answered (right)
    assert correlation(right, said) >= 0.99
    anna.hangup(theirs["call"])
    cecilia.state(mine["call"], "DISCONNECTED")
    assert bjorn.event("incoming", timeout=0.1) is None

    # The recording is listed for Cecilia and the admin, not for Björn; a download is
    # the file, and the listen is in the audit log.
    listed = f"/api/v1/companies/{DOMAIN}/recordings"
    with logged_in(server, "1003") as user, logged_in(server, "1002") as other:
        items = wait_listed(user, call_id)
        (item,) = [i for i in items if i["call_id"] == call_id]
        assert (item["caller"], item["callee"]) == ("1003", "1001")
        assert all(i["call_id"] != call_id for i in other.get(listed).json()["items"])
        assert other.get(f"{listed}/{item['id']}").status_code == 404
        got = user.get(f"{listed}/{item['id']}")
        assert got.status_code == 200 and got.headers["content-type"] == "audio/wav"
        assert got.content == path.read_bytes()
    with logged_in(server, "1001") as admin:
        assert any(i["id"] == item["id"] for i in admin.get(listed).json()["items"])
        audit = admin.get(f"/api/v1/companies/{DOMAIN}/audit").json()["items"]
    listens = [e for e in audit if e["action"] == "recording.listen"]
    assert [e["target"] for e in listens] == [str(item["id"])], listens


def wait_listed(client: httpx.Client, call_id: str, timeout: float = 10.0) -> list[dict]:  # type: ignore[type-arg]
    """The recordings listed, once the one of `call_id` is (its row is written behind)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(f"/api/v1/companies/{DOMAIN}/recordings")
        assert answer.status_code == 200, answer.text
        items: list[dict] = answer.json()["items"]  # type: ignore[type-arg]
        if any(i["call_id"] == call_id for i in items):
            return items
        assert time.monotonic() < deadline, "the recording was not listed"
        time.sleep(0.1)
