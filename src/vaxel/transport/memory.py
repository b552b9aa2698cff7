"""SIP transports in memory (P2): datagrams and streams between parties of one process.

The in-memory backend of the transport layer, as httpcore ships a mock
backend: the switch's `Inbound.receive` and test phones exchange framed
messages through a `MemoryNetwork` instead of sockets. Sending queues a
message; `deliver()` hands queued messages to their receivers until none is
left, so a reply sent while a message is handled waits its turn, as on a
real network, and nothing recurses. Addresses are whatever the parties
say; nothing leaves the process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from vaxel.transport.base import Local, Source

Handler = Callable[[bytes, Source, Local], None]


class MemoryTransport:
    """One party's socket on the network: what it sends is queued, what comes is handed on."""

    def __init__(self, network: MemoryNetwork, local: Local, handler: Handler) -> None:
        self.network = network
        self.local = local
        self.handler = handler
        self.sent: list[tuple[bytes, Source]] = []  # everything it sent, for tests to read

    def send(self, data: bytes, destination: Source) -> bool:
        """Queue `data` for `destination`; False when nobody listens there (a lost flow)."""
        key = (destination.transport, destination.host, destination.port)
        if destination.reliable and key not in self.network.parties:
            return False  # a stream to nobody: its connection is gone
        self.sent.append((data, destination))
        self.network.queue.append((data, self.local, destination))
        return True

    def close(self) -> None:
        self.network.parties.pop((self.local.transport, self.local.host, self.local.port), None)


class MemoryNetwork:
    """Where in-memory transports find each other, by transport, host and port."""

    def __init__(self) -> None:
        self.parties: dict[tuple[str, str, int], MemoryTransport] = {}
        self.queue: deque[tuple[bytes, Local, Source]] = deque()
        self.dropped = 0  # datagrams to an address where nobody listens

    def listen(self, transport: str, host: str, port: int, handler: Handler) -> MemoryTransport:
        local = Local(transport.upper(), host, port)
        party = MemoryTransport(self, local, handler)
        self.parties[(local.transport, host, port)] = party
        return party

    def deliver(self, limit: int = 100_000) -> int:
        """Hand every queued message to its receiver, and what they send in turn; returns
        how many were delivered. `limit` stops a conversation that never ends."""
        delivered = 0
        while self.queue and delivered < limit:
            data, sender, destination = self.queue.popleft()
            party = self.parties.get((destination.transport, destination.host, destination.port))
            if party is None:
                self.dropped += 1
                continue
            source = Source(sender.transport, sender.host, sender.port)
            party.handler(data, source, party.local)
            delivered += 1
        return delivered
