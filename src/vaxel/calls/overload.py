"""Overload control (P2, O3): shed new calls while the switch is behind its senders.

Past its limit a SIP server over UDP does not slow down gracefully: requests
wait in the socket's receive buffer, clients retransmit what waited longer
than Timer A/E's 500 ms, the retransmissions add to the queue, and every call
fails (a retransmission spiral). So while the receive queue is deep, new calls
are turned away at once with 503 and Retry-After (RFC 3261 §21.5.4; a trunk
tries its next route, a phone retries), and the calls already in progress,
the registrations and every in-dialog request are served as before.

"Deep" is counted in datagrams waiting, which is what costs time: the
kernel charges a small datagram about 2.3 kB of buffer (its `truesize`).
"""

from __future__ import annotations

from vaxel.transport.base import Backlog

#: Bytes of receive buffer a queued SIP datagram takes (a 1 kB message on Linux).
DATAGRAM_TRUESIZE = 2304
#: Start shedding at this many datagrams waiting (some 0.4-0.6 s of work at the
#: switch's limit: about where clients start to retransmit), or at three quarters
#: of a smaller buffer (past it, the kernel drops instead). A burst the switch
#: works off in time is left alone: shedding it would fail calls that would live.
SHED_AT = 3000
#: ... and stop once the queue is down to a fifth of that.
CLEAR_FRACTION = 0.2
#: Seconds a turned-away caller is asked to wait before trying again.
RETRY_AFTER = 5


class Overload:
    """Decides, from the receive queue's depth, whether new calls are turned away."""

    def __init__(self, shed_at: int = SHED_AT, clear_fraction: float = CLEAR_FRACTION) -> None:
        self.shed_at = shed_at
        self.clear_fraction = clear_fraction
        self.shedding = False
        self.episodes = 0  # how often shedding started

    def update(self, backlog: Backlog | None) -> bool:
        """Take a new reading (None: the kernel cannot tell) and say whether to shed."""
        if backlog is None or backlog.capacity <= 0:
            self.shedding = False
            return False
        high = min(self.shed_at * DATAGRAM_TRUESIZE, backlog.capacity * 3 // 4)
        if not self.shedding and backlog.queued >= high:
            self.shedding = True
            self.episodes += 1
        elif self.shedding and backlog.queued <= high * self.clear_fraction:
            self.shedding = False
        return self.shedding
