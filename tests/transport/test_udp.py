"""transport/udp on a real loopback socket: datagrams in, answers out, the queue's depth."""

from __future__ import annotations

import asyncio
import socket

from vaxel.transport.base import Local, Source
from vaxel.transport.udp import UdpTransport

MESSAGE = b"OPTIONS sip:x.example SIP/2.0\r\n" + b"X: " + b"y" * 900 + b"\r\n\r\n"


def test_datagrams_are_handed_over_and_the_backlog_is_measured() -> None:
    async def run() -> None:
        received: list[tuple[bytes, Source, Local]] = []
        transport = await UdpTransport.listen(
            "127.0.0.1", 0, lambda d, s, loc: received.append((d, s, loc))
        )
        assert transport.local is not None
        idle = transport.backlog()
        assert idle is not None and idle.queued == 0
        assert idle.capacity >= 200_000  # the switch asks for 4 MB; the kernel may give less
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            for _ in range(50):  # the loop is not reading while this runs
                peer.sendto(MESSAGE, ("127.0.0.1", transport.local.port))
            waiting = transport.backlog()
            assert waiting is not None and waiting.queued >= 50 * len(MESSAGE)
            for _ in range(100):
                if len(received) == 50:
                    break
                await asyncio.sleep(0.01)
            assert len(received) == 50 and received[0][0] == MESSAGE
            drained = transport.backlog()
            assert drained is not None and drained.queued == 0
            answer = b"SIP/2.0 200 OK\r\n\r\n"
            assert transport.send(answer, received[0][1])
            peer.settimeout(2)
            assert peer.recv(100) == answer
        transport.close()

    asyncio.run(run())
