"""transport/tcp on a real loopback socket (P2, O2): framing, pings, idle and connection
limits, in all and per source address."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

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


async def _until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


# RFC 4475 §3.1.2.10: trailing spaces after SIP/2.0, otherwise a fine request.
TRAILING_SPACES = (
    b"OPTIONS sip:x.example SIP/2.0   \r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK2\r\n"
    b"From: <sip:a@x.example>;tag=1\r\nTo: <sip:x.example>\r\nCall-ID: 2\r\n"
    b"CSeq: 1 OPTIONS\r\nl : 0\r\n\r\n"
)


def test_a_malformed_request_that_is_well_framed_is_handed_on_and_the_flow_stays() -> None:
    """Only framing is judged on the stream: the switch gets the malformed request to answer
    (400), and the next message on the same connection is read as usual."""

    async def run() -> None:
        transport, received = await _serve()
        reader, writer = await asyncio.open_connection("127.0.0.1", transport.local.port)
        writer.write(TRAILING_SPACES + OPTIONS)
        await _until(lambda: len(received) == 2)
        assert [r[0] for r in received] == [TRAILING_SPACES, OPTIONS]
        answer = b"SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
        assert transport.send(answer, received[0][1])
        assert await asyncio.wait_for(reader.readexactly(len(answer)), 2) == answer
        writer.close()
        transport.close()

    asyncio.run(run())


def test_a_stream_that_cannot_be_framed_is_closed() -> None:
    async def run() -> None:
        transport, received = await _serve()
        for head in (b"Call-ID: x", b"Content-Length: 1\r\nContent-Length: 2", b"l: -1"):
            reader, writer = await asyncio.open_connection("127.0.0.1", transport.local.port)
            writer.write(b"OPTIONS sip:x.example SIP/2.0\r\n" + head + b"\r\n\r\n" + OPTIONS)
            assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()
        assert received == []
        transport.close()

    asyncio.run(run())


def test_connections_from_one_address_are_capped() -> None:
    async def run() -> None:
        transport, _ = await _serve(max_per_source=2)
        port = transport.local.port
        first = await asyncio.open_connection("127.0.0.1", port)
        second = await asyncio.open_connection("127.0.0.1", port)
        await _until(lambda: len(transport.connections) == 2)
        third = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(third[0].read(), 2) == b""  # closed at once
        # Another host is not held back by this one.
        other = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.2", 0))
        await _until(lambda: len(transport.connections) == 3)
        assert transport.per_host == {"127.0.0.1": 2, "127.0.0.2": 1}
        # A connection that ends makes room for the next one.
        first[1].close()
        await _until(lambda: transport.per_host.get("127.0.0.1") == 1)
        fourth = await asyncio.open_connection("127.0.0.1", port)
        await _until(lambda: len(transport.connections) == 3)
        for _reader, writer in (second, other, fourth):
            writer.close()
        transport.close()

    asyncio.run(run())
