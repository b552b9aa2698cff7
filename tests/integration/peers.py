"""Real processes for integration tests: a running `vaxel serve`, SIPp, raw SIP sockets."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SCENARIOS = Path(__file__).parent / "scenarios"
VAXEL = [sys.executable, "-m", "vaxel"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on `host`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        with socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            with socket.socket(family, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


def free_port_pair(host: str = "127.0.0.1") -> int:
    """A free port whose next port up is free too (baresip binds TLS there); for a peer
    that may pick again when another process takes one first."""
    for _ in range(100):
        port = free_port(host)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind((host, port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


def free_sip_port(host: str = "127.0.0.1") -> int:
    """A port for a peer that must listen on it for a whole test (a carrier on a trunk's
    address: the switch knows the trunk by it, so a retry cannot move it), with the next
    port up free too (baresip also binds TLS there).

    It comes from 20000-24999: below the kernel's range for ephemeral ports (so no
    connection anybody opens meanwhile takes it or its neighbour) and below the switch's
    RTP ranges in these tests (`rtp_ports`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(200):
        port = random.randrange(20000, 24999)
        try:
            for kind, candidate in (
                (socket.SOCK_DGRAM, port), (socket.SOCK_STREAM, port),
                (socket.SOCK_DGRAM, port + 1), (socket.SOCK_STREAM, port + 1),
            ):  # fmt: skip
                with socket.socket(family, kind) as sock:
                    sock.bind((host, candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair")


def peer_rtp_ports(count: int = 100) -> tuple[int, int]:
    """A range of RTP ports for a peer that takes its own from a range (baresip), in
    25000-29999: no switch of these tests binds there (`rtp_ports`) and no ephemeral
    port lands there, so other processes cannot take the whole range while it rings."""
    low = random.randrange(25000, 30000 - count, 2)
    return low, low + count - 1


def rtp_ports(count: int = 400) -> str:
    """A `--rtp-ports` range for one test server; the switch skips ports that are taken."""
    low = random.randrange(30000, 60000 - count, 2)  # above free_sip_port's ports
    return f"{low}-{low + count}"


def vaxel_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VAXEL, *args, "--data", str(data)], capture_output=True, text=True, timeout=60
    )


@dataclass
class Server:
    """A `vaxel serve` process on free loopback ports."""

    data: Path
    host: str = "127.0.0.1"
    port: int = 0
    process: subprocess.Popen[str] | None = None
    output: str = ""
    web: str = ""  # the web's and API's base URL, e.g. http://127.0.0.1:39117

    @property
    def host_for_url(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def start(self, *extra: str) -> Server:
        """Start on free ports; when another process took one before the switch bound it,
        start again on new ones (a port given to the constructor, or kept from an earlier
        start, stays). Without `--rtp-ports` it gets a range of its own (`rtp_ports`): the
        switch's default range is where carriers' and phones' ports are chosen."""
        if "--rtp-ports" not in extra:
            extra = (*extra, "--rtp-ports", rtp_ports())
        chosen = not self.port
        for _attempt in range(3):
            if chosen:
                self.port = free_port(self.host)
            if self._start(extra):
                return self
            if not chosen or not _in_use(self.output):
                break
        raise RuntimeError(f"vaxel serve did not start:\n{self.output}")

    def _start(self, extra: tuple[str, ...]) -> bool:
        self.output = ""
        http = () if "--http" in extra else ("--http", f"{self.host_for_url}:0")
        self.process = subprocess.Popen(
            [
                *VAXEL, "serve", "--data", str(self.data), "--sip", self.address, *http,
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        assert self.process.stdout is not None
        deadline = time.monotonic() + 60  # a busy machine imports slowly
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output += line
            if line.startswith("vaxel: web and API on "):
                self.web = line.split()[5]
            if line.startswith("vaxel: SIP on"):
                return True
        self.stop()
        return False

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        assert self.process.stdout is not None
        with contextlib.suppress(ValueError):
            self.output += self.process.stdout.read()
        code = self.process.returncode
        self.process = None
        return code

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def free_media_port(host: str = "127.0.0.1") -> int:
    """A `-mp` for SIPp: it binds UDP `-mp` for audio and `-mp` + 2 for video (its control
    socket probes 8888-8947 itself and only warns when all are taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        port = free_port(host)
        if port + 2 > 65535:
            continue
        with socket.socket(family, socket.SOCK_DGRAM) as video:
            try:
                video.bind((host, port + 2))
            except OSError:
                continue
        return port
    raise RuntimeError("no free media ports")


def _bound_inodes(port: int) -> set[str]:
    """The inodes of the UDP and TCP sockets bound to `port` (from /proc/net)."""
    inodes: set[str] = set()
    for table in ("udp", "udp6", "tcp", "tcp6"):
        with contextlib.suppress(OSError), open(f"/proc/net/{table}") as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def holds_port(pid: int, port: int) -> bool:
    """Whether process `pid` has a socket bound to `port` (it is ready to receive there)."""
    inodes = _bound_inodes(port)
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return True
    return False


def _in_use(output: str) -> bool:
    """A process (SIPp, the switch) exited because a port it binds was taken meanwhile."""
    return "already in use" in output or "could not bind" in output


def _sipp_args(
    server: Server,
    scenario: str,
    *,
    user: str,
    password: str | None,
    keys: dict[str, str] | None,
    transport: str,
    calls: int,
    rate: int,
    timeout: int,
    host: str,
    port: int,
    extra: tuple[str, ...],
) -> list[str]:
    """SIPp's arguments: its own SIP port `port` (`-p`) and free media ports (`-mp`)."""
    binary = shutil.which("sipp")
    assert binary, "sipp is not installed (make test installs sip-tester)"
    scenario_path = scenario if os.path.isabs(scenario) else str(SCENARIOS / scenario)
    args = [
        binary, server.address, "-sf", scenario_path, "-i", host, "-p", str(port),
        "-mp", str(free_media_port(host)), "-s", user, "-t", transport, "-m", str(calls),
        "-r", str(rate), "-timeout", f"{timeout}s", "-timeout_error", "-nostdin",
        "-recv_timeout", "5000", "-max_recv_loops", "1000", *extra,
    ]  # fmt: skip
    if password is not None:
        args += ["-au", user, "-ap", password]
    merged = {"domain": "demo.vaxel.test", "devport": str(port), "expires": "3600"}
    merged.update(keys or {})
    for key, value in merged.items():
        args += ["-key", key, value]
    return args


def sipp(
    server: Server,
    scenario: str,
    *,
    user: str,
    password: str | None = None,
    keys: dict[str, str] | None = None,
    transport: str = "u1",
    calls: int = 1,
    rate: int = 10,
    timeout: int = 20,
    host: str = "127.0.0.1",
    port: int | None = None,
    extra: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Run one SIPp client scenario to completion; exit code 0 means every call passed.

    A port taken by another process between our check and SIPp's bind makes SIPp exit at
    once: it is run again on new ports (its SIP port too, unless `port` chose it)."""
    for _attempt in range(3):
        args = _sipp_args(
            server, scenario, user=user, password=password, keys=keys, transport=transport,
            calls=calls, rate=rate, timeout=timeout, host=host, port=port or free_port(host),
            extra=extra,
        )  # fmt: skip
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout + 30)
        if not _in_use(result.stdout + result.stderr):
            break
    return result


def sipp_background(
    server: Server,
    scenario: str,
    *,
    user: str,
    port: int,
    calls: int = 1,
    timeout: int = 30,
    keys: dict[str, str] | None = None,
    extra: tuple[str, ...] = (),
) -> subprocess.Popen[str]:
    """Start a SIPp server (UAS) scenario on `port` and return once it listens there
    (`communicate()` waits for its result). Its media ports are chosen again when
    another process took one meanwhile."""
    for _attempt in range(3):
        args = _sipp_args(
            server, scenario, user=user, password=None, keys=keys, transport="u1", calls=calls,
            rate=10, timeout=timeout, host="127.0.0.1", port=port, extra=extra,
        )  # fmt: skip
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 10
        # SIPp binds its SIP socket, then audio and video: once it holds the video port,
        # it has every port it needs (what arrives before it reads is queued for it).
        video = int(args[args.index("-mp") + 1]) + 2
        while process.poll() is None and not holds_port(process.pid, video):
            if time.monotonic() > deadline:
                process.kill()
                out, _ = process.communicate()
                raise RuntimeError(f"SIPp did not listen on {port}:\n{out}")
            time.sleep(0.01)
        if process.poll() is None:
            return process
        out, _ = process.communicate()
        if not _in_use(out):
            raise RuntimeError(f"SIPp exited at once:\n{out}")
    raise RuntimeError(f"SIPp found no free ports:\n{out}")


class SipSocket:
    """A bare UDP or TCP socket that sends raw SIP bytes and reads what comes back."""

    def __init__(self, server: Server, transport: str = "udp", port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
        kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(family, kind)
        self.sock.bind((server.host, port))
        self.sock.settimeout(3)
        self.transport = transport
        self.server = (server.host, server.port)
        if transport == "tcp":
            self.sock.connect(self.server)
        self.port = self.sock.getsockname()[1]

    def send(self, data: bytes) -> None:
        if self.transport == "udp":
            self.sock.sendto(data, self.server)
        else:
            self.sock.sendall(data)

    def recv(self, timeout: float = 3.0) -> bytes | None:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65535)
        except (TimeoutError, ConnectionError):
            return None

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> SipSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def options_request(port: int, host: str = "127.0.0.1", transport: str = "UDP") -> bytes:
    branch = f"z9hG4bK{time.monotonic_ns()}"
    h = f"[{host}]" if ":" in host else host
    return (
        f"OPTIONS sip:demo.vaxel.test SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} {h}:{port};branch={branch};rport\r\n"
        f"From: <sip:probe@demo.vaxel.test>;tag=probe\r\n"
        f"To: <sip:demo.vaxel.test>\r\n"
        f"Call-ID: {branch}@probe\r\n"
        f"CSeq: 1 OPTIONS\r\n"
        f"Max-Forwards: 70\r\n"
        f"Content-Length: 0\r\n\r\n"
    ).encode()
