"""Call rate benchmark, Vaxel vs the sippy B2BUA (P4, O3).

A SIPp caller places calls through the switch to a SIPp callee (the dialled
user's registered device: one SIPp UAS answers every call), stepping the rate
up until a step is not held: every call answered and hung up on both sides,
the achieved rate within 5 % of the target. Per step it prints the setup time
(first INVITE sent to 200 received, the 407 round included), the server's CPU
and memory. The same load then goes through sippy's b2bua_simple (PyPI
`sippy`, in a venv of its own) for a yardstick.

Media is anchored by Vaxel (every call takes two RTP port pairs) but no RTP is
sent: this measures signalling. It prints figures, the two targets side by side, and
writes them with every step's raw figures to bench/results/call_rate-<time>.json; it
never passes or fails on time.

    .venv/bin/python bench/call_rate.py [--duration 30] [--target vaxel|sippy|both]
    .venv/bin/python bench/call_rate.py --quick
"""

from __future__ import annotations

import argparse
import contextlib
import os
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
from register_rate import (
    DOMAIN,
    FIRST_EXT,
    HOST,
    Server,
    Supervisor,
    children_cpu_seconds,
    create_vaxel_users,
    free_port,
    launch,
    password_for,
    percentile,
    read_rtt,
    read_stats,
    session_cpu_seconds,
    tool_version,
    udp_drops,
    vaxel_command,
)

BENCH = Path(__file__).resolve().parent
SCENARIOS = BENCH / "scenarios"
CALLER_AUTH = SCENARIOS / "call_caller_auth.xml"
CALLER_NOAUTH = SCENARIOS / "call_caller_noauth.xml"
CALLEE = SCENARIOS / "call_callee.xml"
REGISTER = SCENARIOS / "register_auth.xml"

CALLER_EXT, CALLEE_EXT = FIRST_EXT, FIRST_EXT + 1  # the two users: 10000 calls 10001
RATES = (10, 25, 50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500)
QUICK_RATES = (10, 50, 100)
HELD_FRACTION = 0.95
RECV_TIMEOUT_MS = 5000  # a call whose next response takes longer than this fails
# Below the kernel's ephemeral range (32768-60999), so the switch's RTP ports and
# the free ports the OS hands SIPp never meet: 10000 pairs, 5000 concurrent calls.
RTP_PORTS = (10000, 29999)
SIPPY_PACKAGE = "sippy"


# --- process figures -------------------------------------------------------------------


def session_rss_kb(session: int) -> int:
    """VmRSS (kB) of every live process in `session`."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
            if int(stat[stat.rindex(b")") + 2 :].split()[3]) != session:
                continue
            with open(f"/proc/{entry.name}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total


class RssSampler(threading.Thread):
    """The server's peak resident memory over a step, sampled twice a second."""

    def __init__(self, session: int) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.session = session
        self.peak_kb = session_rss_kb(session)
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.5):
            self.peak_kb = max(self.peak_kb, session_rss_kb(self.session))

    def stop(self) -> int:
        self._halt.set()
        self.join()
        self.peak_kb = max(self.peak_kb, session_rss_kb(self.session))
        return self.peak_kb


def options_request(port: int) -> bytes:
    tag = f"{time.monotonic_ns():x}"
    return (
        f"OPTIONS sip:{DOMAIN} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {HOST}:{port};branch=z9hG4bK{tag};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@{DOMAIN}>;tag={tag}\r\n"
        f"To: <sip:{DOMAIN}>\r\n"
        f"Call-ID: ready-{tag}@{HOST}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def wait_for_sip(proc: subprocess.Popen[bytes], port: int, patience: float) -> None:
    """Return once the server answers an OPTIONS on udp:`port` (with anything: 200, 501)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        sock.settimeout(0.25)
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {proc.returncode}")
            with contextlib.suppress(OSError):
                sock.sendto(options_request(sock.getsockname()[1]), (HOST, port))
                if sock.recv(65535).startswith(b"SIP/2.0 "):
                    return
    raise RuntimeError(f"no SIP answer on udp:{HOST}:{port} after {patience:.0f} s")


# --- the targets -----------------------------------------------------------------------


@dataclass
class Target:
    """A running B2BUA, how to call through it, and where its callee device listens."""

    server: Server
    caller_scenario: Path
    callee_port: int
    caller_auth: bool
    version: str = ""  # the peer's, for the results file


def sipp_common(port: int) -> list[str]:
    return [
        "-i", HOST, "-p", str(port), "-mp", str(free_port()), "-t", "u1", "-nostdin",
        "-max_recv_loops", "10000", "-max_sched_loops", "10000",
        "-buff_size", str(4 * 1024 * 1024),  # SIPp's default 64 KB drops replies in bursts
    ]  # fmt: skip


def register_callee(server: Server, port: int, work: Path) -> None:
    """Register the callee device (its binding's Contact is udp:HOST:port) as a phone would."""
    users = work / "callee.csv"
    password = password_for(CALLEE_EXT)
    users.write_text(
        "SEQUENTIAL\n"
        f"{CALLEE_EXT};{password};{DOMAIN};"
        f"[authentication username={CALLEE_EXT} password={password}]\n"
    )
    args = [
        "sipp", f"{HOST}:{server.port}", "-sf", str(REGISTER), "-inf", str(users),
        *sipp_common(port), "-m", "1", "-auth_uri", DOMAIN,
        "-recv_timeout", "5000", "-timeout", "20s", "-timeout_error", "-trace_err",
    ]  # fmt: skip
    result = subprocess.run(args, cwd=work, capture_output=True, timeout=60)
    if result.returncode != 0:
        status = result.returncode
        raise RuntimeError(f"registering the callee device failed (SIPp status {status})")


def start_vaxel(sup: Supervisor, work: Path) -> Target:
    data = work / "vaxel-data"
    create_vaxel_users(data, 2)  # company bench.test, users 10000 and 10001, via the CLI
    port = free_port()
    args = [
        *vaxel_command(), "serve", "--data", str(data), "--sip", f"{HOST}:{port}",
        "--http", f"{HOST}:0",  # the web idle, as in production
        "--rtp-ports", f"{RTP_PORTS[0]}-{RTP_PORTS[1]}",
    ]  # fmt: skip
    server = launch(sup, "vaxel", args, port, work / "vaxel.log", work, patience=60)
    callee_port = free_port()
    register_callee(server, callee_port, work)
    return Target(server, CALLER_AUTH, callee_port, caller_auth=True)


def sippy_venv(path: Path | None, work: Path) -> Path:
    """A venv with PyPI's sippy: `path` if given (created there once), else in the temp dir."""
    venv = path or work / "venv-sippy"
    script = venv / "bin" / "b2bua_simple"
    if script.exists():
        return script
    started = time.monotonic()
    python = sys.executable
    result = subprocess.run(
        [python, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300
    )
    if result.returncode == 0:
        result = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
             SIPPY_PACKAGE],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    if result.returncode != 0 or not script.exists():
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"could not install {SIPPY_PACKAGE} from PyPI: {' / '.join(detail)}")
    print(f"  sippy: installed into {venv} in {time.monotonic() - started:.0f} s")
    return script


def sippy_version(script: Path) -> str:
    pip = script.parent / "pip"
    result = subprocess.run(
        [str(pip), "show", SIPPY_PACKAGE], capture_output=True, text=True, timeout=60
    )
    for line in result.stdout.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "?"


def start_sippy(sup: Supervisor, work: Path, venv: Path | None) -> Target:
    script = sippy_venv(venv, work)
    version = sippy_version(script)
    print(f"  sippy {version}: b2bua_simple (no media relay, no auth)")
    port, callee_port = free_port(), free_port()
    log = work / "sippy.log"
    # Only warnings and errors: the default INFO level logs every SIP message.
    env = {**os.environ, "SIPLOG_LVL": "WARN", "SIPLOG_BEND": "stderr"}
    args = [
        str(script), "-f", "-l", HOST, "-p", str(port), "-n", f"{HOST}:{callee_port}",
        "-L", str(log),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = sup.start(args, stdout=out, stderr=subprocess.STDOUT, cwd=work, env=env)
    server = Server("sippy", proc, port, log)
    try:
        wait_for_sip(proc, port, patience=30)
    except RuntimeError as error:
        raise RuntimeError(f"sippy: {error}\n{server.tail()}") from None
    return Target(server, CALLER_NOAUTH, callee_port, caller_auth=False, version=version)


# --- one step --------------------------------------------------------------------------


@dataclass
class Step:
    """What one step at one target rate gave, from both SIPp sides and the server."""

    rate: int
    calls: int
    exit_status: int
    successful: int
    failed: int
    failures: dict[str, int]
    callee_successful: int
    callee_failed: int
    retransmissions: int
    achieved: float  # calls set up per second, first INVITE to last 200
    setup_ms: list[int]  # SIPp's rtd 1 per call (first INVITE -> 200), whole ms, sorted
    server_drops: int
    server_cpu: float  # % of one core
    server_cpu_seconds: float
    rss_kb: int  # the server's peak VmRSS during the step
    sipp_cpu: float  # both SIPp instances, % of one core
    errors: str

    @property
    def held(self) -> bool:
        return (
            self.exit_status == 0
            and self.failed == 0
            and self.successful == self.calls
            and self.callee_failed == 0
            and self.callee_successful == self.calls
            and self.achieved >= HELD_FRACTION * self.rate
        )

    @property
    def cpu_ms_per_call(self) -> float:
        return self.server_cpu_seconds / self.successful * 1e3 if self.successful else float("nan")

    def why_not_held(self) -> str:
        reasons = []
        if self.failed or self.successful != self.calls:
            detail = ", ".join(f"{name} {n}" for name, n in self.failures.items() if n)
            ok = f"caller: {self.successful}/{self.calls} calls ok, {self.failed} failed"
            reasons.append(ok + (f" ({detail})" if detail else ""))
        if self.callee_failed or self.callee_successful != self.calls:
            reasons.append(
                f"callee: {self.callee_successful}/{self.calls} ok, {self.callee_failed} failed"
            )
        if self.achieved < HELD_FRACTION * self.rate:
            reasons.append(f"achieved {self.achieved:.0f}/s < 95 % of {self.rate}/s")
        if self.exit_status not in (0, 1):
            reasons.append(f"SIPp exit status {self.exit_status}")
        if self.sipp_cpu >= 90:
            reasons.append(f"SIPp at {self.sipp_cpu:.0f} % CPU: the load generator may limit")
        return "; ".join(reasons) or "held"


def counter(stats: dict[str, str], name: str) -> int:
    value = stats.get(f"{name}(C)", "0")
    return int(value) if value.isdigit() else 0


def stats_of(directory: Path) -> dict[str, str]:
    path = directory / "stats.csv"
    return read_stats(path) if path.exists() else {}


def stop_callee(sup: Supervisor, proc: subprocess.Popen[bytes], stats: Path, expected: int) -> None:
    """Stop the callee once every call it got has ended (SIPp's UAS never exits by itself).

    Its statistics file is rewritten every second (-fd 1): wait until it counts
    `expected` finished calls, or until nothing changes for 3 s (calls lost
    upstream never arrive), then stop it; its last row is the step's.
    """
    deadline = time.monotonic() + 45
    last, still_since = (-1, -1), time.monotonic()
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
        row = read_stats(stats) if stats.exists() else {}
        done = counter(row, "SuccessfulCall") + counter(row, "FailedCall")
        current = (done, counter(row, "CurrentCall"))
        if done >= expected and current[1] == 0:
            time.sleep(1.1)  # one more dump, so the last row is final
            break
        if current != last:
            last, still_since = current, time.monotonic()
        elif time.monotonic() - still_since > 3:
            break
    sup.stop(proc)


def run_step(
    sup: Supervisor, target: Target, rate: int, args: argparse.Namespace, work: Path
) -> Step:
    server = target.server
    step_dir = work / f"{server.name}-{rate}"
    step_dir.mkdir()
    callee_dir = step_dir / "callee"
    callee_dir.mkdir()
    calls = max(1, round(rate * args.duration))
    pause_ms = int(args.pause * 1000)
    # Each call lasts about setup + pause; leave SIPp room for ten times that many.
    limit = max(200, int(rate * (args.pause + 2) * 10))
    callee_args = [
        "sipp", "-sf", str(CALLEE), *sipp_common(target.callee_port),
        "-recv_timeout", str(pause_ms + 20000), "-trace_stat", "-stf", "stats.csv", "-fd", "1",
        "-trace_err",
    ]  # fmt: skip
    caller_args = [
        "sipp", f"{HOST}:{server.port}", "-sf", str(target.caller_scenario),
        *sipp_common(free_port()), "-s", str(CALLER_EXT),
        "-key", "domain", DOMAIN, "-key", "callee", str(CALLEE_EXT),
        "-r", str(rate), "-rp", "1000", "-m", str(calls), "-l", str(limit), "-d", str(pause_ms),
        "-recv_timeout", str(RECV_TIMEOUT_MS), "-timeout", f"{int(args.duration) + 90}s",
        "-trace_stat", "-stf", "stats.csv", "-fd", "1",
        "-trace_rtt", "-rtt_freq", "1", "-trace_err",  # every call: no tail left unwritten
    ]  # fmt: skip
    if target.caller_auth:
        caller_args += ["-au", str(CALLER_EXT), "-ap", password_for(CALLER_EXT)]
    devnull = subprocess.DEVNULL
    callee = sup.start(callee_args, cwd=callee_dir, stdout=devnull, stderr=devnull)
    time.sleep(0.5)  # the callee's socket is bound before the first INVITE comes
    drops_before = udp_drops(server.port)
    cpu_before, sipp_before = session_cpu_seconds(server.proc.pid), children_cpu_seconds()
    rss = RssSampler(server.proc.pid)
    rss.start()
    started = time.monotonic()
    caller = sup.start(caller_args, cwd=step_dir, stdout=devnull, stderr=devnull)
    try:
        status = caller.wait(args.duration + 150)
    finally:
        sup.stop(caller)
        caller_stats = stats_of(step_dir)
        stop_callee(sup, callee, callee_dir / "stats.csv", counter(caller_stats, "SuccessfulCall"))
        peak_rss = rss.stop()
    wall = time.monotonic() - started
    cpu_after, sipp_after = session_cpu_seconds(server.proc.pid), children_cpu_seconds()
    server_drops = udp_drops(server.port) - drops_before

    callee_stats = stats_of(callee_dir)
    failures = {
        name.removeprefix("Failed").removesuffix("(C)"): counter(
            caller_stats, name.removesuffix("(C)")
        )
        for name in caller_stats
        if name.startswith("Failed") and name.endswith("(C)") and name != "FailedCall(C)"
    }
    setup, span = read_rtt(step_dir)
    errors = ""
    for path in (*step_dir.glob("*_errors.log"), *callee_dir.glob("*_errors.log")):
        with path.open(errors="replace") as handle:
            errors += f"[{path.parent.name}] " + "".join(handle.readlines()[:20])
    return Step(
        rate=rate,
        calls=calls,
        exit_status=status,
        successful=counter(caller_stats, "SuccessfulCall"),
        failed=counter(caller_stats, "FailedCall"),
        failures=failures,
        callee_successful=counter(callee_stats, "SuccessfulCall"),
        callee_failed=counter(callee_stats, "FailedCall"),
        retransmissions=counter(caller_stats, "Retransmissions"),
        achieved=len(setup) / span if span > 0 else 0.0,
        setup_ms=setup,
        server_drops=server_drops,
        server_cpu=100 * (cpu_after - cpu_before) / wall,
        server_cpu_seconds=cpu_after - cpu_before,
        rss_kb=peak_rss,
        sipp_cpu=100 * (sipp_after - sipp_before) / wall,
        errors=errors,
    )


# --- the ladder and the report ---------------------------------------------------------


@dataclass
class Result:
    target: str
    best: Step | None = None  # the highest step held
    stopped_by: Step | None = None  # the first step not held; None if every step held
    note: str = ""
    steps: list[Step] = field(default_factory=list)
    version: str = ""


def ms(value: float) -> str:
    """SIPp's whole-ms figures; "<1" below 1."""
    if value != value:  # nan
        return "-"
    return "<1" if value < 1 else f"{value:.0f}"


def describe(step: Step) -> str:
    return (
        f"    {step.rate:>5}/s  {'held' if step.held else 'NOT held':8}  "
        f"achieved {step.achieved:6.1f}/s  caller ok {step.successful}/{step.calls} "
        f"failed {step.failed}  callee ok {step.callee_successful} failed {step.callee_failed}  "
        f"retrans {step.retransmissions}  drops {step.server_drops}  "
        f"setup p50 {ms(percentile(step.setup_ms, 0.5))} ms "
        f"p99 {ms(percentile(step.setup_ms, 0.99))} ms  "
        f"server CPU {step.server_cpu:5.1f} % ({step.cpu_ms_per_call:.2f} ms/call)  "
        f"RSS {step.rss_kb / 1024:.0f} MB  SIPp CPU {step.sipp_cpu:5.1f} %"
    )


def climb(
    sup: Supervisor, target: Target, rates: Sequence[int], args: argparse.Namespace, work: Path
) -> Result:
    result = Result(target.server.name)
    for rate in rates:
        step = run_step(sup, target, rate, args, work)
        result.steps.append(step)
        print(describe(step), flush=True)
        if not step.held:
            result.stopped_by = step
            print(f"      stopped: {step.why_not_held()}")
            events = [
                line.strip()
                for line in step.errors.splitlines()
                if line.strip() and "The following events occurred" not in line
            ]
            if events:
                print(f"      first SIPp error: {events[0][:300]}")
            return result
        result.best = step
        if target.server.proc.poll() is not None:
            result.note = "server exited"
            return result
        time.sleep(2)  # let the last calls' transactions and the server's queues drain
    return result


def run_target(name: str, args: argparse.Namespace, rates: Sequence[int], work: Path) -> Result:
    target_dir = work / name
    target_dir.mkdir()
    with Supervisor() as sup:
        print(f"{name}:", flush=True)
        if name == "sippy":
            target = start_sippy(sup, target_dir, args.sippy_venv)
        else:
            target = start_vaxel(sup, target_dir)
        server = target.server
        print(
            f"  listening on udp:{HOST}:{server.port} (pid {server.proc.pid}); "
            f"callee device on udp:{HOST}:{target.callee_port}",
            flush=True,
        )
        result = climb(sup, target, rates, args, target_dir)
        result.version = target.version
        if server.proc.poll() is not None:
            result.note = f"server exited with status {server.proc.returncode}"
            print(f"  {result.note}\n{server.tail()}")
    return result


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    print()
    print(
        f"Calls per second held for {args.duration:g} s with 0 failed calls on either side "
        f"(calls of {args.pause:g} s)"
    )
    print("(Setup: first INVITE sent to 200 received, incl. Vaxel's 407 round, SIPp's whole ms.")
    print(" CPU: % of one core, all the server's processes; RSS: its peak during the step.)")
    print()
    headers = ("target", "held", "achieved", "setup p50 ms", "p99 ms", "CPU %", "CPU ms/call",
               "RSS MB", "SIPp CPU %", "retrans", "drops", "limited by")  # fmt: skip
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
                f"{step.achieved:.1f}/s",
                ms(percentile(step.setup_ms, 0.5)),
                ms(percentile(step.setup_ms, 0.99)),
                f"{step.server_cpu:.0f}",
                f"{step.cpu_ms_per_call:.2f}",
                f"{step.rss_kb / 1024:.0f}",
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
    vaxel, sippy = by_name.get("vaxel"), by_name.get("sippy")
    if vaxel and sippy:
        print()
        if sippy.best is None:
            print(f"Vaxel/sippy, calls/s held: n/a (sippy: {sippy.note or 'held no step'})")
        else:
            held = vaxel.best.rate if vaxel.best else 0
            ratio = held / sippy.best.rate
            bound = ""
            if not (sippy.stopped_by and vaxel.stopped_by):
                bound = " (a bound: a side held every step)"
            print(
                f"Vaxel/sippy, calls/s held: {ratio:.2f} ({held}/s vs {sippy.best.rate}/s){bound}"
            )


def print_side_by_side(results: list[Result]) -> None:
    """Every step of every target, one line per rate: the figures next to each other."""
    measured = [r for r in results if r.steps]
    if not measured:
        return
    rates = sorted({step.rate for r in measured for step in r.steps})
    headers = ["rate/s"]
    for r in measured:
        headers += [f"{r.target}: held", "achieved/s", "setup p99 ms", "CPU %", "ms/call", "RSS MB"]
    rows = []
    for rate in rates:
        row = [str(rate)]
        for r in measured:
            step = next((s for s in r.steps if s.rate == rate), None)
            if step is None:
                row += [""] * 6
                continue
            row += [
                "held" if step.held else "NOT held",
                f"{step.achieved:.1f}",
                ms(percentile(step.setup_ms, 0.99)),
                f"{step.server_cpu:.0f}",
                f"{step.cpu_ms_per_call:.2f}",
                f"{step.rss_kb / 1024:.0f}",
            ]
        rows.append(row)
    print()
    print("Step by step (setup: first INVITE to 200, SIPp's whole ms; ms/call: server CPU)")
    print(record.table(headers, rows))


def step_record(step: Step) -> dict[str, Any]:
    """One step for the JSON file: its raw figures and the ones the table derives."""
    raw = asdict(step)
    raw["setup_ms"] = record.counts(step.setup_ms)  # SIPp's whole ms, as counts per value
    return {
        **raw,
        "held": step.held,
        "cpu_ms_per_call": step.cpu_ms_per_call,
        "setup_p50_ms": percentile(step.setup_ms, 0.5),
        "setup_p99_ms": percentile(step.setup_ms, 0.99),
    }


def save(
    results: list[Result], args: argparse.Namespace, rates: Sequence[int], started: datetime,
    *, interrupted: bool = False,
) -> None:  # fmt: skip
    peers = {"sipp": tool_version(["sipp", "-v"], "SIPp")}
    peers.update({r.target: r.version for r in results if r.version})
    summary = [
        {
            "target": r.target,
            "held_rate": r.best.rate if r.best else None,
            "every_step_held": r.best is not None and r.stopped_by is None,
            "limited_by": r.note
            or (r.stopped_by.why_not_held() if r.stopped_by else "not reached"),
            "steps": [step_record(step) for step in r.steps],
        }
        for r in results
    ]
    options = {**vars(args), "rates": list(rates)}
    path = record.write(
        "call_rate", started=started, options=options, results=summary, peers=peers,
        interrupted=interrupted,
    )  # fmt: skip
    print(f"\nraw results: {path.relative_to(record.ROOT)}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, help="seconds per step (default 30, quick 4)")
    parser.add_argument("--target", choices=("vaxel", "sippy", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="a smoke run: short steps, few rates")
    parser.add_argument(
        "--rates", help=f"comma-separated steps (default {','.join(map(str, RATES))})"
    )
    parser.add_argument(
        "--pause", type=float, default=1.0, help="seconds between the ACK and the BYE (default 1)"
    )
    parser.add_argument(
        "--sippy-venv", type=Path,
        help="venv for sippy, created there once and reused (default: a new one in the temp dir)",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, CSVs)")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 4.0 if args.quick else 30.0
    if args.duration <= 0 or args.pause < 0:
        parser.error("--duration must be positive, --pause not negative")
    if args.sippy_venv is not None:
        args.sippy_venv = args.sippy_venv.resolve()
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
    signal.signal(signal.SIGINT, signal.default_int_handler)
    targets = ["vaxel", "sippy"] if args.target == "both" else [args.target]
    work = Path(tempfile.mkdtemp(prefix="vaxel-calls-"))
    results: list[Result] = []
    started = datetime.now(UTC)
    try:
        print(
            f"steps of {args.duration:g} s at {rates} calls/s; calls of {args.pause:g} s "
            f"({CALLER_EXT}@{DOMAIN} calls {CALLEE_EXT}@{DOMAIN})"
        )
        for name in targets:
            try:
                results.append(run_target(name, args, rates, work))
            except (RuntimeError, subprocess.SubprocessError, OSError) as error:
                print(f"  {name} could not be measured: {error}")
                results.append(Result(name, note=f"could not be measured: {error}"))
        print_side_by_side(results)
        print_table(results, args)
        save(results, args, rates, started)
    except (KeyboardInterrupt, SystemExit) as stop:
        print("\ninterrupted; the targets measured so far:")
        print_side_by_side(results)
        print_table(results, args)
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
