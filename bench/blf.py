"""BLF: the memory of many dialog subscriptions, and their NOTIFYs in a burst of calls (U10).

Feeds the assembled core (as `vaxel serve` builds it, with a real SQLite store, no
sockets) the SUBSCRIBEs, as over TCP (a phone with dozens of BLF keys keeps a connection;
over UDP the switch would also keep its bounded memo of recent requests, 16384 datagrams,
which is not the subscriptions'), of `--users` users (1000), each watching `--per-user` (5)
colleagues with `Event: dialog`: 5000 subscriptions, each answered 401, then 200 with
its first NOTIFY, which the "phone" answers 200. The switch's clock (a fake one) then
moves past every transaction's life, so what is left is what the subscriptions keep. A
first round of as many subscriptions, left to lapse, warms the caches and grows the
switch's tables first.

1. **Memory per subscription:** Python's allocations (tracemalloc) held after the
   subscriptions minus before, over the number of subscriptions; the process's RSS
   growth is printed beside it.
2. **NOTIFYs in a burst of calls:** `--calls` (1000) calls between watched users, each
   offered, ringing, answered and ended, as the B2BUA reports them on the bus (the
   events the line state and the subscriptions follow); every NOTIFY the switch sends is
   counted, and the switch's CPU for the burst gives NOTIFYs per CPU second.

Prints the figures and writes them to bench/results/blf-<time>.json.

    .venv/bin/python bench/blf.py [--users 1000] [--per-user 5] [--calls 1000]
    .venv/bin/python bench/blf.py --quick
    .venv/bin/python bench/blf.py --quick --where    # where the memory goes
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import record
from vaxel import native
from vaxel.assembly import assemble
from vaxel.bus import CallAnswered, CallEnded, CallOffered, CallRinging
from vaxel.calls.subscriptions import MIN_EXPIRES
from vaxel.clock import FakeClock
from vaxel.media.memory import MemoryMedia
from vaxel.services import companies, users
from vaxel.sip.digest import DigestClient, DigestServer
from vaxel.sip.message import Request, parse_message
from vaxel.store import Store
from vaxel.transport.base import Local, Source

DOMAIN = "bench.test"
PASSWORD = "bench-password"
FIRST_EXT = 20000


class _Count:
    """Stands in for a transport: counts what the switch sends, keeps only the newest."""

    def __init__(self) -> None:
        self.count = 0
        self.notifies = 0
        self.last = b""

    def send(self, data: bytes, destination: Source) -> bool:
        self.count += 1
        if data.startswith(b"NOTIFY "):
            self.notifies += 1
        self.last = data
        return True


class _Now:
    """The background writer, at once (nothing here waits for the database thread)."""

    def run(self, work, then=None):  # type: ignore[no-untyped-def]
        result = work()
        if then is not None:
            then(result)


def _subscribe(
    ext: str, watched: str, port: int, cseq: int, authorization: str, round_: str, expires: int
) -> bytes:
    lines = [
        f"SUBSCRIBE sip:{watched}@{DOMAIN} SIP/2.0",
        f"Via: SIP/2.0/TCP 127.0.0.1:{port};branch=z9hG4bK{round_}{ext}w{watched}c{cseq};rport",
        f"From: <sip:{ext}@{DOMAIN}>;tag={port}",
        f"To: <sip:{watched}@{DOMAIN}>",
        f"Call-ID: {round_}-{ext}-{watched}@bench",
        f"CSeq: {cseq} SUBSCRIBE",
        f"Contact: <sip:{ext}@127.0.0.1:{port}>",
        "Event: dialog",
        "Accept: application/dialog-info+xml",
        f"Expires: {expires}",
        "Max-Forwards: 70",
    ]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    return ("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode()


def _ok(notify: bytes) -> bytes:
    """The phone's 200 to a NOTIFY, so the switch's transaction completes."""
    message = parse_message(notify)
    assert isinstance(message, Request)
    lines = ["SIP/2.0 200 OK"]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        lines += [f"{name}: {value}" for value in message.headers.get_all(name)]
    return ("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode()


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, help="users, each watching colleagues (1000)")
    parser.add_argument("--per-user", type=int, help="colleagues each user watches (5)")
    parser.add_argument("--calls", type=int, help="calls in the burst (1000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 users, 100 calls")
    parser.add_argument("--where", action="store_true", help="print where the memory goes")
    args = parser.parse_args()
    args.users = args.users or (100 if args.quick else 1000)
    args.per_user = args.per_user or 5
    args.calls = args.calls or (100 if args.quick else 1000)
    if args.per_user >= args.users:
        parser.error("--per-user must be below --users")
    started = datetime.now(UTC)
    compiled = native.in_use()

    work = Path(tempfile.mkdtemp(prefix="vaxel-bench-"))
    store = Store.open(work)
    company_id = companies.add_company(store, DOMAIN, "Bench AB").id
    exts = [str(FIRST_EXT + i) for i in range(args.users)]
    for ext in exts:
        users.add_user(store, DOMAIN, ext, f"User {ext}", PASSWORD)
    clock = FakeClock()
    core = assemble(
        store,
        media=MemoryMedia(clock),
        clock=clock,
        background=_Now(),
        data=work,
        system_prompts=work / "system-prompts",
        digest=DigestServer(b"b" * 32, algorithms=("MD5",)),
        finished=lambda call, stored: stored(),
    )
    out = _Count()
    local = Local("TCP", "127.0.0.1", 5060)
    core.outbox.add(out, local)
    receive = core.inbound.receive
    client = DigestClient()

    def subscribe(i: int, ext: str, watched: str, round_: str, expires: int) -> None:
        source = Source("TCP", "127.0.0.1", 10000 + i)
        receive(_subscribe(ext, watched, source.port, 1, "", round_, expires), source, local)
        challenge = parse_message(out.last).headers.get("WWW-Authenticate") or ""
        authorization = client.authorization(
            challenge, method="SUBSCRIBE", uri=f"sip:{watched}@{DOMAIN}", username=ext,
            password=PASSWORD,
        )  # fmt: skip
        sent = out.count
        receive(_subscribe(ext, watched, source.port, 2, authorization, round_, expires), source,
                local)  # fmt: skip
        assert out.count == sent + 2 and out.last.startswith(b"NOTIFY "), out.last[:80]
        receive(_ok(out.last), source, local)

    def subscribe_all(round_: str, expires: int) -> int:
        made = 0
        for i, ext in enumerate(exts):
            for k in range(1, args.per_user + 1):
                subscribe(i, ext, exts[(i + k) % len(exts)], round_, expires)
                made += 1
        return made

    def settle() -> None:
        """Past every transaction's life (Timer J, 64*T1), with the tables it leaves."""
        for _ in range(3):
            clock.advance(40.0)
            core.drive_timers()
        gc.collect()

    # A first round that lapses warms the caches (credentials, the directory) and grows the
    # switch's tables as the measured round will, so the difference is what the
    # subscriptions themselves keep.
    subscribe_all("warm", MIN_EXPIRES)
    clock.advance(MIN_EXPIRES + 1.0)
    settle()
    rss_before = _rss_kib()
    tracemalloc.start(5)
    gc.collect()
    first = tracemalloc.take_snapshot()
    made = subscribe_all("kept", 3600)
    settle()
    # Past the digest nonces' life (300 s): the switch forgets the nonce counts it kept to
    # refuse replays (bounded, and not the subscriptions') at the next answer it checks,
    # which one more subscription gives it.
    for _ in range(8):
        clock.advance(40.0)
        core.drive_timers()
    subscribe(0, exts[0], exts[args.per_user + 1], "last", 3600)
    made += 1
    settle()
    second = tracemalloc.take_snapshot()
    grown = second.compare_to(first, "lineno")
    per_subscription = sum(stat.size_diff for stat in grown) / made
    if args.where:
        for stat in grown[:25]:
            print(f"  {stat.size_diff / made:8.0f} B/sub  {stat.traceback}")
    tracemalloc.stop()
    rss_after = _rss_kib()
    print(f"{made} dialog subscriptions watching {args.users} users "
          f"({'compiled' if compiled else 'from the Python sources'})")  # fmt: skip
    print(f"  memory per subscription: {per_subscription:.0f} bytes (tracemalloc); "
          f"RSS grew {(rss_after - rss_before) / made * 1024:.0f} bytes each")  # fmt: skip

    # The burst: calls between watched users, as the B2BUA reports them.
    bus = core.bus
    notifies_before = out.notifies
    cpu = time.process_time()
    wall = time.monotonic()
    for n in range(args.calls):
        caller, callee = exts[n % len(exts)], exts[(n * 7 + 3) % len(exts)]
        if caller == callee:
            callee = exts[(n * 7 + 4) % len(exts)]
        call_id = f"burst-{n}"
        now = clock()
        bus.publish(CallOffered(company_id, call_id, caller, f"User {caller}", callee, now))
        bus.publish(CallRinging(company_id, call_id, callee, f"User {callee}", now))
        bus.publish(CallAnswered(company_id, call_id, callee, now))
        bus.publish(CallEnded(company_id, call_id, caller, callee, callee, "answered", "caller",
                              200, "OK", now, now, now))  # fmt: skip
    cpu = time.process_time() - cpu
    wall = time.monotonic() - wall
    sent = out.notifies - notifies_before
    print(f"  burst of {args.calls} calls: {sent} NOTIFYs ({sent / args.calls:.1f} per call) "
          f"in {cpu:.2f} s of CPU: {sent / cpu:.0f} NOTIFYs per CPU second")  # fmt: skip
    path = record.write(
        "blf",
        started=started,
        options=vars(args),
        results={
            "compiled": compiled,
            "subscriptions": made,
            "watched_users": args.users,
            "bytes_per_subscription_tracemalloc": per_subscription,
            "bytes_per_subscription_rss": (rss_after - rss_before) / made * 1024,
            "burst_calls": args.calls,
            "burst_notifies": sent,
            "burst_cpu_seconds": cpu,
            "burst_wall_seconds": wall,
            "notifies_per_cpu_second": sent / cpu if cpu else None,
            "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        },
    )
    print(f"raw results: {path.relative_to(record.ROOT)}")
    store.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
