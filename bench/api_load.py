"""API load benchmark: does the web API disturb live calls' media? (P8, O3)

The web and API run in a process of their own beside the switch (web/process.py), linked
to it for live events and click-to-call. The rule this measures: the web's work never
holds up the loop that carries SIP and RTP. Its bound: the p99 transit of 100 live calls'
RTP while the API serves 100 requests a second stays within 1 ms of the same calls' p99
with the API idle.

It starts a real `vaxel serve` with a company of 1200 users (so a page of users is a real
query), a company admin and 20,000 call records, all made as an operator would. It sets
up 100 calls through the switch with `media_relay.py`'s SIP agent and RTP generator and
keeps them up for every window. The windows alternate, A/B/A: API idle, API loaded, idle
again, ... (`--rounds` loaded windows, each between two idle ones, so drift shows). In a
loaded window a load generator, a process of its own (it shares no GIL with the RTP
generator or the switch), sends requests on a fixed schedule (open loop: a slow answer
does not slow the offered rate), a mix of what an admin's pages and scripts do: pages of
users and of calls, one user, the caller's account, the whole description, and writes
(a user's web role, API tokens made and revoked).

Per window: transit p50 / p99, |D| p99 and loss of the media; the CPU of the switch's
loop thread, of its other threads (the database writer) and of the web's process; in a
loaded window, the requests a second achieved, their latency p50 / p99 (all and per
kind) and their failures. The added p99 of a round is its loaded window's transit p99
minus the mean of the two idle windows around it.

It prints figures and writes them to bench/results/api_load-<time>.json; it never passes
or fails on time.

    .venv/bin/python bench/api_load.py [--rounds 3] [--duration 20] [--rate 100]
    .venv/bin/python bench/api_load.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import record
from media_relay import (
    RTP_PORTS,
    Agent,
    Call,
    SipError,
    Traffic,
    rtp_socket,
    run_traffic,
    traffic_record,
)
from register_rate import (
    _CLI_BATCH,
    DOMAIN,
    FIRST_EXT,
    HOST,
    VENV_PYTHON,
    Server,
    Supervisor,
    extensions,
    free_port,
    launch,
    password_for,
    session_cpu_seconds,
    vaxel_command,
)

BOUND_MS = 1.0  # the loaded window's transit p99 may exceed the idle one's by this much
ADMIN_EXT = FIRST_EXT + 2  # 10000 calls 10001; 10002 is the company admin the load logs in as
ADMIN_PASSWORD = "bench-admin-password"
LOAD_WARMUP = 1.0  # seconds the load runs before the media window opens
LATENCY_BIN_MS = 0.1  # the HTTP latency counts' resolution

# What the load generator asks, with weights out of 100: mostly the pages an admin reads,
# some writes. `config` and `user` export the whole description (every user).
MIX = (
    ("users", 40),  # GET .../users?limit=100&after=<a random extension>: one page
    ("calls", 20),  # GET .../calls?limit=100 (half of them an older page)
    ("me", 10),  # GET /api/v1/me: authentication alone
    ("user", 5),  # GET .../users/{ext}
    ("config", 5),  # GET .../config: the whole description as JSON
    ("role", 10),  # PUT .../users/{ext}/account {"role": "user"}: a write and an audit entry
    ("token", 5),  # POST /api/v1/tokens, or DELETE one made before: a write each
    ("revoke", 5),
)


# --- the company, made with the CLI ----------------------------------------------------

_RECORDS = """
import random, sys
from datetime import UTC, datetime, timedelta
from vaxel.services import call_records, companies
from vaxel.services.call_records import NewCallRecord
from vaxel.store import Store
from pathlib import Path
data, domain, count, first, users = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
store = Store.open(Path(data))
company = companies.get_company(store, domain).id
rng = random.Random(1)
end = datetime.now(UTC)
batch = []
for i in range(count):
    started = end - timedelta(seconds=(count - i) * 30)
    answered = rng.random() < 0.8
    batch.append(NewCallRecord(
        company_id=company, call_id=f"bench-{i}", caller=str(first + rng.randrange(users)),
        callee=str(first + rng.randrange(users)), started_at=started,
        ended_at=started + timedelta(seconds=rng.randrange(5, 600)),
        disposition="answered" if answered else "no-answer", hangup_side="caller",
        cause_code=200 if answered else 480,
        answered_at=started + timedelta(seconds=3) if answered else None,
    ))
    if len(batch) == 1000:
        call_records.write_records(store, batch)
        batch = []
call_records.write_records(store, batch)
store.close()
"""


def make_company(data: Path, users: int, records: int) -> None:
    """Company, users and a company admin with the `vaxel` CLI; call records as the switch
    writes them (`call_records.write_records`), spread over the last days."""
    commands = [["company", "add", DOMAIN, "--name", "Bench", "--data", str(data)]]
    for ext in extensions(users):
        user = ["user", "add", "--company", DOMAIN, "--ext", str(ext), "--name", f"Bench {ext}"]
        commands.append([*user, "--password", password_for(ext), "--data", str(data)])
    commands.append(
        ["company", "admin", DOMAIN, "--ext", str(ADMIN_EXT), "--password", ADMIN_PASSWORD,
         "--data", str(data)]
    )  # fmt: skip
    python = str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)
    feed = "".join(json.dumps(argv) + "\n" for argv in commands)
    done = subprocess.run(
        [python, "-c", _CLI_BATCH], input=feed, text=True, capture_output=True, timeout=1800
    )
    if done.returncode != 0:
        raise RuntimeError(f"creating the company failed: {done.stderr.strip()[-500:]}")
    args = [str(data), DOMAIN, str(records), str(FIRST_EXT), str(users)]
    done = subprocess.run(
        [python, "-c", _RECORDS, *args], text=True, capture_output=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"writing call records failed: {done.stderr.strip()[-500:]}")


def start_switch(sup: Supervisor, data: Path, work: Path, http_port: int) -> Server:
    port = free_port()
    args = [
        *vaxel_command(), "serve", "--data", str(data), "--sip", f"{HOST}:{port}",
        "--http", f"{HOST}:{http_port}", "--rtp-ports", f"{RTP_PORTS[0]}-{RTP_PORTS[1]}",
    ]  # fmt: skip
    return launch(sup, "vaxel", args, port, work / "vaxel.log", work, patience=60)


def api_token(base: str) -> str:
    """Log in as the company admin and make a read+write API token for the load."""
    import httpx

    with httpx.Client(base_url=base, timeout=30) as client:
        login = {"login": f"{ADMIN_EXT}@{DOMAIN}", "password": ADMIN_PASSWORD}
        answer = client.post("/api/v1/login", json=login)
        answer.raise_for_status()
        csrf = answer.json()["csrf_token"]
        made = client.post(
            "/api/v1/tokens",
            json={"name": "bench", "scopes": ["read", "write"]},
            headers={"X-CSRF-Token": csrf},
        )
        made.raise_for_status()
        return str(made.json()["token"])


# --- the load generator: a process of its own --------------------------------------------


def _pick(rng: random.Random, mix: dict[str, float]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


CONNECTIONS = 16  # the load generator's keep-alive connections (a few browsers and scripts)


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a kept-alive connection: (status, body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _load(
    host: str, port: int, token: str, rate: float, start: float, end: float, users: int,
    seed: int, mix: dict[str, float],
) -> dict[str, Any]:  # fmt: skip
    """Requests due at `rate` a second from `start` to `end` (open loop), on CONNECTIONS
    keep-alive connections; each timed from when it was due, so a queue counts."""
    rng = random.Random(seed)
    company = f"/api/v1/companies/{DOMAIN}"
    made: list[int] = []  # tokens made and not yet revoked
    done: list[tuple[str, float, float, int]] = []  # kind, due at, seconds, status
    due_queue: asyncio.Queue[tuple[str, float] | None] = asyncio.Queue()

    def request(method: str, path: str, body: object = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: application/json\r\n"
            f"Content-Length: {len(data)}\r\n"
        )
        if data:
            head += "Content-Type: application/json\r\n"
        return (head + "\r\n").encode() + data

    def build(kind: str) -> tuple[str, bytes]:
        ext = FIRST_EXT + 3 + rng.randrange(users - 3)  # never the admin's own
        if kind == "users":
            return kind, request("GET", f"{company}/users?limit=100&after={ext}")
        if kind == "calls":
            older = f"&before={rng.randrange(200, 20000)}" if rng.random() < 0.5 else ""
            return kind, request("GET", f"{company}/calls?limit=100{older}")
        if kind == "me":
            return kind, request("GET", "/api/v1/me")
        if kind == "user":
            return kind, request("GET", f"{company}/users/{ext}")
        if kind == "config":
            return kind, request("GET", f"{company}/config")
        if kind == "role":
            return kind, request("PUT", f"{company}/users/{ext}/account", {"role": "user"})
        if kind == "revoke" and made:
            return kind, request("DELETE", f"/api/v1/tokens/{made.pop()}")
        body = {"name": f"bench-{rng.randrange(10**9)}", "scopes": ["read"]}
        return "token", request("POST", "/api/v1/tokens", body)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (item := await due_queue.get()) is not None:
                kind, due = item
                kind, raw = build(kind)
                try:
                    status, body = await asyncio.wait_for(_exchange(reader, writer, raw), 30)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                    status = 0
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                if kind == "token" and status == 201:
                    made.append(json.loads(body)["id"])
                done.append((kind, due, time.monotonic() - due, status))
            for token_id in made:  # leave the account as it was
                await _exchange(reader, writer, request("DELETE", f"/api/v1/tokens/{token_id}"))
            made.clear()
        finally:
            writer.close()

    cpu0 = os.times()
    workers = [asyncio.create_task(connection()) for _ in range(CONNECTIONS)]
    n = 0
    while (due := start + n / rate) < end:
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        due_queue.put_nowait((_pick(rng, mix), due))
        n += 1
    for _ in workers:
        due_queue.put_nowait(None)
    await asyncio.gather(*workers)
    cpu1 = os.times()
    cpu = cpu1.user + cpu1.system - cpu0.user - cpu0.system
    return {"done": done, "cpu": cpu, "offered": n}


def load_process(
    port: int, token: str, rate: float, start: float, end: float, users: int, seed: int,
    mix: dict[str, float], out: Connection,
) -> None:  # fmt: skip
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    out.send(asyncio.run(_load(HOST, port, token, rate, start, end, users, seed, mix)))
    out.close()


# --- the switch's CPU, by thread -----------------------------------------------------------


def thread_cpu_seconds(pid: int) -> tuple[float, float]:
    """(the main thread's CPU, every other thread's) of process `pid`: the asyncio loop
    runs on the main thread; the web's workers and the database writer on the others."""
    main = others = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0, 0.0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", "rb") as handle:
                text = handle.read()
        except OSError:
            continue
        fields = text[text.rindex(b")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])
        if int(tid) == pid:
            main += ticks
        else:
            others += ticks
    hz = os.sysconf("SC_CLK_TCK")
    return main / hz, others / hz


# --- one window ------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Http:
    """What the load generator saw inside one media window."""

    offered: float  # requests/s it scheduled in the window
    achieved: float  # requests/s answered 2xx in the window
    failed: int  # non-2xx answers and transport errors
    statuses: dict[str, int]
    p50_ms: float
    p99_ms: float
    by_kind: dict[str, dict[str, float]]  # kind -> count, p50_ms, p99_ms
    latency_counts: dict[str, int]  # LATENCY_BIN_MS bins -> requests
    generator_cpu: float  # % of one core, over its whole run


def http_figures(got: dict[str, Any], start: float, seconds: float) -> Http:
    inside = [d for d in got["done"] if start <= d[1] < start + seconds]
    ok = [d for d in inside if 200 <= d[3] < 300]
    by_kind: dict[str, dict[str, float]] = {}
    for kind in sorted({d[0] for d in inside}):
        times = [d[2] * 1000 for d in inside if d[0] == kind]
        by_kind[kind] = {
            "count": len(times),
            "p50_ms": percentile(times, 0.5),
            "p99_ms": percentile(times, 0.99),
        }
    latencies = [d[2] * 1000 for d in inside]
    return Http(
        offered=len(inside) / seconds,
        achieved=len(ok) / seconds,
        failed=len(inside) - len(ok),
        statuses={str(k): v for k, v in sorted(Counter(d[3] for d in inside).items())},
        p50_ms=percentile(latencies, 0.5),
        p99_ms=percentile(latencies, 0.99),
        by_kind=by_kind,
        latency_counts=record.counts(int(ms / LATENCY_BIN_MS) for ms in latencies),
        generator_cpu=0.0,
    )


@dataclass
class Window:
    label: str  # "idle" or "loaded"
    traffic: Traffic
    switch_cpu: float  # % of one core, the switch's process and its web process
    loop_cpu: float  # ... the switch's main thread (the asyncio loop: SIP, RTP)
    threads_cpu: float  # ... the switch's other threads (the database writer)
    http: Http | None = None

    @property
    def web_cpu(self) -> float:
        """% of one core of the web's own process (HTTP, its workers, its database)."""
        return max(0.0, self.switch_cpu - self.loop_cpu - self.threads_cpu)


def run_window(
    label: str, pairs: list[tuple[socket.socket, tuple[str, int], socket.socket]],
    server: Server, args: argparse.Namespace, http_port: int, token: str, seed: int,
) -> Window:  # fmt: skip
    ctx = multiprocessing.get_context("fork")
    loader = None
    got_out: Connection | None = None
    load_start = 0.0
    if label == "loaded":
        load_start = time.monotonic() + 0.3
        # run_traffic starts its media 0.3 s after it is called; the load covers the
        # whole window, and a bit after (the drain).
        load_end = load_start + LOAD_WARMUP + 0.3 + args.duration + 1.0
        got_out, got_in = ctx.Pipe(duplex=False)
        loader = ctx.Process(
            target=load_process,
            args=(
                http_port,
                token,
                args.rate,
                load_start,
                load_end,
                args.users,
                seed,
                args.mix,
                got_in,
            ),
        )
        loader.start()
        time.sleep(max(0.0, load_start + LOAD_WARMUP - time.monotonic()))
    pid = server.proc.pid
    cpu0, threads0, wall0 = session_cpu_seconds(pid), thread_cpu_seconds(pid), time.monotonic()
    media_start = wall0 + 0.3  # as run_traffic computes it
    traffic = run_traffic(pairs, args.duration)
    wall = time.monotonic() - wall0
    cpu1, threads1 = session_cpu_seconds(pid), thread_cpu_seconds(pid)
    window = Window(
        label=label,
        traffic=traffic,
        switch_cpu=100 * (cpu1 - cpu0) / wall,
        loop_cpu=100 * (threads1[0] - threads0[0]) / wall,
        threads_cpu=100 * (threads1[1] - threads0[1]) / wall,
    )
    if loader is not None and got_out is not None:
        try:
            got = got_out.recv()
        finally:
            loader.join(15)
            if loader.is_alive():
                loader.kill()
                loader.join()
        window.http = http_figures(got, media_start, args.duration)
        window.http.generator_cpu = 100 * got["cpu"] / (time.monotonic() - load_start)
    return window


# --- the run ---------------------------------------------------------------------------


@dataclass
class Run:
    windows: list[Window] = field(default_factory=list)
    setup: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def rounds(self) -> list[tuple[Window, Window, Window]]:
        """(idle before, loaded, idle after) for every loaded window with both neighbours."""
        found = []
        for i, window in enumerate(self.windows):
            if window.label == "loaded" and 0 < i < len(self.windows) - 1:
                found.append((self.windows[i - 1], window, self.windows[i + 1]))
        return found


def p99(window: Window) -> float:
    return window.traffic.transit_percentile(0.99)


def added(before: Window, loaded: Window, after: Window) -> float:
    return p99(loaded) - (p99(before) + p99(after)) / 2


def describe(window: Window) -> str:
    t = window.traffic
    line = (
        f"    {window.label:6}  transit p50 {t.transit_percentile(0.5):.2f} p99 {p99(window):.2f}"
        f" ms  |D| p99 {t.d_percentile(0.99):.2f} ms  loss {t.loss:.3f} %  switch CPU "
        f"{window.switch_cpu:.0f} % (loop {window.loop_cpu:.0f}, threads "
        f"{window.threads_cpu:.0f}, web {window.web_cpu:.0f})  RTP gen send/recv "
        f"{t.sender_cpu:.0f}/{t.receiver_cpu:.0f} %"
    )
    h = window.http
    if h is not None:
        kinds = ", ".join(f"{k} {v['p50_ms']:.1f}/{v['p99_ms']:.1f}" for k, v in h.by_kind.items())
        line += (
            f"\n            API {h.achieved:.1f}/s answered (offered {h.offered:.1f}/s), "
            f"{h.failed} failed, latency p50 {h.p50_ms:.1f} p99 {h.p99_ms:.1f} ms; load "
            f"generator CPU {h.generator_cpu:.0f} %\n            p50/p99 ms by kind: {kinds}"
        )
    return line


def print_summary(run: Run) -> None:
    rounds = run.rounds()
    print()
    print(
        f"Added transit p99 with the API loaded (loaded minus the mean of the idle windows "
        f"around it); bound {BOUND_MS:g} ms"
    )
    headers = ("round", "idle p99 ms", "loaded p99 ms", "idle p99 ms", "added p99 ms",
               "API req/s", "API p50 / p99 ms", "switch CPU idle / loaded %",
               "within bound")  # fmt: skip
    rows = []
    for n, (before, loaded, after) in enumerate(rounds, 1):
        h = loaded.http
        extra = added(before, loaded, after)
        rows.append(
            (
                str(n), f"{p99(before):.2f}", f"{p99(loaded):.2f}", f"{p99(after):.2f}",
                f"{extra:+.2f}", f"{h.achieved:.1f}" if h else "-",
                f"{h.p50_ms:.1f} / {h.p99_ms:.1f}" if h else "-",
                f"{(before.switch_cpu + after.switch_cpu) / 2:.0f} / {loaded.switch_cpu:.0f}",
                "yes" if extra <= BOUND_MS else "NO",
            )
        )  # fmt: skip
    print(record.table(headers, rows))
    if rounds:
        values = [added(*r) for r in rounds]
        print(
            f"added p99: median {statistics.median(values):+.2f} ms, from {min(values):+.2f} "
            f"to {max(values):+.2f} ms over {len(values)} rounds; bound "
            f"{'held' if max(values) <= BOUND_MS else 'NOT held'} in "
            f"{sum(v <= BOUND_MS for v in values)}/{len(values)}"
        )


def window_record(window: Window) -> dict[str, Any]:
    return {
        "label": window.label,
        "switch_cpu_percent": window.switch_cpu,
        "loop_thread_cpu_percent": window.loop_cpu,
        "other_threads_cpu_percent": window.threads_cpu,
        "web_process_cpu_percent": window.web_cpu,
        "traffic": traffic_record(window.traffic),
        "http": window.http,
    }


def save(run: Run, args: argparse.Namespace, started: datetime, interrupted: bool = False) -> None:
    rounds = run.rounds()
    results = {
        "bound_ms": BOUND_MS,
        "setup_seconds": run.setup,
        "note": run.note,
        "rounds": [
            {
                "idle_before_p99_ms": p99(b),
                "loaded_p99_ms": p99(loaded),
                "idle_after_p99_ms": p99(a),
                "added_p99_ms": added(b, loaded, a),
                "within_bound": added(b, loaded, a) <= BOUND_MS,
            }
            for b, loaded, a in rounds
        ],
        "windows": [window_record(w) for w in run.windows],
    }
    options = {**vars(args)}
    for name in ("VAXEL_WEB_THREADS",):
        options[name] = os.environ.get(name)
    path = record.write(
        "api_load", started=started, options=options, results=results, interrupted=interrupted
    )
    print(f"\nraw results: {path.relative_to(record.ROOT)}")


def measure(run: Run, args: argparse.Namespace, work: Path) -> None:
    data = work / "vaxel-data"
    began = time.monotonic()
    make_company(data, args.users, args.records)
    run.setup["company_seconds"] = time.monotonic() - began
    print(f"  company: {args.users} users, {args.records} call records, an admin, in "
          f"{run.setup['company_seconds']:.0f} s", flush=True)  # fmt: skip
    with Supervisor() as sup:
        http_port = free_port(socket.SOCK_STREAM)
        server = start_switch(sup, data, work, http_port)
        base = f"http://{HOST}:{http_port}"
        print(f"vaxel: udp:{HOST}:{server.port}, {base} (pid {server.proc.pid})", flush=True)
        token = api_token(base)
        agent = Agent(server.port)
        sockets: list[socket.socket] = []
        calls: list[Call] = []
        try:
            agent.register_callee()
            began = time.monotonic()
            for _ in range(args.calls):
                caller_rtp, callee_rtp = rtp_socket(), rtp_socket()
                sockets += [caller_rtp, callee_rtp]
                calls.append(agent.call(caller_rtp, callee_rtp))
            agent.settle(0.2)
            run.setup["calls_seconds"] = time.monotonic() - began
            print(f"  {len(calls)} calls set up in {run.setup['calls_seconds']:.1f} s", flush=True)
            pairs = []
            for call in calls:
                pairs.append((call.caller_rtp, call.switch_caller_side, call.callee_rtp))
                pairs.append((call.callee_rtp, call.switch_callee_side, call.caller_rtp))
            labels = ["idle"] + ["loaded", "idle"] * args.rounds
            for n, label in enumerate(labels):
                window = run_window(label, pairs, server, args, http_port, token, seed=n)
                run.windows.append(window)
                print(describe(window), flush=True)
                if server.proc.poll() is not None:
                    run.note = f"the switch exited with status {server.proc.returncode}"
                    print(f"  {run.note}\n{server.tail()}")
                    return
                time.sleep(1)
            for call in calls:
                agent.hang_up(call)
            agent.settle(0.3)
        finally:
            agent.close()
            for sock in sockets:
                sock.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round of 3 s")
    parser.add_argument("--rounds", type=int, help="loaded windows, each between idle ones (3)")
    parser.add_argument("--duration", type=float, help="seconds per window (20; quick 3)")
    parser.add_argument("--calls", type=int, help="live calls with media (100; quick 20)")
    parser.add_argument("--rate", type=float, help="API requests per second offered (100)")
    parser.add_argument("--users", type=int, help="the company's users (1200; quick 300)")
    parser.add_argument("--records", type=int, help="call records stored (20000; quick 2000)")
    parser.add_argument(
        "--mix", help="KIND=WEIGHT,... of " + ", ".join(k for k, _ in MIX) + " (the default mix)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (the switch's log)")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "rounds": 1 if quick else 3,
        "duration": 3.0 if quick else 20.0,
        "calls": 20 if quick else 100,
        "rate": 100.0,
        "users": 300 if quick else 1200,
        "records": 2000 if quick else 20000,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.rounds, args.calls, args.users - 10, args.records) < 1 or args.duration <= 0:
        parser.error("--rounds, --duration, --calls, --records must be positive, --users > 10")
    mix: dict[str, float] = {k: float(w) for k, w in MIX}
    if args.mix:
        try:
            mix = {
                k.strip(): float(w) for k, _, w in (p.partition("=") for p in args.mix.split(","))
            }
        except ValueError:
            parser.error("--mix: KIND=WEIGHT,...")
        if not set(mix) <= {k for k, _ in MIX} or sum(mix.values()) <= 0:
            parser.error(f"--mix: kinds are {', '.join(k for k, _ in MIX)}")
    args.mix = mix
    if args.rate <= 0:
        parser.error("--rate must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work = Path(tempfile.mkdtemp(prefix="vaxel-api-"))
    run = Run()
    started = datetime.now(UTC)
    print(
        f"{args.calls} calls with media; windows of {args.duration:g} s: idle, then "
        f"{args.rounds} x (API at {args.rate:g} requests/s, idle)"
    )

    def report(interrupted: bool) -> None:
        print_summary(run)
        save(run, args, started, interrupted=interrupted)

    def failed(note: str) -> None:
        run.note = note
        save(run, args, started)

    return record.run(work, args.keep, lambda: measure(run, args, work), report, failed,
                      (RuntimeError, SipError, OSError))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
