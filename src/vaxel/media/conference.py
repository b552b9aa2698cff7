"""A conference room on the shared 20 ms media clock (P5 mixing; A3 conferences, U12
multiparty calls).

The room joins media endpoints, not calls: a feature that puts a leg in a room
hands over the leg's endpoint (no longer bridged to a peer) and the codec it
negotiated. What the party says reaches the room through the endpoint's sinks
(decoded once, where every packet is decoded for recorders and in-band DTMF);
each tick of the media clock the room's mixer gives every participant the others'
audio in its own law, which the endpoint sends as its own generated stream
(`send_frame`, as a prompt is sent). One room costs one clock subscriber,
however many are in it; the clock only runs while the room has someone in it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from vaxel.media.player import Samples
from vaxel.rtp.mixer import FRAME, Mixer


class Pacer(Protocol):
    """The media clock (`media.clock.MediaClock`), or a test's clock moved by hand."""

    def subscribe(self, tick: Callable[[], None]) -> None: ...

    def unsubscribe(self, tick: Callable[[], None]) -> None: ...


class Participant(Protocol):
    """What the room needs of a media endpoint (`media.endpoint.Endpoint`)."""

    sinks: list[Callable[[Samples], None]]
    player: object  # a prompt playing to the party (heard instead of the room), or None

    def send_frame(self, payload: bytes) -> None: ...

    def __hash__(self) -> int: ...


class Conference:
    """A room: `add`, `remove` and `mute` participants; the clock does the rest."""

    def __init__(self, pacer: Pacer, *, tones: bool = True) -> None:
        self.pacer = pacer
        self.mixer: Mixer[Participant] = Mixer(
            tones=tones
        )  # join and leave tones unless `tones` is False
        self._sinks: dict[Participant, Callable[[Samples], None]] = {}

    def __len__(self) -> int:
        return len(self._sinks)

    def __contains__(self, endpoint: Participant) -> bool:
        return endpoint in self._sinks

    def add(self, endpoint: Participant, codec: str) -> None:
        """Join a party to the room: heard and hearing from the next tick. `codec` is the
        leg's negotiated "PCMA" or "PCMU" (ValueError otherwise, and nothing changes)."""
        self.mixer.add(endpoint, codec)

        push = self.mixer.push

        def heard(samples: Samples) -> None:
            push(endpoint, samples)

        self._sinks[endpoint] = heard
        endpoint.sinks.append(heard)
        if len(self._sinks) == 1:
            self.pacer.subscribe(self.tick)

    def remove(self, endpoint: Participant) -> None:
        """The party leaves the room (its leg goes on, or ends); others hear the leave tone."""
        heard = self._sinks.pop(endpoint, None)
        if heard is None:
            return
        if heard in endpoint.sinks:
            endpoint.sinks.remove(heard)
        self.mixer.remove(endpoint)
        if not self._sinks:
            self.pacer.unsubscribe(self.tick)

    def mute(self, endpoint: Participant, muted: bool = True) -> None:
        """A muted party adds nothing to the room and still hears it."""
        self.mixer.mute(endpoint, muted)

    def muted(self, endpoint: Participant) -> bool:
        return self.mixer.muted(endpoint)

    def tick(self) -> None:
        """20 ms: mix, and send each participant its frame (the media clock calls this); a
        participant being played a prompt (a confirmation of a key pressed) hears that
        instead, and the room again when it ends."""
        payloads = self.mixer.tick()
        start = 0
        for endpoint in self.mixer.keys:
            if endpoint.player is None:
                endpoint.send_frame(payloads[start : start + FRAME].tobytes())
            start += FRAME

    def close(self) -> None:
        """Everyone leaves, without tones: the room is over."""
        self.mixer.tones = False
        for endpoint in list(self._sinks):
            self.remove(endpoint)
