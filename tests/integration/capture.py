"""What crosses the loopback interface, as a network tap would see it: UDP datagrams caught
with an AF_PACKET raw socket (Linux, root), for tests that check what is on the wire
rather than what the ends make of it (O2: SRTP media is not plain RTP)."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4  # each loopback packet shows twice: as sent and as received
LINK_HEADER = 14  # lo's (zero) Ethernet header


@dataclass(frozen=True)
class Datagram:
    source: tuple[str, int]
    destination: tuple[str, int]
    payload: bytes
    at: float = 0.0  # when it was caught (time.time())


class LoopbackCapture:
    """Keeps every UDP/IPv4 datagram on `lo` that `wanted` (source port, destination port)
    accepts, from `start()` to `stop()`."""

    def __init__(self, wanted: Callable[[int, int], bool]) -> None:
        self.wanted = wanted
        self.datagrams: list[Datagram] = []
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self._sock.bind(("lo", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> LoopbackCapture:
        self._thread.start()
        return self

    def stop(self) -> list[Datagram]:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()
        return self.datagrams

    def _run(self) -> None:
        sock = self._sock
        while not self._stop.is_set():
            ready, _, _ = select.select([sock], [], [], 0.05)
            while ready:
                try:
                    frame, address = sock.recvfrom(65535, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                if address[2] != PACKET_OUTGOING:
                    self._take(frame, time.time())

    def _take(self, frame: bytes, at: float) -> None:
        ip = frame[LINK_HEADER:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:  # IPv4, UDP
            return
        udp = ip[(ip[0] & 0x0F) * 4 :]
        sport, dport = int.from_bytes(udp[0:2], "big"), int.from_bytes(udp[2:4], "big")
        if not self.wanted(sport, dport):
            return
        length = int.from_bytes(udp[4:6], "big")
        self.datagrams.append(
            Datagram(
                (socket.inet_ntoa(ip[12:16]), sport),
                (socket.inet_ntoa(ip[16:20]), dport),
                bytes(udp[8:length]),
                at,
            )
        )
