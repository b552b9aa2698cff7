"""A real softphone (baresip) driven headlessly over its ctrl_tcp socket."""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.integration.peers import Server, free_port, free_port_pair, peer_rtp_ports

MODULES = "/usr/lib/baresip/modules"

_tokens = itertools.count(1)


def wav_complete(path: Path) -> bool:
    """Whether a WAV file's header gives its full length (written when it is closed)."""
    raw = path.read_bytes()
    if len(raw) < 44 or raw[:4] != b"RIFF":
        return False
    return int.from_bytes(raw[4:8], "little") + 8 == len(raw)


class Baresip:
    """One baresip instance with its own config folder and ports on loopback.

    By default it answers calls at once and has no running audio source (the
    aubridge device "nullsrc" has no player twin), so it sends no RTP, and no
    DTMF either: baresip clocks telephone-events from its source. Options:
    `answermode="manual"` lets calls ring until `accept()`; `audio_source` plays
    a WAV file (8 kHz mono S16; the call hangs up at its end, so pad it);
    `snd_path` records every call's sent (`dump-*-enc.wav`) and received
    (`dump-*-dec.wav`) audio there; `audio_codecs` limits the account's
    codecs (e.g. "PCMA"); `sip_port` listens on a chosen port (a carrier must
    send from its trunk's address); `modules` loads more modules (e.g. "mwi.so");
    `account` replaces the whole account line (e.g. one that does not register);
    `mediaenc` encrypts media (e.g. "srtp-mand": SDES-SRTP or no call, with srtp.so).
    `config` adds lines to the config file (e.g. `sip_cafile` for TLS).
    """

    def __init__(
        self,
        folder: Path,
        server: Server,
        user: str,
        password: str,
        domain: str,
        *,
        answermode: str = "auto",
        audio_source: Path | None = None,
        snd_path: Path | None = None,
        audio_codecs: str | None = None,
        sip_port: int | None = None,
        modules: tuple[str, ...] = (),
        account: str | None = None,
        mediaenc: str | None = None,
        config: tuple[str, ...] = (),
    ) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.user = user
        self.snd_path = snd_path
        self._source = f"aufile,{audio_source.resolve()}" if audio_source else "aubridge,nullsrc"
        self._modules = ["g711.so", "aubridge.so"]
        if audio_source:
            self._modules.append("aufile.so")
        self._modules += modules
        if mediaenc is not None and mediaenc.startswith("srtp"):
            self._modules.append("srtp.so")
        self._sip_port = sip_port
        self._extra = list(config)
        if snd_path is not None:
            snd_path.mkdir(parents=True, exist_ok=True)
            self._modules.append("sndfile.so")
            self._extra.append(f"snd_path {snd_path.resolve()}")
        self._configure()
        # The account is added over ctrl_tcp once we listen (`register()`), so
        # its REGISTER_OK / REGISTER_FAIL event cannot be missed.
        codecs = f";audio_codecs={audio_codecs}" if audio_codecs else ""
        if mediaenc is not None:
            codecs += f";mediaenc={mediaenc}"
        self.account = account or (
            f"<sip:{user}@{domain}>;auth_pass={password};answermode={answermode};regint=300"
            f'{codecs};outbound="sip:{server.address}"'
        )
        (folder / "accounts").write_text("")
        (folder / "contacts").write_text("")
        self.process: subprocess.Popen[bytes] | None = None
        self._ctrl: socket.socket | None = None
        self._buffer = b""
        self.pending: list[dict[str, object]] = []  # events not yet taken by `event()`
        self.events: list[dict[str, object]] = []  # every event, in order
        self._responses: dict[str, dict[str, object]] = {}

    def _configure(self) -> None:
        """Pick free ports and write the config file."""
        self.ctrl_port = free_port()
        self.sip_port = self._sip_port or free_port_pair()
        low, high = peer_rtp_ports()
        (self.folder / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{self.sip_port}",
                    "net_interface 127.0.0.1",
                    "audio_player aubridge,nullplay",
                    f"audio_source {self._source}",
                    "audio_alert aubridge,nullalert",
                    "audio_level no",
                    f"rtp_ports {low}-{high}",
                    f"module_path {MODULES}",
                    *(f"module {module}" for module in self._modules),
                    "module_tmp uuid.so",
                    "module_tmp account.so",
                    "module_app menu.so",
                    "module_app ctrl_tcp.so",
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
                    "statmode_default off",
                    *self._extra,
                    "",
                ]
            )
        )

    def start(self) -> Baresip:
        binary = shutil.which("baresip")
        assert binary, "baresip is not installed (make test installs baresip-core)"
        for attempt in range(3):
            if attempt:
                self._configure()  # another process took one of our ports meanwhile
            self.log = open(self.folder / "baresip.log", "wb")  # noqa: SIM115
            self.process = subprocess.Popen(
                [binary, "-f", str(self.folder)], stdout=self.log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
            if self._connect():
                return self
            self.stop()
        raise RuntimeError(f"baresip ctrl_tcp did not open:\n{self.log_text()}")

    def _connect(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # it exited: a port in use, most likely
            try:
                self._ctrl = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
            except OSError:
                time.sleep(0.1)
                continue
            # baresip lives on when its ctrl_tcp could not listen (the port was taken after
            # we chose it): then what answered is another process's socket.
            if self.process.poll() is None and not self._ctrl_failed():
                return True
            self._ctrl.close()  # that was somebody else's port
            self._ctrl = None
            return False
        return False

    def _ctrl_failed(self) -> bool:
        """Did baresip say its ctrl_tcp could not listen? Asked once it has loaded its
        modules (it says how many audio codecs it has after them), for a while at most."""
        deadline = time.monotonic() + 5
        while True:
            said = (self.folder / "baresip.log").read_bytes()
            if b"audio codecs" in said or time.monotonic() > deadline:
                return b"ctrl_tcp: failed to listen" in said
            time.sleep(0.05)

    def command(self, command: str, params: str = "", token: str | None = None) -> None:
        """Send one ctrl_tcp command (netstring-framed JSON)."""
        assert self._ctrl is not None
        payload = json.dumps(
            {"command": command, "params": params, "token": token or command}
        ).encode()
        self._ctrl.sendall(str(len(payload)).encode() + b":" + payload + b",")

    def request(self, command: str, params: str = "", timeout: float = 5.0) -> dict[str, object]:
        """Send a command and wait for its response: {"ok": bool, "data": str, ...}."""
        token = f"{command}-{next(_tokens)}"
        self.command(command, params, token)
        deadline = time.monotonic() + timeout
        while token not in self._responses:
            if not self._read(deadline):
                raise TimeoutError(f"baresip gave no response to {command} {params}")
        return self._responses.pop(token)

    def register(self) -> None:
        """Create the user agent for the account; it registers at once."""
        self.command("uanew", self.account)

    # -- call control --------------------------------------------------------------

    def dial(self, uri: str) -> None:
        self.command("dial", uri)

    def accept(self) -> dict[str, object]:
        """Answer the ringing incoming call (answermode=manual)."""
        return self.request("accept")

    def hangup(self) -> dict[str, object]:
        return self.request("hangup")

    def hold(self) -> dict[str, object]:
        return self.request("hold")

    def resume(self) -> dict[str, object]:
        return self.request("resume")

    def play(self, wav: Path) -> None:
        """Play `wav` from now on in the call (baresip's audio source becomes that file;
        it hangs up at the file's end, so pad it)."""
        answer = self.request("ausrc", f"aufile,{wav.resolve()}")
        assert answer["ok"], answer

    def send_digit(self, digit: str) -> dict[str, object]:
        """One key press, sent as RFC 4733 telephone-events when the call negotiated them."""
        return self.request("sndcode", digit)

    # -- events --------------------------------------------------------------------

    def event(self, wanted: set[str], timeout: float = 10.0) -> dict[str, object] | None:
        """Wait for one of the `wanted` event types; return it (None on timeout).

        Events of other types stay pending for later calls (`pending`)."""
        deadline = time.monotonic() + timeout
        while True:
            for index, message in enumerate(self.pending):
                if message.get("type") in wanted:
                    return self.pending.pop(index)
            if not self._read(deadline):
                return None

    def _read(self, deadline: float) -> bool:
        """Take what the socket has (waiting until `deadline`); False on timeout or EOF."""
        assert self._ctrl is not None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self._ctrl.settimeout(max(0.05, remaining))
        try:
            chunk = self._ctrl.recv(65536)
        except TimeoutError:
            return False
        if not chunk:
            return False
        self._buffer += chunk
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
            if message.get("event"):
                message["received_at"] = time.monotonic()
                self.events.append(message)
                self.pending.append(message)
            elif message.get("response"):
                self._responses[str(message.get("token"))] = message
        return True

    # -- recordings ----------------------------------------------------------------

    def recordings(self) -> list[tuple[Path, Path]]:
        """(sent, received) WAV pairs that sndfile wrote, oldest call first.

        sndfile names each file by the second it opened it (`dump-<time>-enc.wav` when the
        call's audio starts, `dump-<time>-dec.wav` at the first audio received), so the two
        of one call can carry different times: they are paired in order, not by name. A
        call that has not received audio yet has no pair."""
        sent, received = self.recorded("enc"), self.recorded("dec")
        return list(zip(sent, received, strict=False))

    def recorded(self, kind: str) -> list[Path]:
        """The files sndfile wrote of `kind` ("enc": sent, "dec": received), oldest first."""
        assert self.snd_path is not None, "recording needs snd_path"
        return sorted(self.snd_path.glob(f"dump-*-{kind}.wav"))

    def wait_recordings_closed(self, timeout: float = 10.0) -> None:
        """Wait until sndfile has closed every recording (call it after CALL_CLOSED): it
        writes a WAV header's sizes only when it closes the file, as the call ends."""
        assert self.snd_path is not None, "recording needs snd_path"
        deadline = time.monotonic() + timeout
        while True:
            files = sorted(self.snd_path.glob("dump-*.wav"))
            if all(wav_complete(path) for path in files):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"sndfile did not close {files}:\n{self.log_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._ctrl is not None:
            self._ctrl.close()
            self._ctrl = None
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


def established(*phones: Baresip, timeout: float = 15.0) -> None:
    """Wait until each phone's call is established (a close first fails, with its log)."""
    for phone in phones:
        event = phone.event({"CALL_ESTABLISHED", "CALL_CLOSED"}, timeout=timeout)
        assert event is not None and event["type"] == "CALL_ESTABLISHED", (event, phone.log_text())
