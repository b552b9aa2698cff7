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

import pytest

from tests.integration.audio import RATE, read_wav
from tests.integration.baresip import Baresip, established
from tests.integration.peers import Server
from tests.integration.tone_rooms import (
    admin_api,
    received,
    serving,
    sine_sources,
    tone_levels,
    tone_phones,
)

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


def wait_audio(phones: dict[str, Baresip], marks: dict[str, int], seconds: float) -> None:
    deadline = time.monotonic() + 30
    while not all(received(p) >= marks[e] + seconds * RATE for e, p in phones.items()):
        assert time.monotonic() < deadline, {e: received(p) for e, p in phones.items()}
        time.sleep(0.1)


def test_anna_adds_cecilia_to_her_call_with_bjorn(
    server: Server, tmp_path: Path, tones: dict[str, Path]
) -> None:
    phones: dict[str, Baresip] = {}
    try:
        tone_phones(tmp_path, server, DOMAIN, PHONES, tones, phones)
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
        heard = tone_levels(audio[three[ext] : three[ext] + 3 * RATE], PHONES)
        for other, level in heard.items():
            if other == ext:
                assert level < SILENT, (ext, heard)
            else:
                assert level > HEARD, (ext, other, heard)
    for ext, other in (("1001", "1003"), ("1003", "1001")):
        audio = read_wav(phones[ext].recorded("dec")[-1])
        heard = tone_levels(audio[two[ext] : two[ext] + 3 * RATE], PHONES)
        assert heard[other] > HEARD and heard["1002"] < SILENT, (ext, heard)
