"""One 20 ms clock for every player and recorder of the switch (P5).

Each tick is scheduled at an absolute loop time (start + n x 20 ms), so
ticks do not drift however long a tick's work takes; after a stall of more
than a few ticks the clock skips ahead instead of bursting (a phone's
jitter buffer would drop the burst anyway). No stream sleeps on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

TICK = 0.02
MAX_BEHIND = 5  # ticks; beyond this the clock resynchronises


class MediaClock:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.subscribers: set[Callable[[], None]] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._next = 0.0
        self.ticks = 0

    def subscribe(self, tick: Callable[[], None]) -> None:
        self.subscribers.add(tick)
        if self._handle is None:
            self._next = self.loop.time() + TICK
            self._handle = self.loop.call_at(self._next, self._tick)

    def unsubscribe(self, tick: Callable[[], None]) -> None:
        self.subscribers.discard(tick)

    def _tick(self) -> None:
        self.ticks += 1
        for tick in list(self.subscribers):
            tick()
        if not self.subscribers:
            self._handle = None
            return
        self._next += TICK
        now = self.loop.time()
        if now - self._next > MAX_BEHIND * TICK:
            self._next = now + TICK
        self._handle = self.loop.call_at(self._next, self._tick)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.subscribers.clear()
