"""How fast the API pages through a big company's users (P8): a page of 100 users out of a
company of 10,000, end to end over HTTP from a real `vaxel serve`.

The company is made with `vaxel config apply` (10,000 users, as an operator would), the
server runs as `make` builds it, a company admin's API token asks for pages: the first,
pages deep in the list (by the `after` cursor), and searches by name. Each request is
timed from send to the last byte with a nanosecond clock, one at a time (no queueing in
the figures). Target of the project: p99 under 50 ms.

    .venv/bin/python bench/api_pages.py                 # 10,000 users, 600 requests
    .venv/bin/python bench/api_pages.py --quick         # 2,000 users, 150 requests
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

import record

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "pages.bench.test"
PASSWORD = "bench web password"


def vaxel(*args: str) -> list[str]:
    return [sys.executable, "-m", "vaxel", *args]


def describe(path: Path, users: int) -> None:
    lines = [f"company: {{domain: {DOMAIN}, name: Sidor AB}}", "users:"]
    first = ("Anna", "Björn", "Cecilia", "David", "Eva", "Fredrik", "Greta", "Hans")
    last = ("Svensson", "Lind", "Karlsson", "Nyström", "Berg", "Holm", "Ek", "Sjöberg")
    for i in range(users):
        name = f"{first[i % 8]} {last[(i // 8) % 8]} {i}"
        lines.append(f'  - {{ext: "{10000 + i}", name: "{name}", password: "pw-{i:08d}"}}')
    path.write_text("\n".join(lines) + "\n")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--quick", action="store_true", help="2,000 users, 150 requests")
    args = parser.parse_args()
    if args.quick:
        args.users, args.requests = 2_000, 150
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="vaxel-bench-pages-") as tmp:
        work = Path(tmp)
        data = work / "data"
        describe(work / "company.yaml", args.users)
        made = time.monotonic()
        subprocess.run(vaxel("--data", str(data), "config", "apply", str(work / "company.yaml")),
                       check=True, capture_output=True)  # fmt: skip
        subprocess.run(vaxel("--data", str(data), "company", "admin", DOMAIN, "--ext", "10000",
                             "--password", PASSWORD), check=True, capture_output=True)  # fmt: skip
        print(f"api_pages: {args.users} users made in {time.monotonic() - made:.0f} s")
        server = subprocess.Popen(
            vaxel("serve", "--data", str(data), "--sip", "127.0.0.1:0", "--http", "127.0.0.1:0",
                  "--rtp-ports", "40000-40099"),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            base = ""
            assert server.stdout is not None
            for line in server.stdout:
                found = re.match(r"vaxel: web and API on (\S+)", line)
                if found:
                    base = found.group(1)
                if line.startswith("vaxel: SIP on"):
                    break
            results = measure(base, args)
        finally:
            server.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=20)
            if server.poll() is None:
                server.kill()
    rows = [(kind, len(v), f"{percentile(v, 50):.1f}", f"{percentile(v, 99):.1f}",
             f"{max(v):.1f}") for kind, v in results.items()]  # fmt: skip
    print(record.table(("request", "n", "p50 ms", "p99 ms", "max ms"), rows))
    everything = [t for v in results.values() for t in v]
    print(f"api_pages: all {len(everything)} requests: p99 {percentile(everything, 99):.1f} ms"
          " (target: under 50 ms)")  # fmt: skip
    path = record.write(
        "api_pages", started=started, options=vars(args),
        results={kind: {"n": len(v), "p50_ms": percentile(v, 50), "p99_ms": percentile(v, 99),
                        "max_ms": max(v), "ms": [round(t, 2) for t in v]}
                 for kind, v in results.items()},
    )  # fmt: skip
    print(f"api_pages: raw figures in {path.relative_to(ROOT)}")
    return 0


def measure(base: str, args: argparse.Namespace) -> dict[str, list[float]]:
    rng = random.Random(20261205)
    with httpx.Client(base_url=base, timeout=30) as client:
        login = client.post(
            "/api/v1/login", json={"login": f"10000@{DOMAIN}", "password": PASSWORD}
        )
        login.raise_for_status()
        token = client.post(
            "/api/v1/tokens", json={"name": "bench", "scopes": ["read"]},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        ).json()["token"]  # fmt: skip
        client.cookies.clear()
        client.headers["Authorization"] = f"Bearer {token}"
        url = f"/api/v1/companies/{DOMAIN}/users"
        for _ in range(20):  # warm up: imports, caches, connection
            client.get(url, params={"limit": 100}).raise_for_status()
        kinds: dict[str, list[float]] = {"first page": [], "deep page": [], "search": []}
        names = ("anna", "lind", "sjöberg", "holm 12", "eva")
        for i in range(args.requests):
            kind = list(kinds)[i % 3]
            params: dict[str, Any] = {"limit": 100}
            if kind == "deep page":
                params["after"] = str(10000 + rng.randrange(args.users - 100))
            elif kind == "search":
                params["q"] = rng.choice(names)
            sent = time.perf_counter_ns()
            answer = client.get(url, params=params)
            kinds[kind].append((time.perf_counter_ns() - sent) / 1e6)
            answer.raise_for_status()
            assert answer.json()["items"], (kind, params)
    return kinds


if __name__ == "__main__":
    sys.exit(main())
