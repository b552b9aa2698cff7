"""Media relay benchmark: concurrent anchored calls with G.711 both ways (P5, O3).

For each step N it sets up N calls through Vaxel (a small SIP user agent in
this script: the caller answers the 407, the callee is a registered device),
then sends RTP both ways on every call, 50 packets/s of 160-octet PCMA
(20 ms) per direction, for the step's duration, and measures at the
receivers: loss, the RFC 3550 interarrival jitter and the distribution of
each packet's interarrival deviation |D|, the switch's CPU and memory. It
stops at the first N with 0.1 % loss or more.

The generator is two processes forked from this one: a sender that wakes
every 2 ms and sends a tenth of the streams' packets in one batch (each stream
every 20 ms), and a receiver on epoll. Both report their own CPU, so a reader
can see whether the generator or the switch set the limit. Each packet carries
its send time, so the receiver also times its one-way transit. A baseline run
sends the same streams peer to peer, without the switch, to show what the
generator itself contributes.

It prints figures, every step next to the baseline, and writes them with the raw
histograms to bench/results/media_relay-<time>.json; it never passes or fails on time.

    .venv/bin/python bench/media_relay.py [--duration 20] [--calls 25,50,...]
    .venv/bin/python bench/media_relay.py --quick
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import re
import secrets
import select
import signal
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import record
from register_rate import (
    DOMAIN,
    FIRST_EXT,
    HOST,
    Server,
    Supervisor,
    create_vaxel_users,
    free_port,
    launch,
    password_for,
    session_cpu_seconds,
    vaxel_command,
)

CALLER_EXT, CALLEE_EXT = FIRST_EXT, FIRST_EXT + 1
STEPS = (25, 50, 100, 150, 200, 250, 300, 400, 500, 600, 800, 1000, 1200)
QUICK_STEPS = (10, 25, 50)
LOSS_BOUND = 0.1  # percent: a step is held below this
# A sender whose 20 ms ticks run this late (p99) no longer sends a steady stream: the
# machine, not the switch, is then the limit, and the step does not count as held.
LATE_BOUND_MS = 20.0
RTP_PORTS = (10000, 29999)  # below the ephemeral range: 10000 pairs, 2 per call
PTIME = 0.020  # 20 ms of audio per packet
SAMPLES = 160  # 20 ms at 8 kHz: the timestamp step and the PCMA payload size
PCMA = 8
DRAIN = 0.5  # seconds the receiver keeps reading after the last packet was sent
SLOTS = 10  # the sender's wake-ups per 20 ms, each sending a tenth of the streams
WARMUP = 0.5  # seconds at the start whose interarrival deviations are not counted
BIN_MS = 0.05  # the |D| histogram's resolution
BINS = 4000  # up to 200 ms; the last bin holds everything above


# --- a small SIP user agent ------------------------------------------------------------


@dataclass
class Message:
    first: str
    headers: list[tuple[str, str]]
    body: str

    @property
    def is_response(self) -> bool:
        return self.first.startswith("SIP/2.0 ")

    @property
    def status(self) -> int:
        return int(self.first.split()[1]) if self.is_response else 0

    @property
    def method(self) -> str:
        return self.first.split()[0]

    def header(self, name: str) -> str:
        name = _COMPACT.get(name.lower(), name.lower())
        return next((value for key, value in self.headers if key == name), "")

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]

    @property
    def cseq(self) -> tuple[int, str]:
        number, method = self.header("cseq").split()
        return int(number), method


_COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
}


def parse(data: bytes) -> Message:
    head, _, body = data.decode("utf-8", "replace").partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers.append((_COMPACT.get(key, key), value.strip()))
    return Message(lines[0], headers, body)


def sdp_address(body: str) -> tuple[str, int]:
    """Where the SDP's audio goes: the c= address and the m=audio port."""
    host = re.search(r"^c=IN IP4 (\S+)", body, re.M)
    port = re.search(r"^m=audio (\d+) ", body, re.M)
    if host is None or port is None:
        raise ValueError("no c= or m=audio in the SDP")
    return host.group(1), int(port.group(1))


def sdp(port: int, offer: bool) -> str:
    formats = "8 0 101" if offer else "8 101"
    lines = [
        "v=0", f"o=bench {port} 1 IN IP4 {HOST}", "s=-", f"c=IN IP4 {HOST}", "t=0 0",
        f"m=audio {port} RTP/AVP {formats}", "a=rtpmap:8 PCMA/8000",
        *(["a=rtpmap:0 PCMU/8000"] if offer else []),
        "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20", "a=sendrecv",
    ]  # fmt: skip
    return "\r\n".join(lines) + "\r\n"


def _digest_params(value: str) -> dict[str, str]:
    return {
        k.lower(): v1 or v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', value)
    }


def digest(header: str, method: str, uri: str, user: str, password: str, value: str) -> str:
    """An MD5 digest answer (RFC 2617/7616, qop=auth when offered) for one challenge."""
    params = _digest_params(value)

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    realm, nonce = params["realm"], params["nonce"]
    ha1, ha2 = md5(f"{user}:{realm}:{password}"), md5(f"{method}:{uri}")
    fields = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    if "auth" in params.get("qop", "").split(","):
        cnonce, nc = secrets.token_hex(8), "00000001"
        fields.append(f'response="{md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")}"')
        fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        fields.append(f'response="{md5(f"{ha1}:{nonce}:{ha2}")}"')
    fields.append("algorithm=MD5")
    if "opaque" in params:
        fields.append(f'opaque="{params["opaque"]}"')
    return f"{header}: Digest " + ", ".join(fields)


class SipError(Exception):
    pass


@dataclass
class Call:
    """One call as this agent holds it: both SIP dialogs and the four RTP addresses."""

    call_id: str
    tag: str
    caller_rtp: socket.socket
    callee_rtp: socket.socket
    switch_caller_side: tuple[str, int] = ("", 0)  # where the caller sends (Vaxel's 200)
    switch_callee_side: tuple[str, int] = ("", 0)  # where the callee sends (Vaxel's INVITE)
    to: str = ""
    target: str = ""  # the Request-URI of in-dialog requests: the 200's Contact
    routes: list[str] = field(default_factory=list)


class Agent:
    """The caller (one SIP socket) and the callee device (another) in one blocking loop.

    Calls are set up one after the other: INVITE, 407, ACK, INVITE with
    credentials; the callee answers the switch's INVITE with 180 and 200 (its
    SDP names the callee's RTP socket); the caller ACKs the 200. A response
    the switch retransmits, or an ACK, is simply read and dropped.
    """

    def __init__(self, server_port: int) -> None:
        self.server = (HOST, server_port)
        self.caller = self._socket()
        self.callee = self._socket()
        self.answered: dict[str, bytes] = {}  # the callee's 200 per Call-ID, for retransmits
        self.pending_callee: dict[str, tuple[str, int]] = {}  # Vaxel's SDP per callee Call-ID

    @staticmethod
    def _socket() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, 0))
        return sock

    def close(self) -> None:
        self.caller.close()
        self.callee.close()

    def _port(self, sock: socket.socket) -> int:
        return sock.getsockname()[1]

    def _send(self, sock: socket.socket, text: str) -> None:
        sock.sendto(text.encode(), self.server)

    def _request(
        self, sock: socket.socket, method: str, uri: str, cseq: int, *,
        frm: str, to: str, call_id: str, extra: Sequence[str] = (), body: str = "",
        branch: str | None = None,
    ) -> str:  # fmt: skip
        port = self._port(sock)
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {HOST}:{port};branch={branch or 'z9hG4bK' + secrets.token_hex(8)}"
            ";rport",
            "Max-Forwards: 70",
            f"From: {frm}",
            f"To: {to}",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            *extra,
            "User-Agent: vaxel-bench-media",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        text = "\r\n".join(lines) + "\r\n\r\n" + body
        self._send(sock, text)
        return text

    def _reply(self, sock: socket.socket, request: Message, status: str, *, tag: str = "",
               extra: Sequence[str] = (), body: str = "") -> bytes:  # fmt: skip
        to = request.header("to")
        if tag and ";tag=" not in to:
            to += f";tag={tag}"
        lines = [f"SIP/2.0 {status}", *(f"Via: {via}" for via in request.all("via"))]
        lines += [
            f"From: {request.header('from')}", f"To: {to}",
            f"Call-ID: {request.header('call-id')}", f"CSeq: {request.header('cseq')}", *extra,
        ]  # fmt: skip
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        data = ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
        sock.sendto(data, self.server)
        return data

    # -- the callee device ----------------------------------------------------------

    def register_callee(self) -> None:
        uri = f"sip:{DOMAIN}"
        user = f"<sip:{CALLEE_EXT}@{DOMAIN}>"
        call_id, tag = secrets.token_hex(8), secrets.token_hex(4)
        contact = f"Contact: <sip:{CALLEE_EXT}@{HOST}:{self._port(self.callee)}>"
        extra = [contact, "Expires: 3600"]
        self._request(self.callee, "REGISTER", uri, 1, frm=f"{user};tag={tag}", to=user,
                      call_id=call_id, extra=extra)  # fmt: skip
        challenge = self._wait(self.callee, lambda m: m.is_response and m.cseq[0] == 1)
        if challenge.status == 401:
            auth = digest(
                "Authorization", "REGISTER", uri, str(CALLEE_EXT), password_for(CALLEE_EXT),
                challenge.header("www-authenticate"),
            )  # fmt: skip
            self._request(self.callee, "REGISTER", uri, 2, frm=f"{user};tag={tag}",
                          to=user, call_id=call_id, extra=[*extra, auth])  # fmt: skip
            challenge = self._wait(self.callee, lambda m: m.is_response and m.cseq[0] == 2)
        if challenge.status != 200:
            raise SipError(f"the callee's REGISTER got {challenge.first}")

    def _callee_handles(self, message: Message, rtp_port: int | None) -> None:
        """Serve what reaches the callee device: INVITE (answer), BYE (200), ACK (nothing)."""
        if message.is_response:
            return
        call_id = message.header("call-id")
        if message.method == "INVITE":
            if call_id in self.answered:  # the switch retransmitted: the same 200 again
                self.callee.sendto(self.answered[call_id], self.server)
                return
            if rtp_port is None:
                self._reply(self.callee, message, "486 Busy Here", tag="busy")
                return
            self.pending_callee[call_id] = sdp_address(message.body)
            tag = secrets.token_hex(4)
            contact = f"Contact: <sip:{CALLEE_EXT}@{HOST}:{self._port(self.callee)}>"
            self._reply(self.callee, message, "180 Ringing", tag=tag, extra=[contact])
            self.answered[call_id] = self._reply(
                self.callee, message, "200 OK", tag=tag, extra=[contact],
                body=sdp(rtp_port, offer=False),
            )  # fmt: skip
        elif message.method in ("BYE", "OPTIONS", "CANCEL"):
            self._reply(self.callee, message, "200 OK")
            self.answered.pop(call_id, None)

    # -- waiting --------------------------------------------------------------------

    def _wait(
        self,
        sock: socket.socket,
        wanted: Callable[[Message], bool],
        timeout: float = 5.0,
        rtp_port: int | None = None,
    ) -> Message:
        """Read both sockets until `sock` gets a message `wanted` accepts; serve the callee."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SipError("no answer from the switch within 5 s")
            ready, _, _ = select.select([self.caller, self.callee], [], [], left)
            for ready_sock in ready:
                message = parse(ready_sock.recv(65535))
                if ready_sock is self.callee and not message.is_response:
                    self._callee_handles(message, rtp_port)
                    continue
                if ready_sock is sock and wanted(message):
                    return message

    # -- calls ----------------------------------------------------------------------

    def call(self, caller_rtp: socket.socket, callee_rtp: socket.socket) -> Call:
        """Set up one call; return it with the switch's RTP addresses for both sides."""
        call = Call(secrets.token_hex(10), secrets.token_hex(4), caller_rtp, callee_rtp)
        uri = f"sip:{CALLEE_EXT}@{DOMAIN}"
        frm = f"<sip:{CALLER_EXT}@{DOMAIN}>;tag={call.tag}"
        to = f"<sip:{CALLEE_EXT}@{DOMAIN}>"
        contact = f"Contact: <sip:{CALLER_EXT}@{HOST}:{self._port(self.caller)}>"
        body = sdp(caller_rtp.getsockname()[1], offer=True)
        branch = "z9hG4bK" + secrets.token_hex(8)
        callee_port = callee_rtp.getsockname()[1]
        before = set(self.pending_callee)
        self._request(self.caller, "INVITE", uri, 1, frm=frm, to=to, call_id=call.call_id,
                      extra=[contact], body=body, branch=branch)  # fmt: skip

        def final(cseq: int) -> Callable[[Message], bool]:
            return lambda m: (
                m.is_response and m.header("call-id") == call.call_id and m.cseq == (cseq, "INVITE")
                and m.status >= 200
            )  # fmt: skip

        first = self._wait(self.caller, final(1), rtp_port=callee_port)
        cseq = 1
        if first.status == 407:
            self._request(self.caller, "ACK", uri, 1, frm=frm, to=first.header("to"),
                          call_id=call.call_id, branch=branch)  # fmt: skip
            auth = digest(
                "Proxy-Authorization", "INVITE", uri, str(CALLER_EXT), password_for(CALLER_EXT),
                first.header("proxy-authenticate"),
            )  # fmt: skip
            cseq = 2
            self._request(self.caller, "INVITE", uri, cseq, frm=frm, to=to,
                          call_id=call.call_id, extra=[contact, auth], body=body)  # fmt: skip
            first = self._wait(self.caller, final(cseq), rtp_port=callee_port)
        if first.status != 200:
            raise SipError(f"the INVITE got {first.first}")
        call.to = first.header("to")
        target = re.search(r"<([^>]+)>", first.header("contact"))
        call.target = target.group(1) if target else uri
        call.routes = list(reversed(first.all("record-route")))
        call.switch_caller_side = sdp_address(first.body)
        self._request(self.caller, "ACK", call.target, cseq, frm=frm, to=call.to,
                      call_id=call.call_id, extra=[f"Route: {r}" for r in call.routes])  # fmt: skip
        new = [key for key in self.pending_callee if key not in before]
        if len(new) != 1:
            raise SipError(f"expected one INVITE at the callee, saw {len(new)}")
        call.switch_callee_side = self.pending_callee.pop(new[0])
        return call

    def hang_up(self, call: Call) -> None:
        frm = f"<sip:{CALLER_EXT}@{DOMAIN}>;tag={call.tag}"
        self._request(self.caller, "BYE", call.target, 3, frm=frm, to=call.to,
                      call_id=call.call_id, extra=[f"Route: {r}" for r in call.routes])  # fmt: skip
        self._wait(
            self.caller,
            lambda m: m.is_response and m.header("call-id") == call.call_id
            and m.cseq == (3, "BYE") and m.status >= 200,
        )  # fmt: skip

    def settle(self, seconds: float) -> None:
        """Serve the callee (BYEs, ACKs) for a while after the last hang-up."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.caller, self.callee], [], [], left)
            for ready_sock in ready:
                message = parse(ready_sock.recv(65535))
                if ready_sock is self.callee:
                    self._callee_handles(message, None)


# --- the RTP generator: a sender and a receiver process --------------------------------


def rtp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
    sock.bind((HOST, 0))
    return sock


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def send_streams(
    streams: list[tuple[socket.socket, tuple[str, int]]], start: float, duration: float,
    out: Connection,
) -> None:  # fmt: skip
    """Every 20 ms, one PCMA packet on every stream, in SLOTS batches 2 ms apart; report.

    The payload's first 8 octets carry the moment the packet was sent (this
    machine's monotonic clock, which the receiver shares): the switch relays
    PCMA to PCMA untouched, so the receiver can time each packet's one-way
    transit, free of the sender's own lateness.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    pack_into = struct.pack_into
    packets = []
    for sock, destination in streams:
        buf = bytearray(12 + SAMPLES)
        buf[0], buf[1] = 0x80, PCMA
        buf[8:12] = secrets.token_bytes(4)  # SSRC
        buf[12:] = b"\xd5" * SAMPLES  # A-law silence
        packets.append((sock.sendto, buf, destination))
    seq0, ts0 = secrets.randbits(16), secrets.randbits(32)
    ticks = round(duration / PTIME)
    # Phones are not synchronised: the streams are spread over SLOTS wake-ups per 20 ms,
    # so the switch sees a steady flow rather than every stream's packet at once.
    groups = [packets[slot::SLOTS] for slot in range(SLOTS)]
    late: list[float] = []
    errors = 0
    cpu0 = own_cpu_seconds()
    monotonic = time.monotonic
    for tick in range(ticks):
        seq, ts = (seq0 + tick) & 0xFFFF, (ts0 + tick * SAMPLES) & 0xFFFFFFFF
        for slot, group in enumerate(groups):
            due = start + tick * PTIME + slot * (PTIME / SLOTS)
            wait = due - monotonic()
            if wait > 0:
                time.sleep(wait)
            late.append(monotonic() - due)
            for sendto, buf, destination in group:
                pack_into("!HI", buf, 2, seq, ts)
                pack_into("!d", buf, 12, monotonic())  # the send time, for the one-way transit
                try:
                    sendto(buf, destination)
                except OSError:
                    errors += 1
    cpu = own_cpu_seconds() - cpu0
    late.sort()
    out.send(
        {
            "sent": ticks * len(packets) - errors,
            "errors": errors,
            "cpu": cpu,
            "late_p99_ms": late[int(0.99 * (len(late) - 1))] * 1000 if late else 0.0,
            "late_max_ms": late[-1] * 1000 if late else 0.0,
        }
    )
    out.close()


def receive_streams(socks: list[socket.socket], start: float, end: float, out: Connection) -> None:
    """Read every stream until `end`: counts, sequence range, RFC 3550 jitter, |D| histogram."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    count = len(socks)
    received = [0] * count
    first = [-1] * count
    highest = [-1] * count  # extended sequence number
    transit_prev = [0.0] * count
    seen = [False] * count
    jitter = [0.0] * count  # RFC 3550 J, in timestamp units
    others = 0  # datagrams that are not our PCMA packets
    hist = [0] * (BINS + 1)
    transit_hist = [0] * (BINS + 1)
    transit_scale = 1000 / BIN_MS  # seconds to histogram bins
    index = {sock.fileno(): i for i, sock in enumerate(socks)}
    poller = select.epoll()
    for sock in socks:
        poller.register(sock.fileno(), select.EPOLLIN)
    buf = bytearray(2048)
    unpack_from = struct.unpack_from
    monotonic = time.monotonic
    dontwait = socket.MSG_DONTWAIT
    scale = 1 / (8 * BIN_MS)  # timestamp units (1/8 ms) to histogram bins
    counting = start + WARMUP  # the first packets meet cold caches and page faults
    cpu0 = own_cpu_seconds()
    while (left := end - monotonic()) > 0:
        for fd, _ in poller.poll(min(left, 0.1)):
            i = index[fd]
            recv_into = socks[i].recv_into
            while True:
                try:
                    size = recv_into(buf, 2048, dontwait)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    continue
                now = monotonic()
                if size < 12 or buf[1] & 0x7F != PCMA:
                    # RTCP: the switch sends its reports to the RTP port + 1, which may be
                    # another stream's socket here (ports come from the OS, not in pairs).
                    others += 1
                    continue
                seq, ts = unpack_from("!HI", buf, 2)
                received[i] += 1
                if now >= counting and size >= 20:
                    b = int((now - unpack_from("!d", buf, 12)[0]) * transit_scale)
                    transit_hist[b if 0 <= b < BINS else BINS] += 1
                top = highest[i]
                if top < 0:
                    first[i] = highest[i] = seq
                else:
                    step = (seq - top) & 0xFFFF
                    if step < 0x8000:
                        highest[i] = top + step
                # RFC 3550 A.8: transit in timestamp units; the wrap of ts cancels in D.
                transit = now * 8000.0 - ts
                if seen[i]:
                    d = transit - transit_prev[i]
                    d = (d + 2147483648.0) % 4294967296.0 - 2147483648.0
                    d = -d if d < 0 else d
                    jitter[i] += (d - jitter[i]) / 16
                    if now >= counting:
                        b = int(d * scale)
                        hist[b if b < BINS else BINS] += 1
                seen[i] = True
                transit_prev[i] = transit
    cpu = own_cpu_seconds() - cpu0
    expected = [highest[i] - first[i] + 1 if highest[i] >= 0 else 0 for i in range(count)]
    out.send(
        {
            "received": received,
            "expected": expected,
            "jitter_ms": [j / 8 for j in jitter],
            "hist": hist,
            "transit_hist": transit_hist,
            "others": others,
            "cpu": cpu,
            "wall": end - start,
        }
    )
    out.close()


def hist_percentile(hist: list[int], fraction: float) -> float:
    """The upper edge (ms) of the bin holding `fraction` of the histogram's samples."""
    total = sum(hist)
    if not total:
        return float("nan")
    rank, seen = fraction * total, 0
    for b, n in enumerate(hist):
        seen += n
        if seen >= rank:
            return (b + 1) * BIN_MS
    return BINS * BIN_MS


@dataclass
class Traffic:
    """What one generator run measured."""

    streams: int
    seconds: float
    sent: int
    received: int
    seq_lost: int  # sum over streams of expected (from sequence numbers) - received
    lossy_streams: int
    worst_stream_loss: float  # percent
    hist: list[int]  # |D| (interarrival deviation, RFC 3550 A.8), BIN_MS bins
    transit_hist: list[int]  # one-way transit, send to receive, BIN_MS bins
    jitter_ms: list[float]  # RFC 3550 J per stream at the end
    sender_cpu: float  # % of one core
    receiver_cpu: float
    late_p99_ms: float  # how late the sender's 20 ms ticks were
    late_max_ms: float
    send_errors: int
    others: int  # datagrams received that were not the streams' PCMA (the switch's RTCP)

    @property
    def loss(self) -> float:
        return 100 * (self.sent - self.received) / self.sent if self.sent else 100.0

    def d_percentile(self, fraction: float) -> float:
        """|D| (ms) at `fraction` of all interarrival deviations."""
        return hist_percentile(self.hist, fraction)

    def transit_percentile(self, fraction: float) -> float:
        """One-way transit (ms), sender to receiver, at `fraction` of all packets."""
        return hist_percentile(self.transit_hist, fraction)

    @property
    def mean_jitter_ms(self) -> float:
        return sum(self.jitter_ms) / len(self.jitter_ms) if self.jitter_ms else float("nan")


def run_traffic(
    pairs: Sequence[tuple[socket.socket, tuple[str, int], socket.socket]], duration: float
) -> Traffic:
    """Send on every (socket, destination) and receive on every paired socket; fork 2 procs.

    `pairs`: (sending socket, where it sends, the socket that should get what it sends).
    """
    ctx = multiprocessing.get_context("fork")
    start = time.monotonic() + 0.3
    end = start + duration + DRAIN
    send_out, send_in = ctx.Pipe(duplex=False)
    recv_out, recv_in = ctx.Pipe(duplex=False)
    receivers = [receiver for _, _, receiver in pairs]
    streams = [(sender, destination) for sender, destination, _ in pairs]
    receiver = ctx.Process(target=receive_streams, args=(receivers, start, end, recv_in))
    sender = ctx.Process(target=send_streams, args=(streams, start, duration, send_in))
    receiver.start()
    sender.start()
    try:
        got_sent = send_out.recv()
        got = recv_out.recv()
    finally:
        for proc in (sender, receiver):
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()
    expected = got["expected"]
    received = got["received"]
    per_stream_sent = got_sent["sent"] / len(pairs)
    losses = [100 * (per_stream_sent - r) / per_stream_sent for r in received]
    return Traffic(
        streams=len(pairs),
        seconds=duration,
        sent=got_sent["sent"],
        received=sum(received),
        seq_lost=sum(max(0, e - r) for e, r in zip(expected, received, strict=True)),
        lossy_streams=sum(1 for loss in losses if loss > 0),
        worst_stream_loss=max(losses) if losses else 0.0,
        hist=got["hist"],
        transit_hist=got["transit_hist"],
        jitter_ms=got["jitter_ms"],
        sender_cpu=100 * got_sent["cpu"] / duration,
        receiver_cpu=100 * got["cpu"] / (duration + DRAIN),
        late_p99_ms=got_sent["late_p99_ms"],
        late_max_ms=got_sent["late_max_ms"],
        send_errors=got_sent["errors"],
        others=got["others"],
    )


# --- the switch ------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def udp_drops_by_port(ports: set[int]) -> int:
    """Datagrams the kernel dropped on 127.0.0.1 sockets bound to `ports` (buffer full)."""
    drops = 0
    with open("/proc/net/udp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local = fields[1]
            if local.startswith("0100007F:") and int(local[9:], 16) in ports:
                drops += int(fields[-1])
    return drops


def start_vaxel(sup: Supervisor, work: Path) -> Server:
    data = work / "vaxel-data"
    create_vaxel_users(data, 2)  # company bench.test, users 10000 and 10001, via the CLI
    port = free_port()
    args = [
        *vaxel_command(), "serve", "--data", str(data), "--sip", f"{HOST}:{port}",
        "--http", f"{HOST}:0",  # the web idle, as in production
        "--rtp-ports", f"{RTP_PORTS[0]}-{RTP_PORTS[1]}",
    ]  # fmt: skip
    return launch(sup, "vaxel", args, port, work / "vaxel.log", work, patience=60)


# --- one step --------------------------------------------------------------------------


@dataclass
class Step:
    calls: int
    set_up: int
    setup_seconds: float
    setup_error: str
    traffic: Traffic | None
    server_cpu: float  # % of one core while the media flowed
    server_cpu_seconds: float
    rss_kb: int  # the switch's VmRSS with the calls up
    rss_before_kb: int  # ... just before they were set up
    switch_drops: int  # dropped by the kernel on the switch's RTP sockets
    generator_drops: int  # ... on the generator's receiving sockets

    @property
    def held(self) -> bool:
        return (
            self.set_up == self.calls
            and self.traffic is not None
            and self.traffic.loss < LOSS_BOUND
            and self.traffic.late_p99_ms < LATE_BOUND_MS
        )

    @property
    def relayed(self) -> int:
        return self.traffic.received if self.traffic else 0

    def why_not_held(self) -> str:
        reasons = []
        if self.set_up != self.calls:
            reasons.append(f"{self.set_up}/{self.calls} calls set up: {self.setup_error}")
        traffic = self.traffic
        if traffic is not None and traffic.loss >= LOSS_BOUND:
            reasons.append(
                f"loss {traffic.loss:.2f} % >= {LOSS_BOUND} % (dropped on the switch's sockets "
                f"{self.switch_drops}, on the generator's {self.generator_drops})"
            )
            if self.server_cpu >= 90:
                reasons.append(f"the switch's core is full ({self.server_cpu:.0f} %)")
            if traffic.sender_cpu >= 90 or traffic.receiver_cpu >= 90:
                reasons.append("the generator may be the limit (a process near 100 % CPU)")
        if traffic is not None and traffic.late_p99_ms >= LATE_BOUND_MS:
            reasons.append(
                f"the generator fell behind its 20 ms clock (ticks late p99 "
                f"{traffic.late_p99_ms:.0f} ms, switch CPU {self.server_cpu:.0f} %, generator "
                f"{traffic.sender_cpu + traffic.receiver_cpu:.0f} %): the 2 shared cores, not "
                "the switch, set this limit"
            )
        return "; ".join(reasons) or "held"


def run_step(server: Server, agent: Agent, calls: int, duration: float) -> Step:
    sockets: list[socket.socket] = []
    set_up: list[Call] = []
    error = ""
    rss_before = rss_kb(server.proc.pid)
    setup_seconds = 0.0
    try:
        started = time.monotonic()
        for _ in range(calls):
            caller_rtp, callee_rtp = rtp_socket(), rtp_socket()
            sockets += [caller_rtp, callee_rtp]
            try:
                set_up.append(agent.call(caller_rtp, callee_rtp))
            except (SipError, ValueError, OSError) as exc:
                error = str(exc)
                break
        setup_seconds = time.monotonic() - started
        agent.settle(0.2)
        traffic = None
        cpu = cpu_seconds = 0.0
        rss = rss_kb(server.proc.pid)
        switch_drops = generator_drops = 0
        if len(set_up) == calls:
            pairs = []
            for call in set_up:
                pairs.append((call.caller_rtp, call.switch_caller_side, call.callee_rtp))
                pairs.append((call.callee_rtp, call.switch_callee_side, call.caller_rtp))
            switch_ports = {c.switch_caller_side[1] for c in set_up}
            switch_ports |= {c.switch_callee_side[1] for c in set_up}
            own_ports = {sock.getsockname()[1] for sock in sockets}
            drops0 = udp_drops_by_port(switch_ports), udp_drops_by_port(own_ports)
            cpu0, wall0 = session_cpu_seconds(server.proc.pid), time.monotonic()
            traffic = run_traffic(pairs, duration)
            cpu_seconds = session_cpu_seconds(server.proc.pid) - cpu0
            cpu = 100 * cpu_seconds / (time.monotonic() - wall0)
            rss = max(rss, rss_kb(server.proc.pid))
            switch_drops = udp_drops_by_port(switch_ports) - drops0[0]
            generator_drops = udp_drops_by_port(own_ports) - drops0[1]
        for call in set_up:
            try:
                agent.hang_up(call)
            except (SipError, OSError) as exc:
                error = error or f"hang-up: {exc}"
        agent.settle(0.3)
    finally:
        for sock in sockets:
            sock.close()
    return Step(
        calls=calls,
        set_up=len(set_up),
        setup_seconds=setup_seconds,
        setup_error=error,
        traffic=traffic,
        server_cpu=cpu,
        server_cpu_seconds=cpu_seconds,
        rss_kb=rss,
        rss_before_kb=rss_before,
        switch_drops=switch_drops,
        generator_drops=generator_drops,
    )


def baseline(calls: int, duration: float) -> Traffic:
    """The generator alone: the same streams peer to peer, caller socket <-> callee socket."""
    sockets = [(rtp_socket(), rtp_socket()) for _ in range(calls)]
    try:
        pairs = []
        for a, b in sockets:
            pairs.append((a, b.getsockname(), b))
            pairs.append((b, a.getsockname(), a))
        return run_traffic(pairs, duration)
    finally:
        for a, b in sockets:
            a.close()
            b.close()


# --- the report ------------------------------------------------------------------------


def per_call_cpu(step: Step) -> float:
    """% of one core per call while media flows."""
    return step.server_cpu / step.calls if step.calls else float("nan")


def us_per_packet(step: Step) -> float:
    return step.server_cpu_seconds / step.relayed * 1e6 if step.relayed else float("nan")


def kb_per_call(step: Step) -> float:
    return (step.rss_kb - step.rss_before_kb) / step.calls if step.calls else float("nan")


def timing(t: Traffic) -> str:
    return (
        f"|D| p50 {t.d_percentile(0.5):.2f} p99 {t.d_percentile(0.99):.2f} ms, transit p50 "
        f"{t.transit_percentile(0.5):.2f} p99 {t.transit_percentile(0.99):.2f} ms, "
        f"J {t.mean_jitter_ms:.2f} ms"
    )


def describe(step: Step, base: Traffic) -> str:
    t = step.traffic
    head = f"    {step.calls:>4} calls  {'held' if step.held else 'NOT held':8}  "
    head += f"set up {step.set_up}/{step.calls} in {step.setup_seconds:.1f} s"
    if t is None:
        return head
    added_d = t.d_percentile(0.99) - base.d_percentile(0.99)
    added_transit = t.transit_percentile(0.99) - base.transit_percentile(0.99)
    return (
        f"{head}  packets {t.received}/{t.sent}  loss {t.loss:.3f} % "
        f"(worst stream {t.worst_stream_loss:.1f} %, {t.lossy_streams} lossy; by seq {t.seq_lost})"
        f"  drops: switch {step.switch_drops}, generator {step.generator_drops}"
        f"  (+{t.others} RTCP)\n"
        f"                {timing(t)}; added p99: |D| {added_d:+.2f}, transit "
        f"{added_transit:+.2f} ms\n"
        f"                switch CPU {step.server_cpu:.1f} % ({per_call_cpu(step):.3f} %/call, "
        f"{us_per_packet(step):.1f} µs/packet), RSS {step.rss_kb / 1024:.0f} MB "
        f"({kb_per_call(step):+.0f} kB/call); generator CPU send {t.sender_cpu:.0f} % "
        f"recv {t.receiver_cpu:.0f} % (ticks late p99 {t.late_p99_ms:.1f} max "
        f"{t.late_max_ms:.1f} ms)"
    )


@dataclass
class Ladder:
    base: Traffic
    steps: list[Step] = field(default_factory=list)
    best: Step | None = None
    stopped_by: Step | None = None
    note: str = ""


def print_summary(ladder: Ladder, args: argparse.Namespace) -> None:
    base = ladder.base
    print()
    print(
        f"Concurrent calls held for {args.duration:g} s with < {LOSS_BOUND} % loss "
        "(G.711 PCMA, 20 ms, both ways through the switch)"
    )
    print(
        f"baseline (generator alone, {base.streams // 2} calls peer to peer): {timing(base)}, "
        f"loss {base.loss:.3f} %, generator CPU send {base.sender_cpu:.0f} % "
        f"recv {base.receiver_cpu:.0f} %"
    )
    print()
    headers = ("held", "loss %", "|D| p99 ms", "added", "transit p99 ms", "added", "J ms",
               "switch CPU %", "CPU %/call", "µs/packet", "RSS MB", "kB/call",
               "gen CPU send/recv %", "limited by")  # fmt: skip
    step = ladder.best
    limit = ladder.stopped_by.why_not_held() if ladder.stopped_by else "not reached"
    if ladder.note:
        limit = ladder.note
    if step is None or step.traffic is None:
        row: tuple[str, ...] = ("none", *["-"] * (len(headers) - 2), limit)
    else:
        t = step.traffic
        prefix = "" if ladder.stopped_by else ">= "
        row = (
            f"{prefix}{step.calls}",
            f"{t.loss:.3f}",
            f"{t.d_percentile(0.99):.2f}",
            f"{t.d_percentile(0.99) - base.d_percentile(0.99):+.2f}",
            f"{t.transit_percentile(0.99):.2f}",
            f"{t.transit_percentile(0.99) - base.transit_percentile(0.99):+.2f}",
            f"{t.mean_jitter_ms:.2f}",
            f"{step.server_cpu:.0f}",
            f"{per_call_cpu(step):.3f}",
            f"{us_per_packet(step):.1f}",
            f"{step.rss_kb / 1024:.0f}",
            f"{kb_per_call(step):.0f}",
            f"{t.sender_cpu:.0f}/{t.receiver_cpu:.0f}",
            limit,
        )
    widths = [max(len(str(r[i])) for r in (headers, row)) for i in range(len(headers) - 1)]
    for line in (headers, row):
        cells = [str(cell).ljust(w) for cell, w in zip(line, widths, strict=False)]
        print("  ".join([*cells, str(line[-1])]))


def print_steps(ladder: Ladder) -> None:
    """Every step, one line each, under the baseline (the generator without the switch)."""
    base = ladder.base
    headers = ("calls", "held", "loss %", "transit p50 / p99 ms", "added p99", "|D| p99 ms",
               "switch CPU %", "µs/packet", "RSS MB", "kB/call", "gen CPU send/recv %",
               "ticks late p99 ms")  # fmt: skip
    rows = [
        (
            f"{base.streams // 2} (baseline)", "", f"{base.loss:.3f}",
            f"{base.transit_percentile(0.5):.2f} / {base.transit_percentile(0.99):.2f}", "",
            f"{base.d_percentile(0.99):.2f}", "", "", "", "",
            f"{base.sender_cpu:.0f}/{base.receiver_cpu:.0f}", f"{base.late_p99_ms:.1f}",
        )
    ]  # fmt: skip
    for step in ladder.steps:
        t = step.traffic
        if t is None:
            rows.append((str(step.calls), "NOT held", *[""] * 9, step.why_not_held()))
            continue
        added = t.transit_percentile(0.99) - base.transit_percentile(0.99)
        rows.append(
            (
                str(step.calls), "held" if step.held else "NOT held", f"{t.loss:.3f}",
                f"{t.transit_percentile(0.5):.2f} / {t.transit_percentile(0.99):.2f}",
                f"{added:+.2f}", f"{t.d_percentile(0.99):.2f}", f"{step.server_cpu:.0f}",
                f"{us_per_packet(step):.1f}", f"{step.rss_kb / 1024:.0f}",
                f"{kb_per_call(step):.0f}", f"{t.sender_cpu:.0f}/{t.receiver_cpu:.0f}",
                f"{t.late_p99_ms:.1f}",
            )
        )  # fmt: skip
    print()
    print("Step by step, the switch next to the baseline (added p99: transit over the baseline's)")
    print(record.table(headers, rows))


def _sparse(hist: list[int]) -> dict[str, int]:
    """A histogram's non-empty bins, keyed by their upper edge in ms."""
    return {f"{(b + 1) * BIN_MS:.2f}": n for b, n in enumerate(hist) if n}


def traffic_record(t: Traffic) -> dict[str, Any]:
    raw = asdict(t)
    raw["hist"] = _sparse(t.hist)
    raw["transit_hist"] = _sparse(t.transit_hist)
    return {
        **raw,
        "loss_percent": t.loss,
        "d_p50_ms": t.d_percentile(0.5),
        "d_p99_ms": t.d_percentile(0.99),
        "transit_p50_ms": t.transit_percentile(0.5),
        "transit_p99_ms": t.transit_percentile(0.99),
        "mean_jitter_ms": t.mean_jitter_ms,
    }


def save(
    ladder: Ladder, args: argparse.Namespace, started: datetime, *, interrupted: bool = False
) -> None:
    steps = []
    for step in ladder.steps:
        raw = {k: v for k, v in asdict(step).items() if k != "traffic"}
        steps.append(
            {
                **raw,
                "held": step.held,
                "traffic": traffic_record(step.traffic) if step.traffic else None,
                "cpu_percent_per_call": per_call_cpu(step),
                "us_per_packet": us_per_packet(step),
                "kb_per_call": kb_per_call(step),
                "limited_by": "" if step.held else step.why_not_held(),
            }
        )
    results = {
        "held_calls": ladder.best.calls if ladder.best else None,
        "every_step_held": ladder.best is not None and ladder.stopped_by is None,
        "note": ladder.note,
        "baseline": traffic_record(ladder.base),
        "steps": steps,
    }
    options = {**vars(args), "loss_bound_percent": LOSS_BOUND, "late_bound_ms": LATE_BOUND_MS}
    path = record.write(
        "media_relay", started=started, options=options, results=results,
        interrupted=interrupted,
    )  # fmt: skip
    print(f"\nraw results: {path.relative_to(record.ROOT)}")


def climb(server: Server, agent: Agent, args: argparse.Namespace, ladder: Ladder) -> None:
    for calls in args.steps:
        step = run_step(server, agent, calls, args.duration)
        ladder.steps.append(step)
        print(describe(step, ladder.base), flush=True)
        if not step.held:
            ladder.stopped_by = step
            print(f"      stopped: {step.why_not_held()}")
            return
        ladder.best = step
        if server.proc.poll() is not None:
            ladder.note = f"server exited with status {server.proc.returncode}"
            return
        time.sleep(1)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, help="seconds of media per step (20; quick 3)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: short steps, few calls")
    parser.add_argument(
        "--calls", help=f"comma-separated steps (default {','.join(map(str, STEPS))})"
    )
    parser.add_argument(
        "--baseline-calls", type=int,
        help="calls in the peer-to-peer baseline (default 250; quick 25)",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (the switch's log)")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 3.0 if args.quick else 20.0
    if args.baseline_calls is None:
        args.baseline_calls = 25 if args.quick else 250
    steps = [int(n) for n in args.calls.split(",")] if args.calls else None
    args.steps = steps or list(QUICK_STEPS if args.quick else STEPS)
    if args.duration <= 0 or min(args.steps) < 1 or args.baseline_calls < 1:
        parser.error("--duration, --calls and --baseline-calls must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work = Path(tempfile.mkdtemp(prefix="vaxel-media-"))
    measured: list[Ladder] = []  # the ladder, once the baseline is measured
    started = datetime.now(UTC)

    def measure() -> None:
        print(
            f"steps of {args.duration:g} s of media at {args.steps} concurrent calls "
            f"({2 * 50} packets/s per call)"
        )
        base = baseline(args.baseline_calls, min(args.duration, 10.0))
        print(
            f"  baseline, {args.baseline_calls} calls peer to peer: {timing(base)}, loss "
            f"{base.loss:.3f} %, generator CPU send {base.sender_cpu:.0f} % recv "
            f"{base.receiver_cpu:.0f} % (ticks late p99 {base.late_p99_ms:.1f} ms)",
            flush=True,
        )
        ladder = Ladder(base)
        measured.append(ladder)
        with Supervisor() as sup:
            server = start_vaxel(sup, work)
            print(f"vaxel: udp:{HOST}:{server.port} (pid {server.proc.pid})", flush=True)
            agent = Agent(server.port)
            try:
                agent.register_callee()  # one device, one binding, for every step
                climb(server, agent, args, ladder)
            finally:
                agent.close()
            if server.proc.poll() is not None:
                ladder.note = f"server exited with status {server.proc.returncode}"
                print(f"  {ladder.note}\n{server.tail()}")

    def report(interrupted: bool) -> None:
        for ladder in measured:
            print_steps(ladder)
            print_summary(ladder, args)
            save(ladder, args, started, interrupted=interrupted)

    def failed(note: str) -> None:
        for ladder in measured:
            ladder.note = note
            save(ladder, args, started)

    return record.run(work, args.keep, measure, report, failed, (RuntimeError, SipError))


if __name__ == "__main__":
    sys.exit(main())
