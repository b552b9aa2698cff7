"""U12: a third party added to a call in progress, with three real softphones (baresip).

Anna calls Björn from the API (click-to-call: her phone rings first, then Björn's), and
adds Cecilia through `POST /api/v1/calls/{id}/add`. Each phone plays a sine of its own
(Anna and Cecilia A-law, Björn µ-law): once Cecilia answers, each phone's recording
holds the other two tones and not its own (FFT). When Björn hangs up, Anna and Cecilia
go on talking.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.integration.audio import RATE, read_wav
from tests.integration.baresip import Baresip, established
from tests.integration.peers import Server
from tests.integration.tone_rooms import admin_api, serving, sine_sources
from tests.rtp.test_mixer import level_at

DOMAIN = "threeway.vaxel.test"
PHONES = {  # extension: (password, codec, tone in Hz)
    "1001": ("anna-secret-1", "PCMA", 350.0),
    "1002": ("bjorn-secret-2", "PCMU", 650.0),
    "1003": ("cecilia-secret-3", "PCMA", 1000.0),
}
DESCRIPTION = f"""
company: {{domain: {DOMAIN}, name: Three AB, language: en}}
users:
{
    "".join(
        f'  - {{ext: "{ext}", name: User {ext}, password: {p[0]}}}' + chr(10)
        for ext, p in PHONES.items()
    )
}
"""
HEARD = 800.0  # amplitude of a tone that is heard (each is sent at 4000)
SILENT = 150.0
SETTLE = 1 * RATE  # the join tones have played out this long after the change


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("vaxel-three-way"), DESCRIPTION, DOMAIN) as srv:
        yield srv


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tones")
    return sine_sources(folder, {ext: hz for ext, (_, _, hz) in PHONES.items()})


def received(phone: Baresip) -> int:
    files = phone.recorded("dec")
    return max(0, (files[-1].stat().st_size - 44) // 2) if files else 0


def wait_audio(phones: dict[str, Baresip], marks: dict[str, int], seconds: float) -> None:
    deadline = time.monotonic() + 30
    while not all(received(p) >= marks[e] + seconds * RATE for e, p in phones.items()):
        assert time.monotonic() < deadline, {e: received(p) for e, p in phones.items()}
        time.sleep(0.1)


def levels(audio: np.ndarray) -> dict[str, float]:
    return {ext: level_at(audio.astype(np.float64), hz) for ext, (_, _, hz) in PHONES.items()}


def test_anna_adds_cecilia_to_her_call_with_bjorn(
    server: Server, tmp_path: Path, tones: dict[str, Path]
) -> None:
    phones: dict[str, Baresip] = {}
    try:
        for ext, (password, codec, _) in PHONES.items():
            phone = Baresip(
                tmp_path / ext, server, ext, password, DOMAIN, snd_path=tmp_path / ext / "rec",
                audio_source=tones[ext], audio_codecs=codec,
            )  # fmt: skip
            phones[ext] = phone
            phone.start()
            phone.register()
            event = phone.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
            assert event is not None and event["type"] == "REGISTER_OK", phone.log_text()
        with admin_api(server, DOMAIN) as api:
            placed = api.post("/api/v1/calls", json={"to": "1002"})
            assert placed.status_code == 202, placed.text
            call_id = placed.json()["call_id"]
            established(phones["1001"])
            established(phones["1002"])
            added = api.post(f"/api/v1/calls/{call_id}/add", json={"to": "1003"})
            assert added.status_code == 202, added.text
            established(phones["1003"])
            three = {ext: received(phone) + SETTLE for ext, phone in phones.items()}
            three["1003"] = SETTLE  # Cecilia's recording starts with the room
            wait_audio(phones, three, 3)
            assert phones["1002"].hangup().get("ok", True)
            two = {e: received(phones[e]) + SETTLE for e in ("1001", "1003")}
            wait_audio({e: phones[e] for e in two}, two, 3)
            for ext in ("1001", "1003"):
                assert not [e for e in phones[ext].pending if e["type"] == "CALL_CLOSED"], ext
    finally:
        for phone in phones.values():
            phone.stop()
    for phone in phones.values():
        phone.wait_recordings_closed()
    for ext, phone in phones.items():
        audio = read_wav(phone.recorded("dec")[-1])
        heard = levels(audio[three[ext] : three[ext] + 3 * RATE])
        for other, level in heard.items():
            if other == ext:
                assert level < SILENT, (ext, heard)
            else:
                assert level > HEARD, (ext, other, heard)
    for ext, other in (("1001", "1003"), ("1003", "1001")):
        audio = read_wav(phones[ext].recorded("dec")[-1])
        heard = levels(audio[two[ext] : two[ext] + 3 * RATE])
        assert heard[other] > HEARD and heard["1002"] < SILENT, (ext, heard)
