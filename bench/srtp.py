"""SRTP relay benchmark: the switch's CPU per call with SRTP on both legs, on one leg, and
plain RTP (P5, O2, O3).

In process, on one event loop (so on one core): N calls, each two real
`media.endpoint.Endpoint`s of a real `MediaEngine` bridged as the B2BUA bridges them, each
facing a "phone" socket on loopback. Every 20 ms every phone sends one 160-octet PCMA
packet (50 packets/s each way per call, as a G.711 call at 20 ms), so the switch reads,
relays and sends 100 packets/s per call. In "srtp" mode both legs have SDES keys of
their own (`AES_CM_128_HMAC_SHA1_80`): each packet is authenticated and decrypted with
the sending leg's key and encrypted with the other leg's, as between two SRTP phones; in
"sdes" mode only the first leg has keys (SRTP with one phone, plain RTP with the other: a
browser's call once DTLS has given the keys, what bench/rtpengine.py compares with
rtpengine); in "plain" mode it is only relayed. The phones' packets are made (and
encrypted, with libsrtp) before the run, so the generator costs only its `sendto`s.

What is counted is the switch's own work: the CPU time (`time.thread_time`) spent in the
endpoints' socket callbacks (`Endpoint.readable`: `recvfrom`, unprotect, strict source,
rewrite, protect, `sendto`), divided by the packets relayed: µs per packet; times 100
packets/s, the % of one core one call takes; and so how many calls one core relays.
Packets that failed authentication are counted (they must be none). It prints a table
and writes bench/results/srtp-<time>.json; it never passes or fails on time.

    .venv/bin/python bench/srtp.py [--calls 200] [--duration 10]
    .venv/bin/python bench/srtp.py --quick
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pylibsrtp import Policy, Session

import record
from vaxel import randomness
from vaxel.media import endpoint as endpoint_module
from vaxel.media.endpoint import Endpoint
from vaxel.media.engine import MediaEngine
from vaxel.rtp.packet import build
from vaxel.sip.sdp import Answer, Codec, Crypto, SrtpKeys, build_offer

HOST = "127.0.0.1"
MODES = ("plain", "sdes", "srtp")
SUITE = "AES_CM_128_HMAC_SHA1_80"
PCMA = Codec("PCMA", 8, 8000)
PTIME = 0.020
PACKETS_PER_CALL = 2 / PTIME  # both directions: 100 packets/s relayed per call
WARMUP = 0.5  # seconds before counting (the first packets latch, caches warm)


def _ignore_key(digit: str) -> None:
    pass


@dataclass
class Run:
    mode: str
    calls: int
    seconds: float
    relayed: int = 0  # packets the switch sent on, counted while measuring
    switch_cpu_s: float = 0.0  # CPU in the endpoints' callbacks while measuring
    srtp_dropped: int = 0

    @property
    def us_per_packet(self) -> float:
        return 1e6 * self.switch_cpu_s / self.relayed if self.relayed else float("nan")

    @property
    def core_percent_per_call(self) -> float:
        return self.us_per_packet * PACKETS_PER_CALL / 1e4

    @property
    def calls_per_core(self) -> int:
        per_call = self.core_percent_per_call
        return int(100 / per_call) if per_call == per_call and per_call > 0 else 0


class Phone:
    """One party's socket and the packets it will send, made (and encrypted) up front."""

    def __init__(self, count: int, *, srtp: bool) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 14)  # nobody reads
        self.sock.bind((HOST, 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.key = randomness.token_bytes(30)  # what it encrypts with
        self.switch_key = randomness.token_bytes(30)  # what the switch's leg encrypts with
        ssrc, payload = randomness.randbits(32), bytes(range(96, 256)) * 1
        packets = [build(8, i & 0xFFFF, 160 * i, ssrc, payload) for i in range(count)]
        if srtp:
            tx = Session(Policy(self.key, Policy.SSRC_ANY_OUTBOUND))
            packets = [tx.protect(bytes(p)) for p in packets]
        self.packets = packets

    def answer(self, *, srtp: bool) -> Answer:
        sdp = build_offer(address=HOST, port=self.port, session_id=1)
        answer = Answer(sdp, PCMA, 101, (HOST, self.port), (HOST, self.port + 1), "sendrecv")
        if srtp:
            answer.srtp = SrtpKeys(Crypto(1, SUITE, self.switch_key), Crypto(1, SUITE, self.key))
        return answer


def engine_ports(needed: int) -> tuple[int, int]:
    """A random range of `needed` ports and as many to spare (ports other processes hold
    are skipped, not an error), ending below the ephemeral ports the phones' sockets get.
    The switch sends its RTCP reports to a phone's port + 1: were that one of the switch's
    own endpoints, a plain leg's report would fail an SRTP leg's authentication there."""
    ephemeral = 32768
    with contextlib.suppress(OSError, ValueError, IndexError):
        ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    span = 2 * needed + 200
    low = 10000 + 2 * randomness.randbelow(max(1, (ephemeral - span - 10000) // 2))
    return low, low + span


def timed(callback: Callable[[], None], spent: list[float]) -> Callable[[], None]:
    """`callback`, adding the thread CPU time it takes to `spent[0]`."""
    clock = time.thread_time

    def counted() -> None:
        t0 = clock()
        callback()
        spent[0] += clock() - t0

    return counted


async def measure(mode: str, calls: int, duration: float) -> Run:
    """`calls` bridged calls relaying both ways for `duration` seconds (after a warm-up)."""
    loop = asyncio.get_running_loop()
    ticks = round((duration + WARMUP) / PTIME)
    engine = MediaEngine(HOST, engine_ports(4 * calls), clock=time.time, loop=loop)
    phones: list[Phone] = []
    endpoints: list[Endpoint] = []
    spent = [0.0]
    try:
        for _ in range(calls):
            pair = [engine.allocate(_ignore_key), engine.allocate(_ignore_key)]
            for leg, endpoint in enumerate(pair):
                srtp = mode == "srtp" or (mode == "sdes" and leg == 0)  # sdes: the first leg
                phone = Phone(ticks, srtp=srtp)
                endpoint.configure(phone.answer(srtp=srtp), sending=True)
                loop.remove_reader(endpoint.rtp.fileno())
                loop.add_reader(endpoint.rtp.fileno(), timed(endpoint.readable, spent))
                phones.append(phone)
                endpoints.append(endpoint)
            engine.connect(*pair)
        targets = [
            (p.sock.sendto, p.packets, (HOST, e.port))
            for p, e in zip(phones, endpoints, strict=True)
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
        run = Run(mode, calls, duration)
        run.relayed = sum(e.sent for e in endpoints) - counted_from
        run.switch_cpu_s = spent[0]
        run.srtp_dropped = sum(e.srtp_dropped for e in endpoints)
        return run
    finally:
        for phone in phones:
            phone.sock.close()
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
    work = Path(tempfile.mkdtemp(prefix="vaxel-srtp-"))
    runs: list[Run] = []
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
        print(
            record.table(
                (
                    "legs",
                    "calls",
                    "packets relayed",
                    "µs/packet",
                    "% core/call",
                    "calls/core",
                    "failed auth",
                ),
                [
                    (
                        r.mode,
                        r.calls,
                        r.relayed,
                        f"{r.us_per_packet:.1f}",
                        f"{r.core_percent_per_call:.3f}",
                        r.calls_per_core,
                        r.srtp_dropped,
                    )
                    for r in runs
                ],
            )
        )
        plain = next((r for r in runs if r.mode == "plain" and r.relayed), None)
        for r in runs:
            if plain is not None and r.mode != "plain" and r.relayed:
                legs = "both legs" if r.mode == "srtp" else "one leg (sdes)"
                print(f"\nSRTP on {legs} costs {r.us_per_packet / plain.us_per_packet:.2f}"
                      " times the CPU of plain RTP per packet", end="")  # fmt: skip
        print()
        path = record.write(
            "srtp",
            started=started,
            options={**vars(args), "warmup_s": WARMUP, "suite": SUITE},
            results={
                "method": "in process; real endpoints over loopback; CPU of the endpoints' "
                "socket callbacks per packet relayed",
                "compiled_in_use": compiled,
                "runs": [
                    {
                        **r.__dict__,
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
