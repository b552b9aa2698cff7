"""Queue benchmark (A5, A11): callers waiting on one core, an agent's next call, live figures.

On a real `vaxel serve` (a data folder in a temp dir; the company made with `vaxel config
apply`: one queue group "support" behind a main number, its one agent, a trunk on
loopback whose calls are the callers), three phases in one run:

1. **Waiting**: `--callers` (500) calls from the trunk join the queue; the switch answers
   each, says its place, plays music and every `--announce-every` seconds (10) the
   position and an announcement (a spoken prompt); each caller sends a packet of silence
   every 5 s (a phone with silence suppression: the switch hangs up a party silent for a
   minute). The switch is pinned with `taskset` to one CPU (`--core`); this script and
   its RTP receiver run on the others. Over a window
   of `--seconds` (30) the receiver stamps every RTP packet at each caller's socket with
   the kernel's receive time (SO_TIMESTAMPNS, so the receiver's own scheduling adds
   nothing) and counts the deviation of each packet's inter-arrival time from 20 ms:
   over the whole window, and around announcements only (from 0.2 s before each
   caller's announcement timer to `--announce-span` s after it: the switch from music to
   speech and the first seconds of it). Also the switch's CPU over the window (its main
   process, all threads; % of one core), what else ran on its core meanwhile (on a
   shared machine other work there delays the switch's 20 ms clock: read the jitter with
   it, and how long the switch's loop waited for it), packets missing (never received:
   those not lost on the way were never sent, the clock skipped ticks), and lost on the
   way (a gap in the sequence numbers; the kernel dropped them at the callers' sockets
   when the receiver fell behind).
2. **Agent ringing**: the agent's phone (a small UA in this script) registers; the queue
   offers it the first caller; it answers (and sends a packet of silence every 0.5 s, as
   a phone sends audio), talks 1 to 4 s (at random: the wrap-up's end
   falls anywhere in the queue's 3 s cycle of retries) and hangs up; `--wrap-up` (5) s
   later its wrap-up ends and the next waiting caller's INVITE arrives. Measured: INVITE
   arrival (kernel stamp) minus the wrap-up's end, `--cycles` times, half of them with the
   wrap-up left to run out (its end: the BYE sent + the wrap-up; when the switch ended the
   call first, its BYE's arrival + the wrap-up) and half ended early with
   `POST /api/v1/me/wrap-up/end` 0.5 s after the BYE (its end: the request sent).
3. **Live figures**: the remaining callers hang up and the switch is let run on every
   CPU (the web's fan-out is not the one-core question); `--wallboards` (200) wallboards on
   `/wallboard/live` (a read-only wallboard token) and `--consoles` (200) clients of the
   events WebSocket `/api/v1/events` (an admin's read token) watch, in a process of
   their own, while callers join (`--churn` a second) and hang up after 3 s, and the
   agent pauses and unpauses every second (through the API). Measured: deliveries per
   second; for the consoles each queue.joined / queue.left / agent.paused event's latency
   (receipt minus the event's own time, the switch's clock = this machine's); for the
   wallboards the push latency (receipt minus the figures' build time) and the
   event-to-screen latency (for each join and hang-up, as this script saw it answered:
   the first figures built after it, received, minus its time).

It prints the figures next to the targets (500 callers on one core with announcement
jitter p99 under 5 ms; an agent's phone ringing within 200 ms of the wrap-up's end) and
writes every figure to bench/results/queue-<UTC>.json. It never passes or fails.

    .venv/bin/python bench/queue.py [--callers 500] [--seconds 30] [--cycles 10]
    .venv/bin/python bench/queue.py --realtime      # the switch SCHED_FIFO (root)
    .venv/bin/python bench/queue.py --phases agent  # one phase (or two, comma-separated)
    .venv/bin/python bench/queue.py --quick
"""

# ruff: noqa: E402 (the path is set before the imports: see below)

from __future__ import annotations

import sys
from pathlib import Path

# This file's name is also the standard library's `queue` (which multiprocessing, asyncio
# and httpx import): run as a script, bench/ would come first on the path and shadow it.
# bench/ goes last instead, where its neighbours (`record`, `media_relay`) are still found.
_BENCH = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if p not in ("", _BENCH)] + [_BENCH]

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import re
import secrets
import select
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

import record
from media_relay import Message, digest, parse, sdp, sdp_address
from register_rate import (
    DOMAIN,
    HOST,
    Server,
    Supervisor,
    free_port,
    launch,
    session_cpu_seconds,
    vaxel_command,
)

ADMIN_EXT, AGENT_EXT = "10000", "10001"
PASSWORDS = {ADMIN_EXT: "bench-admin-secret", AGENT_EXT: "bench-agent-secret"}
MAIN = "+46855500100"  # the queue's number
GROUP = "support"
RTP_PORTS = (10000, 29999)  # below the ephemeral range the callers' sockets come from
PTIME = 0.020
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; the same as SCM_TIMESTAMPNS
BIN_MS = 0.05  # histogram resolution
BINS = 4000  # up to 200 ms; the last bin holds everything above
LEAD = 0.2  # s before an announcement timer counted as "around" it
WARMUP = 2.0  # s after the last caller joined before the window
KEEPALIVE = 5.0  # s between a waiting caller's packets of silence
AGENT_KEEPALIVE = 0.5  # s between the agent phone's
SILENCE = b"\xd5" * 160  # 20 ms of PCMA silence
TALK = (1.0, 4.0)  # s an agent talks with each caller: random, so that the wrap-up's end
# falls anywhere in the queue's cycle of retries (every 3 s from a caller's turn)
API_AFTER = 0.5  # s after the hang-up the API ends the wrap-up (the early cycles)
CHURN_HOLD = 3.0  # s a churn caller waits before hanging up
TARGET_JITTER_MS = 5.0
TARGET_RING_MS = 200.0


def description(trunk: int, args: argparse.Namespace) -> str:
    """The company: one queue group behind a main number, callers from one trunk."""
    return f"""
company: {{domain: {DOMAIN}, name: Bench, language: en}}
users:
  - {{ext: "{ADMIN_EXT}", name: Bench Admin, password: {PASSWORDS[ADMIN_EXT]}, admin: true}}
  - {{ext: "{AGENT_EXT}", name: Bench Agent, password: {PASSWORDS[AGENT_EXT]}}}
numbers:
  - {{number: "{MAIN}", flow: main}}
prompts:
  hold: {{text: "Thank you for waiting. All our agents are busy.", language: en}}
flows:
  main: {{destination: {{group: {GROUP}}}}}
groups:
  {GROUP}: {{members: ["{AGENT_EXT}"], ring_time: 10,
            queue: {{announcement: hold, announce_every: {args.announce_every:g},
                     max_wait: 3600, wrap_up: {args.wrap_up:g}}}}}
trunks:
  carrier: {{host: {HOST}, port: {trunk}}}
"""


# -- sockets stamped by the kernel --------------------------------------------------------


def stamped_socket(port: int = 0, rcvbuf: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((HOST, port))
    return sock


def recv_stamped(sock: socket.socket) -> tuple[bytes, float]:
    """A datagram and when the kernel received it (epoch seconds)."""
    data, ancillary, _, _ = sock.recvmsg(65535, 64)
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanos = struct.unpack("qq", value[:16])
            return data, seconds + nanos * 1e-9
    return data, time.time()


# -- the phones: the trunk's callers and the agent ----------------------------------------


@dataclass
class Dialog:
    call_id: str
    local_tag: str
    rtp: socket.socket | None = None
    remote: str = ""  # their From/To header with their tag
    target: str = ""  # the Request-URI of our in-dialog requests
    routes: list[str] = field(default_factory=list)
    cseq: int = 1
    answered_at: float | None = None  # a caller: the switch's 200 received
    ended_at: float | None = None  # a BYE answered or received
    invited_at: float | None = None  # the agent: the INVITE received (kernel time)
    failed: str = ""
    media: tuple[str, int] | None = None  # a caller: where the switch takes its RTP
    sent: int = 0  # a caller: RTP packets sent (the keep-alive)
    keepalive_at: float = 0.0  # a caller: when the next is due (monotonic)
    ended_by: str = ""  # how: "BYE" or "CANCEL" from the switch, or "us"


class Phones:
    """The trunk (every caller, one socket on the trunk's port) and the agent's phone (one
    socket), served together in one select loop."""

    def __init__(self, server_port: int, trunk: socket.socket) -> None:
        self.server = (HOST, server_port)
        self.trunk = trunk
        self.agent = stamped_socket()
        self.callers: dict[str, Dialog] = {}
        self.agent_calls: dict[str, Dialog] = {}
        self.agent_invites: list[Dialog] = []  # in arrival order
        self.registered = 0  # the agent's last REGISTER answer
        self.answer_agent = True
        self._agent_rtp = stamped_socket()
        self._auth: tuple[str, str] | None = None
        self._register_call = secrets.token_hex(8)
        self._register_cseq = 0
        self.number = 0
        self._keepalive_at = 0.0

    def close(self) -> None:
        for sock in (self.agent, self._agent_rtp):
            sock.close()
        for dialog in self.callers.values():
            if dialog.rtp is not None:
                dialog.rtp.close()

    # -- sending --

    def _send(self, sock: socket.socket, lines: list[str], body: str = "") -> None:
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        sock.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), self.server)

    def _via(self, sock: socket.socket, branch: str | None = None) -> str:
        port = sock.getsockname()[1]
        return f"Via: SIP/2.0/UDP {HOST}:{port};branch={branch or 'z9hG4bK' + secrets.token_hex(8)}"

    def _reply(self, sock: socket.socket, request: Message, status: str, tag: str = "",
               extra: Sequence[str] = (), body: str = "") -> None:  # fmt: skip
        to = request.header("to")
        if tag and ";tag=" not in to:
            to += f";tag={tag}"
        lines = [f"SIP/2.0 {status}", *(f"Via: {via}" for via in request.all("via"))]
        lines += [f"From: {request.header('from')}", f"To: {to}",
                  f"Call-ID: {request.header('call-id')}", f"CSeq: {request.header('cseq')}",
                  *extra]  # fmt: skip
        self._send(sock, lines, body)

    def call(self, rtp: socket.socket) -> Dialog:
        """A caller from the trunk dials the queue's number."""
        self.number += 1
        caller = f"+4670{self.number:07d}"
        dialog = Dialog(secrets.token_hex(10), secrets.token_hex(4), rtp)
        port = self.trunk.getsockname()[1]
        uri = f"sip:{MAIN}@{HOST}:{self.server[1]}"
        self.callers[dialog.call_id] = dialog
        self._send(self.trunk, [
            f"INVITE {uri} SIP/2.0", self._via(self.trunk), "Max-Forwards: 70",
            f"From: <sip:{caller}@{HOST}:{port}>;tag={dialog.local_tag}",
            f"To: <sip:{MAIN}@{HOST}>", f"Call-ID: {dialog.call_id}", "CSeq: 1 INVITE",
            f"Contact: <sip:{caller}@{HOST}:{port}>", "User-Agent: vaxel-bench-queue",
        ], sdp(rtp.getsockname()[1], offer=True))  # fmt: skip
        return dialog

    def _in_dialog(self, sock: socket.socket, dialog: Dialog, method: str, frm: str) -> None:
        dialog.cseq += 1
        self._send(sock, [
            f"{method} {dialog.target} SIP/2.0", self._via(sock), "Max-Forwards: 70",
            f"From: {frm}", f"To: {dialog.remote}", f"Call-ID: {dialog.call_id}",
            f"CSeq: {dialog.cseq} {method}", *(f"Route: {r}" for r in dialog.routes),
        ])  # fmt: skip

    def hang_up_caller(self, dialog: Dialog) -> None:
        if dialog.ended_at is not None or dialog.answered_at is None:
            return
        port = self.trunk.getsockname()[1]
        frm = f"<sip:caller@{HOST}:{port}>;tag={dialog.local_tag}"
        self._in_dialog(self.trunk, dialog, "BYE", frm)

    def hang_up_agent(self, dialog: Dialog) -> None:
        frm = f"<sip:{AGENT_EXT}@{DOMAIN}>;tag={dialog.local_tag}"
        self._in_dialog(self.agent, dialog, "BYE", frm)

    def register(self, expires: int = 3600) -> None:
        self._register_cseq += 1
        uri, user = f"sip:{DOMAIN}", f"<sip:{AGENT_EXT}@{DOMAIN}>"
        lines = [
            f"REGISTER {uri} SIP/2.0", self._via(self.agent), "Max-Forwards: 70",
            f"From: {user};tag={self._register_call[:8]}", f"To: {user}",
            f"Call-ID: {self._register_call}", f"CSeq: {self._register_cseq} REGISTER",
            f"Contact: <sip:{AGENT_EXT}@{HOST}:{self.agent.getsockname()[1]}>",
            f"Expires: {expires}",
        ]  # fmt: skip
        if self._auth is not None:
            lines.append(digest("Authorization", "REGISTER", uri, AGENT_EXT,
                                PASSWORDS[AGENT_EXT], self._auth[1]))  # fmt: skip
        self.registered = 0
        self._send(self.agent, lines)

    # -- receiving --

    def keep_alive(self) -> None:
        """Each caller sends a packet of silence every `KEEPALIVE` s, as a phone with
        silence suppression does: the switch hangs up a call whose party sends no RTP for
        a minute (calls/b2bua.py RTP_TIMEOUT), and a waiting caller must outlast that. The
        agent's phone sends one at once when it answers and every 0.5 s: the switch takes
        a leg that sent nothing yet as silent since the call was answered, which for a
        queue's call is when the caller joined."""
        now = time.monotonic()
        if now < self._keepalive_at:
            return
        self._keepalive_at = now + 0.1
        agent = len(self.callers)
        for n, dialog in enumerate([*self.callers.values(), *self.agent_calls.values()]):
            if dialog.media is None or dialog.rtp is None or dialog.ended_at is not None:
                continue
            if dialog.keepalive_at == 0.0:  # (spread: not every caller at once)
                dialog.keepalive_at = now + KEEPALIVE * (n % 10) / 10
            if now < dialog.keepalive_at:
                continue
            dialog.keepalive_at = now + (KEEPALIVE if n < agent else AGENT_KEEPALIVE)
            dialog.sent += 1
            header = struct.pack("!BBHII", 0x80, 8, dialog.sent, 160 * dialog.sent, n)
            with contextlib.suppress(OSError):
                dialog.rtp.sendto(header + SILENCE, dialog.media)

    def pump(self, until: Callable[[], bool], timeout: float) -> bool:
        """Serve both sockets until `until()` holds (True) or `timeout` passes (False)."""
        deadline = time.monotonic() + timeout
        while not until():
            self.keep_alive()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.trunk, self.agent], [], [], min(left, 0.05))
            for sock in ready:
                while True:
                    try:
                        data, at = recv_stamped(sock)
                    except BlockingIOError:
                        break
                    message = parse(data)
                    if sock is self.trunk:
                        self._at_trunk(message, at)
                    else:
                        self._at_agent(message, at)
                    if not select.select([sock], [], [], 0)[0]:
                        break
        return True

    def _at_trunk(self, message: Message, at: float) -> None:
        dialog = self.callers.get(message.header("call-id"))
        if not message.is_response:
            self._reply(self.trunk, message, "200 OK" if dialog else "481 No Such Call")
            if dialog is not None and message.method == "BYE" and dialog.ended_at is None:
                dialog.ended_at = at
            return
        if dialog is None:
            return
        number, method = message.cseq
        if method == "INVITE" and message.status >= 200:
            if message.status >= 300:
                dialog.failed = message.first
                self._send(self.trunk, [
                    f"ACK sip:{MAIN}@{HOST}:{self.server[1]} SIP/2.0",
                    f"Via: {message.all('via')[0]}", "Max-Forwards: 70",
                    f"From: {message.header('from')}", f"To: {message.header('to')}",
                    f"Call-ID: {dialog.call_id}", f"CSeq: {number} ACK",
                ])  # fmt: skip
                return
            first = dialog.answered_at is None
            if first:
                dialog.answered_at = at
                with contextlib.suppress(ValueError):
                    dialog.media = sdp_address(message.body)
                dialog.remote = message.header("to")
                contact = re.search(r"<([^>]+)>", message.header("contact"))
                dialog.target = contact.group(1) if contact else f"sip:{MAIN}@{HOST}"
                dialog.routes = list(reversed(message.all("record-route")))
            port = self.trunk.getsockname()[1]
            self._send(self.trunk, [
                f"ACK {dialog.target} SIP/2.0", self._via(self.trunk), "Max-Forwards: 70",
                f"From: <sip:caller@{HOST}:{port}>;tag={dialog.local_tag}",
                f"To: {dialog.remote}", f"Call-ID: {dialog.call_id}", f"CSeq: {number} ACK",
                *(f"Route: {r}" for r in dialog.routes),
            ])  # fmt: skip
        elif method == "BYE" and message.status >= 200 and dialog.ended_at is None:
            dialog.ended_at = at

    def _at_agent(self, message: Message, at: float) -> None:
        if message.is_response:
            number, method = message.cseq
            if method == "REGISTER" and number == self._register_cseq:
                if message.status == 401 and self._auth is None:
                    self._auth = ("", message.header("www-authenticate"))
                    self.register()
                elif message.status >= 200:
                    self.registered = message.status
            elif method == "BYE" and message.status >= 200:
                dialog = self.agent_calls.get(message.header("call-id"))
                if dialog is not None and dialog.ended_at is None:
                    dialog.ended_at, dialog.ended_by = at, "us"
            return
        call_id = message.header("call-id")
        dialog = self.agent_calls.get(call_id)
        if message.method == "INVITE":
            if dialog is None:
                dialog = Dialog(call_id, secrets.token_hex(4), invited_at=at)
                dialog.remote = message.header("from")
                contact = re.search(r"<([^>]+)>", message.header("contact"))
                dialog.target = contact.group(1) if contact else ""
                dialog.routes = message.all("record-route")
                self.agent_calls[call_id] = dialog
                self.agent_invites.append(dialog)
            if not self.answer_agent:
                self._reply(self.agent, message, "486 Busy Here", tag=dialog.local_tag)
                return
            if dialog.media is None:
                with contextlib.suppress(ValueError):
                    dialog.media = sdp_address(message.body)
                dialog.rtp = self._agent_rtp
                dialog.keepalive_at = time.monotonic()  # (at once, once answered)
            contact = f"Contact: <sip:{AGENT_EXT}@{HOST}:{self.agent.getsockname()[1]}>"
            self._reply(self.agent, message, "200 OK", dialog.local_tag, [contact],
                        sdp(self._agent_rtp.getsockname()[1], offer=False))  # fmt: skip
        elif message.method == "ACK":
            return
        else:  # BYE, CANCEL, OPTIONS
            self._reply(self.agent, message, "200 OK" if dialog or message.method ==
                        "OPTIONS" else "481 No Such Call")  # fmt: skip
            if dialog is not None and message.method in ("BYE", "CANCEL"):
                dialog.ended_at = dialog.ended_at or at
                dialog.ended_by = dialog.ended_by or message.method

    def drain_rtp(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while True:
                self._agent_rtp.recv(4096, socket.MSG_DONTWAIT)


# -- phase 1: the RTP the waiting callers receive -----------------------------------------


def receive(
    socks: list[socket.socket],
    answered: list[float],
    start: float,
    end: float,
    every: float,
    span: float,
    cores: list[int],
    out: Connection,
) -> None:
    """Read every caller's socket until `end` (epoch); count |inter-arrival - 20 ms| of the
    packets stamped in [start, end), and those around announcements apart. A packet after
    a gap in the sequence numbers (one lost on the way, e.g. dropped by the kernel when
    this reader fell behind) counts as lost, not as a deviation: the switch numbers every
    packet it sends, so a gap without a missing number is the switch's own timing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, cores)
    count = len(socks)
    previous = [0.0] * count
    last_seq = [-1] * count
    lost = 0  # packets missing from the sequence (dropped on the way: the receiver's side)
    received = [0] * count
    everywhere = [0] * (BINS + 1)
    around = [0] * (BINS + 1)
    gaps_over_40ms = 0
    index = {sock.fileno(): i for i, sock in enumerate(socks)}
    poller = select.epoll()
    for sock in socks:
        sock.setblocking(False)
        poller.register(sock.fileno(), select.EPOLLIN)
    scale = 1000 / BIN_MS
    lead = every - LEAD
    cpu = time.process_time()
    while (left := end + 0.3 - time.time()) > 0:
        for fd, _ in poller.poll(min(left, 0.1)):
            i = index[fd]
            sock = socks[i]
            while True:
                try:
                    data, ancillary, _, _ = sock.recvmsg(2048, 64)
                except (BlockingIOError, InterruptedError):
                    break
                if len(data) < 12 or data[1] & 0x7F > 34:  # RTCP, or a telephone-event
                    continue
                seq = (data[2] << 8) | data[3]
                step, last_seq[i] = (seq - last_seq[i]) & 0xFFFF, seq
                at = time.time()
                for level, kind, value in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        seconds, nanos = struct.unpack("qq", value[:16])
                        at = seconds + nanos * 1e-9
                last, previous[i] = previous[i], at
                if not start <= at < end:
                    continue
                received[i] += 1
                if last == 0.0 or last < start - 1.0:
                    continue
                if step != 1:  # packets lost between: this gap is not the switch's timing
                    lost += step - 1 if step < 0x8000 else 0
                    continue
                gap = at - last
                if gap > 0.040:
                    gaps_over_40ms += 1
                b = int(abs(gap - PTIME) * scale)
                b = b if b < BINS else BINS
                everywhere[b] += 1
                since = at - answered[i]
                phase = since % every
                if (since >= lead and phase >= lead) or (since >= every and phase < span):
                    around[b] += 1
    out.send({
        "received": received, "lost": lost, "hist": everywhere, "hist_announcements": around,
        "gaps_over_40ms": gaps_over_40ms, "cpu_seconds": time.process_time() - cpu,
    })  # fmt: skip
    out.close()


def hist_percentile(hist: list[int], fraction: float) -> float:
    """The upper edge (ms) of the bin holding `fraction` of the samples."""
    total = sum(hist)
    if not total:
        return float("nan")
    rank, seen = fraction * total, 0
    for b, n in enumerate(hist):
        seen += n
        if seen >= rank:
            return round((b + 1) * BIN_MS, 3)
    return BINS * BIN_MS


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, all its threads."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def core_seconds(core: int) -> dict[str, float]:
    """How `core` spent its time so far (/proc/stat): running processes (user, nice and
    system, all of them), interrupts (irq, softirq: loopback delivery of packets too) and
    steal (the hypervisor gave the virtual CPU to another guest)."""
    with open("/proc/stat") as stat:
        for line in stat:
            if line.startswith(f"cpu{core} "):
                user, nice, system, _, _, irq, softirq, steal = map(int, line.split()[1:9])
                tick = os.sysconf("SC_CLK_TCK")
                return {"processes": (user + nice + system) / tick,
                        "interrupts": (irq + softirq) / tick, "steal": steal / tick}  # fmt: skip
    return {"processes": 0.0, "interrupts": 0.0, "steal": 0.0}


def waited_seconds(pid: int) -> float:
    """How long the process's main thread (the switch's event loop) was ready to run but
    waiting for a CPU, so far (/proc/PID/schedstat, nanoseconds)."""
    with open(f"/proc/{pid}/schedstat") as schedstat:
        return int(schedstat.read().split()[1]) / 1e9


def udp_drops(ports: set[int]) -> int:
    """Datagrams the kernel dropped at these loopback ports (their receive buffer full)."""
    drops = 0
    with open("/proc/net/udp") as table:
        next(table)
        for line in table:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) in ports:
                drops += int(fields[-1])
    return drops


def set_up_callers(phones: Phones, count: int, rate: float, patience: float) -> list[Dialog]:
    """`count` callers join, `rate` a second; returns those the switch answered."""
    dialogs: list[Dialog] = []
    began = time.monotonic()
    for n in range(count):
        dialogs.append(phones.call(stamped_socket(rcvbuf=1 << 18)))
        phones.pump(lambda: False, max(0.0, began + (n + 1) / rate - time.monotonic()))
    phones.pump(lambda: all(d.answered_at or d.failed for d in dialogs), patience)
    return [d for d in dialogs if d.answered_at is not None]


def waiting_phase(
    server: Server, phones: Phones, args: argparse.Namespace, cores: list[int]
) -> tuple[dict[str, Any], list[Dialog]]:
    print(f"phase 1: {args.callers} callers join the queue ({args.setup_rate:g}/s)", flush=True)
    dialogs = set_up_callers(phones, args.callers, args.setup_rate, 30.0)
    failed = args.callers - len(dialogs)
    start = time.time() + WARMUP
    end = start + args.seconds
    reader, writer = multiprocessing.get_context("fork").Pipe(duplex=False)
    receiver = multiprocessing.get_context("fork").Process(
        target=receive,
        args=(
            [d.rtp for d in dialogs],
            [d.answered_at or 0.0 for d in dialogs],
            start,
            end,
            args.announce_every,
            args.announce_span,
            cores,
            writer,
        ),
        daemon=True,
    )
    receiver.start()
    writer.close()
    phones.pump(lambda: time.time() >= start, WARMUP + 1)
    cpu_main, cpu_all = proc_cpu_seconds(server.proc.pid), session_cpu_seconds(server.proc.pid)
    core = core_seconds(args.core)
    waited = waited_seconds(server.proc.pid)
    ports = {d.rtp.getsockname()[1] for d in dialogs if d.rtp is not None}
    dropped = udp_drops(ports)
    wall = time.monotonic()
    phones.pump(lambda: time.time() >= end, args.seconds + 1)
    wall = time.monotonic() - wall
    cpu_main = proc_cpu_seconds(server.proc.pid) - cpu_main
    cpu_all = session_cpu_seconds(server.proc.pid) - cpu_all
    core = {k: v - core[k] for k, v in core_seconds(args.core).items()}
    waited = waited_seconds(server.proc.pid) - waited
    dropped = udp_drops(ports) - dropped
    heard = reader.recv() if reader.poll(args.seconds + 30) else {}
    receiver.join(5)
    received = heard.get("received", [])
    expected = len(dialogs) * args.seconds / PTIME
    result = {
        "callers": args.callers,
        "joined": len(dialogs),
        "refused": failed,
        "window_s": args.seconds,
        "switch_cpu_percent": round(100 * cpu_main / wall, 1),
        "switch_and_web_cpu_percent": round(100 * cpu_all / wall, 1),
        # What else ran on the switch's core meanwhile (other work on a shared machine):
        # other processes (the core's process time minus the switch's and its web's),
        # interrupts, and time the hypervisor gave to another guest.
        "others_on_core_percent": round(100 * (core["processes"] - cpu_all) / wall, 1),
        "interrupts_on_core_percent": round(100 * core["interrupts"] / wall, 1),
        "steal_on_core_percent": round(100 * core["steal"] / wall, 1),
        # The switch's loop ready to run, its core busy with something else: the time its
        # 20 ms clock could not keep, whoever's the work was.
        "switch_waited_for_core_percent": round(100 * waited / wall, 1),
        # Lost on the way (sequence gaps), and of those dropped by the kernel at the
        # callers' sockets in the window: the receiver's side, not the switch's.
        "lost_packets": heard.get("lost"),
        "dropped_at_callers": dropped,
        "packets_received": sum(received),
        "packets_expected": int(expected),
        "missing_percent": round(100 * (1 - sum(received) / expected), 3) if expected else None,
        "silent_callers": sum(1 for r in received if r == 0),
        "gaps_over_40ms": heard.get("gaps_over_40ms"),
        "jitter_p50_ms": hist_percentile(heard.get("hist", []), 0.5),
        "jitter_p99_ms": hist_percentile(heard.get("hist", []), 0.99),
        "jitter_max_ms": _hist_max(heard.get("hist", [])),
        "announcement_jitter_p50_ms": hist_percentile(heard.get("hist_announcements", []), 0.5),
        "announcement_jitter_p99_ms": hist_percentile(heard.get("hist_announcements", []), 0.99),
        "announcement_jitter_max_ms": _hist_max(heard.get("hist_announcements", [])),
        "announcement_packets": sum(heard.get("hist_announcements", [])),
        "receiver_cpu_percent": round(100 * heard.get("cpu_seconds", 0) / args.seconds, 1),
        "hist": record_hist(heard.get("hist", [])),
        "hist_announcements": record_hist(heard.get("hist_announcements", [])),
    }
    return result, dialogs


def _hist_max(hist: list[int]) -> float:
    top = max((b for b, n in enumerate(hist) if n), default=-1)
    return round((top + 1) * BIN_MS, 3) if top >= 0 else float("nan")


def record_hist(hist: list[int]) -> dict[str, int]:
    """Counts per bin's upper edge in ms, nonzero bins only."""
    return {f"{(b + 1) * BIN_MS:.2f}": n for b, n in enumerate(hist) if n}


# -- phase 2: from the wrap-up's end to the agent's phone ringing -------------------------


def api(web: str, method: str, path: str, token: str, body: Any = None) -> Any:
    """One API request as the agent (or an admin): its JSON answer, if any; anything but a
    2xx stops the run."""
    import httpx

    with httpx.Client(base_url=web, timeout=30) as client:
        headers = {"Authorization": f"Bearer {token}"}
        answer = client.request(method, path, headers=headers, json=body)
    if not answer.is_success:
        raise RuntimeError(f"{method} {path} answered {answer.status_code}: {answer.text[:200]}")
    return answer.json() if answer.content else None


def agent_phase(
    phones: Phones, web: str, token: str, admin: str, args: argparse.Namespace
) -> dict[str, Any]:
    print(f"phase 2: the agent takes {args.cycles} calls, wrap-up {args.wrap_up:g} s", flush=True)
    phones.register()
    if not phones.pump(lambda: phones.registered != 0, 10) or phones.registered != 200:
        raise RuntimeError(f"the agent's REGISTER got {phones.registered or 'no answer'}")
    cycles: list[dict[str, Any]] = []
    chance = random.Random(args.seed)
    patience = args.wrap_up + 10.0
    if not phones.pump(lambda: len(phones.agent_invites) >= 1, 10.0):
        raise RuntimeError("the queue offered the registered agent no call")
    for n in range(args.cycles):
        current = phones.agent_invites[-1]
        phones.pump(lambda: False, chance.uniform(*TALK))  # (the ACK, the talk)
        phones.drain_rtp()
        early = n % 2 == 1
        seen = len(phones.agent_invites)  # (a ring before the wrap-up's end counts too)
        phones.hang_up_agent(current)
        hung_up = time.time()
        phones.pump(lambda current=current: current.ended_at is not None, 5)
        if early:
            phones.pump(lambda: False, max(0.0, hung_up + API_AFTER - time.time()))
            ended = time.time()
            api(web, "POST", "/api/v1/me/wrap-up/end", token)
        elif current.ended_by in ("BYE", "CANCEL"):  # the switch ended the call first:
            ended = (current.ended_at or hung_up) + args.wrap_up  # the wrap-up began then
        else:
            ended = hung_up + args.wrap_up
        if not phones.pump(lambda seen=seen: len(phones.agent_invites) > seen, patience):
            # Not rung: what the switch says of the agent, to tell why.
            agents = api(web, "GET", f"/api/v1/companies/{DOMAIN}/agents", admin)
            live = api(web, "GET", f"/api/v1/companies/{DOMAIN}/statistics/queues/live", admin)
            first = [q["callers"][:2] for q in live.get("queues", [])]
            print(f"  cycle {n + 1}: not rung within {patience:g} s; the hang-up answered: "
                  f"{current.ended_at is not None}; the agent: {agents['items'][0]['state']}; "
                  f"first in line: {first}", flush=True)  # fmt: skip
            cycles.append({"wrap_up_ended_by": "api" if early else "time", "rang": False,
                           "hang_up_answered": current.ended_at is not None,
                           "agents": agents, "first_in_line": first})  # fmt: skip
            break
        ring = phones.agent_invites[-1].invited_at or 0.0
        cycles.append({"wrap_up_ended_by": "api" if early else "time", "rang": True,
                       "ms": round(1000 * (ring - ended), 1),
                       "after_hang_up_ms": round(1000 * (ring - hung_up), 1),
                       "call_ended_by": current.ended_by,
                       # callers the switch hung up so far (one per cycle: the agent's)
                       "callers_ended": sum(1 for d in phones.callers.values() if d.ended_at),
                       "hang_up_answered_ms": round(1000 * ((current.ended_at or ring) - hung_up),
                                                    1)})  # fmt: skip
        print(f"  cycle {n + 1}: wrap-up ended by {'the API' if early else 'time'}, "
              f"rang {1000 * (ring - ended):.0f} ms later", flush=True)  # fmt: skip
    # The last offer is left unanswered and the phone unregistered: nobody rings it now.
    phones.answer_agent = False
    phones.hang_up_agent(phones.agent_invites[-1])
    phones.register(expires=0)
    phones.pump(lambda: phones.registered != 0, 5)

    def figures(which: str) -> dict[str, Any]:
        ms = sorted(c["ms"] for c in cycles if c.get("rang") and c["wrap_up_ended_by"] == which)
        middle, top = (ms[len(ms) // 2], ms[-1]) if ms else (None, None)
        return {"count": len(ms), "ms": ms, "median_ms": middle, "max_ms": top}

    return {"wrap_up_s": args.wrap_up, "cycles": cycles,
            "by_time": figures("time"), "by_api": figures("api")}  # fmt: skip


# -- phase 3: wallboards and consoles watching the queue ----------------------------------


async def watchers_main(spec: dict[str, Any]) -> dict[str, Any]:
    """The clients' process: wallboards and consoles until `spec["until"]`."""
    from websockets.asyncio.client import connect

    boards: list[list[tuple[float, float]]] = []  # per wallboard: (built, received)
    console: list[tuple[str, float, float]] = []  # (type, event time, received)
    counted = {"closed": 0, "board_messages": 0, "console_messages": 0}
    until = spec["until"]

    async def board() -> None:
        mine: list[tuple[float, float]] = []
        boards.append(mine)
        try:
            async with connect(spec["board_url"], max_size=2**20, ping_interval=None) as ws:
                await ws.send(json.dumps({"token": spec["board_token"]}))
                while (left := until - time.time()) > 0:
                    try:
                        text = await asyncio.wait_for(ws.recv(), left)
                    except TimeoutError:
                        return
                    now = time.time()
                    message = json.loads(text)
                    if message.get("type") == "figures":
                        counted["board_messages"] += 1
                        mine.append((message["time"], now))
        except Exception:
            counted["closed"] += 1

    async def watch() -> None:
        headers = {"Authorization": f"Bearer {spec['console_token']}"}
        try:
            async with connect(spec["events_url"], additional_headers=headers,
                               max_size=2**20, ping_interval=None) as ws:  # fmt: skip
                while (left := until - time.time()) > 0:
                    try:
                        text = await asyncio.wait_for(ws.recv(), left)
                    except TimeoutError:
                        return
                    now = time.time()
                    message = json.loads(text)
                    counted["console_messages"] += 1
                    kind = message.get("type", "")
                    if kind.startswith(("queue.", "agent.")):
                        console.append((kind, message["time"], now))
        except Exception:
            counted["closed"] += 1

    cpu = time.process_time()
    tasks = [board() for _ in range(spec["wallboards"])]
    tasks += [watch() for _ in range(spec["consoles"])]
    await asyncio.gather(*tasks)
    return {**counted, "boards": boards, "console": console,
            "cpu_seconds": time.process_time() - cpu}  # fmt: skip


def percentile(values: Sequence[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def watchers_phase(
    server: Server, phones: Phones, web: str, tokens: dict[str, str], args: argparse.Namespace,
    waiting: list[Dialog],
) -> dict[str, Any]:  # fmt: skip
    print(f"phase 3: {args.wallboards} wallboards and {args.consoles} consoles watch "
          f"{args.churn:g} callers/s join and leave", flush=True)  # fmt: skip
    for dialog in waiting:  # the queue empties first
        phones.hang_up_caller(dialog)
    phones.pump(lambda: all(d.ended_at for d in waiting if d.answered_at), 30)
    for dialog in waiting:
        if dialog.rtp is not None:
            dialog.rtp.close()
            dialog.rtp = None
    connect_by = time.time() + 5.0 + (args.wallboards + args.consoles) / 100
    start = connect_by + 1.0
    end = start + args.watch_seconds
    ws = web.replace("http://", "ws://")
    spec = {
        "board_url": f"{ws}/wallboard/live", "events_url": f"{ws}/api/v1/events",
        "board_token": tokens["board"], "console_token": tokens["console"],
        "wallboards": args.wallboards, "consoles": args.consoles,
        "until": end + CHURN_HOLD + 1.5,
    }  # fmt: skip
    clients = subprocess.Popen(
        [sys.executable, __file__, "--watchers", json.dumps(spec)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(record.ROOT / "src")},
    )
    try:
        phones.pump(lambda: time.time() >= start, start - time.time() + 1)
        churned: list[Dialog] = []
        events: list[float] = []  # joins and hang-ups, as the switch's answers came
        pauses = 0
        cpu_switch = proc_cpu_seconds(server.proc.pid)
        wall = time.monotonic()
        next_join = next_pause = time.time()
        paused = False
        while time.time() < end:
            now = time.time()
            if now >= next_join:
                churned.append(phones.call(stamped_socket()))
                next_join += 1 / args.churn
            if now >= next_pause:
                if paused:
                    api(web, "DELETE", "/api/v1/me/pause", tokens["agent"])
                else:
                    api(web, "PUT", "/api/v1/me/pause", tokens["agent"], {"reason": ""})
                paused, pauses, next_pause = not paused, pauses + 1, next_pause + 1.0
            for dialog in churned:
                held = dialog.answered_at and now >= dialog.answered_at + CHURN_HOLD
                if held and dialog.cseq == 1:  # (not hung up yet)
                    phones.hang_up_caller(dialog)
            phones.pump(lambda: False, min(next_join, next_pause) - time.time())
        phones.pump(lambda: all(d.ended_at or not d.answered_at or d.cseq == 1 for d in churned),
                    CHURN_HOLD + 1)  # fmt: skip
        for dialog in churned:  # (those that joined last)
            phones.hang_up_caller(dialog)
        phones.pump(lambda: all(d.ended_at or not d.answered_at for d in churned), 5)
        wall = time.monotonic() - wall
        cpu_switch = proc_cpu_seconds(server.proc.pid) - cpu_switch
        if paused:
            api(web, "DELETE", "/api/v1/me/pause", tokens["agent"])
        out, _ = clients.communicate(timeout=60)
        watched = json.loads(out)
    finally:
        if clients.poll() is None:
            clients.kill()
            clients.wait()
        for dialog in phones.callers.values():
            if dialog.rtp is not None:
                dialog.rtp.close()
                dialog.rtp = None
    for dialog in churned:
        for at in (dialog.answered_at, dialog.ended_at):
            if at is not None and start <= at < end:
                events.append(at)
    events.sort()
    push: list[float] = []
    to_screen: list[float] = []
    board_messages = 0
    for messages in watched["boards"]:
        messages.sort()
        k = 0
        for built, got in messages:
            if start <= built < end:
                push.append(1000 * (got - built))
                board_messages += 1
        for at in events:  # the first figures built after the event, as received
            while k < len(messages) and messages[k][0] < at:
                k += 1
            if k < len(messages):
                to_screen.append(1000 * (messages[k][1] - at))
    console = [(kind, at, got) for kind, at, got in watched["console"] if start <= at < end]
    queue_ms = [1000 * (got - at) for kind, at, got in console if kind.startswith("queue.")]
    agent_ms = [1000 * (got - at) for kind, at, got in console if kind.startswith("agent.")]
    seconds = args.watch_seconds
    return {
        "wallboards": args.wallboards,
        "consoles": args.consoles,
        "clients_dropped": watched["closed"],
        "callers_joined": sum(1 for d in churned if d.answered_at),
        "queue_events_per_s": round(len(events) / seconds, 1),
        "pauses_per_s": round(pauses / seconds, 1),
        "console_deliveries_per_s": round(len(console) / seconds, 1),
        "console_queue_p50_ms": percentile(queue_ms, 0.5),
        "console_queue_p99_ms": percentile(queue_ms, 0.99),
        "console_agent_p50_ms": percentile(agent_ms, 0.5),
        "console_agent_p99_ms": percentile(agent_ms, 0.99),
        "wallboard_deliveries_per_s": round(board_messages / seconds, 1),
        "wallboard_push_p50_ms": percentile(push, 0.5),
        "wallboard_push_p99_ms": percentile(push, 0.99),
        "wallboard_event_to_screen_p50_ms": percentile(to_screen, 0.5),
        "wallboard_event_to_screen_p99_ms": percentile(to_screen, 0.99),
        "switch_cpu_percent": round(100 * cpu_switch / wall, 1),
        "watchers_cpu_percent": round(100 * watched["cpu_seconds"] / (end - start + 10), 1),
    }


# -- the switch ---------------------------------------------------------------------------


def prepare(work: Path, trunk: int, args: argparse.Namespace) -> tuple[Path, dict[str, str]]:
    """The company applied with the CLI; the tokens the API and the wallboards use."""
    from vaxel.services import accounts, companies, wallboard_tokens, web_sessions
    from vaxel.store import Store

    data = work / "vaxel-data"
    (work / "bench.yaml").write_text(description(trunk, args))
    done = subprocess.run(
        [*vaxel_command(), "config", "apply", str(work / "bench.yaml"), "--data", str(data)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"vaxel config apply failed: {done.stderr.strip()[-500:]}")
    now = datetime.now(UTC)
    with Store.open(data) as store:
        company = companies.get_company(store, DOMAIN)
        admin = accounts.set_user_account(store, DOMAIN, ADMIN_EXT,
                                          password="bench web password", role="admin")  # fmt: skip
        agent = accounts.set_user_account(store, DOMAIN, AGENT_EXT,
                                          password="bench web password", role="user")  # fmt: skip
        console, _ = web_sessions.create_token(store, admin, "bench console", ["read"], now)
        mine, _ = web_sessions.create_token(store, agent, "bench agent", ["read", "write"], now)
        board, _ = wallboard_tokens.create(store, company.id, "bench TV", ADMIN_EXT, now)
    return data, {"console": console, "agent": mine, "board": board}


def start_vaxel(
    sup: Supervisor, work: Path, data: Path, core: int, realtime: bool
) -> tuple[Server, str]:
    port, http = free_port(), free_port(socket.SOCK_STREAM)
    # --realtime: SCHED_FIFO, so the switch runs whenever it is ready, whatever else wants
    # its core (the kernel still keeps 5 % of each second for others): its own timing.
    first = ["chrt", "-f", "10"] if realtime else []
    args = [
        *first, "taskset", "-c", str(core), *vaxel_command(), "serve", "--data", str(data),
        "--sip", f"{HOST}:{port}", "--http", f"{HOST}:{http}",
        "--rtp-ports", f"{RTP_PORTS[0]}-{RTP_PORTS[1]}",
    ]  # fmt: skip
    server = launch(sup, "vaxel", args, port, work / "vaxel.log", work, patience=60)
    web = f"http://{HOST}:{http}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the web is a process of its own: wait for it too
        with contextlib.suppress(OSError), socket.create_connection((HOST, http), 0.5):
            return server, web
        time.sleep(0.2)
    raise RuntimeError(f"the web did not listen on {web}")


def unpin(session: int) -> None:
    """Every thread of the switch's processes (its web too) free to run on any CPU again."""
    cpus = os.sched_getaffinity(0) | {int(c) for c in _online_cpus()}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                text = stat.read()
            if int(text[text.rindex(b")") + 2 :].split()[3]) != session:
                continue
            for task in os.scandir(f"/proc/{entry.name}/task"):
                os.sched_setaffinity(int(task.name), cpus)
        except (OSError, ValueError):
            continue


def _online_cpus() -> list[int]:
    """The machine's online CPUs ("0-1" in /sys)."""
    with open("/sys/devices/system/cpu/online") as online:
        found: list[int] = []
        for part in online.read().strip().split(","):
            low, _, high = part.partition("-")
            found += range(int(low), int(high or low) + 1)
        return found


# -- the run ------------------------------------------------------------------------------


def options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--callers", type=int, default=500, help="callers waiting in phase 1")
    add("--seconds", type=float, default=30.0, help="phase 1's measured window")
    add("--setup-rate", type=float, default=50.0, help="callers joining per second")
    add("--announce-every", type=float, default=10.0, help="the queue's announce_every (>= 5)")
    add("--announce-span", type=float, default=3.0, help="s after an announcement counted")
    add("--wrap-up", type=float, default=5.0, help="the queue's wrap_up, s")
    add("--cycles", type=int, default=10, help="agent calls in phase 2")
    add("--seed", type=int, default=1, help="for the agent's random talk times")
    add("--wallboards", type=int, default=200)
    add("--consoles", type=int, default=200, help="clients of the events WebSocket")
    add("--churn", type=float, default=5.0, help="callers joining per second in phase 3")
    add("--watch-seconds", type=float, default=20.0, help="phase 3's measured window")
    add("--core", type=int, default=0, help="the CPU the switch is pinned to")
    add("--phases", default="waiting,agent,live", help="which of the three to measure")
    add("--realtime", action="store_true",
        help="the switch SCHED_FIFO (root): its timing, others kept off its core")  # fmt: skip
    add("--quick", action="store_true", help="a smoke run: a minute")
    add("--keep", action="store_true", help="keep the temp folder (the switch's log)")
    add("--watchers", help=argparse.SUPPRESS)  # internal: the clients' process
    if parser.parse_args(argv).quick:  # smaller defaults; an option given still wins
        parser.set_defaults(callers=20, seconds=6.0, announce_every=5.0, cycles=2,
                            wallboards=10, consoles=10, watch_seconds=4.0, wrap_up=2.0)  # fmt: skip
    return parser.parse_args(argv)


def print_figures(results: dict[str, Any]) -> None:
    waiting, agent, live = (results.get(k) for k in ("waiting", "agent", "live"))
    if waiting:
        print()
        print(record.table(
            ["callers", "switch CPU", "+ web", "others on its core", "jitter p50", "p99", "max",
             "around announcements p99", "max", "missing", "gaps > 40 ms"],
            [[waiting["joined"], f"{waiting['switch_cpu_percent']} %",
              f"{waiting['switch_and_web_cpu_percent']} %",
              f"{waiting['others_on_core_percent']} %", f"{waiting['jitter_p50_ms']} ms",
              f"{waiting['jitter_p99_ms']} ms", f"{waiting['jitter_max_ms']} ms",
              f"{waiting['announcement_jitter_p99_ms']} ms",
              f"{waiting['announcement_jitter_max_ms']} ms",
              f"{waiting['missing_percent']} %", waiting["gaps_over_40ms"]]],
        ))  # fmt: skip
        print(f"the switch's loop waited for its core {waiting['switch_waited_for_core_percent']} "
              f"% of the time; on that core also: interrupts "
              f"{waiting['interrupts_on_core_percent']} %, "
              f"steal {waiting['steal_on_core_percent']} %; lost on the way "
              f"{waiting['lost_packets']} (the kernel dropped {waiting['dropped_at_callers']} "
              f"at the callers' sockets); the receiver's CPU "
              f"{waiting['receiver_cpu_percent']} %")  # fmt: skip
    if agent:
        print()
        print(record.table(
            ["wrap-up ended by", "calls", "ringing after (median)", "max", "each"],
            [[which, agent[key]["count"], f"{agent[key]['median_ms']} ms",
              f"{agent[key]['max_ms']} ms", agent[key]["ms"]]
             for which, key in (("time", "by_time"), ("the API", "by_api"))],
        ))  # fmt: skip
    if live:
        print()
        print(record.table(
            ["watchers", "deliveries/s", "latency p50", "p99", "event to screen p50", "p99"],
            [[f"{live['wallboards']} wallboards", live["wallboard_deliveries_per_s"],
              f"{live['wallboard_push_p50_ms']} ms", f"{live['wallboard_push_p99_ms']} ms",
              f"{live['wallboard_event_to_screen_p50_ms']} ms",
              f"{live['wallboard_event_to_screen_p99_ms']} ms"],
             [f"{live['consoles']} consoles (queue.*)", live["console_deliveries_per_s"],
              f"{live['console_queue_p50_ms']} ms", f"{live['console_queue_p99_ms']} ms", "", ""],
             [f"{live['consoles']} consoles (agent.*)", "",
              f"{live['console_agent_p50_ms']} ms", f"{live['console_agent_p99_ms']} ms", "", ""]],
        ))  # fmt: skip
        print(f"queue events {live['queue_events_per_s']}/s, pauses {live['pauses_per_s']}/s, "
              f"clients dropped {live['clients_dropped']}")  # fmt: skip
    print()
    rows = []
    if waiting:
        rows.append(["announcement jitter p99, callers on one core", "< 5 ms",
                     f"{waiting['announcement_jitter_p99_ms']} ms with {waiting['joined']} "
                     f"at {waiting['switch_cpu_percent']} % of the core"])  # fmt: skip
    if agent:
        worst = max((c["ms"] for c in agent["cycles"] if c.get("rang")), default=None)
        rows.append(["agent ringing after the wrap-up's end", "< 200 ms", f"max {worst} ms"])
    if rows:
        print(record.table(["target", "wanted", "measured"], rows))


def main(argv: Sequence[str] | None = None) -> int:
    args = options(argv)
    if args.watchers:
        print(json.dumps(asyncio.run(watchers_main(json.loads(args.watchers)))))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work = Path(tempfile.mkdtemp(prefix="vaxel-bench-queue-"))
    started = datetime.now(UTC)
    results: dict[str, Any] = {}
    others = sorted(set(os.sched_getaffinity(0)) - {args.core}) or [args.core]

    def measure() -> None:
        mine = os.sched_getaffinity(0)
        os.sched_setaffinity(0, others)  # this script and its receiver: off the switch's core
        try:
            run_phases()
        finally:
            os.sched_setaffinity(0, mine)

    def run_phases() -> None:
        trunk = stamped_socket(rcvbuf=1 << 20)
        data, tokens = prepare(work, trunk.getsockname()[1], args)
        with Supervisor() as sup:
            server, web = start_vaxel(sup, work, data, args.core, args.realtime)
            phones = Phones(server.port, trunk)
            try:
                phases = {p.strip() for p in args.phases.split(",")}
                if "waiting" in phases:
                    results["waiting"], waiting = waiting_phase(server, phones, args, others)
                    print_figures({"waiting": results["waiting"]})
                else:  # the callers wait all the same: the agent's calls come from them
                    waiting = set_up_callers(phones, args.callers, args.setup_rate, 30.0)
                if "agent" in phases:
                    results["agent"] = agent_phase(
                        phones, web, tokens["agent"], tokens["console"], args
                    )
                if "live" in phases:
                    unpin(server.proc.pid)  # the web's fan-out is not the one-core question
                    results["live"] = watchers_phase(server, phones, web, tokens, args, waiting)
            finally:
                phones.close()
                trunk.close()
        print_figures(results)

    def report(interrupted: bool) -> None:
        path = record.write("queue", started=started, options=vars(args), results=results,
                            interrupted=interrupted)  # fmt: skip
        shown = path.relative_to(record.ROOT) if path.is_relative_to(record.ROOT) else path
        print(f"\nwritten to {shown}")

    def failed(note: str) -> None:
        results["error"] = note
        report(False)

    return record.run(work, args.keep, measure, report, failed, (OSError, RuntimeError))


if __name__ == "__main__":
    sys.exit(main())
