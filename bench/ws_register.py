"""SIP over WebSocket (P2, U1): registrations per second through the web process, and the
latency its hop adds.

A browser's SIP reaches the switch through the web process (`/ws`, web/sip_ws.py), which
relays every message over the Unix socket link (web/link.py) to the switch
(transport/ws.py): two more processes' worth of work than SIP over TCP straight to the
switch. This measures both against one `vaxel serve` with the same client code (Python
asyncio, `websockets` for the WebSocket, Content-Length framing for TCP), so the
difference is the hop's:

1. **Latency**: one client sends OPTIONS (answered by the switch itself, no digest), one
   at a time, and times each round trip with a nanosecond clock: p50 and p99 over TCP and
   over WS.
2. **Registrations per second**: `--clients` connections per transport (each its own
   user, of `--users` made with the `vaxel` CLI) register in a closed loop, REGISTER ->
   401 -> REGISTER with the MD5 answer -> 200, as fast as answers come, for `--seconds`.
   The switch's and the web process's CPU over that time are read from /proc.

The clients run on the same two cores as the server: their CPU is printed too, so a
reader can tell who set the limit. Raw figures go to bench/results/ws_register-<UTC>.json.

    bench/ws_register.py [--users 200] [--clients 50] [--seconds 20] [--probes 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

import record
from register_rate import (
    DOMAIN,
    HOST,
    Supervisor,
    create_vaxel_users,
    extensions,
    free_port,
    password_for,
    vaxel_command,
)
from vaxel.sip.digest import DigestClient
from vaxel.sip.message import Response, StreamFramer, parse_message


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="users made with the CLI")
    parser.add_argument("--clients", type=int, default=50, help="connections per transport")
    parser.add_argument("--seconds", type=float, default=20.0, help="each transport's load")
    parser.add_argument("--probes", type=int, default=2000, help="OPTIONS round trips each")
    parser.add_argument("--quick", action="store_true", help="a smoke run: seconds")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and log")
    args = parser.parse_args()
    if args.quick:
        args.users, args.clients, args.seconds, args.probes = 20, 10, 3.0, 200
    args.clients = min(args.clients, args.users)
    return args


# -- one SIP connection, over TCP or a WebSocket ---------------------------------------------


class Connection:
    """Sends a SIP message and waits for the next one that arrives."""

    transport = "TCP"
    local_port = 0

    async def send(self, data: bytes) -> None:
        raise NotImplementedError

    async def receive(self) -> Response:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class TcpConnection(Connection):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.framer = StreamFramer()
        self.local_port = writer.get_extra_info("sockname")[1]

    @classmethod
    async def open(cls, port: int) -> TcpConnection:
        return cls(*await asyncio.open_connection(HOST, port))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def receive(self) -> Response:
        while (frame := self.framer.next()) is None or not frame.strip():
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("the switch closed the connection")
            self.framer.feed(data)
        message = parse_message(frame, stream=True)
        assert isinstance(message, Response), message
        return message

    async def close(self) -> None:
        self.writer.close()


class WsConnection(Connection):
    transport = "WS"

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.local_port = socket.local_address[1]

    @classmethod
    async def open(cls, url: str) -> WsConnection:
        return cls(await connect(url, subprotocols=["sip"], max_size=2**16))  # type: ignore[list-item]

    async def send(self, data: bytes) -> None:
        await self.socket.send(data.decode())

    async def receive(self) -> Response:
        text = await self.socket.recv()
        message = parse_message(text.encode() if isinstance(text, str) else text)
        assert isinstance(message, Response), message
        return message

    async def close(self) -> None:
        await self.socket.close()


def _head(connection: Connection, method: str, uri: str, call_id: str, cseq: int) -> list[str]:
    branch = f"z9hG4bK{secrets.token_hex(8)}"
    host = f"{secrets.token_hex(4)}.invalid" if connection.transport == "WS" else HOST
    return [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/{connection.transport} {host}:{connection.local_port};branch={branch}",
        f"Call-ID: {call_id}", f"CSeq: {cseq} {method}", "Max-Forwards: 70",
    ]  # fmt: skip


def _message(lines: list[str]) -> bytes:
    return ("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode()


async def options_round_trip(connection: Connection, number: int) -> int:
    """Nanoseconds from sending an OPTIONS to its answer."""
    lines = _head(connection, "OPTIONS", f"sip:{DOMAIN}", f"probe-{number}", number)
    lines += ["From: <sip:probe@bench.test>;tag=p", f"To: <sip:{DOMAIN}>"]
    data = _message(lines)
    started = time.perf_counter_ns()
    await connection.send(data)
    answer = await connection.receive()
    elapsed = time.perf_counter_ns() - started
    assert answer.status == 200, answer.status
    return elapsed


@dataclass
class Registrant:
    """One user registering over its own connection, in a closed loop."""

    connection: Connection
    ext: int
    done: int = 0
    failed: int = 0
    call_id: str = field(default_factory=lambda: f"{secrets.token_hex(8)}@bench")
    cseq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    digest: DigestClient = field(default_factory=DigestClient)

    def request(self, authorization: str | None) -> bytes:
        user = f"sip:{self.ext}@{DOMAIN}"
        contact = (
            f"<sip:{self.ext}@bench.invalid;transport=ws>"
            if self.connection.transport == "WS"
            else f"<sip:{self.ext}@{HOST}:{self.connection.local_port};transport=tcp>"
        )
        lines = _head(self.connection, "REGISTER", f"sip:{DOMAIN}", self.call_id, next(self.cseq))
        lines += [f"From: <{user}>;tag=b{self.ext}", f"To: <{user}>", f"Contact: {contact}",
                  "Expires: 3600"]  # fmt: skip
        if authorization:
            lines.append(f"Authorization: {authorization}")
        return _message(lines)

    async def register_once(self) -> None:
        await self.connection.send(self.request(None))
        challenge = await self.connection.receive()
        if challenge.status != 401:
            self.failed += 1
            return
        chosen = self.digest.choose_challenge(challenge.headers.get_all("WWW-Authenticate"))
        answer = self.digest.authorization(
            chosen, method="REGISTER", uri=f"sip:{DOMAIN}", username=str(self.ext),
            password=password_for(self.ext),
        )  # fmt: skip
        await self.connection.send(self.request(answer))
        final = await self.connection.receive()
        if final.status == 200:
            self.done += 1
        else:
            self.failed += 1

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            await self.register_once()


# -- CPU of the server's processes -----------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


@dataclass
class Step:
    transport: str
    clients: int
    seconds: float = 0.0
    registrations: int = 0
    failed: int = 0
    switch_cpu: float = 0.0  # seconds
    web_cpu: float = 0.0
    client_cpu: float = 0.0
    latency_ns: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.registrations / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latency_ns)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1e6


async def measure(
    step: Step, open_connection: Callable[[], Awaitable[Connection]], args: argparse.Namespace,
    switch: int, web: int,
) -> None:  # fmt: skip
    probe = await open_connection()
    for number in range(50):  # warm both paths up
        await options_round_trip(probe, number)
    for number in range(args.probes):
        step.latency_ns.append(await options_round_trip(probe, 1000 + number))
    await probe.close()
    users = list(extensions(args.users))
    registrants = [
        Registrant(await open_connection(), ext) for ext in random.sample(users, step.clients)
    ]
    before = (cpu_seconds(switch), cpu_seconds(web), time.process_time())
    started = time.monotonic()
    await asyncio.gather(*(r.run(started + args.seconds) for r in registrants))
    step.seconds = time.monotonic() - started
    step.switch_cpu = cpu_seconds(switch) - before[0]
    step.web_cpu = cpu_seconds(web) - before[1]
    step.client_cpu = time.process_time() - before[2]
    step.registrations = sum(r.done for r in registrants)
    step.failed = sum(r.failed for r in registrants)
    for registrant in registrants:
        await registrant.connection.close()


def start_switch(
    sup: Supervisor, work: Path, users: int
) -> tuple[subprocess.Popen[bytes], int, str]:
    """`vaxel serve` with `users` users: its process, SIP port and the WebSocket's URL."""
    data = work / "vaxel-data"
    create_vaxel_users(data, users)
    port = free_port()
    rtp_low = random.randrange(40000, 59000, 2)
    log = work / "vaxel.log"
    args = [
        *vaxel_command(), "serve", "--data", str(data), "--sip", f"{HOST}:{port}",
        "--http", f"{HOST}:0", "--rtp-ports", f"{rtp_low}-{rtp_low + 199}",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = sup.start(args, stdout=out, stderr=subprocess.STDOUT, cwd=work)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        for line in text.splitlines():
            if line.startswith("vaxel: SIP over WebSocket on "):
                return proc, port, line.split()[-1]
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"vaxel serve did not start:\n{log.read_text(errors='replace')[-2000:]}")


def web_pid(switch: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = children(switch)
        if found:
            return found[0]
        time.sleep(0.1)
    raise RuntimeError("no web process")


async def wait_web(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            connection = await WsConnection.open(url)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
            continue
        await connection.close()
        return


def main() -> int:
    args = options()
    started = datetime.now(UTC)
    work = Path(tempfile.mkdtemp(prefix="vaxel-ws-bench-"))
    steps: list[Step] = []
    note: list[str] = []

    def measure_all() -> None:
        with Supervisor() as sup:
            proc, port, url = start_switch(sup, work, args.users)
            web = web_pid(proc.pid)
            asyncio.run(wait_web(url))
            for transport, opener in (
                ("TCP", lambda: TcpConnection.open(port)),
                ("WS", lambda: WsConnection.open(url)),
            ):
                step = Step(transport, args.clients)
                steps.append(step)
                print(f"  {transport}: {args.probes} OPTIONS, then {args.clients} clients "
                      f"registering for {args.seconds:.0f} s ...", flush=True)  # fmt: skip
                asyncio.run(measure(step, opener, args, proc.pid, web))

    def report(interrupted: bool) -> None:
        rows = [
            (s.transport, f"{s.rate:.0f}", s.failed, f"{100 * s.switch_cpu / s.seconds:.0f} %",
             f"{100 * s.web_cpu / s.seconds:.0f} %", f"{100 * s.client_cpu / s.seconds:.0f} %",
             f"{s.percentile(0.5):.2f}", f"{s.percentile(0.99):.2f}")
            for s in steps if s.seconds
        ]  # fmt: skip
        print()
        print(record.table(
            ("transport", "registrations/s", "failed", "switch CPU", "web CPU", "clients CPU",
             "OPTIONS p50 ms", "p99 ms"), rows,
        ))  # fmt: skip
        by = {s.transport: s for s in steps if s.latency_ns}
        if "TCP" in by and "WS" in by:
            added = (by["WS"].percentile(0.5) - by["TCP"].percentile(0.5),
                     by["WS"].percentile(0.99) - by["TCP"].percentile(0.99))  # fmt: skip
            print(f"\nthe web's hop adds {added[0]:+.2f} ms at p50, {added[1]:+.2f} ms at p99")
        results = [
            {**{k: v for k, v in vars(s).items() if k != "latency_ns"}, "rate": s.rate,
             "p50_ms": s.percentile(0.5), "p99_ms": s.percentile(0.99),
             "latency_us": record.counts(n // 1000 for n in s.latency_ns)}
            for s in steps
        ]  # fmt: skip
        saved = record.write(
            "ws_register", started=started, options=vars(args), results=results,
            interrupted=interrupted or bool(note),
        )  # fmt: skip
        print(f"raw figures: {saved.relative_to(record.ROOT)}")

    def failed(reason: str) -> None:
        note.append(reason)

    return record.run(work, args.keep, measure_all, report, failed, (RuntimeError, OSError))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
