"""What a test does with the suite's own phone (`AudioPhone`): listen for a prompt."""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.audio_phone import AudioPhone
from vaxel.media.player import load_prompt
from vaxel.rtp.g711 import alaw_encode


def heard(phone: AudioPhone, prompt: Path, seconds: float = 0.5, wait: float = 8.0) -> bool:
    """Did the phone hear the start of `prompt`, bit for bit (A-law frames)?"""
    expected = alaw_encode(load_prompt(prompt))[: int(8000 * seconds)]
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if expected in bytes(phone.heard):
            return True
        time.sleep(0.1)
    return False
