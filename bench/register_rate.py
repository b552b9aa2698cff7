"""Registration rate benchmark, Vaxel vs Kamailio (P3, O3).

Steps SIPp's REGISTER-with-digest-auth scenario up through rising rates against
one server at a time and reports the highest rate it held for the whole step
with no failed registration, the response time and the server's CPU. Kamailio
(registrar + in-memory usrloc) is the yardstick: the same users, the same
realm, the same challenge (qop=auth), on the same machine.

It prints figures, the two targets side by side, and writes them with every step's raw
figures to bench/results/register_rate-<time>.json; it never passes or fails on time.

    .venv/bin/python bench/register_rate.py [--duration 20] [--target vaxel|kamailio|both]
    .venv/bin/python bench/register_rate.py --quick
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import record

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SCENARIO = BENCH / "scenarios" / "register_auth.xml"
KAMAILIO_CFG = BENCH / "kamailio" / "registrar.cfg"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

DOMAIN = "bench.test"  # RFC 2606: never resolves, so nothing can leave the machine
SALT = "vaxel-bench"  # the password rule shared with kamailio/registrar.cfg
FIRST_EXT = 10000
HOST = "127.0.0.1"

RATES = (250, 500, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 15000, 20000)
QUICK_RATES = (100, 300, 1000)
HELD_FRACTION = 0.95  # the achieved rate must be within 5 % of the target
RECV_TIMEOUT_MS = 5000  # a registration not answered within this is a failure
PROBE_RATE = 50  # registrations/s of the latency probe, on top of the step's rate


def password_for(ext: int) -> str:
    """The user's SIP password: derivable in Kamailio's cfg, so it needs no database."""
    return hashlib.md5(f"{SALT}:{ext}".encode()).hexdigest()[:16]


def extensions(count: int) -> range:
    return range(FIRST_EXT, FIRST_EXT + count)


# --- processes -------------------------------------------------------------------------


class Supervisor:
    """Owns every process the benchmark starts and stops them all on the way out.

    Each child gets its own session, so a Ctrl-C at the terminal reaches only
    the benchmark, which then stops the children itself, by their group id.
    """

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []

    def start(self, args: Sequence[str], **kwargs: object) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(args, start_new_session=True, **kwargs)  # type: ignore[call-overload]
        self._running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # Kamailio's children may outlive their parent by a moment.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ValueError):
            self._running.remove(proc)

    def close(self) -> None:
        for proc in reversed(self._running[:]):
            self.stop(proc)

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def session_cpu_seconds(session: int) -> float:
    """User + system CPU of every live process in `session` (a server and its children)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                text = handle.read()
        except OSError:
            continue
        fields = text[text.rindex(b")") + 2 :].split()
        # fields[0] is field 3 of proc(5): session is field 6, utime 14, stime 15.
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU of this benchmark's reaped children (so: of the SIPp run just waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def udp_drops(port: int) -> int:
    """Datagrams the kernel dropped on 127.0.0.1:`port` (its receive buffer was full)."""
    needle = f"0100007F:{port:04X} "
    drops = 0
    with open("/proc/net/udp") as table:
        for line in table:
            if needle in line:
                drops += int(line.split()[-1])
    return drops


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def register_probe(port: int) -> bytes:
    """An unauthenticated REGISTER: every registrar answers it (401), so it shows readiness."""
    tag = random.getrandbits(48)
    return (
        f"REGISTER sip:{DOMAIN} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {HOST}:{port};branch=z9hG4bK{tag:x};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:{FIRST_EXT}@{DOMAIN}>;tag={tag:x}\r\n"
        f"To: <sip:{FIRST_EXT}@{DOMAIN}>\r\n"
        f"Call-ID: probe-{tag:x}@{HOST}\r\n"
        "CSeq: 1 REGISTER\r\n"
        f"Contact: <sip:{FIRST_EXT}@{HOST}:{port}>\r\n"
        "Expires: 0\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def wait_until_answering(proc: subprocess.Popen[bytes], port: int, patience: float) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        sock.settimeout(0.25)
        request = register_probe(sock.getsockname()[1])
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {proc.returncode}")
            with contextlib.suppress(OSError):
                sock.sendto(request, (HOST, port))
                if sock.recv(65535).startswith(b"SIP/2.0 "):
                    return
    raise RuntimeError(f"no SIP answer on udp:{HOST}:{port} after {patience:.0f} s")


# --- servers ---------------------------------------------------------------------------


@dataclass
class Server:
    """A running registrar: its process (session leader), SIP port and log."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def vaxel_command() -> list[str]:
    venv_vaxel = ROOT / ".venv" / "bin" / "vaxel"
    if venv_vaxel.exists():
        return [str(venv_vaxel)]
    return [str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable), "-m", "vaxel"]


# Runs `vaxel` command lines read from stdin in one interpreter: the same CLI entry point
# and validation, without paying the interpreter start-up for each of N users.
_CLI_BATCH = """
import contextlib, io, json, sys
from vaxel.cli import main
for line in sys.stdin:
    argv = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit:
            status = exit.code
    if status not in (0, None):
        sys.exit(f"vaxel {' '.join(argv)}: status {status}: {err.getvalue().strip()}")
"""


def create_vaxel_users(data: Path, count: int) -> None:
    commands = [["company", "add", DOMAIN, "--name", "Bench", "--data", str(data)]]
    for ext in extensions(count):
        user = ["user", "add", "--company", DOMAIN, "--ext", str(ext), "--name", f"Bench {ext}"]
        commands.append([*user, "--password", password_for(ext), "--data", str(data)])
    python = str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)
    feed = "".join(json.dumps(argv) + "\n" for argv in commands)
    result = subprocess.run(
        [python, "-c", _CLI_BATCH], input=feed, text=True, capture_output=True, timeout=1800
    )
    if result.returncode != 0:
        raise RuntimeError(f"creating Vaxel users failed: {result.stderr.strip()[-500:]}")


def start_vaxel(sup: Supervisor, work: Path, users: int) -> Server:
    data = work / "vaxel-data"
    started = time.monotonic()
    create_vaxel_users(data, users)
    print(f"  vaxel: {users} users created with the CLI in {time.monotonic() - started:.0f} s")
    port = free_port()
    rtp_low = random.randrange(40000, 59000, 2)
    log = work / "vaxel.log"
    args = [
        *vaxel_command(), "serve", "--data", str(data), "--sip", f"{HOST}:{port}",
        "--http", f"{HOST}:0",  # the web idle, as in production
        "--rtp-ports", f"{rtp_low}-{rtp_low + 199}",
    ]  # fmt: skip
    # As shipped: an MD5 challenge, like Kamailio's (SIPp 3.6.1 knows only MD5).
    return launch(sup, "vaxel", args, port, log, work, patience=60)


def start_kamailio(sup: Supervisor, work: Path, users: int, children: int) -> Server:
    binary = shutil.which("kamailio")
    if binary is None:
        raise RuntimeError("kamailio is not installed (apt-get install kamailio)")
    cfg = work / "kamailio.cfg"
    shutil.copyfile(KAMAILIO_CFG, cfg)
    port = free_port()
    last = extensions(users)[-1]
    log = work / "kamailio.log"
    args = [
        binary, "-f", str(cfg), "-DD", "-E", "-P", str(work / "kamailio.pid"),
        "-m", "256", "-M", "16",
        "-A", f"BENCH_PORT={port}", "-A", f'BENCH_DOMAIN="{DOMAIN}"', "-A", f'BENCH_SALT="{SALT}"',
        "-A", f"BENCH_FIRST_EXT={FIRST_EXT}", "-A", f"BENCH_LAST_EXT={last}",
        "-A", f"BENCH_CHILDREN={children}",
    ]  # fmt: skip
    return launch(sup, "kamailio", args, port, log, work, patience=20)


def launch(
    sup: Supervisor, name: str, args: list[str], port: int, log: Path, work: Path, patience: float
) -> Server:
    """Start a server with its output in `log`; return once it answers a REGISTER."""
    with log.open("wb") as out:
        proc = sup.start(args, stdout=out, stderr=subprocess.STDOUT, cwd=work)
    server = Server(name, proc, port, log)
    try:
        wait_until_answering(proc, port, patience=patience)
    except RuntimeError as error:
        raise RuntimeError(f"{name}: {error}\n{server.tail()}") from None
    return server


# --- the latency probe -----------------------------------------------------------------


def _auth_params(value: str) -> dict[str, str]:
    """The parameters of one `Digest k=v, k="v"` challenge (no commas inside quotes here)."""
    params = {}
    for part in value.split(None, 1)[1].split(","):
        key, _, raw = part.strip().partition("=")
        params[key.strip().lower()] = raw.strip().strip('"')
    return params


class LatencyProbe(threading.Thread):
    """Times registrations of one reserved user, to the microsecond, while SIPp loads the server.

    SIPp's own response times tick in steps of its event loop (about 4 ms on
    this machine), too coarse for a registrar that answers in tenths of a
    millisecond, so this thread does the same REGISTER -> 401 -> REGISTER ->
    200 exchange at a low rate (answering the MD5 challenge, as SIPp does) and
    keeps each exchange's time from sending the first REGISTER to receiving
    the 200.
    """

    def __init__(self, port: int, ext: int, rate: float) -> None:
        super().__init__(name="latency-probe", daemon=True)
        self.server = (HOST, port)
        self.ext = ext
        self.interval = 1 / rate
        self.micros: list[float] = []
        self.failures = 0
        self._halt = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((HOST, 0))
        self._sock.settimeout(2.0)
        self._local = self._sock.getsockname()[1]
        self._count = 0

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self._sock.close()

    def run(self) -> None:
        next_at = time.monotonic()
        while not self._halt.is_set():
            try:
                self._register_once()
            except (OSError, ValueError, KeyError, IndexError):
                self.failures += 1
            next_at += self.interval
            self._halt.wait(max(0.0, next_at - time.monotonic()))

    def _request(self, call_id: str, cseq: int, authorization: str = "") -> bytes:
        self._count += 1
        ext, host, port = self.ext, HOST, self._local
        lines = [
            f"REGISTER sip:{DOMAIN} SIP/2.0",
            f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-probe-{call_id}-{self._count}",
            "Max-Forwards: 70",
            f"From: <sip:{ext}@{DOMAIN}>;tag=probe{call_id}",
            f"To: <sip:{ext}@{DOMAIN}>",
            f"Call-ID: {call_id}@{host}",
            f"CSeq: {cseq} REGISTER",
            f"Contact: <sip:{ext}@{host}:{port}>",
            "Expires: 3600",
            *([authorization] if authorization else []),
            "Content-Length: 0",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _exchange(self, request: bytes, call_id: str, cseq: int) -> str:
        """Send and return the final response to this Call-ID and CSeq (others are stale)."""
        self._sock.sendto(request, self.server)
        while True:
            text = self._sock.recv(65535).decode("utf-8", "replace")
            ours = f"{call_id}@" in text and f"CSeq: {cseq} REGISTER" in text
            if ours and not text.startswith("SIP/2.0 1"):
                return text

    def _register_once(self) -> None:
        call_id = f"{random.getrandbits(64):x}"
        started = time.perf_counter_ns()
        challenge = self._exchange(self._request(call_id, 1), call_id, 1)
        if not challenge.startswith("SIP/2.0 401"):
            raise ValueError(challenge.split("\r\n", 1)[0])
        offers = [
            _auth_params(line.split(":", 1)[1].strip())
            for line in challenge.split("\r\n")
            if line.lower().startswith("www-authenticate:")
        ]
        params = next(o for o in offers if o.get("algorithm", "MD5").upper() == "MD5")
        authorization = self._authorization(params)
        final = self._exchange(self._request(call_id, 2, authorization), call_id, 2)
        elapsed = time.perf_counter_ns() - started
        if not final.startswith("SIP/2.0 200"):
            raise ValueError(final.split("\r\n", 1)[0])
        self.micros.append(elapsed / 1000)

    def _authorization(self, params: dict[str, str]) -> str:
        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        realm, nonce, uri = params["realm"], params["nonce"], f"sip:{DOMAIN}"
        cnonce, nc = f"{random.getrandbits(64):016x}", "00000001"
        ha1 = md5(f"{self.ext}:{realm}:{password_for(self.ext)}")
        ha2 = md5(f"REGISTER:{uri}")
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        opaque = f', opaque="{params["opaque"]}"' if "opaque" in params else ""
        return (
            f'Authorization: Digest username="{self.ext}", realm="{realm}", nonce="{nonce}", '
            f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={nc}, '
            f'cnonce="{cnonce}"{opaque}'
        )


# --- one step --------------------------------------------------------------------------


def write_users_csv(path: Path, count: int) -> None:
    """SIPp injection file: ext;password;domain;[authentication ...].

    SIPp 3.6.1 cannot nest [field0] inside [authentication ...], but it does
    expand an [authentication ...] keyword that comes in whole from a field.
    """
    with path.open("w") as out:
        out.write("SEQUENTIAL\n")
        for ext in extensions(count):
            password = password_for(ext)
            auth = f"[authentication username={ext} password={password}]"
            out.write(f"{ext};{password};{DOMAIN};{auth}\n")


@dataclass
class Step:
    """What one SIPp run at one target rate gave."""

    rate: int
    calls: int
    exit_status: int
    successful: int
    failed: int
    failures: dict[str, int]
    retransmissions: int
    achieved: float  # registrations completed per second, first REGISTER to last 200
    rtt_ms: list[int]  # SIPp's rtd 1 per registration (first REGISTER -> 200), whole ms
    probe_us: list[float]  # the latency probe's registrations, sorted, in µs
    probe_failures: int
    server_drops: int  # requests the kernel dropped before the server read them
    server_cpu: float  # % of one core
    server_cpu_seconds: float
    sipp_cpu: float  # % of one core
    errors: str

    @property
    def held(self) -> bool:
        return (
            self.exit_status == 0
            and self.failed == 0
            and self.successful == self.calls
            and self.achieved >= HELD_FRACTION * self.rate
        )

    @property
    def cpu_us_per_registration(self) -> float:
        registrations = self.successful + len(self.probe_us)
        return self.server_cpu_seconds / registrations * 1e6 if registrations else float("nan")

    def why_not_held(self) -> str:
        reasons = []
        if self.failed or self.successful != self.calls:
            detail = ", ".join(f"{name} {n}" for name, n in self.failures.items() if n)
            ok = f"{self.successful}/{self.calls} registered"
            reasons.append(f"{ok}, {self.failed} failed" + (f" ({detail})" if detail else ""))
        if self.achieved < HELD_FRACTION * self.rate:
            reasons.append(f"achieved {self.achieved:.0f}/s < 95 % of {self.rate}/s")
        if self.exit_status not in (0, 1):
            reasons.append(f"SIPp exit status {self.exit_status}")
        if self.sipp_cpu >= 90:
            reasons.append(
                f"SIPp itself at {self.sipp_cpu:.0f} % CPU: the load generator may be the limit"
            )
        if "must use MD5" in self.errors:
            reasons.append(
                "SIPp 3.6.1 only answers MD5 and reads the first challenge: "
                "the server must offer algorithm=MD5 first (see bench/README.md)"
            )
        return "; ".join(reasons) or "held"


def percentile(values: Sequence[int], fraction: float) -> float:
    """Nearest-rank percentile of `values` (already sorted)."""
    if not values:
        return float("nan")
    rank = max(1, int(-(-fraction * len(values) // 1)))  # ceil
    return float(values[min(rank, len(values)) - 1])


def read_stats(path: Path) -> dict[str, str]:
    """The last (final, cumulative) row of SIPp's -trace_stat CSV."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0], rows[-1], strict=False))


def read_rtt(directory: Path) -> tuple[list[int], float]:
    """Response times (ms) and the span (s) from the first REGISTER to the last 200."""
    times: list[int] = []
    first_start, last_end = float("inf"), float("-inf")
    for path in directory.glob("*_rtt.csv"):
        with path.open(newline="") as handle:
            for row in csv.reader(handle, delimiter=";"):
                if len(row) < 3 or not row[1].isdigit():
                    continue  # header
                at, rtt = float(row[0]), int(row[1])
                times.append(rtt)
                first_start = min(first_start, at - rtt)
                last_end = max(last_end, at)
    times.sort()
    span = (last_end - first_start) / 1000 if times else 0.0
    return times, span


@dataclass(frozen=True)
class Load:
    """What every step shares: SIPp's users, the probe's own user, the step length."""

    users_csv: Path
    users: int  # SIPp registers these; the server has one more, the probe's
    duration: float
    work: Path

    @property
    def probe_ext(self) -> int:
        return FIRST_EXT + self.users


def run_step(sup: Supervisor, server: Server, rate: int, load: Load) -> Step:
    duration, users_csv = load.duration, load.users_csv
    step_dir = load.work / f"{server.name}-{rate}"
    step_dir.mkdir()
    calls = max(1, round(rate * duration))
    # SIPp writes response times in batches of rtt_freq calls and drops a last, partial one:
    # the largest batch up to 100 that divides the calls leaves no tail unwritten.
    rtt_freq = next(n for n in range(min(100, calls), 0, -1) if calls % n == 0)
    args = [
        "sipp", f"{HOST}:{server.port}", "-sf", str(SCENARIO), "-inf", str(users_csv),
        "-i", HOST, "-p", str(free_port()), "-mp", str(free_port()), "-t", "u1",
        "-r", str(rate), "-rp", "1000", "-m", str(calls),
        "-auth_uri", DOMAIN, "-recv_timeout", str(RECV_TIMEOUT_MS),
        "-timeout", f"{int(duration) + 60}s", "-nostdin",
        "-max_recv_loops", "10000", "-max_sched_loops", "10000",
        "-buff_size", str(4 * 1024 * 1024),  # SIPp's default 64 KB drops replies in bursts
        "-trace_stat", "-stf", "stats.csv", "-fd", "1",
        "-trace_rtt", "-rtt_freq", str(rtt_freq), "-trace_err",
    ]  # fmt: skip
    probe = LatencyProbe(server.port, load.probe_ext, PROBE_RATE)
    drops_before = udp_drops(server.port)
    cpu_before, sipp_before = session_cpu_seconds(server.proc.pid), children_cpu_seconds()
    started = time.monotonic()
    proc = sup.start(args, cwd=step_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe.start()
    try:
        status = proc.wait(duration + 120)
    finally:
        sup.stop(proc)
        probe.stop()
    wall = time.monotonic() - started
    server_drops = udp_drops(server.port) - drops_before
    cpu_after, sipp_after = session_cpu_seconds(server.proc.pid), children_cpu_seconds()

    stats = read_stats(step_dir / "stats.csv") if (step_dir / "stats.csv").exists() else {}

    def count(name: str) -> int:
        value = stats.get(f"{name}(C)", "0")
        return int(value) if value.isdigit() else 0

    failures = {
        name.removeprefix("Failed").removesuffix("(C)"): count(name.removesuffix("(C)"))
        for name in stats
        if name.startswith("Failed") and name.endswith("(C)") and name != "FailedCall(C)"
    }
    rtt, span = read_rtt(step_dir)
    successful = count("SuccessfulCall")
    errors = ""
    for path in step_dir.glob("*_errors.log"):
        with path.open(errors="replace") as handle:
            errors = "".join(handle.readlines()[:20])
    return Step(
        rate=rate,
        calls=calls,
        exit_status=status,
        successful=successful,
        failed=count("FailedCall"),
        failures=failures,
        retransmissions=count("Retransmissions"),
        achieved=len(rtt) / span if span > 0 else 0.0,
        rtt_ms=rtt,
        probe_us=sorted(probe.micros),
        probe_failures=probe.failures,
        server_drops=server_drops,
        server_cpu=100 * (cpu_after - cpu_before) / wall,
        server_cpu_seconds=cpu_after - cpu_before,
        sipp_cpu=100 * (sipp_after - sipp_before) / wall,
        errors=errors,
    )


# --- the ladder and the report ---------------------------------------------------------


@dataclass
class Result:
    target: str
    best: Step | None  # the highest step held
    stopped_by: Step | None  # the first step not held; None if every step held
    note: str = ""
    steps: list[Step] = field(default_factory=list)

    def at(self, rate: int) -> Step | None:
        return next((step for step in self.steps if step.rate == rate and step.held), None)


def ms(value: float, *, whole: bool = False) -> str:
    """Milliseconds for the table; SIPp's whole-ms figures print as "<1" below 1."""
    if value != value:  # nan
        return "-"
    if whole:
        return "<1" if value < 1 else f"{value:.0f}"
    return f"{value:.2f}"


def probe_ms(step: Step, fraction: float) -> str:
    return ms(percentile(step.probe_us, fraction) / 1000)


def describe(step: Step) -> str:
    return (
        f"    {step.rate:>6}/s  {'held' if step.held else 'NOT held':8}  "
        f"achieved {step.achieved:7.0f}/s  ok {step.successful}/{step.calls}  "
        f"failed {step.failed}  retrans {step.retransmissions}  drops {step.server_drops}  "
        f"p50 {probe_ms(step, 0.5)} ms  p99 {probe_ms(step, 0.99)} ms "
        f"(probe: {len(step.probe_us)} ok, {step.probe_failures} failed; "
        f"SIPp p99 {ms(percentile(step.rtt_ms, 0.99), whole=True)} ms)  "
        f"server CPU {step.server_cpu:5.1f} %  SIPp CPU {step.sipp_cpu:5.1f} %"
    )


def climb(sup: Supervisor, server: Server, rates: Sequence[int], load: Load) -> Result:
    result = Result(server.name, None, None)
    for rate in rates:
        step = run_step(sup, server, rate, load)
        result.steps.append(step)
        print(describe(step), flush=True)
        if not step.held:
            result.stopped_by = step
            print(f"      stopped: {step.why_not_held()}")
            events = [line for line in step.errors.splitlines()[1:] if line.strip()]
            if events:
                print(f"      first SIPp error: {events[0].strip()[:300]}")
            return result
        result.best = step
        if server.proc.poll() is not None:
            result.note = "server exited"
            return result
        time.sleep(1)  # let the last retransmission timers and the server's queues drain
    return result


def run_target(name: str, args: argparse.Namespace, rates: Sequence[int], load: Load) -> Result:
    target_dir = load.work / name
    target_dir.mkdir()
    with Supervisor() as sup:
        print(f"{name}:", flush=True)
        if name == "kamailio":
            server = start_kamailio(sup, target_dir, load.users + 1, args.kamailio_children)
        else:
            server = start_vaxel(sup, target_dir, load.users + 1)
        print(f"  listening on udp:{HOST}:{server.port} (pid {server.proc.pid})", flush=True)
        result = climb(sup, server, rates, load)
        if server.proc.poll() is not None:
            result.note = f"server exited with status {server.proc.returncode}"
            print(f"  {result.note}\n{server.tail()}")
    return result


def print_table(results: list[Result], duration: float) -> None:
    print()
    print(f"Registration rate held for {duration:g} s with 0 failed registrations")
    print("(REGISTER -> 401 -> REGISTER with digest -> 200. Response time: first REGISTER sent")
    print(" to 200 received, timed by the latency probe under the step's load; SIPp's own")
    print(" figure ticks in ~4 ms steps. CPU: % of one core, all the server's processes.)")
    print()
    headers = ("target", "held rate", "achieved", "p50 ms", "p99 ms", "SIPp p99", "CPU %",
               "CPU µs/reg", "SIPp CPU %", "retrans", "drops", "limited by")  # fmt: skip
    rows = []
    for result in results:
        step = result.best
        limit = result.stopped_by.why_not_held() if result.stopped_by else "not reached"
        if result.note:
            limit = result.note
        if step is None:
            rows.append((result.target, "none", *["-"] * (len(headers) - 3), limit))
            continue
        prefix = "" if result.stopped_by else ">= "
        rows.append(
            (
                result.target,
                f"{prefix}{step.rate}/s",
                f"{step.achieved:.0f}/s",
                probe_ms(step, 0.5),
                probe_ms(step, 0.99),
                ms(percentile(step.rtt_ms, 0.99), whole=True),
                f"{step.server_cpu:.0f}",
                f"{step.cpu_us_per_registration:.0f}",
                f"{step.sipp_cpu:.0f}",
                str(step.retransmissions),
                str(step.server_drops),
                limit,
            )
        )
    widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(len(headers) - 1)]
    for row in (headers, *rows):
        cells = [str(cell).ljust(w) for cell, w in zip(row, widths, strict=False)]
        print("  ".join([*cells, str(row[-1])]))
    by_name = {r.target: r for r in results}
    vaxel, kamailio = by_name.get("vaxel"), by_name.get("kamailio")
    if vaxel and kamailio and kamailio.best:
        held = vaxel.best.rate if vaxel.best else 0
        print()
        print(f"Vaxel/Kamailio, rate held: {held / kamailio.best.rate:.2f}")
        same = kamailio.at(vaxel.best.rate) if vaxel.best else None
        if vaxel.best and same:
            ratio = vaxel.best.cpu_us_per_registration / same.cpu_us_per_registration
            print(
                f"Vaxel/Kamailio, CPU per registration at {vaxel.best.rate}/s: {ratio:.1f} "
                f"({vaxel.best.cpu_us_per_registration:.0f} vs "
                f"{same.cpu_us_per_registration:.0f} µs)"
            )
        if not kamailio.stopped_by:
            print(
                "(Kamailio held every step: its limit, and so the ratio, is a bound, not a value)"
            )


def print_side_by_side(results: list[Result]) -> None:
    """Every step of every target, one line per rate: the figures next to each other."""
    measured = [r for r in results if r.steps]
    if not measured:
        return
    rates = sorted({step.rate for r in measured for step in r.steps})
    headers = ["rate/s"]
    for r in measured:
        headers += [f"{r.target}: held", "achieved/s", "p99 ms", "CPU %", "µs/reg"]
    rows = []
    for rate in rates:
        row = [str(rate)]
        for r in measured:
            step = next((s for s in r.steps if s.rate == rate), None)
            if step is None:
                row += ["", "", "", "", ""]
                continue
            row += [
                "held" if step.held else "NOT held",
                f"{step.achieved:.0f}",
                probe_ms(step, 0.99),
                f"{step.server_cpu:.0f}",
                f"{step.cpu_us_per_registration:.0f}",
            ]
        rows.append(row)
    print()
    print("Step by step (p99: the latency probe's; µs/reg: server CPU per registration)")
    print(record.table(headers, rows))


def step_record(step: Step) -> dict[str, Any]:
    """One step for the JSON file: its raw figures and the ones the table derives."""
    raw = asdict(step)
    raw["rtt_ms"] = record.counts(step.rtt_ms)  # SIPp's whole ms, as counts per value
    raw["probe_us"] = [round(us, 1) for us in step.probe_us]
    return {
        **raw,
        "held": step.held,
        "cpu_us_per_registration": step.cpu_us_per_registration,
        "probe_p50_ms": percentile(step.probe_us, 0.5) / 1000,
        "probe_p99_ms": percentile(step.probe_us, 0.99) / 1000,
        "sipp_p99_ms": percentile(step.rtt_ms, 0.99),
    }


def result_record(result: Result) -> dict[str, Any]:
    return {
        "target": result.target,
        "held_rate": result.best.rate if result.best else None,
        "every_step_held": result.best is not None and result.stopped_by is None,
        "limited_by": result.note
        or (result.stopped_by.why_not_held() if result.stopped_by else "not reached"),
        "steps": [step_record(step) for step in result.steps],
    }


def tool_version(command: Sequence[str], word: str) -> str:
    """The first line of a tool's version output that names `word`, or ""."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = (done.stdout + done.stderr).splitlines()
    return next((line.strip() for line in lines if word in line), "")


def save(
    results: list[Result], args: argparse.Namespace, rates: Sequence[int], started: datetime,
    *, interrupted: bool = False,
) -> None:  # fmt: skip
    peers = {"sipp": tool_version(["sipp", "-v"], "SIPp")}
    if args.target != "vaxel":
        peers["kamailio"] = tool_version(["kamailio", "-v"], "version")
    options = {**vars(args), "rates": list(rates), "probe_rate": PROBE_RATE}
    path = record.write(
        "register_rate",
        started=started,
        options=options,
        results=[result_record(r) for r in results],
        peers=peers,
        interrupted=interrupted,
    )
    print(f"\nraw results: {path.relative_to(ROOT)}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, help="seconds per step (default 20, quick 3)")
    parser.add_argument("--target", choices=("vaxel", "kamailio", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="a smoke run: short steps, few rates")
    parser.add_argument("--users", type=int, help="users to register (default 1000, quick 200)")
    parser.add_argument(
        "--rates", help=f"comma-separated steps (default {','.join(map(str, RATES))})"
    )
    parser.add_argument(
        "--kamailio-children", type=int, default=2, help="Kamailio UDP workers (default 2)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, CSVs)")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 3.0 if args.quick else 20.0
    if args.users is None:
        args.users = 200 if args.quick else 1000
    if not 1 <= args.users <= 89999:
        parser.error("--users must be 1..89999")
    if args.duration <= 0:
        parser.error("--duration must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rates = [int(r) for r in args.rates.split(",")] if args.rates else None
    rates = rates or list(QUICK_RATES if args.quick else RATES)
    if shutil.which("sipp") is None:
        print("sipp is not installed (apt-get install sip-tester)", file=sys.stderr)
        return 2
    # SIGTERM unwinds like Ctrl-C, so every started process is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    targets = ["kamailio", "vaxel"] if args.target == "both" else [args.target]
    work = Path(tempfile.mkdtemp(prefix="vaxel-bench-"))
    results = []
    started = datetime.now(UTC)
    try:
        users_csv = work / "users.csv"
        write_users_csv(users_csv, args.users)
        load = Load(users_csv, args.users, args.duration, work)
        print(f"{args.users} users, steps of {args.duration:g} s at {rates} registrations/s")
        for name in targets:
            try:
                results.append(run_target(name, args, rates, load))
            except RuntimeError as error:
                print(f"  {name} could not be measured: {error}")
                results.append(Result(name, None, None, f"could not start: {error}"))
        print_side_by_side(results)
        print_table(results, args.duration)
        save(results, args, rates, started)
    except (KeyboardInterrupt, SystemExit) as stop:
        print("\ninterrupted; the targets measured so far:")
        print_side_by_side(results)
        print_table(results, args.duration)
        save(results, args, rates, started, interrupted=True)
        return 130 if isinstance(stop, KeyboardInterrupt) else 143
    finally:
        if args.keep:
            print(f"\nlogs and CSVs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
