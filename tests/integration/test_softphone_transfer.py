"""P4: blind transfer between real softphones (baresip's `transfer`, a REFER in its call).

Anna calls Björn; Björn transfers her to Cecilia. The switch accepts the REFER, rings
Cecilia showing Anna as the caller, and once Cecilia answers, Anna and Cecilia hear each
other (the very A-law codes each sent) and Björn's call is over. A declined transfer is
reported to Björn's phone. (One that comes back to Björn: test_pjsua_transfer.py, and in
memory tests/features/test_transfer.py.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.integration.audio import (
    RATE,
    alaw_codes,
    g711_levels,
    longest_exact_run,
    read_wav,
    synth,
    write_wav,
)
from tests.integration.baresip import Baresip, established
from tests.integration.peers import Server, rtp_ports, vaxel_cli

DOMAIN = "transfer.vaxel.test"
USERS = {
    "1001": ("Anna Svensson", "anna-secret-1"),
    "1002": ("Björn Karlsson", "bjorn-secret-2"),
    "1003": ("Cecilia Berg", "cecilia-secret-3"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("vaxel-transfer")
    result = vaxel_cli(folder, "company", "add", DOMAIN, "--name", "Transfer AB")
    assert result.returncode == 0, result.stderr
    for ext, (name, password) in USERS.items():
        result = vaxel_cli(
            folder, "user", "add", "--company", DOMAIN, "--ext", ext, "--name", name,
            "--password", password,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    srv = Server(folder).start("--rtp-ports", rtp_ports())
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """What each says: a signal of their own, long enough that no call reaches its end."""
    folder = tmp_path_factory.mktemp("audio")
    kinds = {"1001": ("pinknoise",), "1002": ("whitenoise",), "1003": ("sine", "300-3000")}
    return {
        ext: write_wav(folder / f"{ext}.wav", g711_levels(synth(folder / f"{ext}-raw.wav",
                                                                  60, *kind)))
        for ext, kind in kinds.items()
    }  # fmt: skip


@pytest.fixture
def phones(
    server: Server, tmp_path: Path, sources: dict[str, Path]
) -> Iterator[Callable[..., Baresip]]:
    started: list[Baresip] = []

    def start(ext: str, **options: object) -> Baresip:
        folder = tmp_path / ext
        phone = Baresip(
            folder, server, ext, USERS[ext][1], DOMAIN, snd_path=folder / "rec",
            audio_source=sources[ext], audio_codecs="PCMA", **options,  # type: ignore[arg-type]
        )  # fmt: skip
        started.append(phone)
        phone.start()
        phone.register()
        event = phone.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
        assert event is not None and event["type"] == "REGISTER_OK", phone.log_text()
        return phone

    yield start
    for phone in started:
        phone.stop()


def wait_received(phone: Baresip, seconds: float, timeout: float = 20.0) -> None:
    """Until the phone's newest recording of received audio holds `seconds` of audio."""
    deadline = time.monotonic() + timeout
    while True:
        files = phone.recorded("dec")
        size = files[-1].stat().st_size if files else 0
        if size >= 44 + 2 * RATE * seconds:
            return
        assert time.monotonic() < deadline, f"{phone.user} received {size} bytes"
        time.sleep(0.1)


def heard(sender: Baresip, receiver: Baresip) -> int:
    """The longest run of A-law codes `sender` sent that `receiver` received unchanged
    (both stopped: their recordings are complete)."""
    sender.wait_recordings_closed()
    receiver.wait_recordings_closed()
    sent = np.concatenate([read_wav(path) for path in sender.recorded("enc")])
    received = np.concatenate([read_wav(path) for path in receiver.recorded("dec")])
    length, _, _ = longest_exact_run(alaw_codes(sent), alaw_codes(received))
    return length


def test_blind_transfer_connects_anna_with_cecilia_and_frees_bjorn(
    phones: Callable[..., Baresip],
) -> None:
    anna, bjorn = phones("1001"), phones("1002")
    cecilia = phones("1003", answermode="manual")
    anna.dial(f"sip:1002@{DOMAIN}")
    established(anna, bjorn)
    answer = bjorn.request("transfer", f"sip:1003@{DOMAIN}")
    assert answer.get("ok", True), answer
    incoming = cecilia.event({"CALL_INCOMING"}, timeout=15)
    assert incoming is not None, (cecilia.log_text(), bjorn.log_text())
    assert incoming["peeruri"] == f"sip:1001@{DOMAIN}", incoming  # Anna is calling her
    cecilia.accept()
    established(cecilia)
    closed = bjorn.event({"CALL_CLOSED"}, timeout=15)
    assert closed is not None, bjorn.log_text()  # Björn is free
    wait_received(cecilia, seconds=2.5)
    wait_received(anna, seconds=2.5)
    cecilia.hangup()
    assert anna.event({"CALL_CLOSED"}, timeout=15) is not None, anna.log_text()
    for phone in (anna, bjorn, cecilia):
        phone.stop()
    assert heard(anna, cecilia) >= 2 * RATE
    assert heard(cecilia, anna) >= 2 * RATE


def test_a_refused_transfer_is_reported_to_bjorns_phone(phones: Callable[..., Baresip]) -> None:
    """Cecilia declines (baresip answers 486): Björn's phone is told, by the NOTIFY's
    sipfrag, that the transfer failed and why. (baresip 1.0's menu then hangs up its own
    call, so the call's way back to Björn is tested with pjsua2: test_pjsua_transfer.py.)"""
    anna, bjorn = phones("1001"), phones("1002")
    cecilia = phones("1003", answermode="manual")
    anna.dial(f"sip:1002@{DOMAIN}")
    established(anna, bjorn)
    answer = bjorn.request("transfer", f"sip:1003@{DOMAIN}")
    assert answer.get("ok", True), answer
    assert cecilia.event({"CALL_INCOMING"}, timeout=15) is not None, cecilia.log_text()
    cecilia.hangup()  # declined while ringing
    deadline = time.monotonic() + 15
    while "transfer failed: 486 Busy Here" not in bjorn.log_text():
        assert time.monotonic() < deadline, bjorn.log_text()
        time.sleep(0.05)
