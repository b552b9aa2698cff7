"""rtpengine against Vaxel's in-process media path: the CPU a browser call's media costs (P5, O2).

Once a WebRTC call's DTLS handshake is done, its per-packet work is SRTP on the browser's
leg and plain G.711 RTP on the other: what an SDES-SRTP leg bridged to a plain leg costs.
This script measures exactly that, with the same load, on two relays:

- **rtpengine** (Debian's `rtpengine-daemon`), user-space forwarding only (`--table=-1`:
  no kernel module here), a fresh one per step, on loopback in the foreground with an ng
  port and a media port range of its own, its log in the run's temp folder. Each call is
  set up over the ng control protocol (bencoded dictionaries over UDP): an `offer` with
  leg A's SDP (RTP/SAVP, one SDES `a=crypto` line) and `transport-protocol` RTP/AVP, so
  leg B is offered plain RTP; then an `answer` with leg B's plain SDP, which rtpengine
  turns into an RTP/SAVP answer for A with a key of its own. So rtpengine decrypts what A
  sends and encrypts what goes to A. `delete` ends each call after the step.
- **vaxel**: the switch's own media path, `media.engine.MediaEngine` with two bridged
  `media.endpoint.Endpoint`s per call (as the B2BUA bridges them), the A-facing one with
  SDES keys (`AES_CM_128_HMAC_SHA1_80`), the B-facing one plain, in a process of its own
  (forked from this one, a fresh one per step) on one asyncio event loop,
  pylibsrtp/libsrtp doing the SRTP.

Both get the same load: N calls, each with a phone A (SRTP) and a phone B (plain RTP)
that send one 160-octet PCMA packet every 20 ms each way (100 packets/s relayed per call).
The packets are made, and A's SRTP-protected with pylibsrtp, before the run; a sender
process sends them, a tenth of the streams every 2 ms, and a receiver process counts what
arrives: B checks each payload is A's, A unprotects each packet with the relay's key (from
its SDP answer) and checks it carries B's payload; RTCP (Vaxel's reports every 5 s, sent
to a phone's port + 1, which may be another phone's socket) is counted apart. Neither is
the measured process.

The relay's CPU is its user + system time from `/proc/PID/stat` (all its threads) over
the measured window (after a warm-up), divided by the packets that arrived in that window:
µs per packet; times 100 packets/s, the share of one core a call takes; so the calls one
core carries. For Vaxel the CPU spent in the endpoints' socket callbacks alone (what
`bench/srtp.py` counts in its `sdes` mode) is reported beside the whole process's. It
prints a table side by side and writes bench/results/rtpengine-<time>.json; it never
passes or fails on time.

    .venv/bin/python bench/rtpengine.py [--calls 100,200,400] [--duration 10]
    .venv/bin/python bench/rtpengine.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import multiprocessing
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pylibsrtp import Error as SrtpError
from pylibsrtp import Policy, Session

import record
from register_rate import HOST, Supervisor, free_port, session_cpu_seconds
from srtp import PCMA, SUITE, engine_ports, timed
from vaxel import randomness
from vaxel.media import endpoint as endpoint_module
from vaxel.media.engine import MediaEngine
from vaxel.rtp.packet import build
from vaxel.sip.sdp import Answer, Crypto, SrtpKeys, build_offer

TARGETS = ("rtpengine", "vaxel")
STEPS = (100, 200, 400)
QUICK_STEPS = (50,)
PTIME = 0.020
PACKETS_PER_CALL = 2 / PTIME  # both directions: 100 packets/s relayed per call
SLOTS = 10  # the sender's wake-ups per 20 ms, each sending a tenth of the streams
WARMUP = 1.0  # seconds of traffic before the window is measured
DRAIN = 0.3  # seconds the receiver keeps reading after the last packet was sent
KEY_OCTETS = 30  # AES_CM_128_HMAC_SHA1_80: 16 octets of key and 14 of salt
A_PAYLOAD = bytes(range(96, 256))  # 160 octets: what phone A sends (B must get it)
B_PAYLOAD = bytes(range(160))  # what phone B sends (A must get it)
RTPENGINE = "rtpengine"


# -- bencode (the ng protocol's encoding) --------------------------------------------------


def bencode(value: object) -> bytes:
    """Bencode a dict / list / str / bytes / int, keys in order (rtpengine does not care)."""
    if isinstance(value, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list | tuple):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


def bdecode(data: bytes) -> Any:
    """The value bencoded in `data` (byte strings as str where they are UTF-8); ValueError
    when it is not exactly one bencoded value."""
    value, end = _bdecode(data, 0)
    if end != len(data):
        raise ValueError("trailing data after the bencoded value")
    return value


def _bdecode(data: bytes, at: int) -> tuple[Any, int]:
    try:
        kind = data[at : at + 1]
        if kind == b"i":
            end = data.index(b"e", at)
            return int(data[at + 1 : end]), end + 1
        if kind in (b"l", b"d"):
            items: list[Any] = []
            at += 1
            while data[at : at + 1] != b"e":
                item, at = _bdecode(data, at)
                items.append(item)
            if kind == b"l":
                return items, at + 1
            return dict(zip(items[::2], items[1::2], strict=True)), at + 1
        colon = data.index(b":", at)
        length = int(data[at:colon])
        raw = data[colon + 1 : colon + 1 + length]
        if len(raw) != length:
            raise ValueError("a byte string runs past the end")
        try:
            return raw.decode(), colon + 1 + length
        except UnicodeDecodeError:
            return raw, colon + 1 + length
    except (IndexError, ValueError) as error:
        raise ValueError(f"not bencode at octet {at}: {error}") from None


class NgError(Exception):
    """rtpengine answered an ng command with an error, or did not answer."""


class Ng:
    """An ng control protocol client over UDP: `cookie dictionary` each way."""

    def __init__(self, port: int, timeout: float = 2.0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect((HOST, port))
        self.sock.settimeout(timeout)
        self._serial = 0
        self._prefix = randomness.token_hex(4)

    def __call__(self, command: str, **keys: object) -> dict[str, Any]:
        """Send `command` with `keys` (underscores as hyphens); the reply, retransmitted up
        to three times (rtpengine answers a repeated cookie from its cache)."""
        self._serial += 1
        cookie = f"{self._prefix}_{self._serial}"
        body = {"command": command, **{k.replace("_", "-"): v for k, v in keys.items()}}
        message = cookie.encode() + b" " + bencode(body)
        for _ in range(3):
            self.sock.send(message)
            try:
                while True:
                    reply = self.sock.recv(65536)
                    got, _, rest = reply.partition(b" ")
                    if got.decode(errors="replace") == cookie:
                        break  # an older cookie's late reply is skipped
            except TimeoutError:
                continue
            answer = bdecode(rest)
            if not isinstance(answer, dict):
                raise NgError(f"{command}: not a dictionary: {answer!r}")
            if answer.get("result") == "error":
                raise NgError(f"{command}: {answer.get('error-reason', answer)}")
            return answer
        raise NgError(f"{command}: no answer from rtpengine on port {self.sock.getpeername()}")

    def close(self) -> None:
        self.sock.close()


# -- SDP, as much as the calls need --------------------------------------------------------


def sdp(port: int, session: int, *, key: bytes | None) -> str:
    """A phone's audio offer or answer: PCMA at 20 ms on `port`, RTP/SAVP with one SDES
    crypto line when `key` is given, RTP/AVP otherwise."""
    lines = [
        "v=0",
        f"o=- {session} 1 IN IP4 {HOST}",
        "s=-",
        f"c=IN IP4 {HOST}",
        "t=0 0",
        f"m=audio {port} {'RTP/SAVP' if key else 'RTP/AVP'} 8",
        "a=rtpmap:8 PCMA/8000",
        "a=ptime:20",
        "a=sendrecv",
    ]
    if key:
        lines.append(f"a=crypto:1 {SUITE} inline:{base64.b64encode(key).decode()}")
    return "\r\n".join(lines) + "\r\n"


def media_port(body: str) -> int:
    """The audio port of an SDP body from rtpengine; ValueError when it has none."""
    found = re.search(r"^m=audio (\d+) ", body, re.M)
    if found is None or found.group(1) == "0":
        raise ValueError(f"no audio port in rtpengine's SDP: {body!r}")
    return int(found.group(1))


def sdes_key(body: str) -> bytes:
    """The master key and salt of the AES_CM_128_HMAC_SHA1_80 crypto line in `body` (no
    MKI: the receiver's libsrtp session has none)."""
    found = re.search(rf"^a=crypto:\d+ {SUITE} inline:([A-Za-z0-9+/=]+)(\|\S+)?", body, re.M)
    if found is None:
        raise ValueError(f"no {SUITE} crypto line in rtpengine's answer: {body!r}")
    if found.group(2) and ":" in found.group(2):
        raise ValueError(f"rtpengine's key has an MKI, not supported here: {found.group(0)}")
    key = base64.b64decode(found.group(1))
    if len(key) != KEY_OCTETS:
        raise ValueError(f"rtpengine's key has {len(key)} octets, not {KEY_OCTETS}")
    return key


# -- the phones and the load generator -----------------------------------------------------


@dataclass
class Call:
    """One call's two phones: A speaks SRTP with the relay, B plain RTP."""

    a: socket.socket
    b: socket.socket
    a_key: bytes  # what A protects its packets with
    relay_a: int = 0  # the relay's port facing A (where A sends)
    relay_b: int = 0  # the relay's port facing B
    relay_key: bytes = b""  # what the relay protects its packets to A with

    @classmethod
    def make(cls) -> Call:
        a, b = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
        for sock in (a, b):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
            sock.bind((HOST, 0))
            sock.setblocking(False)
        return cls(a, b, randomness.token_bytes(KEY_OCTETS))

    @property
    def a_port(self) -> int:
        return int(self.a.getsockname()[1])

    @property
    def b_port(self) -> int:
        return int(self.b.getsockname()[1])

    def close(self) -> None:
        self.a.close()
        self.b.close()


Flow = tuple[socket.socket, list[bytes], int, bool]  # a phone, its packets, where to, is A


def streams(calls: Sequence[Call], ticks: int) -> list[Flow]:
    """Every phone's packets for `ticks` 20 ms ticks, made (A's SRTP-protected) up front,
    with its socket and the relay port it sends to."""
    made = []
    for call in calls:
        for sock, payload, port, key in (
            (call.a, A_PAYLOAD, call.relay_a, call.a_key),
            (call.b, B_PAYLOAD, call.relay_b, None),
        ):
            ssrc = randomness.randbits(32)
            packets = [bytes(build(8, i & 0xFFFF, 160 * i, ssrc, payload)) for i in range(ticks)]
            if key is not None:
                session = Session(Policy(key, Policy.SSRC_ANY_OUTBOUND))
                packets = [session.protect(p) for p in packets]
            made.append((sock, packets, port, key is not None))
    return made


# Counters the generator's two processes share with this one (a RawArray, no locks: each
# slot has one writer).
SENT_A, SENT_B, GOT_AT_B, GOT_AT_A, BAD_AT_B, BAD_AT_A, LATE_P99_US, STARTED_NS, RTCP = range(9)


def send(counters: Any, flows: list[Flow], ticks: int) -> None:
    """The sender process: every 2 ms a tenth of the streams send their packet of the tick
    (unsynchronised phones, not one burst per 20 ms). Notes its lateness (p99)."""
    groups = [flows[slot::SLOTS] for slot in range(SLOTS)]
    late: list[float] = []
    sent = [0, 0]  # by B, by A
    start = time.monotonic() + 0.05
    counters[STARTED_NS] = int(start * 1e9)
    for tick in range(ticks):
        for slot, group in enumerate(groups):
            due = start + tick * PTIME + slot * PTIME / SLOTS
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            late.append(time.monotonic() - due)
            for sock, packets, port, from_a in group:
                try:
                    sock.sendto(packets[tick], (HOST, port))
                except OSError:  # a full socket buffer: the packet is lost
                    continue
                sent[from_a] += 1
        counters[SENT_B], counters[SENT_A] = sent
    late.sort()
    counters[LATE_P99_US] = int(1e6 * late[int(0.99 * (len(late) - 1))]) if late else 0


def receive(counters: Any, calls: Sequence[Call], stop: int) -> None:
    """The receiver process: reads every phone's socket on epoll until `stop` (a pipe's
    read end) becomes readable, checking each packet's payload, A's after unprotecting it
    with the relay's key. The counts go to `counters` after each pass."""
    poll = select.epoll()
    poll.register(stop, select.EPOLLIN)
    handlers: dict[int, tuple[socket.socket, Session | None]] = {}
    for call in calls:
        inbound = Session(Policy(call.relay_key, Policy.SSRC_ANY_INBOUND))
        handlers[call.a.fileno()] = (call.a, inbound)
        handlers[call.b.fileno()] = (call.b, None)
        poll.register(call.a.fileno(), select.EPOLLIN)
        poll.register(call.b.fileno(), select.EPOLLIN)
    got_b = got_a = bad_b = bad_a = rtcp = 0
    while True:
        events = poll.poll(0.1)
        for fd, _ in events:
            if fd == stop:
                poll.close()
                return
            sock, session = handlers[fd]
            while True:
                try:
                    data = sock.recv(2048)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    continue  # an ICMP error for an earlier packet
                if len(data) > 1 and 192 <= data[1] <= 223:
                    # RTCP (told apart as RFC 5761 section 4 does): a relay's report for a
                    # phone whose RTCP port (its RTP port + 1) is another phone's RTP socket.
                    rtcp += 1
                    continue
                if session is None:
                    if data[12:] == A_PAYLOAD:
                        got_b += 1
                    else:
                        bad_b += 1
                    continue
                try:
                    plain = session.unprotect(data)
                except SrtpError:
                    bad_a += 1
                    continue
                if plain[12:] == B_PAYLOAD:
                    got_a += 1
                else:
                    bad_a += 1
        counters[GOT_AT_B], counters[GOT_AT_A] = got_b, got_a
        counters[BAD_AT_B], counters[BAD_AT_A], counters[RTCP] = bad_b, bad_a, rtcp


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (all its threads) so far; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read()
    except OSError:
        return 0.0
    fields = text[text.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the two relays ------------------------------------------------------------------------


class Relay:
    """A relay under test: set up the calls' media, tell its CPU, tear down."""

    name = ""
    pid = 0  # its session: every process of the relay

    def setup(self, calls: Sequence[Call]) -> None:
        raise NotImplementedError

    def callback_cpu(self) -> float | None:
        """CPU in the media callbacks alone, where the relay can tell (Vaxel)."""
        return None

    def teardown(self, calls: Sequence[Call]) -> dict[str, int]:
        return {}

    def close(self) -> None:
        raise NotImplementedError

    def cpu(self) -> float:
        return session_cpu_seconds(self.pid)


class Rtpengine(Relay):
    """rtpengine in the foreground on loopback: its own ng port and media ports, user-space
    forwarding only (`--table=-1`), no config file, its log in `work`."""

    name = "rtpengine"

    def __init__(self, sup: Supervisor, work: Path, calls: int, binary: str) -> None:
        self.sup = sup
        ng_port = free_port()
        # 4 ports a call (RTP and RTCP on two legs), below the ephemeral ports the phones use.
        low, high = engine_ports(4 * calls)
        self.log = work / f"rtpengine-{calls}.log"
        command = [
            binary,
            "--config-file=none",
            "--table=-1",
            "--foreground",
            "--log-stderr",
            "--log-level=5",
            f"--interface={HOST}",
            f"--listen-ng={HOST}:{ng_port}",
            f"--port-min={low}",
            f"--port-max={high}",
            "--delete-delay=0",
            "--timeout=60",
        ]
        with open(self.log, "wb") as log:
            self.proc = sup.start(command, stdout=log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        self.ng = Ng(ng_port, timeout=0.5)
        deadline = time.monotonic() + 15
        while True:  # ready when it answers a ping
            if self.proc.poll() is not None:
                raise NgError(f"rtpengine exited with {self.proc.returncode}: see {self.log}")
            try:
                if self.ng("ping").get("result") == "pong":
                    break
            except (NgError, OSError):
                if time.monotonic() > deadline:
                    raise NgError(f"rtpengine did not answer ng ping: see {self.log}") from None
        self.ng.sock.settimeout(2.0)
        self.tag = randomness.token_hex(4)

    def setup(self, calls: Sequence[Call]) -> None:
        for i, call in enumerate(calls):
            call_id = f"bench-{self.tag}-{i}"
            offer = self.ng(
                "offer",
                call_id=call_id,
                from_tag=f"a{i}",
                sdp=sdp(call.a_port, i, key=call.a_key),
                transport_protocol="RTP/AVP",  # leg B: plain RTP
            )
            call.relay_b = media_port(offer["sdp"])
            answer = self.ng(
                "answer",
                call_id=call_id,
                from_tag=f"a{i}",
                to_tag=f"b{i}",
                sdp=sdp(call.b_port, i, key=None),
            )  # rtpengine answers A with RTP/SAVP as offered, and a key of its own
            call.relay_a = media_port(answer["sdp"])
            call.relay_key = sdes_key(answer["sdp"])

    def teardown(self, calls: Sequence[Call]) -> dict[str, int]:
        for i in range(len(calls)):
            self.ng("delete", call_id=f"bench-{self.tag}-{i}", from_tag=f"a{i}", flags=["fast"])
        return {}

    def close(self) -> None:
        self.ng.close()
        self.sup.stop(self.proc)


def _vaxel_relay(conn: Connection) -> None:
    """The Vaxel process (forked): bridged endpoint pairs of a real MediaEngine, A-facing
    with SDES keys, B-facing plain; answers "sample" and "stop" over `conn`."""
    os.setsid()  # a session of its own, so its CPU is read as rtpengine's is
    asyncio.run(_vaxel_serve(conn))


async def _vaxel_serve(conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    wanted: list[tuple[int, bytes, int]] = conn.recv()
    engine = MediaEngine(HOST, engine_ports(4 * len(wanted)), clock=time.time, loop=loop)
    spent = [0.0]
    endpoints = []
    replies = []
    for a_port, a_key, b_port in wanted:
        pair = [engine.allocate(_no_key), engine.allocate(_no_key)]
        switch_key = randomness.token_bytes(KEY_OCTETS)
        for endpoint, port, keys in (
            (pair[0], a_port, SrtpKeys(Crypto(1, SUITE, switch_key), Crypto(1, SUITE, a_key))),
            (pair[1], b_port, None),
        ):
            offer = build_offer(address=HOST, port=port, session_id=1)
            answer = Answer(offer, PCMA, 101, (HOST, port), (HOST, port + 1), "sendrecv")
            answer.srtp = keys
            endpoint.configure(answer, sending=True)
            loop.remove_reader(endpoint.rtp.fileno())
            loop.add_reader(endpoint.rtp.fileno(), timed(endpoint.readable, spent))
            endpoints.append(endpoint)
        engine.connect(*pair)
        replies.append((pair[0].port, pair[1].port, switch_key))
    gc.collect()
    done = loop.create_future()

    def on_message() -> None:
        message = conn.recv()
        if message == "sample":
            conn.send(spent[0])
        else:
            conn.send({"srtp_dropped": sum(e.srtp_dropped for e in endpoints)})
            if not done.done():
                done.set_result(None)

    conn.send(replies)
    loop.add_reader(conn.fileno(), on_message)
    try:
        await done
    finally:
        loop.remove_reader(conn.fileno())
        engine.close()


def _no_key(digit: str) -> None:
    pass


class Vaxel(Relay):
    """Vaxel's media engine in a process of its own, forked from this one."""

    name = "vaxel"

    def __init__(self) -> None:
        self.conn, child = multiprocessing.get_context("fork").Pipe()
        self.proc = multiprocessing.get_context("fork").Process(
            target=_vaxel_relay, args=(child,), daemon=True
        )
        self.proc.start()
        child.close()
        self.pid = self.proc.pid or 0

    def _ask(self, message: object, patience: float = 60.0) -> Any:
        self.conn.send(message)
        if not self.conn.poll(patience):
            raise NgError(f"the Vaxel relay did not answer {message!r}")
        return self.conn.recv()

    def setup(self, calls: Sequence[Call]) -> None:
        ports = self._ask([(c.a_port, c.a_key, c.b_port) for c in calls])
        for call, (relay_a, relay_b, key) in zip(calls, ports, strict=True):
            call.relay_a, call.relay_b, call.relay_key = relay_a, relay_b, key

    def callback_cpu(self) -> float | None:
        return float(self._ask("sample"))

    def teardown(self, calls: Sequence[Call]) -> dict[str, int]:
        return dict(self._ask("stop"))

    def close(self) -> None:
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
        self.conn.close()


# -- a step --------------------------------------------------------------------------------


@dataclass
class Step:
    relay: str
    calls: int
    seconds: float  # the measured window
    sent_a: int = 0  # packets phone A sent (SRTP), all phones, whole run
    sent_b: int = 0
    got_at_b: int = 0  # of A's, arrived at B as plain RTP with A's payload
    got_at_a: int = 0  # of B's, arrived at A and decrypted to B's payload
    bad_at_b: int = 0  # arrived but wrong (B: not A's payload; A: failed to decrypt)
    bad_at_a: int = 0
    rtcp: int = 0  # RTCP reports that reached a phone's RTP socket (not counted as media)
    window_packets: int = 0  # arrived (both ways) within the measured window
    relay_cpu_s: float = 0.0  # the relay's whole process over the window
    callback_cpu_s: float | None = None  # Vaxel: its endpoints' socket callbacks alone
    generator_cpu_s: float = 0.0  # the sender's and receiver's, over the window
    late_p99_ms: float = 0.0  # the sender's wake-ups behind schedule
    extra: dict[str, int] = field(default_factory=dict)

    def us_per_packet(self, cpu: float | None = None) -> float:
        cpu = self.relay_cpu_s if cpu is None else cpu
        return 1e6 * cpu / self.window_packets if self.window_packets else float("nan")

    def core_percent_per_call(self, cpu: float | None = None) -> float:
        return self.us_per_packet(cpu) * PACKETS_PER_CALL / 1e4

    def calls_per_core(self, cpu: float | None = None) -> int:
        per_call = self.core_percent_per_call(cpu)
        return int(100 / per_call) if per_call == per_call and per_call > 0 else 0

    @property
    def loss_a_to_b(self) -> float:
        return 100 * (1 - self.got_at_b / self.sent_a) if self.sent_a else float("nan")

    @property
    def loss_b_to_a(self) -> float:
        return 100 * (1 - self.got_at_a / self.sent_b) if self.sent_b else float("nan")


def _wait(until: float) -> None:
    pause = until - time.monotonic()
    if pause > 0:
        time.sleep(pause)


def measure(
    relay_name: str,
    calls: int,
    duration: float,
    work: Path,
    sup: Supervisor,
    binary: str = RTPENGINE,
) -> Step:
    """`calls` calls through a fresh relay, media both ways for the warm-up and `duration`
    seconds; the relay's CPU over the window after the warm-up."""
    phones = [Call.make() for _ in range(calls)]
    fork = multiprocessing.get_context("fork")
    relay: Relay | None = None
    workers: list[Any] = []
    stop_read, stop_write = os.pipe()
    try:
        relay = Rtpengine(sup, work, calls, binary) if relay_name == "rtpengine" else Vaxel()
        relay.setup(phones)
        ticks = round((WARMUP + duration) / PTIME) + 1
        flows = streams(phones, ticks)
        counters = multiprocessing.RawArray("q", 9)
        gc.collect()
        receiver = fork.Process(target=receive, args=(counters, phones, stop_read), daemon=True)
        receiver.start()
        sender = fork.Process(target=send, args=(counters, flows, ticks), daemon=True)
        sender.start()
        workers = [receiver, sender]
        del flows  # the sender has its copy
        deadline = time.monotonic() + 10
        while not counters[STARTED_NS] and time.monotonic() < deadline:
            time.sleep(0.01)
        if not counters[STARTED_NS]:
            raise NgError("the sender did not start")
        begin = counters[STARTED_NS] / 1e9 + WARMUP
        _wait(begin)

        def sample() -> tuple[float | None, float, int, float, float]:
            """The relay's callback CPU (asked first: a busy loop answers late), then at
            one instant its process CPU, the packets arrived, the generator's CPU."""
            assert relay is not None
            callbacks = relay.callback_cpu()
            cpu, got = relay.cpu(), counters[GOT_AT_A] + counters[GOT_AT_B]
            generator = sum(process_cpu_seconds(w.pid) for w in workers)
            return callbacks, cpu, got, generator, time.monotonic()

        callbacks0, cpu0, got0, gen0, t0 = sample()
        _wait(begin + duration)
        callbacks1, cpu1, got1, gen1, t1 = sample()
        step = Step(relay.name, calls, t1 - t0)
        step.relay_cpu_s = cpu1 - cpu0
        if callbacks0 is not None and callbacks1 is not None:
            step.callback_cpu_s = callbacks1 - callbacks0
        step.window_packets = got1 - got0
        step.generator_cpu_s = gen1 - gen0
        sender.join(duration + 30)
        time.sleep(DRAIN)  # the last packets arrive
        os.write(stop_write, b".")
        receiver.join(10)
        step.sent_a, step.sent_b = counters[SENT_A], counters[SENT_B]
        step.got_at_a, step.got_at_b = counters[GOT_AT_A], counters[GOT_AT_B]
        step.bad_at_a, step.bad_at_b = counters[BAD_AT_A], counters[BAD_AT_B]
        step.late_p99_ms = counters[LATE_P99_US] / 1000
        step.rtcp = counters[RTCP]
        step.extra = relay.teardown(phones)
        return step
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join(5)
        if relay is not None:
            relay.close()
        for phone in phones:
            phone.close()
        os.close(stop_read)
        os.close(stop_write)


# -- the run -------------------------------------------------------------------------------


def rtpengine_version(binary: str) -> str:
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return (done.stdout + done.stderr).strip().removeprefix("Version: ")


def step_record(step: Step) -> dict[str, Any]:
    figures: dict[str, Any] = {
        **step.__dict__,
        "us_per_packet": round(step.us_per_packet(), 2),
        "core_percent_per_call": round(step.core_percent_per_call(), 4),
        "calls_per_core": step.calls_per_core(),
        "loss_a_to_b_percent": round(step.loss_a_to_b, 4),
        "loss_b_to_a_percent": round(step.loss_b_to_a, 4),
    }
    if step.callback_cpu_s is not None:
        figures["callbacks_us_per_packet"] = round(step.us_per_packet(step.callback_cpu_s), 2)
        figures["callbacks_calls_per_core"] = step.calls_per_core(step.callback_cpu_s)
    return figures


def print_tables(steps: Sequence[Step]) -> None:
    print()
    print(
        record.table(
            (
                "relay",
                "calls",
                "packets in window",
                "µs/packet",
                "% core/call",
                "calls/core",
                "loss A→B",
                "loss B→A",
                "bad",
                "RTCP",
                "generator CPU",
                "sender late p99",
            ),
            [
                (
                    s.relay,
                    s.calls,
                    s.window_packets,
                    f"{s.us_per_packet():.1f}",
                    f"{s.core_percent_per_call():.3f}",
                    s.calls_per_core(),
                    f"{s.loss_a_to_b:.3f} %",
                    f"{s.loss_b_to_a:.3f} %",
                    s.bad_at_a + s.bad_at_b,
                    s.rtcp,
                    f"{100 * s.generator_cpu_s / s.seconds:.0f} %",
                    f"{s.late_p99_ms:.1f} ms",
                )
                for s in steps
            ],
        )
    )
    by_calls: dict[int, dict[str, Step]] = {}
    for s in steps:
        by_calls.setdefault(s.calls, {})[s.relay] = s
    rows = []
    for calls, found in by_calls.items():
        engine, vaxel = found.get("rtpengine"), found.get("vaxel")

        def cell(step: Step | None, cpu: float | None = None) -> str:
            if step is None:
                return "-"
            return f"{step.us_per_packet(cpu):.1f} µs, {step.calls_per_core(cpu)} calls"

        rows.append(
            (
                calls,
                cell(engine),
                cell(vaxel),
                cell(vaxel, vaxel.callback_cpu_s) if vaxel and vaxel.callback_cpu_s else "-",
            )
        )
    print("\nside by side: µs of CPU per packet relayed, and calls one core carries")
    print(
        record.table(
            ("calls", "rtpengine (process)", "vaxel (process)", "vaxel (callbacks only)"), rows
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default=",".join(map(str, STEPS)), help="steps: calls")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds a step")
    parser.add_argument("--relays", default=",".join(TARGETS), help="rtpengine,vaxel")
    parser.add_argument("--rtpengine", default=RTPENGINE, help="the rtpengine binary")
    parser.add_argument("--quick", action="store_true", help="50 calls for 3 s")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs)")
    args = parser.parse_args(argv)
    steps_wanted = [int(n) for n in args.calls.split(",") if n]
    relays = [r for r in args.relays.split(",") if r]
    if args.quick:
        steps_wanted, args.duration = list(QUICK_STEPS), 3.0
    if unknown := set(relays) - set(TARGETS):
        parser.error(f"unknown relay {', '.join(sorted(unknown))}: use {', '.join(TARGETS)}")
    if "rtpengine" in relays and not shutil.which(args.rtpengine):
        print(
            f"{args.rtpengine} not found: apt-get install -y --no-install-recommends "
            "rtpengine-daemon (or --relays vaxel)"
        )
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work = Path(tempfile.mkdtemp(prefix="vaxel-rtpengine-"))
    steps: list[Step] = []
    started = datetime.now(UTC)
    notes: list[str] = []
    version = rtpengine_version(args.rtpengine) if "rtpengine" in relays else ""
    compiled = not str(endpoint_module.__file__).endswith(".py")  # the mypyc build in use

    def run_all() -> None:
        print(
            f"steps {', '.join(map(str, steps_wanted))} calls, {args.duration:g} s measured "
            f"after {WARMUP:g} s; PCMA 20 ms both ways; leg A SDES-SRTP ({SUITE}), leg B "
            f"plain RTP; rtpengine {version or '-'} user space (--table=-1); Vaxel "
            f"{'compiled' if compiled else 'pure Python'}"
        )
        with Supervisor() as sup:
            for calls in steps_wanted:
                for relay in relays:  # interleaved: the machine's load moves between steps
                    step = measure(relay, calls, args.duration, work, sup, args.rtpengine)
                    steps.append(step)
                    print(
                        f"  {relay:9} {calls:4} calls: {step.us_per_packet():5.1f} µs/packet, "
                        f"{step.calls_per_core()} calls/core, loss "
                        f"{step.loss_a_to_b:.3f} / {step.loss_b_to_a:.3f} %, "
                        f"bad {step.bad_at_a + step.bad_at_b}",
                        flush=True,
                    )

    def report(interrupted: bool) -> None:
        print_tables(steps)
        path = record.write(
            "rtpengine",
            started=started,
            options={
                **vars(args),
                "warmup_s": WARMUP,
                "suite": SUITE,
                "packets_per_call_per_s": PACKETS_PER_CALL,
            },
            results={
                "method": "N calls, leg A SDES-SRTP, leg B plain RTP, PCMA 20 ms both ways "
                "from a separate sender process, checked by a separate receiver process; the "
                "relay's process CPU (/proc/PID/stat utime+stime, all threads) over the "
                "window divided by the packets that arrived in it",
                "rtpengine_flags": "--table=-1 (user space), --config-file=none, "
                "--log-level=5, default --num-threads",
                "vaxel_compiled_in_use": compiled,
                "notes": notes,
                "steps": [step_record(s) for s in steps],
            },
            peers={"rtpengine": version} if version else {},
            interrupted=interrupted,
        )
        print(f"\nwritten to {path.relative_to(record.ROOT)}")

    def failed(note: str) -> None:
        notes.append(note)
        report(False)

    return record.run(work, args.keep, run_all, report, failed, (OSError, NgError, ValueError))


if __name__ == "__main__":
    sys.exit(main())
