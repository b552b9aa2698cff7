"""The media engine: RTP ports from `--rtp-ports`, sockets on the event loop, bridges (P5).

Ports are handed out in pairs (RTP even, RTCP the next odd one, RFC 3550
§11) and a released pair goes to the back of the queue, so a late packet
of an old call never lands in a new one. Sockets are bound synchronously,
so a leg's SDP can carry its port at once; the loop watches them with
`add_reader` and each endpoint drains its socket in one callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections import deque
from collections.abc import Callable

from vaxel.media.clock import MediaClock
from vaxel.media.conference import Conference
from vaxel.media.endpoint import Endpoint

log = logging.getLogger(__name__)

REPORT_INTERVAL = 5.0  # RTCP every 5 s per leg (RFC 3550 §6.2's minimum)
IDLE_KEPT = 256  # released endpoints wait behind at least this many before reuse
IDLE_RESERVE = 256  # endpoints kept bound, never used, for a rise in calls ...
PREPARED_PER_CALL = 64  # ... bound at most this many per call of `prepare`


def _ignore_key(digit: str) -> None:
    pass


class NoPorts(Exception):
    """Every RTP port of the range is in use: the call is refused (503)."""


class MediaEngine:
    def __init__(
        self,
        host: str,
        ports: tuple[int, int],
        *,
        clock: Callable[[], float],
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        low, high = ports
        self.host = host
        self.clock = clock
        self.loop = loop or asyncio.get_running_loop()
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        first = low + (low & 1)
        self._free: deque[int] = deque(range(first, high, 2))  # ports never bound yet
        self._idle: deque[Endpoint] = deque()  # released, sockets still bound
        self._ready: deque[Endpoint] = deque()  # bound ahead of need, never used
        self.endpoints: set[Endpoint] = set()
        self.cname = f"vaxel@{host}"
        self.pacer = MediaClock(self.loop)  # the one 20 ms clock of every player
        self._reports = self.loop.call_later(REPORT_INTERVAL, self._report)

    def _report(self) -> None:
        """Send every leg's party its RTCP report, on one shared clock."""
        for endpoint in list(self.endpoints):
            endpoint.report(self.cname)
        self._reports = self.loop.call_later(REPORT_INTERVAL, self._report)

    def allocate(self, on_dtmf: Callable[[str], None]) -> Endpoint:
        """An RTP/RTCP pair for a new leg; raises NoPorts when the range is used up.

        Released endpoints keep their sockets bound and watched, and wait at the back
        of a queue: a port comes back only after every other free one was used, so a
        late packet of an old call never lands in a new one, and a call costs no
        socket, bind or close. Never used pairs bound ahead (`prepare`) come next;
        only when there are none is a pair bound here.
        """
        if len(self._idle) > IDLE_KEPT:
            endpoint = self._idle.popleft()
        elif self._ready:
            endpoint = self._ready.popleft()
        else:
            opened = self._open()
            if opened is None and not self._idle:
                raise NoPorts(f"no free RTP port pair left on {self.host}")
            endpoint = opened if opened is not None else self._idle.popleft()
        endpoint.reset(on_dtmf)
        self.endpoints.add(endpoint)
        return endpoint

    def _open(self) -> Endpoint | None:
        """Bind a never used port pair and watch it (idle until `reset`); None when
        none is left."""
        for _ in range(len(self._free)):
            port = self._free.popleft()
            try:
                rtp = self._bind(port)
            except OSError as error:
                self._free.append(port)  # taken by another process: try the next
                if error.errno in (errno.EMFILE, errno.ENFILE):
                    log.error("no file descriptor left for RTP (raise the open files limit)")
                    return None
                continue
            try:
                rtcp = self._bind(port + 1)
            except OSError:
                rtp.close()
                self._free.append(port)
                continue
            endpoint = Endpoint(self, rtp, rtcp, self.host, port, _ignore_key)
            self.loop.add_reader(rtp.fileno(), endpoint.readable)
            self.loop.add_reader(rtcp.fileno(), endpoint.rtcp_readable)
            return endpoint
        return None

    def prepare(self, reserve: int = IDLE_RESERVE, at_most: int = PREPARED_PER_CALL) -> int:
        """Bind a few port pairs ahead of need (the switch calls this on its timer tick).

        A sudden rise in calls then takes these bound endpoints instead of
        binding two sockets per leg in the middle of the burst,
        when every millisecond of the event loop is wanted for SIP. Returns
        how many were bound.
        """
        made = 0
        while len(self._ready) < reserve and made < at_most:
            endpoint = self._open()
            if endpoint is None:
                break
            self._ready.append(endpoint)  # no codec yet: what arrives is dropped
            made += 1
        return made

    def _bind(self, port: int) -> socket.socket:
        sock = socket.socket(self.family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((self.host, port))
        except OSError:
            sock.close()
            raise
        return sock

    def release(self, endpoint: Endpoint) -> None:
        """The leg is over: the endpoint goes idle (sockets kept) at the back of the queue."""
        if endpoint not in self.endpoints:
            return
        self.endpoints.discard(endpoint)
        self.disconnect(endpoint)
        endpoint.stop_playing()
        endpoint.park(_ignore_key)
        self._idle.append(endpoint)

    def _close(self, endpoint: Endpoint) -> None:
        for sock in (endpoint.rtp, endpoint.rtcp):
            with contextlib.suppress(ValueError, OSError):
                self.loop.remove_reader(sock.fileno())
            sock.close()

    @staticmethod
    def connect(a: Endpoint, b: Endpoint) -> None:
        """Bridge two endpoints: what each party sends goes to the other."""
        for endpoint in (a, b):
            if endpoint.peer is not None and endpoint.peer not in (a, b):
                endpoint.peer.peer = None
        a.peer, b.peer = b, a
        a._recompute()
        b._recompute()

    @staticmethod
    def disconnect(endpoint: Endpoint) -> None:
        peer = endpoint.peer
        endpoint.peer = None
        endpoint._recompute()
        if peer is not None and peer.peer is endpoint:
            peer.peer = None
            peer._recompute()

    def room(self) -> Conference:
        """A conference room on the engine's media clock (A3, U12)."""
        return Conference(self.pacer)

    @property
    def in_use(self) -> int:
        return len(self.endpoints)

    def close(self) -> None:
        self._reports.cancel()
        self.pacer.close()
        for endpoint in list(self.endpoints):
            self.release(endpoint)
        for parked in (self._idle, self._ready):
            while parked:
                self._close(parked.popleft())
