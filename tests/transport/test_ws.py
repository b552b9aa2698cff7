"""transport/ws.py (P2, U1; RFC 7118): the switch's half of SIP over WebSocket, in memory.

What the web relays becomes flows with a Source each ("WS", the client's address);
the switch's messages go back to the connection they name, CRLF keep-alives are
answered, and a WebSocket that closes, or a link that does, ends its flows for good.
"""

from __future__ import annotations

from vaxel.transport.base import Local, Source
from vaxel.transport.ws import PONG, WsTransport

LOCAL = Local("WS", "127.0.0.1", 8080)
OPTIONS = b"OPTIONS sip:acme.example SIP/2.0\r\n\r\n"


class Harness:
    def __init__(self, link_up: bool = True) -> None:
        self.received: list[tuple[bytes, Source, Local]] = []
        self.failed: list[Source] = []
        self.written: list[object] = []
        self.link_up = link_up
        self.transport = WsTransport(
            lambda data, source, local: self.received.append((data, source, local)),
            LOCAL,
            closed=self.failed.append,
            secure_local=Local("WSS", "127.0.0.1", 8443),
        )
        self.transport.attach(self.write)

    def write(self, message: object) -> bool:
        if not self.link_up:
            return False
        self.written.append(message)
        return True


def test_each_connection_is_a_flow_of_its_own_client_address() -> None:
    h = Harness()
    h.transport.handle(("sip.open", 1, "192.0.2.1", 40000, False))
    h.transport.handle(("sip.open", 2, "192.0.2.1", 40001, True))
    h.transport.handle(("sip.in", 1, OPTIONS))
    h.transport.handle(("sip.in", 2, OPTIONS))
    assert [(s, local) for _, s, local in h.received] == [
        (Source("WS", "192.0.2.1", 40000), LOCAL),
        (Source("WSS", "192.0.2.1", 40001), Local("WSS", "127.0.0.1", 8443)),
    ]
    assert h.received[0][1].reliable and not h.received[0][1].stream


def test_the_switch_writes_to_the_connection_its_destination_names() -> None:
    h = Harness()
    h.transport.handle(("sip.open", 7, "::1", 50000, False))
    assert h.transport.send(b"SIP/2.0 200 OK\r\n\r\n", Source("WS", "::1", 50000))
    assert h.written == [("sip.out", 7, b"SIP/2.0 200 OK\r\n\r\n")]
    assert not h.transport.send(b"x", Source("WS", "::1", 50001))  # no such WebSocket
    assert not h.transport.send(b"x", Source("TCP", "::1", 50000))  # not this transport's
    h.link_up = False
    assert not h.transport.send(b"x", Source("WS", "::1", 50000))  # the web is gone


def test_a_crlf_keep_alive_is_answered_and_not_handed_on() -> None:
    h = Harness()
    h.transport.handle(("sip.open", 1, "192.0.2.1", 40000, False))
    h.transport.handle(("sip.in", 1, b"\r\n\r\n"))
    h.transport.handle(("sip.in", 1, PONG))
    assert h.written == [("sip.out", 1, PONG)] and h.received == []


def test_a_closed_websocket_fails_its_flow_once_and_is_never_written_again() -> None:
    h = Harness()
    h.transport.handle(("sip.open", 1, "192.0.2.1", 40000, False))
    h.transport.handle(("sip.closed", 1))
    h.transport.handle(("sip.closed", 1))
    assert h.failed == [Source("WS", "192.0.2.1", 40000)]
    assert not h.transport.send(b"x", Source("WS", "192.0.2.1", 40000))
    h.transport.handle(("sip.in", 1, OPTIONS))  # late: dropped
    assert h.received == [] and len(h.transport) == 0


def test_a_link_that_closes_fails_every_flow_it_carried() -> None:
    h = Harness()
    for number in (1, 2, 3):
        h.transport.handle(("sip.open", number, "192.0.2.1", 40000 + number, False))
    h.transport.lost()
    assert sorted(s.port for s in h.failed) == [40001, 40002, 40003]
    assert len(h.transport) == 0


def test_an_error_handling_one_message_does_not_stop_the_next() -> None:
    calls: list[bytes] = []

    def receiver(data: bytes, source: Source, local: Local) -> None:
        calls.append(data)
        if data == b"boom":
            raise ValueError("boom")

    transport = WsTransport(receiver, LOCAL)
    transport.handle(("sip.open", 1, "192.0.2.1", 1, False))
    transport.handle(("sip.in", 1, b"boom"))
    transport.handle(("sip.in", 1, OPTIONS))
    assert calls == [b"boom", OPTIONS]


def test_the_switch_may_close_a_websocket() -> None:
    h = Harness()
    h.transport.handle(("sip.open", 4, "192.0.2.1", 1, False))
    h.transport.close(Source("WS", "192.0.2.1", 1))
    assert h.written == [("sip.close", 4)]
