"""The media backend in memory (P5): endpoints that keep what they play and hear, no sockets.

What `media.engine` does with RTP, done with sample arrays, on a clock the
caller moves: each `tick()` is 20 ms, in which every endpoint plays its
next frame to its party (kept in `heard`) and a bridged party's speech
reaches the other side; conference rooms (A3) mix on the same ticks. Tests act
as the party: `say()` speaks into the switch (recorders and the in-band DTMF
detector listen), `press()` sends an RFC 4733 key. Prompts are compared by
their samples, as a person would recognise them by ear.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from vaxel.media.conference import Conference
from vaxel.media.player import FRAME, Player, Samples
from vaxel.rtp.g711 import decode
from vaxel.sip.sdp import Answer, IceDtls, SrtpKeys, WebRtcSession

#: What a leg in memory says of its DTLS certificate (no handshake runs in memory).
MEMORY_FINGERPRINT = "sha-256 " + ":".join(["00"] * 32)

SILENCE = np.zeros(FRAME, np.int16)


def _ignore_key(digit: str) -> None:
    pass


def _nothing() -> None:
    pass


class MemoryEndpoint:
    """The switch's media endpoint facing one party, in memory."""

    def __init__(self, media: MemoryMedia, address: str, port: int) -> None:
        self.media = media
        self.address = address
        self.port = port
        self.on_dtmf: Callable[[str], None] = _ignore_key
        self.last_received = 0.0
        self.dtmf_pt = -1
        self.telephone_events_seen = False
        self.relay_events = True  # False: the party's keys are not relayed to the peer
        self.keys: list[str] = []  # keys relayed to this party from its peer
        self.sinks: list[Callable[[Samples], None]] = []
        self.remote: tuple[str, int] | None = None  # the party's address, from its SDP
        self.codec = ""
        self.sending = False
        self.peer: MemoryEndpoint | None = None
        self.player: Player | None = None
        self.on_played: Callable[[], None] = _nothing
        self.heard: list[Samples] = []  # every frame the party was sent, 20 ms each
        self.srtp: SrtpKeys | None = None  # the leg's SRTP keys (O2), None for plain RTP
        self.webrtc: WebRtcSession | None = None  # a browser's ICE and DTLS (U1)
        self.closed = False

    def configure(self, answer: Answer, *, sending: bool) -> None:
        if answer.codec is not None:
            self.codec = answer.codec.name
        self.dtmf_pt = answer.dtmf_pt if answer.dtmf_pt is not None else -1
        if answer.remote is not None:
            self.remote = answer.remote
        self.sending = sending and answer.remote is not None
        self.srtp = answer.srtp
        self.webrtc = answer.webrtc

    def ice(self) -> IceDtls:
        """A browser's leg in memory: SDP as the real endpoint writes it, no DTLS."""
        return IceDtls(f"mem{self.port}", "memory-ice-password-0001", MEMORY_FINGERPRINT)

    def play(self, player: Player, on_done: Callable[[], None]) -> None:
        self.player = player
        self.on_played = on_done

    def stop_playing(self) -> bool:
        playing = self.player is not None
        self.player = None
        self.on_played = _nothing
        return playing

    def send_frame(self, payload: bytes) -> None:
        """A frame the switch made in the leg's codec (a conference room's mix)."""
        if self.sending and self.codec:
            self.heard.append(decode(self.codec, payload))

    def close(self) -> None:
        self.closed = True
        self.media.disconnect(self)
        self.player = None
        self.sinks = []
        self.media.endpoints.remove(self)
        self.media.closed.append(self)  # what its party heard stays readable

    # -- the party ---------------------------------------------------------------------

    def say(self, samples: Samples) -> None:
        """The party speaks: listeners hear it, and a bridged party too, frame by frame."""
        self.last_received = self.media.clock()
        for start in range(0, len(samples), FRAME):
            frame = samples[start : start + FRAME]
            for sink in list(self.sinks):
                sink(frame)
            if self.peer is not None and self.peer.player is None:
                self.peer.heard.append(frame)

    def press(self, digit: str) -> None:
        """The party presses a key, sent as an RFC 4733 event."""
        self.last_received = self.media.clock()
        self.telephone_events_seen = True
        self.on_dtmf(digit)
        if self.peer is not None and self.relay_events:
            self.peer.keys.append(digit)

    def audio(self) -> Samples:
        """Everything the party heard, as one array."""
        return np.concatenate(self.heard) if self.heard else np.zeros(0, np.int16)

    # -- the clock -------------------------------------------------------------------------

    def tick(self) -> None:
        player = self.player
        if player is None:
            return
        frame = player.next_frame()
        if frame is None:
            self.player = None
            done, self.on_played = self.on_played, _nothing
            done()
            return
        if self.sending:
            self.heard.append(frame)


class MemoryPacer:
    """The media clock's interface (`media.clock.MediaClock`), ticked by `MemoryMedia.tick`:
    what a call recording or a conference room subscribes to."""

    def __init__(self) -> None:
        self.subscribers: list[Callable[[], None]] = []

    def subscribe(self, tick: Callable[[], None]) -> None:
        if tick not in self.subscribers:
            self.subscribers.append(tick)

    def unsubscribe(self, tick: Callable[[], None]) -> None:
        if tick in self.subscribers:
            self.subscribers.remove(tick)

    def tick(self) -> None:
        for tick in list(self.subscribers):
            tick()


class MemoryMedia:
    """Allocates in-memory endpoints and plays them on a clock moved by `tick()`."""

    def __init__(self, clock: Callable[[], float], address: str = "192.0.2.1") -> None:
        self.clock = clock
        self.address = address
        self.endpoints: list[MemoryEndpoint] = []  # in use
        self.closed: list[MemoryEndpoint] = []
        self._ports = itertools.count(30000, 2)
        self.pacer = MemoryPacer()

    def allocate(self, on_dtmf: Callable[[str], None]) -> MemoryEndpoint:
        endpoint = MemoryEndpoint(self, self.address, next(self._ports))
        endpoint.on_dtmf = on_dtmf
        self.endpoints.append(endpoint)
        return endpoint

    @staticmethod
    def connect(a: MemoryEndpoint, b: MemoryEndpoint) -> None:
        a.peer, b.peer = b, a

    @staticmethod
    def disconnect(endpoint: MemoryEndpoint) -> None:
        peer = endpoint.peer
        if peer is not None and peer.peer is endpoint:
            peer.peer = None
        endpoint.peer = None

    def tick(self) -> None:
        """20 ms pass: every endpoint plays its next frame, every room mixes."""
        for endpoint in list(self.endpoints):
            endpoint.tick()
        self.pacer.tick()

    def room(self) -> Conference:
        return Conference(self.pacer)

    def facing(self, address: tuple[str, int]) -> MemoryEndpoint | None:
        """The endpoint whose party is at `address` (what its SDP said): the one in use, else
        the last one that was."""
        for endpoints in (self.endpoints, self.closed):
            for endpoint in reversed(endpoints):
                if endpoint.remote == address:
                    return endpoint
        return None
