"""SIP over WebSocket, the web's half (P2, U1, O2; web/sip_ws.py): the relay on its own,
then `/ws` on a real uvicorn server with a stand-in switch that echoes what it gets, so
what crosses the link is seen exactly: the subprotocol, the Origin check (CSWSH), the
caps, a frame too big closing its connection only, and the close told to the switch."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from vaxel.store import Store
from vaxel.web.context import WebContext
from vaxel.web.launcher import listen
from vaxel.web.server import WebServer
from vaxel.web.sip_ws import MAX_FRAME, QUEUE_LIMIT, SipRelay

OPTIONS = b"OPTIONS sip:acme.example SIP/2.0\r\nContent-Length: 0\r\n\r\n"

# -- the relay on its own ------------------------------------------------------------------


def test_open_tells_the_switch_and_caps_connections_per_source_and_in_all() -> None:
    sent: list[object] = []
    relay = SipRelay(sent.append, max_connections=3, max_per_source=2)
    first = relay.open("192.0.2.1", 5000)
    second = relay.open("192.0.2.1", 5001)
    assert first is not None and second is not None and first.id != second.id
    assert relay.open("192.0.2.1", 5002) is None  # a third from one address
    third = relay.open("192.0.2.2", 5000)
    assert third is not None
    assert relay.open("192.0.2.3", 5000) is None  # a fourth in all
    assert sent == [
        ("sip.open", first.id, "192.0.2.1", 5000, False),
        ("sip.open", second.id, "192.0.2.1", 5001, False),
        ("sip.open", third.id, "192.0.2.2", 5000, False),
    ]
    relay.closed(first)
    relay.closed(first)  # told once
    assert sent[-1] == ("sip.closed", first.id) and sent.count(("sip.closed", first.id)) == 1
    assert relay.open("192.0.2.1", 5003) is not None  # the address has room again


def test_messages_go_to_their_connection_and_nowhere_after_it_closed() -> None:
    sent: list[object] = []
    relay = SipRelay(sent.append)
    one, two = relay.open("192.0.2.1", 1), relay.open("192.0.2.1", 2)
    assert one is not None and two is not None
    relay.received(one, OPTIONS)
    assert sent[-1] == ("sip.in", one.id, OPTIONS)
    relay.from_switch(("sip.out", two.id, b"SIP/2.0 200 OK\r\n\r\n"))
    assert two.outgoing.get_nowait() == b"SIP/2.0 200 OK\r\n\r\n" and one.outgoing.empty()
    relay.closed(two)
    relay.from_switch(("sip.out", two.id, b"late"))
    relay.received(two, b"late")
    assert two.outgoing.empty() and sent[-1] == ("sip.closed", two.id)
    relay.from_switch(("sip.out", "not an id", b"x"))  # ignored, not raised


def test_a_client_that_does_not_read_is_ended_not_queued_without_bound() -> None:
    relay = SipRelay(lambda message: None)
    connection = relay.open("192.0.2.1", 1)
    assert connection is not None
    for _ in range(QUEUE_LIMIT + 5):
        relay.from_switch(("sip.out", connection.id, b"NOTIFY"))
    assert connection.overflowed
    assert connection.outgoing.get_nowait() is None  # the sender stops at once
    assert connection.outgoing.qsize() <= QUEUE_LIMIT


def test_the_switch_closing_a_connection_ends_its_sender() -> None:
    relay = SipRelay(lambda message: None)
    connection = relay.open("192.0.2.1", 1)
    assert connection is not None
    relay.from_switch(("sip.close", connection.id))
    assert connection.outgoing.get_nowait() is None and not connection.overflowed


# -- /ws on a real server ------------------------------------------------------------------


@dataclass
class EchoSwitch:
    """What the switch would get over the link; answers each message with its echo."""

    relay: SipRelay | None = None
    messages: list[tuple[object, ...]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def send(self, message: object) -> None:
        assert isinstance(message, tuple)
        with self.changed:
            self.messages.append(message)
            self.changed.notify_all()
        if message[0] == "sip.in" and self.relay is not None:
            data = message[2]
            assert isinstance(data, bytes)
            if data == b"close me":
                self.relay.from_switch(("sip.close", message[1]))
            else:
                self.relay.from_switch(("sip.out", message[1], b"echo " + data))

    def wait_for(self, wanted: tuple[object, ...], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while wanted not in self.messages:
                left = deadline - time.monotonic()
                assert left > 0, f"{wanted} never reached the switch: {self.messages}"
                self.changed.wait(left)

    def opened(self) -> list[tuple[object, ...]]:
        return [m for m in self.messages if m[0] == "sip.open"]


@dataclass
class Site:
    base: str
    switch: EchoSwitch

    @property
    def url(self) -> str:
        return self.base.replace("http://", "ws://", 1) + "/ws"

    @property
    def origin(self) -> str:
        return self.base


@contextmanager
def serve(store: Store, data: Path, relay_too: bool = True) -> Iterator[Site]:
    switch = EchoSwitch()
    relay = SipRelay(switch.send, max_per_source=3) if relay_too else None
    switch.relay = relay
    context = WebContext(store, data, sip_relay=relay)
    server = WebServer(context, listen("127.0.0.1", 0))
    loop = asyncio.new_event_loop()

    def run() -> None:
        async def main() -> None:
            server.start()
            assert server.task is not None
            await server.task

        loop.run_until_complete(main())

    thread = threading.Thread(target=run, name="web", daemon=True)
    thread.start()
    try:
        yield Site(server.address, switch)
    finally:
        server.server.force_exit = True
        loop.call_soon_threadsafe(setattr, server.server, "should_exit", True)
        thread.join(timeout=30)
        server.socket.close()
        loop.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    store = Store.open(tmp_path)
    with serve(store, tmp_path) as running:
        yield running
    store.close()


def sip_client(site: Site, **options: object) -> ClientConnection:
    options.setdefault("subprotocols", ["sip"])
    return connect(site.url, open_timeout=10, **options)  # type: ignore[arg-type]


def refused(site: Site, **options: object) -> int:
    with pytest.raises(InvalidStatus) as caught:
        sip_client(site, **options).close()
    return caught.value.response.status_code


def test_a_sip_message_crosses_both_ways_and_the_close_reaches_the_switch(site: Site) -> None:
    with sip_client(site) as client:
        assert client.subprotocol == "sip"
        client.send(OPTIONS.decode())  # a text frame
        assert client.recv(timeout=10) == "echo " + OPTIONS.decode()
        client.send(b"\x00binary\xff")  # a binary frame: relayed as it is
        assert client.recv(timeout=10) == b"echo \x00binary\xff"
        (opened,) = site.switch.opened()
        _, number, host, port, secure = opened
        assert (host, port, secure) == (*client.local_address[:2], False)
    site.switch.wait_for(("sip.closed", number))


def test_a_browser_page_of_this_site_and_a_client_without_origin_are_served(site: Site) -> None:
    with sip_client(site, origin=site.origin) as client:
        client.send("REGISTER")
        assert client.recv(timeout=10) == "echo REGISTER"
    with sip_client(site, origin=None) as client:
        client.send("OPTIONS")
        assert client.recv(timeout=10) == "echo OPTIONS"


def test_a_page_of_another_site_is_refused_cswsh(site: Site) -> None:
    assert refused(site, origin="https://evil.example") == 403
    assert refused(site, origin=site.origin.replace("127.0.0.1", "localhost")) == 403
    assert refused(site, origin="null") == 403
    assert site.switch.opened() == []  # nothing reached the switch


def test_only_the_sip_subprotocol_is_accepted(site: Site) -> None:
    assert refused(site, subprotocols=None) == 403
    assert refused(site, subprotocols=["chat"]) == 403
    with sip_client(site, subprotocols=["chat", "sip"]) as client:
        assert client.subprotocol == "sip"
    assert len(site.switch.opened()) == 1


def test_a_frame_too_big_closes_its_connection_only(site: Site) -> None:
    with sip_client(site) as other, sip_client(site) as big:
        big.send("X" * (MAX_FRAME + 1))
        with pytest.raises(ConnectionClosed) as closed:
            big.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        with sip_client(site) as huge:
            huge.send(b"X" * (4 * 1024 * 1024))  # past uvicorn's cap: not read whole
            with pytest.raises(ConnectionClosed):
                huge.recv(timeout=10)
        other.send("still here")
        assert other.recv(timeout=10) == "echo still here"
    assert not any(m[0] == "sip.in" and len(m[2]) > MAX_FRAME for m in site.switch.messages)  # type: ignore[arg-type]


def test_connections_over_the_cap_from_one_address_are_refused(site: Site) -> None:
    with contextlib.ExitStack() as stack:
        for _ in range(3):  # the fixture's cap per source
            stack.enter_context(sip_client(site))
        assert refused(site) == 403
    with sip_client(site) as client:  # room again once they closed
        client.send("OPTIONS")
        assert client.recv(timeout=10) == "echo OPTIONS"


def test_the_switch_closes_a_connection(site: Site) -> None:
    with sip_client(site) as client:
        client.send("close me")
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


def test_without_a_switch_every_connection_is_refused(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        with serve(store, tmp_path, relay_too=False) as site:
            assert refused(site) == 403
    finally:
        store.close()
