"""SIP over TLS against SIP over TCP (P2, O2): registrations per second and memory per idle
connection, on one `vaxel serve --tls` (its self-signed certificate).

1. **Registrations per second on kept connections:** `--clients` (50) connections, each
   registering its own user again and again (REGISTER, 401, REGISTER with MD5 digest,
   200) for `--duration` (10) seconds; completed registrations per second.
2. **A registration on a new connection:** the same, but every registration opens its own
   connection (and, over TLS, does a full handshake: ECDHE with the switch's P-256 key),
   as phones do after a restart or a network change.
3. **Memory per idle connection:** `--idle` (2000) connections opened from 32 loopback
   addresses (the switch takes 64 per address), each past its handshake and answered a
   keep-alive ping; the switch's resident memory after minus before, over the connections.

The client is Python asyncio in this process, on the same two cores as the switch, and
the same for both transports: the rates compare TCP with TLS, they are not the switch's
ceiling (bench/register_rate.py measures that over UDP with SIPp). Prints a table and
writes bench/results/tls-<time>.json.

    .venv/bin/python bench/tls.py [--clients 50] [--duration 10] [--idle 2000] [--users 200]
    .venv/bin/python bench/tls.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import re
import resource
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import record
from register_rate import (
    DOMAIN,
    FIRST_EXT,
    _auth_params,
    create_vaxel_users,
    password_for,
    vaxel_command,
)

HOST = "127.0.0.1"


def _client_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the bench trusts its own switch
    return context


CLIENT = _client_context()  # made once: a context per connection would load the CA store


async def _open(
    transport: str, port: int, local: str = HOST
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    tls = CLIENT if transport == "TLS" else None
    return await asyncio.open_connection(HOST, port, ssl=tls, local_addr=(local, 0))


async def _final(reader: asyncio.StreamReader) -> str:
    while True:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        length = re.search(r"\r\nContent-Length: *(\d+)", head, re.I)
        if length and int(length.group(1)):
            await reader.readexactly(int(length.group(1)))
        if not head.startswith("SIP/2.0 1"):
            return head


def _register(transport: str, local: int, ext: int, call_id: str, cseq: int, auth: str) -> bytes:
    lines = [
        f"REGISTER sip:{DOMAIN} SIP/2.0",
        f"Via: SIP/2.0/{transport} {HOST}:{local};branch=z9hG4bK{random.getrandbits(64):x}",
        "Max-Forwards: 70",
        f"From: <sip:{ext}@{DOMAIN}>;tag=b{call_id}",
        f"To: <sip:{ext}@{DOMAIN}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <sip:{ext}@{HOST};transport={transport.lower()}>",  # one binding per user
        "Expires: 3600",
        *([auth] if auth else []),
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _authorization(ext: int, challenge: str) -> str:
    line = next(x for x in challenge.split("\r\n") if x.lower().startswith("www-authenticate:"))
    params = _auth_params(line.split(":", 1)[1].strip())

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    realm, nonce, uri = params["realm"], params["nonce"], f"sip:{DOMAIN}"
    cnonce, nc = f"{random.getrandbits(64):016x}", "00000001"
    ha1 = md5(f"{ext}:{realm}:{password_for(ext)}")
    response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{md5(f'REGISTER:{uri}')}")
    opaque = f', opaque="{params["opaque"]}"' if "opaque" in params else ""
    return (
        f'Authorization: Digest username="{ext}", realm="{realm}", nonce="{nonce}", '
        f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={nc}, '
        f'cnonce="{cnonce}"{opaque}'
    )


async def _register_on(
    transport: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ext: int
) -> None:
    local = writer.get_extra_info("sockname")[1]
    call_id = f"{random.getrandbits(64):x}"
    writer.write(_register(transport, local, ext, call_id, 1, ""))
    challenge = await _final(reader)
    if not challenge.startswith("SIP/2.0 401"):
        raise RuntimeError(challenge.split("\r\n", 1)[0])
    writer.write(_register(transport, local, ext, call_id, 2, _authorization(ext, challenge)))
    final = await _final(reader)
    if not final.startswith("SIP/2.0 200"):
        raise RuntimeError(final.split("\r\n", 1)[0])


async def registrations(
    transport: str, port: int, clients: int, users: int, seconds: float, reconnect: bool
) -> float:
    """Completed registrations per second over `clients` concurrent connections."""
    done = 0
    stop = time.monotonic() + seconds

    async def client(index: int) -> None:
        nonlocal done
        ext = FIRST_EXT + index % users
        # Each client from its own address: the switch takes 64 connections per address,
        # and a closed one counts until the switch has seen it close.
        local = f"127.0.2.{1 + index % 250}"
        connection = None if reconnect else await _open(transport, port, local)
        while time.monotonic() < stop:
            if reconnect:
                reader, writer = await _open(transport, port, local)
            else:
                assert connection is not None
                reader, writer = connection
            await _register_on(transport, reader, writer, ext)
            done += 1
            if reconnect:
                writer.close()
                await writer.wait_closed()
        if connection is not None:
            connection[1].close()

    started = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return done / (time.monotonic() - started)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def idle_memory(transport: str, port: int, count: int, pid: int) -> float:
    """Bytes of the switch's resident memory per idle connection (past its handshake)."""
    await asyncio.sleep(1.0)
    before = _rss_kib(pid)
    connections = []
    for index in range(count):
        local = f"127.0.{1 + index // 60 // 250}.{1 + index // 60 % 250}"
        reader, writer = await _open(transport, port, local)
        writer.write(b"\r\n\r\n")
        connections.append((reader, writer))
    for reader, _ in connections:
        assert await reader.readexactly(2) == b"\r\n"  # each one answered: it is established
    await asyncio.sleep(1.0)
    after = _rss_kib(pid)
    for _, writer in connections:
        writer.close()
    await asyncio.sleep(1.0)
    return (after - before) * 1024 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="3 s steps, 300 idle, 50 users")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.idle, args.users = 3.0, 300, 50
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    started = datetime.now(UTC)
    work = Path(tempfile.mkdtemp(prefix="vaxel-bench-tls-"))
    create_vaxel_users(work / "data", args.users)
    command = [
        *vaxel_command(), "serve", "--data", str(work / "data"), "--sip", f"{HOST}:0",
        "--tls", f"{HOST}:0", "--http", "off",
    ]  # fmt: skip
    log = work / "vaxel.log"
    with log.open("w") as output_file:  # a file, not a pipe: a full pipe would stall it
        switch = subprocess.Popen(command, stdout=output_file, stderr=subprocess.STDOUT)
    output = ""
    deadline = time.monotonic() + 120
    while "vaxel: SIP on" not in output:
        if switch.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"vaxel serve did not start:\n{output}")
        time.sleep(0.2)
        output = log.read_text()
    found = re.search(r"tcp:127\.0\.0\.1:(\d+) and tls:127\.0\.0\.1:(\d+)", output)
    assert found is not None, output
    ports = {"TCP": int(found.group(1)), "TLS": int(found.group(2))}
    results: dict[str, dict[str, float]] = {}
    try:
        for transport, port in ports.items():
            kept = asyncio.run(
                registrations(transport, port, args.clients, args.users, args.duration, False)
            )
            fresh = asyncio.run(
                registrations(transport, port, args.clients, args.users, args.duration, True)
            )
            memory = asyncio.run(idle_memory(transport, port, args.idle, switch.pid))
            results[transport] = {
                "registrations_per_second_kept_connections": kept,
                "registrations_per_second_new_connection_each": fresh,
                "bytes_per_idle_connection": memory,
            }
            print(f"  {transport}: {kept:.0f}/s kept, {fresh:.0f}/s new connection each, "
                  f"{memory / 1024:.1f} KiB per idle connection", flush=True)  # fmt: skip
    finally:
        switch.terminate()
        switch.wait(timeout=30)
        errors = [line for line in log.read_text().splitlines() if " ERROR " in line]
        if errors:
            print("the switch logged errors:", *errors[:5], sep="\n  ")
        shutil.rmtree(work, ignore_errors=True)
    print(
        record.table(
            ("transport", "registrations/s (kept)", "registrations/s (new conn.)", "KiB/idle"),
            [
                (
                    name,
                    f"{r['registrations_per_second_kept_connections']:.0f}",
                    f"{r['registrations_per_second_new_connection_each']:.0f}",
                    f"{r['bytes_per_idle_connection'] / 1024:.1f}",
                )
                for name, r in results.items()
            ],
        )
    )
    path = record.write("tls", started=started, options=vars(args), results=results)
    print(f"raw results: {path.relative_to(record.ROOT)}")


if __name__ == "__main__":
    main()
