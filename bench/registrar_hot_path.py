"""The registrar's CPU cost per registration, without sockets or an event loop (P3).

Feeds REGISTER → 401 → REGISTER-with-digest → 200 for N users straight into
the switch's input pipeline (`Inbound.receive` of the assembled core, as
`vaxel serve` builds it), with a real SQLite store, and prints registrations per
second of CPU (best of several rounds) and, with --profile, where the time
goes. It isolates the Python work that `register_rate.py` measures end to
end, so a change to the hot path can be judged in seconds. Every round's
figure goes to bench/results/registrar_hot_path-<time>.json.

    .venv/bin/python bench/registrar_hot_path.py [--users 500] [--rounds 6] [--profile]
    .venv/bin/python bench/registrar_hot_path.py --quick
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import record
from vaxel import native
from vaxel.assembly import assemble
from vaxel.media.memory import MemoryMedia
from vaxel.services import companies, users
from vaxel.sip.digest import DigestClient, DigestServer
from vaxel.sip.message import parse_message
from vaxel.store import Store
from vaxel.transport.base import Local, Source

DOMAIN = "bench.test"
PASSWORD = "bench-password"


class _Capture:
    """Stands in for a transport: keeps what the switch sends."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, data: bytes, destination: Source) -> bool:
        self.sent.append(data)
        return True


class _Now:
    """The background writer, at once (nothing here waits for the database thread)."""

    def run(self, work, then=None):  # type: ignore[no-untyped-def]
        result = work()
        if then is not None:
            then(result)


def _request(ext: str, port: int, branch: str, cseq: int, authorization: str | None) -> bytes:
    lines = [
        f"REGISTER sip:{DOMAIN} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{branch};rport",
        f"From: <sip:{ext}@{DOMAIN}>;tag={port}",
        f"To: <sip:{ext}@{DOMAIN}>",
        f"Call-ID: {port}@bench",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <sip:{ext}@127.0.0.1:{port}>",
        "Max-Forwards: 70",
        "Expires: 3600",
        "User-Agent: bench",
    ]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    return ("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, help="users registered per round (500; quick 100)")
    parser.add_argument("--rounds", type=int, help="rounds measured, best kept (6; quick 2)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few users and rounds")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.users is None:
        args.users = 100 if args.quick else 500
    if args.rounds is None:
        args.rounds = 2 if args.quick else 6
    if args.users < 1 or args.rounds < 1:
        parser.error("--users and --rounds must be positive")
    started = datetime.now(UTC)
    # Importing vaxel loaded the compiled modules if `make` built them for these sources.
    compiled = native.in_use()

    work = Path(tempfile.mkdtemp(prefix="vaxel-bench-"))
    store = Store.open(work)
    companies.add_company(store, DOMAIN, "Bench AB")
    exts = [str(20000 + i) for i in range(args.users)]
    for ext in exts:
        users.add_user(store, DOMAIN, ext, "Bench", PASSWORD)
    core = assemble(
        store,
        media=MemoryMedia(time.time),
        clock=time.time,
        background=_Now(),
        data=work,
        system_prompts=work / "system-prompts",
        digest=DigestServer(b"b" * 32, algorithms=("MD5",)),
        finished=lambda call, stored: stored(),
    )
    writer = core.persist
    capture = _Capture()
    local = Local("UDP", "127.0.0.1", 5060)
    core.outbox.add(capture, local)
    receive = core.inbound.receive
    client = DigestClient()
    server_cpu = [0.0]
    rounds = [0]

    def one_round() -> None:
        rounds[0] += 1
        r = rounds[0]
        for i, ext in enumerate(exts):
            port = 10000 + i
            source = Source("UDP", "127.0.0.1", port)
            first = _request(ext, port, f"{r}a{i}", 2 * r, None)
            t = time.process_time()
            receive(first, source, local)
            server_cpu[0] += time.process_time() - t
            challenge = parse_message(capture.sent[-1]).headers.get("WWW-Authenticate") or ""
            authorization = client.authorization(
                challenge, method="REGISTER", uri=f"sip:{DOMAIN}", username=ext, password=PASSWORD
            )
            second = _request(ext, port, f"{r}b{i}", 2 * r + 1, authorization)
            t = time.process_time()
            receive(second, source, local)
            if writer.due:  # a new device is answered once stored: write it (group commit)
                writer.write(writer.take())
                writer.written(True)
            server_cpu[0] += time.process_time() - t
            assert capture.sent[-1].startswith(b"SIP/2.0 200"), capture.sent[-1][:80]

    one_round()  # warm the caches, as a running switch has them
    per_round: list[float] = []
    for _ in range(args.rounds):
        server_cpu[0] = 0.0
        one_round()
        per_round.append(server_cpu[0])
    best = min(per_round)
    build = "compiled" if compiled else "from the Python sources"
    print(
        f"switch CPU per registration: {1e6 * best / args.users:.0f} µs "
        f"(best of {args.rounds}; {build})"
    )
    print(f"registrations per CPU second: {args.users / best:.0f}")
    path = record.write(
        "registrar_hot_path",
        started=started,
        options=vars(args),
        results={
            "compiled": compiled,
            "us_per_registration_best": 1e6 * best / args.users,
            "us_per_registration_per_round": [1e6 * s / args.users for s in per_round],
            "registrations_per_cpu_second": args.users / best,
        },
    )
    print(f"raw results: {path.relative_to(record.ROOT)}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(one_round)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    store.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
