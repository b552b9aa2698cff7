"""Live events over WebSockets (P8): how fast the switch's web delivers them to many clients.

The web app runs in this process as `vaxel serve` runs it (uvicorn in an asyncio loop,
uvloop when installed), over a real SQLite store with companies, admins and API tokens,
and with a `Bus` that a publisher in the same loop feeds at the target rate: calls are too
slow a source for 10,000 deliveries a second, and the bus is exactly where the B2BUA
publishes. Every event is stamped with `time.time()` when published; the clients, in a
process of their own on the same machine (the same clock), subtract it from the time they
parse the message: that is the delivery latency, queues, uvicorn, the kernel and the
client's own loop included.

    bench/events.py [--clients 200] [--companies 4] [--rate 50] [--seconds 20]

`--rate` is events per second per company; every client of a company gets all of its
company's events, so deliveries per second = clients x rate. Printed: latency p50/p90/p99/
max, deliveries per second, the server's and the clients' CPU, messages of another company
(must be 0) and clients dropped as too slow. Raw figures go to
bench/results/events-<UTC>.json. No pass or fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import record
from vaxel.bus import Bus, CallOffered
from vaxel.services import accounts, companies, users, web_sessions
from vaxel.store import Store
from vaxel.web.context import WebContext
from vaxel.web.launcher import listen
from vaxel.web.server import WebServer

TICK = 0.02  # the publisher's pace: events of each company published every 20 ms


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="WebSocket clients in all")
    parser.add_argument("--companies", type=int, default=4, help="clients are split among them")
    parser.add_argument("--rate", type=float, default=50.0, help="events/s per company")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time")
    parser.add_argument("--warmup", type=float, default=3.0, help="published, not measured")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5 s")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="the server's loop (vaxel serve uses uvloop when installed)",
    )
    parser.add_argument("--client", help=argparse.SUPPRESS)  # internal: the clients' process
    return parser.parse_args()


# -- the clients' process ---------------------------------------------------------------------


async def clients_main(spec: dict[str, Any]) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    latencies: Counter[int] = Counter()  # tenths of a millisecond -> how many
    counted = {"received": 0, "foreign": 0, "gaps": 0, "closed": 0}
    start, end = spec["measure_from"], spec["measure_until"]

    async def one(url: str, token: str, domain: str) -> None:
        last = 0
        try:
            async with connect(url, additional_headers={"Authorization": f"Bearer {token}"},
                               max_size=2**16, ping_interval=None) as ws:  # fmt: skip
                async for text in ws:
                    now = time.time()
                    message = json.loads(text)
                    if message["seq"] != last + 1:
                        counted["gaps"] += 1
                    last = message["seq"]
                    if message["type"] == "hello":
                        continue
                    if message["company"] != domain:
                        counted["foreign"] += 1
                    at = message["time"]
                    if start <= at < end:
                        latencies[int((now - at) * 10_000)] += 1
                        counted["received"] += 1
                    if at >= end:
                        return
        except Exception:
            counted["closed"] += 1

    cpu = time.process_time()
    await asyncio.gather(*(one(spec["url"], token, domain) for token, domain in spec["tokens"]))
    return {
        **counted,
        "latency_tenth_ms": {str(k): v for k, v in sorted(latencies.items())},
        "cpu_seconds": time.process_time() - cpu,
    }


# -- the server and its publisher -------------------------------------------------------------


def seed(store: Store, count: int) -> list[tuple[int, str, str]]:
    """(company id, domain, an admin's read token) per company."""
    made = []
    now = datetime.now(UTC)
    for n in range(count):
        domain = f"c{n}.bench.example"
        company = companies.add_company(store, domain, f"Bench {n}")
        users.add_user(store, domain, "1001", "Bench Admin", "bench-sip-secret")
        account = accounts.set_user_account(
            store, domain, "1001", password="bench web password", role="admin"
        )
        token, _ = web_sessions.create_token(store, account, "bench", ["read"], now)
        made.append((company.id, domain, token))
    return made


def cpu_of(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def serve(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    store = Store.open(folder)
    seeded = seed(store, args.companies)
    bus = Bus()
    web = WebServer(WebContext(store, folder, bus=bus), listen("127.0.0.1", 0))
    web.start()
    url = web.address.replace("http://", "ws://") + "/api/v1/events"
    tokens = [(seeded[i % len(seeded)][2], seeded[i % len(seeded)][1]) for i in range(args.clients)]
    begin = time.time() + 5.0  # time for every client to connect before the warm-up
    spec = {
        "url": url,
        "tokens": tokens,
        "measure_from": begin + args.warmup,
        "measure_until": begin + args.warmup + args.seconds,
    }
    client = subprocess.Popen(
        [sys.executable, __file__, "--client", json.dumps(spec)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(record.ROOT / "src")},
    )
    try:
        while time.time() < begin:
            await asyncio.sleep(0.1)
        watching = sum(bus._watched.values())  # what the hub counts: connected clients
        published = in_window = 0
        per_tick = args.rate * TICK
        owed = 0.0
        cpu_server = cpu_client = 0.0
        next_tick = time.monotonic()
        measuring = False
        wall = time.monotonic()
        while time.time() < spec["measure_until"] + 0.5:
            now = time.time()
            if not measuring and now >= spec["measure_from"]:
                measuring = True
                cpu_server, cpu_client = time.process_time(), cpu_of(client.pid)
                wall = time.monotonic()
            owed += per_tick
            while owed >= 1:
                owed -= 1
                stamp = time.time()
                if spec["measure_from"] <= stamp < spec["measure_until"]:
                    in_window += len(seeded)
                for company_id, _, _ in seeded:
                    published += 1
                    bus.publish(CallOffered(company_id, f"b{published}", "1001", "Bench",
                                            "1002", time.time()))  # fmt: skip
            next_tick += TICK
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
        elapsed = time.monotonic() - wall
        cpu_server = time.process_time() - cpu_server
        cpu_client = cpu_of(client.pid) - cpu_client
        out, _ = await asyncio.get_running_loop().run_in_executor(None, client.communicate)
        clients = json.loads(out)
    finally:
        if client.poll() is None:
            client.kill()
        await web.stop()
        store.close()
    return {
        "connected": watching,
        "published_per_company_per_s": args.rate,
        "published_in_window": in_window,  # events (each goes to every client of its company)
        "measured_seconds": elapsed,
        "server_cpu_percent": 100 * cpu_server / elapsed,
        "clients_cpu_percent": 100 * cpu_client / elapsed,
        **clients,
    }


def percentile(histogram: dict[str, int], fraction: float) -> float:
    total = sum(histogram.values())
    seen = 0
    for value, count in histogram.items():
        seen += count
        if seen >= fraction * total:
            return int(value) / 10
    return float("nan")


def main() -> None:
    args = options()
    if args.client:
        print(json.dumps(asyncio.run(clients_main(json.loads(args.client)))))
        return
    if args.quick:
        args.seconds, args.warmup = 5.0, 1.0
    started = datetime.now(UTC)
    run = asyncio.run
    if args.loop == "uvloop":
        try:
            import uvloop

            run = uvloop.run
        except ImportError:
            args.loop = "asyncio"
    with tempfile.TemporaryDirectory(prefix="vaxel-bench-events-") as folder:
        result = run(serve(args, Path(folder)))
    histogram = result["latency_tenth_ms"]
    # Each event goes to every client of its company (clients are spread evenly).
    expected = result["published_in_window"] * args.clients / args.companies
    figures = {
        "p50_ms": percentile(histogram, 0.5),
        "p90_ms": percentile(histogram, 0.9),
        "p99_ms": percentile(histogram, 0.99),
        "max_ms": int(next(reversed(histogram))) / 10 if histogram else float("nan"),
        "deliveries_per_s": result["received"] / args.seconds,
        "delivered_fraction": result["received"] / expected if expected else float("nan"),
    }
    print(record.table(
        ["clients", "companies", "events/s each", "deliveries/s", "p50 ms", "p90 ms", "p99 ms",
         "max ms", "server CPU", "clients CPU", "foreign", "dropped"],
        [[args.clients, args.companies, args.rate, f"{figures['deliveries_per_s']:.0f}",
          figures["p50_ms"], figures["p90_ms"], figures["p99_ms"], figures["max_ms"],
          f"{result['server_cpu_percent']:.0f} %", f"{result['clients_cpu_percent']:.0f} %",
          result["foreign"], result["closed"]]],
    ))  # fmt: skip
    print(f"published {result['published_in_window'] / args.seconds:.0f} events/s; "
          f"delivered {figures['delivered_fraction']:.4f} of {expected:.0f} expected; "
          f"seq gaps {result['gaps']}; clients connected {result['connected']}")  # fmt: skip
    path = record.write(
        "events", started=started, options=vars(args), results={**result, **figures}
    )
    print(f"\nraw results: {path.relative_to(record.ROOT)}")


if __name__ == "__main__":
    main()
