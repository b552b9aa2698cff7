"""A3: a conference room with four real softphones (baresip), two A-law and two µ-law.

Each phone plays a sine of its own as its microphone, dials the room's extension and
answers the PIN question with its keys (RFC 4733): "#" joins as a participant, the
moderator PIN as the moderator. Once the API says all four are in, each phone's
recording of what it received holds the other three tones and not its own (FFT). The
moderator's key 1 then mutes everyone else: the moderator hears none of them, and they
still hear the moderator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.audio import RATE, read_wav
from tests.integration.baresip import Baresip
from tests.integration.peers import Server
from tests.integration.tone_rooms import (
    admin_api,
    received,
    serving,
    sine_sources,
    tone_levels,
    tone_phones,
)

DOMAIN = "rooms.vaxel.test"
PHONES = {  # extension: (password, codec, tone in Hz)
    "1001": ("anna-secret-1", "PCMA", 350.0),
    "1002": ("bjorn-secret-2", "PCMU", 650.0),
    "1003": ("cecilia-secret-3", "PCMA", 1000.0),
    "1004": ("dan-secret-4", "PCMU", 1450.0),
}
MODERATOR = "1004"
DESCRIPTION = f"""
company: {{domain: {DOMAIN}, name: Rooms AB, language: en}}
users:
{
    "".join(
        f'  - {{ext: "{ext}", name: User {ext}, password: {p[0]}}}' + chr(10)
        for ext, p in PHONES.items()
    )
}
conferences:
  weekly: {{extension: "800", moderator_pin: "9999"}}
"""
HEARD = 800.0  # amplitude of a tone that is heard (each is sent at 4000)
SILENT = 150.0
# What is analysed starts this many samples after the change: the last join tone, or the
# moderator's "everyone else is muted", has played out by then.
SETTLE = 2 * RATE
ROOM = f"/api/v1/companies/{DOMAIN}/conferences/weekly/participants"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("vaxel-rooms"), DESCRIPTION, DOMAIN) as srv:
        yield srv


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tones")
    return sine_sources(folder, {ext: hz for ext, (_, _, hz) in PHONES.items()})


def keys(phone: Baresip, digits: str) -> None:
    for digit in digits:
        assert phone.send_digit(digit)["ok"]
        time.sleep(0.25)  # a key's length: baresip sends one event at a time
    phone.send_digit("")  # releases the last key


def wait_for(condition, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_four_softphones_in_a_room_and_the_moderators_mute(
    server: Server, tmp_path: Path, tones: dict[str, Path]
) -> None:
    phones: dict[str, Baresip] = {}
    try:
        tone_phones(tmp_path, server, DOMAIN, PHONES, tones, phones)
        with admin_api(server, DOMAIN) as api:
            for ext, phone in phones.items():
                phone.dial(f"sip:800@{DOMAIN}")
                event = phone.event({"CALL_ESTABLISHED", "CALL_CLOSED"}, timeout=15)
                assert event is not None and event["type"] == "CALL_ESTABLISHED", phone.log_text()
                assert phone.event({"CALL_RTPESTAB"}, timeout=5) is not None, phone.log_text()
                keys(phone, "9999#" if ext == MODERATOR else "#")
            wait_for(lambda: len(api.get(ROOM).json()["participants"]) == 4, "four in the room")
            room = api.get(ROOM).json()["participants"]
            assert {p["party"]: p["moderator"] for p in room} == {
                "1001": False, "1002": False, "1003": False, "1004": True,
            }  # fmt: skip
            talking = {ext: received(phone) + SETTLE for ext, phone in phones.items()}
            wait_for(lambda: all(received(p) >= talking[e] + 3 * RATE for e, p in phones.items()),
                     "three seconds of the room")  # fmt: skip
            moderator = phones[MODERATOR]
            keys(moderator, "1")
            wait_for(
                lambda: all(p["muted"] != p["moderator"] for p in api.get(ROOM).json()[
                    "participants"]),
                "the others muted",
            )  # fmt: skip
            muted = {ext: received(phone) + SETTLE for ext, phone in phones.items()}
            wait_for(lambda: all(received(p) >= muted[e] + 3 * RATE for e, p in phones.items()),
                     "three seconds of the muted room")  # fmt: skip
    finally:
        for phone in phones.values():
            phone.stop()
    for phone in phones.values():
        phone.wait_recordings_closed()
    for ext, phone in phones.items():
        audio = read_wav(phone.recorded("dec")[-1])
        heard = tone_levels(audio[talking[ext] : talking[ext] + 3 * RATE], PHONES)
        for other, level in heard.items():
            if other == ext:
                assert level < SILENT, (ext, heard)
            else:
                assert level > HEARD, (ext, other, heard)
        heard = tone_levels(audio[muted[ext] : muted[ext] + 3 * RATE], PHONES)
        if ext == MODERATOR:
            assert max(heard[o] for o in PHONES if o != ext) < SILENT, heard
        else:
            assert heard[MODERATOR] > HEARD, (ext, heard)
            assert max(heard[o] for o in PHONES if o not in (ext, MODERATOR)) < SILENT, heard
