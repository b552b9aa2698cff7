"""transport/memory: the in-memory network delivers in order, without recursion, and a stream
to nobody fails at once (P2)."""

from __future__ import annotations

from vaxel.transport.base import Local, Source
from vaxel.transport.memory import MemoryNetwork


def test_messages_arrive_in_order_and_replies_wait_their_turn() -> None:
    network = MemoryNetwork()
    seen: list[tuple[str, bytes]] = []

    def a(data: bytes, source: Source, local: Local) -> None:
        seen.append(("a", data))

    def b(data: bytes, source: Source, local: Local) -> None:
        seen.append(("b", data))
        if data == b"ping":
            pong.send(b"pong", source)  # queued, not delivered inside this call
            assert seen[-1] == ("b", b"ping")

    ping = network.listen("UDP", "192.0.2.1", 5060, a)
    pong = network.listen("UDP", "192.0.2.2", 5060, b)
    ping.send(b"ping", Source("UDP", "192.0.2.2", 5060))
    ping.send(b"again", Source("UDP", "192.0.2.2", 5060))
    assert network.deliver() == 3
    assert seen == [("b", b"ping"), ("b", b"again"), ("a", b"pong")]


def test_a_datagram_to_nobody_is_lost_and_a_stream_to_nobody_fails() -> None:
    network = MemoryNetwork()
    party = network.listen("UDP", "192.0.2.1", 5060, lambda *args: None)
    assert party.send(b"x", Source("UDP", "192.0.2.9", 5060))
    network.deliver()
    assert network.dropped == 1
    stream = network.listen("TCP", "192.0.2.1", 5060, lambda *args: None)
    assert not stream.send(b"x", Source("TCP", "192.0.2.9", 5060))
