"""transport/tcp on a real loopback socket: framing, pings, idle and connection limits."""

from __future__ import annotations

import asyncio

from vaxel.transport.base import Local, Source
from vaxel.transport.tcp import TcpTransport

OPTIONS = (
    b"OPTIONS sip:x.example SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1\r\n"
    b"From: <sip:a@x.example>;tag=1\r\nTo: <sip:x.example>\r\nCall-ID: 1\r\n"
    b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


async def _serve(**kw: int) -> tuple[TcpTransport, list[tuple[bytes, Source, Local]]]:
    received: list[tuple[bytes, Source, Local]] = []
    transport = await TcpTransport.listen(
        "127.0.0.1", 0, lambda d, s, loc: received.append((d, s, loc)), **kw
    )
    return transport, received


def test_messages_split_across_segments_are_framed_and_answered() -> None:
    async def run() -> None:
        transport, received = await _serve()
        reader, writer = await asyncio.open_connection("127.0.0.1", transport.local.port)
        writer.write(OPTIONS[:30])
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(OPTIONS[30:] + OPTIONS)
        await writer.drain()
        for _ in range(50):
            if len(received) == 2:
                break
            await asyncio.sleep(0.01)
        assert [r[0] for r in received] == [OPTIONS, OPTIONS]
        answer = b"SIP/2.0 200 OK\r\n\r\n"
        assert transport.send(answer, received[0][1])
        assert await asyncio.wait_for(reader.readexactly(len(answer)), 2) == answer
        writer.write(b"\r\n\r\n")
        assert await asyncio.wait_for(reader.readexactly(2), 2) == b"\r\n"
        writer.close()
        transport.close()

    asyncio.run(run())


def test_idle_connections_are_closed_and_the_limit_holds() -> None:
    async def run() -> None:
        transport, _ = await _serve(max_connections=1)
        first = await asyncio.open_connection("127.0.0.1", transport.local.port)
        await asyncio.sleep(0.05)
        second = await asyncio.open_connection("127.0.0.1", transport.local.port)
        assert await asyncio.wait_for(second[0].read(), 2) == b""  # refused: over the limit
        assert len(transport.connections) == 1
        assert transport.close_idle(idle=0.0) == 1
        assert await asyncio.wait_for(first[0].read(), 2) == b""
        transport.close()

    asyncio.run(run())
