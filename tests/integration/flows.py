"""What the call-flow tests do with phones: hear a prompt, answer, wait for a new call, hang up.

Shared by the main-number tests (Acme) and the call-flow path tests (Paths AB).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.integration.audio_phone import AudioPhone
from vaxel.media.player import load_prompt
from vaxel.rtp.g711 import alaw_encode
from vaxel.sip.message import Request


def heard(phone: AudioPhone, prompt: Path, seconds: float = 0.5, wait: float = 8.0) -> bool:
    """Did the phone hear the start of `prompt`, bit for bit (A-law frames)?"""
    expected = alaw_encode(load_prompt(prompt))[: int(8000 * seconds)]
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if expected in bytes(phone.heard):
            return True
        time.sleep(0.1)
    return False


def answer(phone: AudioPhone, status: int = 200) -> threading.Thread:
    """The phone answers (or refuses with `status`) the next call; its INVITE is kept."""

    def run() -> None:
        invite = phone.wait_request("INVITE", timeout=15)
        phone.last_invite = invite  # type: ignore[attr-defined]
        phone.learn(invite.body)
        if status != 200:
            phone.reply(invite, status)
            return
        phone.reply(invite, 180)
        phone.reply(invite, 200, phone.offer())
        phone.wait_request("ACK")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def new_invite(phone: AudioPhone, old: Request | None, timeout: float) -> Request | None:
    """The next INVITE of another call than `old` (its retransmissions are skipped)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            invite = phone.wait_request("INVITE", timeout=left)
        except AssertionError:
            return None
        if old is None or invite.headers.get("Call-ID") != old.headers.get("Call-ID"):
            return invite
    return None


def leave(members: tuple[AudioPhone, ...], *others: AudioPhone) -> None:
    """Hang up the phones: members unregister first, so later tests do not ring them."""
    for phone in members:
        phone.register(expires=0)
    for phone in (*members, *others):
        phone.close()
