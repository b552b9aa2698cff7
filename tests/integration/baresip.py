"""A real softphone (baresip) driven headlessly over its ctrl_tcp socket."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.integration.peers import Server, free_port

MODULES = "/usr/lib/baresip/modules"


class Baresip:
    """One baresip instance with its own config folder and ports on loopback."""

    def __init__(self, folder: Path, server: Server, user: str, password: str, domain: str):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ctrl_port = free_port()
        self.sip_port = free_port()
        rtp = free_port()
        (folder / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{self.sip_port}",
                    "net_interface 127.0.0.1",
                    "audio_player aubridge,nullplay",
                    "audio_source aubridge,nullsrc",
                    "audio_alert aubridge,nullalert",
                    "audio_level no",
                    f"rtp_ports {rtp}-{rtp + 9}",
                    f"module_path {MODULES}",
                    "module g711.so",
                    "module aubridge.so",
                    "module_tmp uuid.so",
                    "module_tmp account.so",
                    "module_app menu.so",
                    "module_app ctrl_tcp.so",
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
                    "statmode_default off",
                    "",
                ]
            )
        )
        # The account is added over ctrl_tcp once we listen (`register()`), so
        # its REGISTER_OK / REGISTER_FAIL event cannot be missed.
        self.account = (
            f"<sip:{user}@{domain}>;auth_pass={password};answermode=auto;regint=300;"
            f'outbound="sip:{server.address}"'
        )
        (folder / "accounts").write_text("")
        (folder / "contacts").write_text("")
        self.process: subprocess.Popen[bytes] | None = None
        self._ctrl: socket.socket | None = None
        self._buffer = b""

    def start(self) -> Baresip:
        binary = shutil.which("baresip")
        assert binary, "baresip is not installed (make test installs baresip-core)"
        self.log = open(self.folder / "baresip.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [binary, "-f", str(self.folder)], stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self._ctrl = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("baresip ctrl_tcp did not open")

    def command(self, command: str, params: str = "") -> None:
        """Send one ctrl_tcp command (netstring-framed JSON)."""
        assert self._ctrl is not None
        payload = json.dumps({"command": command, "params": params, "token": command}).encode()
        self._ctrl.sendall(str(len(payload)).encode() + b":" + payload + b",")

    def register(self) -> None:
        """Create the user agent for the account; it registers at once."""
        self.command("uanew", self.account)

    def event(self, wanted: set[str], timeout: float = 10.0) -> dict[str, object] | None:
        """Wait for one of the `wanted` event types; return it (None on timeout)."""
        assert self._ctrl is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while True:
                colon = self._buffer.find(b":")
                if colon < 0:
                    break
                length = int(self._buffer[:colon])
                if len(self._buffer) < colon + 1 + length + 1:
                    break
                payload = self._buffer[colon + 1 : colon + 1 + length]
                self._buffer = self._buffer[colon + 2 + length :]
                message = json.loads(payload)
                if message.get("event") and message.get("type") in wanted:
                    return message
            self._ctrl.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self._ctrl.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return None
            self._buffer += chunk
        return None

    def stop(self) -> None:
        if self._ctrl is not None:
            self._ctrl.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(Exception):
            self.log.close()

    def log_text(self) -> str:
        return (self.folder / "baresip.log").read_text(errors="replace")
