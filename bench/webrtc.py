"""Browser calls benchmark: the switch's CPU per WebRTC call (DTLS-SRTP with the browser,
G.711 RTP with the phone) against a plain RTP call, in process (U1, P5, O2).

In process, on one event loop (so on one core): N calls, each two real
`media.endpoint.Endpoint`s of a real `MediaEngine` bridged as the B2BUA bridges them.
In "webrtc" mode leg A faces a "browser": for every call it first checks the switch's
candidate (a STUN Binding request with USE-CANDIDATE, keyed with the leg's ICE password)
and runs a DTLS handshake as the client with a certificate of its own (pyOpenSSL), as
Chromium does, and sends SRTP with the keys that handshake gave; leg B faces a plain
G.711 phone. In "plain" mode both legs are plain RTP phones. Then every 20 ms every
party sends one 160-octet PCMA packet (made, and encrypted with libsrtp, before the
run), so the switch relays 100 packets/s per call.

What is counted is the switch's own work (`time.thread_time` in the endpoints' socket
callbacks): per call set up, the CPU of answering the ICE check and of the switch's half
of the DTLS handshake (ms per call); per packet relayed (µs); and from it the share of a
core one call takes and how many calls one core relays. Packets that failed
authentication are counted (they must be none). It prints a table and writes
bench/results/webrtc-<time>.json; it never passes or fails on time.

    .venv/bin/python bench/webrtc.py [--calls 200] [--duration 10]
    .venv/bin/python bench/webrtc.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aioice import stun
from pylibsrtp import Policy, Session

import record
from srtp import HOST, PCMA, PTIME, WARMUP, Phone, Run, _ignore_key, engine_ports, timed
from vaxel import randomness
from vaxel.media import endpoint as endpoint_module
from vaxel.media.dtls import DtlsCertificate, DtlsHandshake
from vaxel.media.endpoint import Endpoint
from vaxel.media.engine import MediaEngine
from vaxel.rtp.packet import build
from vaxel.sip.sdp import Answer, IceDtls, WebRtcSession, build_offer

MODES = ("plain", "webrtc")


@dataclass
class WebRtcRun(Run):
    setup_cpu_s: float = 0.0  # the switch's CPU answering checks and handshaking, all calls

    @property
    def setup_ms_per_call(self) -> float:
        return 1e3 * self.setup_cpu_s / self.calls if self.calls else float("nan")


class Browser:
    """A browser's media socket: ICE, then DTLS as the client, then SRTP packets."""

    def __init__(self, certificate: DtlsCertificate) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.certificate = certificate
        self.packets: list[bytes] = []

    def answer(self, endpoint: Endpoint) -> Answer:
        local = endpoint.ice().with_setup("passive")
        remote = IceDtls("bnch", "browser-ice-password-0123", self.certificate.fingerprint)
        remote = remote.with_setup("active")
        sdp = build_offer(address=HOST, port=9, session_id=1)
        return Answer(sdp, PCMA, 101, (HOST, 9), (HOST, 9), "sendrecv",
                      webrtc=WebRtcSession(local, remote))  # fmt: skip

    async def connect(self, endpoint: Endpoint, count: int) -> None:
        """Check the switch's candidate, handshake, and make `count` SRTP packets."""
        local = endpoint.ice()
        request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
        request.attributes.update({"USERNAME": f"{local.ufrag}:bnch", "PRIORITY": 1,
                                   "ICE-CONTROLLING": 1, "USE-CANDIDATE": None})  # fmt: skip
        request.add_message_integrity(local.pwd.encode())
        self.sock.sendto(bytes(request), (HOST, endpoint.port))
        await self._receive()  # the switch's answer
        dtls = DtlsHandshake(self.certificate, server=False)
        outgoing = dtls.start()
        while not dtls.done:
            for datagram in outgoing:
                self.sock.sendto(datagram, (HOST, endpoint.port))
            outgoing = dtls.receive(await self._receive())
        for datagram in outgoing:
            self.sock.sendto(datagram, (HOST, endpoint.port))
        dtls.check(local.fingerprint)
        assert dtls.keys is not None
        tx = Session(Policy(dtls.keys[0].key, Policy.SSRC_ANY_OUTBOUND))
        ssrc, payload = randomness.randbits(32), bytes(range(96, 256))
        self.packets = [
            tx.protect(build(8, i & 0xFFFF, 160 * i, ssrc, payload)) for i in range(count)
        ]
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 14)  # nobody reads now

    async def _receive(self) -> bytes:
        self.sock.setblocking(False)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                return self.sock.recv(4096)
            except BlockingIOError:
                await asyncio.sleep(0.001)
        raise TimeoutError(f"the switch did not answer the browser on {self.port}")

    def close(self) -> None:
        self.sock.close()


async def measure(mode: str, calls: int, duration: float) -> WebRtcRun:
    """`calls` bridged calls relaying both ways for `duration` seconds (after a warm-up)."""
    loop = asyncio.get_running_loop()
    ticks = round((duration + WARMUP) / PTIME)
    engine = MediaEngine(HOST, engine_ports(4 * calls), clock=time.time, loop=loop)
    certificate = DtlsCertificate()  # the browsers' (one will do: the switch checks each)
    parties: list[Phone | Browser] = []
    endpoints: list[Endpoint] = []
    spent = [0.0]
    try:
        for _ in range(calls):
            pair = [engine.allocate(_ignore_key), engine.allocate(_ignore_key)]
            for index, endpoint in enumerate(pair):
                party: Phone | Browser
                if mode == "webrtc" and index == 0:
                    party = Browser(certificate)
                    endpoint.configure(party.answer(endpoint), sending=True)
                else:
                    party = Phone(ticks, srtp=False)
                    endpoint.configure(party.answer(srtp=False), sending=True)
                loop.remove_reader(endpoint.rtp.fileno())
                loop.add_reader(endpoint.rtp.fileno(), timed(endpoint.readable, spent))
                parties.append(party)
                endpoints.append(endpoint)
            engine.connect(*pair)
        for party, endpoint in zip(parties, endpoints, strict=True):
            if isinstance(party, Browser):
                await party.connect(endpoint, ticks)
        setup_cpu = spent[0]
        targets = [
            (p.sock.sendto, p.packets, (HOST, e.port))
            for p, e in zip(parties, endpoints, strict=True)
        ]
        gc.collect()
        start = time.monotonic()
        counted_from = 0
        for tick in range(ticks):
            if tick == round(WARMUP / PTIME):
                spent[0], counted_from = 0.0, sum(e.sent for e in endpoints)
            for sendto, packets, destination in targets:
                with contextlib.suppress(OSError):  # a full socket buffer: the packet is lost
                    sendto(packets[tick], destination)
            await asyncio.sleep(max(0.0, start + (tick + 1) * PTIME - time.monotonic()))
        await asyncio.sleep(0.1)  # the last packets are read
        run = WebRtcRun(mode, calls, duration)
        run.relayed = sum(e.sent for e in endpoints) - counted_from
        run.switch_cpu_s = spent[0]
        run.setup_cpu_s = setup_cpu
        run.srtp_dropped = sum(e.srtp_dropped for e in endpoints)
        return run
    finally:
        for party in parties:
            party.sock.close()
        engine.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="concurrent calls")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per mode")
    parser.add_argument("--quick", action="store_true", help="50 calls for 2 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.duration = 50, 2.0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work = Path(tempfile.mkdtemp(prefix="vaxel-webrtc-"))
    runs: list[WebRtcRun] = []
    started = datetime.now(UTC)
    compiled = not str(endpoint_module.__file__).endswith(".py")  # the mypyc build in use

    def run_all() -> None:
        print(
            f"{args.calls} calls for {args.duration:g} s per mode, in one process "
            f"({'compiled' if compiled else 'pure Python'}), PCMA 20 ms both ways"
        )
        for mode in MODES:
            runs.append(asyncio.run(measure(mode, args.calls, args.duration)))

    def report(interrupted: bool) -> None:
        print()
        headers = ("legs", "calls", "setup ms/call", "packets relayed", "µs/packet",
                   "% core/call", "calls/core", "failed auth")  # fmt: skip
        rows = [
            (
                "browser + phone" if r.mode == "webrtc" else "phone + phone",
                r.calls,
                f"{r.setup_ms_per_call:.2f}" if r.mode == "webrtc" else "-",
                r.relayed,
                f"{r.us_per_packet:.1f}",
                f"{r.core_percent_per_call:.3f}",
                r.calls_per_core,
                r.srtp_dropped,
            )
            for r in runs
        ]
        print(record.table(headers, rows))
        if len(runs) == 2 and runs[0].relayed and runs[1].relayed:
            ratio = runs[1].us_per_packet / runs[0].us_per_packet
            print(f"\nA browser call costs {ratio:.2f} times the CPU of a plain call per packet")
        path = record.write(
            "webrtc",
            started=started,
            options={**vars(args), "warmup_s": WARMUP},
            results={
                "method": "in process; real endpoints over loopback; a browser leg does ICE "
                "and DTLS then SRTP; CPU of the endpoints' socket callbacks",
                "compiled_in_use": compiled,
                "runs": [
                    {
                        **r.__dict__,
                        "setup_ms_per_call": round(r.setup_ms_per_call, 3),
                        "us_per_packet": round(r.us_per_packet, 2),
                        "core_percent_per_call": round(r.core_percent_per_call, 4),
                        "calls_per_core": r.calls_per_core,
                    }
                    for r in runs
                ],
            },
            interrupted=interrupted,
        )
        print(f"\nwritten to {path.relative_to(record.ROOT)}")

    def failed(note: str) -> None:
        pass

    return record.run(work, False, run_all, report, failed, (OSError,))


if __name__ == "__main__":
    sys.exit(main())
