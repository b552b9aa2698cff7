"""A scriptable phone with real RTP: it plays audio, records what it hears, presses keys.

The SIP side is `Phone`; the media side is one UDP socket served by a thread
that sends a 20 ms PCMA frame of `audio` (or silence) and drains what
arrives, as a desk phone does.
"""

from __future__ import annotations

import re
import socket
import threading
import time

import numpy as np

from tests.integration.phone import Phone, sdp
from vaxel.rtp.dtmf import EVENTS, build_event
from vaxel.rtp.g711 import alaw_decode, alaw_encode
from vaxel.rtp.packet import build, parse_header

FRAME = 160


class AudioPhone(Phone):
    def __init__(self, *args: object, audio: np.ndarray | None = None, **options: object) -> None:
        super().__init__(*args, **options)  # type: ignore[arg-type]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.rtp.settimeout(0.005)
        self.rtp_port = self.rtp.getsockname()[1]
        self.audio = alaw_encode(audio) if audio is not None else b""
        self.remote_rtp: tuple[str, int] | None = None
        self.heard = bytearray()  # PCMA payloads received, in arrival order
        self._seq, self._ts, self._position = 0, 0, 0
        self._keys: list[str] = []
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._media, daemon=True)
        self._thread.start()

    def offer(self, direction: str = "sendrecv") -> str:
        return sdp(self.rtp_port, direction)

    def learn(self, body: bytes) -> None:
        """Where to send RTP: the c= and m= lines of the other side's SDP."""
        text = body.decode()
        host = re.search(r"c=IN IP4 (\S+)", text)
        port = re.search(r"m=audio (\d+)", text)
        if host and port:
            self.remote_rtp = (host.group(1), int(port.group(1)))

    def play(self, audio: np.ndarray) -> None:
        """Speak `audio` from the next frame on (instead of what was left to play)."""
        with self._lock:
            self.audio = alaw_encode(audio)
            self._position = 0

    def wait_played(self, timeout: float = 30.0) -> None:
        """Wait until every frame of the audio has been sent."""
        deadline = time.monotonic() + timeout
        while self._position < len(self.audio):
            assert time.monotonic() < deadline, "the phone did not get its audio out"
            time.sleep(0.02)

    def press(self, digits: str) -> None:
        with self._lock:
            self._keys += list(digits)

    def samples(self) -> np.ndarray:
        return alaw_decode(bytes(self.heard))

    def clear(self) -> None:
        self.heard.clear()

    def _send(self, pt: int, payload: bytes, marker: bool = False) -> None:
        if self.remote_rtp is not None:
            self._seq = (self._seq + 1) & 0xFFFF
            self.rtp.sendto(
                build(pt, self._seq, self._ts, 0x1234, payload, marker), self.remote_rtp
            )

    def _media(self) -> None:
        next_tick = time.monotonic()
        pending: list[bytes] = []
        while self._running:
            while True:
                try:
                    data = self.rtp.recv(2048)
                except (TimeoutError, BlockingIOError, OSError):
                    break
                header = parse_header(data)
                if header is not None and header[0] == 8:
                    self.heard += data[header[5] :]
            now = time.monotonic()
            if now < next_tick:
                continue
            next_tick += 0.02
            if not pending:
                with self._lock:
                    key = self._keys.pop(0) if self._keys else None
                if key is not None:
                    code = EVENTS.index(key)
                    pending = [build_event(code, False, 10, d) for d in (160, 320, 480, 640)]
                    pending += [build_event(code, True, 10, 800)] * 3
            if pending:
                first = len(pending) == 7
                self._send(101, pending.pop(0), marker=first)
                if not pending:
                    self._ts += 800 + FRAME
                continue
            with self._lock:
                frame = self.audio[self._position : self._position + FRAME]
                self._position += FRAME
            if len(frame) < FRAME:
                frame = frame + b"\xd5" * (FRAME - len(frame))  # A-law silence
            self._send(8, frame)
            self._ts += FRAME

    def close(self) -> None:
        self._running = False
        self._thread.join(1)
        self.rtp.close()
        super().close()
