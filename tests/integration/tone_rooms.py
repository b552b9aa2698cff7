"""What the baresip room tests share (A3 conference rooms, U12 three-way calls): a company
applied from its description with user 1001 as its web admin, each phone's own sine as its
microphone, and the admin's API session."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

from tests.integration.audio import RATE, write_wav
from tests.integration.baresip import Baresip
from tests.integration.peers import Server, rtp_ports, vaxel_cli
from tests.rtp.test_mixer import level_at

ADMIN = "1001"
WEB_PASSWORD = "web password 1"


@contextlib.contextmanager
def serving(folder: Path, description: str, domain: str) -> Iterator[Server]:
    """`vaxel serve` over the company `description`, 1001 its admin, until the block ends."""
    data = folder / "data"
    (folder / "company.yaml").write_text(description)
    result = vaxel_cli(data, "config", "apply", str(folder / "company.yaml"))
    assert result.returncode == 0, result.stderr
    made = vaxel_cli(data, "company", "admin", domain, "--ext", ADMIN, "--password", WEB_PASSWORD)
    assert made.returncode == 0, made.stderr
    server = Server(data).start("--rtp-ports", rtp_ports())
    try:
        yield server
    finally:
        server.stop()


def sine_sources(folder: Path, tones: dict[str, float]) -> dict[str, Path]:
    """Each phone's microphone: its own sine at amplitude 4000, a minute long (baresip
    hangs up at the end of its source)."""
    t = np.arange(60 * RATE) / RATE
    return {
        ext: write_wav(folder / f"{ext}.wav", np.round(4000 * np.sin(2 * np.pi * hz * t)))
        for ext, hz in tones.items()
    }


@contextlib.contextmanager
def admin_api(server: Server, domain: str) -> Iterator[httpx.Client]:
    """The admin's logged-in API client (its changes carry the session's CSRF token)."""
    with httpx.Client(base_url=server.web, timeout=30) as client:
        answer = client.post(
            "/api/v1/login", json={"login": f"{ADMIN}@{domain}", "password": WEB_PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        yield client


# Phones of a room: extension -> (password, codec, the tone it sends, in Hz).
TonePhones = dict[str, tuple[str, str, float]]


def tone_phones(
    folder: Path,
    server: Server,
    domain: str,
    phones: TonePhones,
    tones: dict[str, Path],
    started: dict[str, Baresip],
) -> None:
    """Start and register a baresip per phone, each sending its tone and recording what it
    hears; each goes into `started` as it starts (so that the caller stops them all)."""
    for ext, (password, codec, _) in phones.items():
        phone = Baresip(
            folder / ext, server, ext, password, domain, snd_path=folder / ext / "rec",
            audio_source=tones[ext], audio_codecs=codec,
        )  # fmt: skip
        started[ext] = phone
        phone.start()
        phone.register()
        event = phone.event({"REGISTER_OK", "REGISTER_FAIL"}, timeout=15)
        assert event is not None and event["type"] == "REGISTER_OK", phone.log_text()


def received(phone: Baresip) -> int:
    """Samples received so far (its recording grows as audio arrives)."""
    files = phone.recorded("dec")
    return max(0, (files[-1].stat().st_size - 44) // 2) if files else 0


def tone_levels(audio: np.ndarray, phones: TonePhones) -> dict[str, float]:
    """How loud each phone's tone is in `audio`."""
    return {ext: level_at(audio.astype(np.float64), hz) for ext, (_, _, hz) in phones.items()}
