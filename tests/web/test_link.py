"""web/link.py, SIP over WebSocket's part (P2, U1): the web's relay (web/sip_ws.py) and the
switch's transport (transport/ws.py) joined by the real link over a Unix socket pair, in
one loop: a connection opened, a message each way, a close, and a link that goes away."""

from __future__ import annotations

import asyncio
import socket

from vaxel.bus import Bus
from vaxel.transport.base import Local, Source
from vaxel.transport.ws import WsTransport
from vaxel.web.link import SwitchEnd, WebEnd
from vaxel.web.sip_ws import SipRelay

OPTIONS = b"OPTIONS sip:acme.example SIP/2.0\r\n\r\n"


async def until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, condition
        await asyncio.sleep(0.005)


async def linked_flow() -> None:
    received: list[tuple[bytes, Source]] = []
    failed: list[Source] = []
    transport = WsTransport(
        lambda data, source, local: received.append((data, source)),
        Local("WS", "127.0.0.1", 8080),
        closed=failed.append,
    )
    switch = SwitchEnd(Bus(), changed=lambda: None, stats=dict, place_call=lambda *a: ("", ""),
                       sip=transport)  # fmt: skip
    transport.attach(switch.send)
    ours, theirs = socket.socketpair()
    switch_reader, switch_writer = await asyncio.open_unix_connection(sock=ours)
    web_reader, web_writer = await asyncio.open_unix_connection(sock=theirs)
    serving = asyncio.create_task(switch.serve(switch_reader, switch_writer))
    web = WebEnd(web_reader, web_writer)
    relay = SipRelay(web.send, drain=web_writer.drain)
    web.sip = relay.from_switch
    listening = asyncio.create_task(web.serve())

    tab = relay.open("192.0.2.7", 41000)
    assert tab is not None
    relay.received(tab, OPTIONS)
    await until(lambda: received)
    assert received == [(OPTIONS, Source("WS", "192.0.2.7", 41000))]

    assert transport.send(b"SIP/2.0 200 OK\r\n\r\n", Source("WS", "192.0.2.7", 41000))
    assert await asyncio.wait_for(tab.outgoing.get(), 5) == b"SIP/2.0 200 OK\r\n\r\n"

    relay.closed(tab)
    await until(lambda: failed)
    assert failed == [Source("WS", "192.0.2.7", 41000)]

    other = relay.open("192.0.2.8", 41001)
    assert other is not None
    await until(lambda: len(transport) == 1)
    web.close()  # the web process ends: its link closes
    await until(lambda: len(failed) == 2)
    assert failed[1] == Source("WS", "192.0.2.8", 41001)
    assert not transport.send(b"x", Source("WS", "192.0.2.8", 41001))
    await asyncio.wait_for(serving, 5)
    listening.cancel()


def test_the_link_carries_sip_both_ways_and_its_end_fails_every_flow() -> None:
    asyncio.run(linked_flow())
