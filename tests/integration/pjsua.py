"""A third-party SIP phone for the integration tests: pjsua2 (PJSIP), one process per phone.

PJSIP's user agent parses, authenticates, and times its transactions with its own
code, so a call between pjsua phones through the switch has Vaxel at neither end of
the wire. One `Endpoint` lives in one process (pjsua2 keeps global state), so each
`PjPhone` runs this file as a child process and drives it over a pipe: JSON commands
in (register, call, answer, keys, hold, play, what was heard, hang up), JSON replies
and events out, so several phones can take part in one test.

The child runs pjsua2 single-threaded (it pumps `libHandleEvents` between commands),
with the null sound device, at 8 kHz mono, and without silence suppression (else it
stops sending RTP in silence). Each call's audio goes through a media port of ours:
what the phone says comes from samples the test gave it (silence otherwise), and
everything it hears is kept, so the test can compare it with a prompt or with what the
other phone said, while the call runs; no file is read while somebody writes it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import re
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

RATE = 8000
FRAME = 160  # 20 ms at 8 kHz

# -- the parent side -----------------------------------------------------------------------


class PjPhone:
    """One pjsua2 phone in a child process, on its own free port on 127.0.0.1.

    `transport` is "udp", "tcp" or "tls" (which verifies the switch's certificate, for
    127.0.0.1, against `cafile`; `sips=True` makes the account's, proxy's and registrar's
    URIs sips:; `certfile` and `keyfile` give its TLS listener a certificate, as a carrier's).
    The account registers with `user`/`password` at
    `domain` through the switch at `proxy` ("127.0.0.1:5060"); with `register=False`
    it only sends to the switch (a carrier on the trunk's address: `port`).
    `session_timer` asks for RFC 4028 timers ("always": Supported and
    Session-Expires on every INVITE, "required": Require: timer as well).
    """

    def __init__(
        self,
        proxy: str,
        user: str,
        password: str,
        domain: str,
        *,
        transport: str = "udp",
        port: int = 0,
        register: bool = True,
        session_timer: str | None = None,
        mwi: bool = False,
        codecs: tuple[str, ...] = ("PCMA",),
        name: str = "",
        cafile: str = "",
        sips: bool = False,
        certfile: str = "",
        keyfile: str = "",
    ) -> None:
        self.user, self.domain, self.proxy = user, domain, proxy
        self.name = name or user
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []  # every event, in order
        self._pending: list[dict[str, Any]] = []  # events not yet taken by `event()`
        self._replies: dict[int, dict[str, Any]] = {}
        self._reply_ready = threading.Condition()
        self._next = 0
        self._heard: dict[int, bytearray] = {}
        self.log: list[str] = []
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._logger = threading.Thread(target=self._read_log, daemon=True)
        self._logger.start()
        from tests.integration.peers import peer_rtp_ports  # (the child cannot import it)

        started = self.command(
            "start", user=user, password=password, domain=domain, proxy=proxy,
            transport=transport, port=port, register=register, session_timer=session_timer,
            mwi=mwi, codecs=list(codecs), cafile=cafile, sips=sips, certfile=certfile,
            keyfile=keyfile, rtp_port=peer_rtp_ports()[0],
        )  # fmt: skip
        self.port: int = started["port"]

    # -- the pipe ------------------------------------------------------------------------

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            if "reply" in message:
                with self._reply_ready:
                    self._replies[message["reply"]] = message
                    self._reply_ready.notify_all()
            else:
                message["at"] = time.monotonic()
                self.seen.append(message)
                self.events.put(message)
        with self._reply_ready:
            self._reply_ready.notify_all()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def log_text(self) -> str:
        return "".join(self.log[-60:])

    def received(self, first_line: str, having: str = "", timeout: float = 5.0) -> list[str]:
        """The SIP messages the phone received whose first line starts with `first_line`
        ("SIP/2.0 200", "INVITE ") and that match the regular expression `having`, as
        PJSIP logged them (waiting until one came): to check a header a third-party phone
        was sent, without parsing it with the switch's own code."""
        deadline = time.monotonic() + timeout
        while True:
            text = "".join(self.log)
            found = [
                message
                for match in re.finditer(r"RX \d+ bytes [^\n]*:\n(.*?)--end msg--", text, re.S)
                if (message := match.group(1)).startswith(first_line) and re.search(having, message)
            ]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def sent(self, first_line: str, having: str = "", timeout: float = 5.0) -> list[str]:
        """As `received`, for the SIP messages the phone sent."""
        deadline = time.monotonic() + timeout
        while True:
            text = "".join(self.log)
            found = [
                message
                for match in re.finditer(r"TX \d+ bytes [^\n]*:\n(.*?)--end msg--", text, re.S)
                if (message := match.group(1)).startswith(first_line) and re.search(having, message)
            ]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def command(self, name: str, timeout: float = 10.0, **args: Any) -> dict[str, Any]:
        """Send a command; its reply (a failed one raises with the phone's log)."""
        assert self.process.stdin is not None
        self._next += 1
        number = self._next
        self.process.stdin.write(json.dumps({"id": number, "cmd": name, **args}) + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        with self._reply_ready:
            while number not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise AssertionError(f"{self.name}: no reply to {name}\n{self.log_text()}")
                self._reply_ready.wait(left)
            reply = self._replies.pop(number)
        if "error" in reply:
            raise AssertionError(f"{self.name}: {name} failed: {reply['error']}")
        return reply

    # -- events --------------------------------------------------------------------------

    def event(self, *kinds: str, timeout: float = 10.0, **match: Any) -> dict[str, Any] | None:
        """The next event of one of `kinds` whose fields equal `match` (None on timeout);
        other events stay for later calls."""
        deadline = time.monotonic() + timeout
        while True:
            for index, message in enumerate(self._pending):
                if message["event"] in kinds and all(message.get(k) == v for k, v in match.items()):
                    return self._pending.pop(index)
            try:
                self._pending.append(self.events.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                return None

    def expect(self, *kinds: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        found = self.event(*kinds, timeout=timeout, **match)
        assert found is not None, f"{self.name}: no {kinds} {match}\n{self.log_text()}"
        return found

    def state(self, call: int, wanted: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until call `call` reaches `wanted` ("CONFIRMED", "DISCONNECTED", ...);
        fails when it is disconnected first."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.event("call_state", call=call, timeout=deadline - time.monotonic())
            assert found is not None, f"{self.name}: call {call} not {wanted}\n{self.log_text()}"
            if found["state"] == wanted:
                return found
            assert found["state"] != "DISCONNECTED", f"{self.name}: {found}"

    def registered(self, timeout: float = 10.0) -> None:
        found = self.expect("reg_state", timeout=timeout)
        assert found["code"] == 200 and found["active"], f"{self.name}: {found}"

    # -- calls -----------------------------------------------------------------------------

    def call(self, target: str, headers: dict[str, str] | None = None) -> int:
        """Call `target` (an extension or number at the phone's domain, or a whole URI);
        returns the call's id."""
        uri = target if target.startswith(("sip:", "sips:")) else f"sip:{target}@{self.domain}"
        return int(self.command("call", uri=uri, headers=headers or {})["call"])

    def incoming(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next incoming call: {"call": id, "from": URI, "from_display": ..., ...}."""
        return self.expect("incoming", timeout=timeout)

    def answer(self, call: int, code: int = 200) -> None:
        self.command("answer", call=call, code=code)

    def hangup(self, call: int, code: int = 0) -> None:
        self.command("hangup", call=call, code=code)

    def transfer(self, call: int, target: str) -> None:
        """Blind transfer (REFER) of call `call` to `target` (an extension or a URI);
        the phone then gets "xfer_status" events from the NOTIFYs."""
        uri = target if target.startswith(("sip:", "sips:")) else f"sip:{target}@{self.domain}"
        self.command("xfer", call=call, uri=uri)

    def transfer_replacing(self, call: int, dest: int) -> None:
        """Attended transfer (RFC 5589 §7): REFER in call `call` with a Refer-To that carries
        Replaces naming call `dest` (pjsua2's `xferReplaces`); "xfer_status" events follow."""
        self.command("xfer_replaces", call=call, dest=dest)

    def press(self, call: int, digits: str, method: str = "rfc2833") -> None:
        """Keys as RFC 4733 telephone-events ("rfc2833") or SIP INFO ("info")."""
        self.command("dtmf", call=call, digits=digits, method=method)

    def hold(self, call: int) -> None:
        self.command("hold", call=call)

    def resume(self, call: int) -> None:
        self.command("resume", call=call)

    def send_text(self, uri: str, text: str) -> None:
        """A chat MESSAGE (RFC 3428) to `uri`; its outcome comes as an "im_status" event."""
        self.command("im", uri=uri, text=text)

    def watch(self, uri: str) -> None:
        """Subscribe to `uri`'s presence (a buddy): its changes come as "buddy" events."""
        self.command("watch", uri=uri)

    def update(self, call: int) -> None:
        """Send UPDATE with a new offer (RFC 3311) in the confirmed call."""
        self.command("update", call=call)

    def play(self, call: int, samples: np.ndarray) -> None:
        """Say `samples` (8 kHz 16-bit) in the call from the next frame on."""
        data = base64.b64encode(np.asarray(samples, "<i2").tobytes()).decode()
        self.command("play", call=call, samples=data)

    def speak(self, call: int, samples: np.ndarray, timeout: float = 30.0) -> None:
        """Say `samples` and wait until they are out (with 0.3 s of silence after them, so
        their last frames are on the wire before anything the test does next)."""
        self.play(call, np.concatenate([samples, np.zeros(3 * RATE // 10, np.int16)]))
        self.wait_played(call, timeout)

    def played(self, call: int) -> bool:
        """Whether everything given to `play` has been sent."""
        return bool(self.command("played", call=call)["done"])

    def wait_played(self, call: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.played(call):
            assert time.monotonic() < deadline, f"{self.name}: the audio was not sent"
            time.sleep(0.05)

    def heard(self, call: int) -> np.ndarray:
        """Everything the phone has heard in the call so far (8 kHz 16-bit)."""
        kept = self._heard.setdefault(call, bytearray())
        data = self.command("heard", call=call, since=len(kept) // 2)["samples"]
        kept += base64.b64decode(data)
        return np.frombuffer(bytes(kept), "<i2").astype(np.int16)

    def clear(self, call: int) -> None:
        """Forget what was heard so far."""
        self.heard(call)
        self._heard[call] = bytearray()
        self.command("clear", call=call)

    def quit(self) -> None:
        """Ask the phone to hang up, unregister and end (without waiting: see `close`)."""
        if self.process.poll() is None and self.process.stdin is not None:
            with contextlib.suppress(BrokenPipeError, OSError, ValueError):
                self.process.stdin.write(json.dumps({"id": 0, "cmd": "quit"}) + "\n")
                self.process.stdin.flush()

    def close(self) -> None:
        """Hang up, unregister, and end the process."""
        self.quit()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def close_all(phones: list[PjPhone]) -> None:
    """End several phones at once (each takes a second or so to unregister and stop)."""
    for phone in phones:
        phone.quit()
    for phone in phones:
        phone.close()

    def __enter__(self) -> PjPhone:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- what a phone heard ----------------------------------------------------------------------


def _codes(samples: np.ndarray) -> bytes:
    from vaxel.rtp.g711 import alaw_encode

    return alaw_encode(np.asarray(samples, np.int16))


def _frames(codes: bytes) -> list[bytes]:
    """The 20 ms frames of `codes` that are not near-constant (silence matches anywhere)."""
    frames = [codes[i : i + FRAME] for i in range(0, len(codes) - FRAME + 1, FRAME)]
    return [frame for frame in frames if len(set(frame)) >= 8]


def hears(
    phone: PjPhone, call: int, sound: Path | np.ndarray, seconds: float = 0.5, wait: float = 8.0
) -> bool:
    """Did the phone hear the first `seconds` of `sound` (a prompt file or samples)?

    The switch sends a prompt's A-law codes as they are and the phone speaks PCMA
    alone, so what it decoded encodes back to the very codes: nine in ten of the
    stretch's 20 ms frames must be there, code for code. Not all: a phone's jitter
    buffer drops or repeats a frame now and then as its clock and the switch's drift,
    and it may miss the first packet while it sets its stream up."""
    if isinstance(sound, Path):
        from vaxel.media.player import load_prompt

        sound = load_prompt(sound)
    codes = _codes(sound)[: int(RATE * seconds)]
    frames = _frames(codes)
    if len(frames) < 3:  # a steady tone (a beep): its frames repeat, and few differ
        return _hears_tone(phone, call, codes, wait)
    deadline = time.monotonic() + wait
    while True:
        heard = _codes(phone.heard(call))
        if sum(frame in heard for frame in frames) >= 0.9 * len(frames):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def _hears_tone(phone: PjPhone, call: int, codes: bytes, wait: float) -> bool:
    """A steady tone (a beep: the same codes every period, so only its fade in and out
    differ from frame to frame) is heard when a stretch of its steady middle is there code
    for code and the phone heard on past it (the whole tone, then what follows): one fade
    frame its jitter buffer dropped or concealed does not count against it."""
    middle = len(codes) // 2
    steady = codes[middle - FRAME // 2 : middle + FRAME // 2]
    assert len(steady) == FRAME, "a tone of at least 20 ms to listen for"
    deadline = time.monotonic() + wait
    while True:
        heard = _codes(phone.heard(call))
        at = heard.rfind(steady)
        if at >= 0 and len(heard) - (at + FRAME) >= len(codes) // 2 + 2 * FRAME:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def heard_of(original: np.ndarray, heard: np.ndarray) -> int:
    """How much of `original` (samples) is in `heard`, counted in whole 20 ms frames found
    code for code (what a jitter buffer dropped or repeated does not count)."""
    known = _codes(original)
    return FRAME * sum(frame in known for frame in _frames(_codes(heard)))


def hears_voice(
    phone: PjPhone, call: int, voice: np.ndarray, samples: int = RATE, wait: float = 10.0
) -> int:
    """Wait until the phone heard `samples` of another party's `voice` (see `heard_of`);
    how much it heard."""
    deadline = time.monotonic() + wait
    while True:
        amount = heard_of(voice, phone.heard(call))
        if amount >= samples or time.monotonic() > deadline:
            return amount
        time.sleep(0.1)


# -- the child side: pjsua2 in this process --------------------------------------------------


def _child() -> None:
    import pjsua2 as pj

    # A phone is a device of its own: on a loaded test machine its 20 ms media clock must
    # not wait behind the switch and the other tests for a core, or its jitter buffer
    # conceals what the switch sent in time (a short beep lost whole). Where the tests run
    # as root, the phone's process gets a little ahead of them; elsewhere it stays as is.
    with contextlib.suppress(OSError):
        os.nice(-5)

    # PJSIP logs to standard output: the replies get a copy of it, and its log goes to
    # standard error (the parent keeps it for failure messages).
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    def emit(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    statuses = {
        pj.PJSUA_CALL_MEDIA_ACTIVE: "active",
        pj.PJSUA_CALL_MEDIA_LOCAL_HOLD: "local_hold",
        pj.PJSUA_CALL_MEDIA_REMOTE_HOLD: "remote_hold",
        pj.PJSUA_CALL_MEDIA_NONE: "none",
    }
    methods = {pj.PJSUA_DTMF_METHOD_RFC2833: "rfc2833", pj.PJSUA_DTMF_METHOD_SIP_INFO: "info"}

    class Port(pj.AudioMediaPort):
        """The call's audio: sends what `play` gave (then silence), keeps what it hears."""

        def __init__(self) -> None:
            super().__init__()
            self.say = np.zeros(0, np.int16)
            self.position = 0
            self.heard: list[bytes] = []

        def onFrameRequested(self, frame: Any) -> None:
            chunk = self.say[self.position : self.position + FRAME]
            self.position += FRAME
            if len(chunk) < FRAME:
                chunk = np.concatenate([chunk, np.zeros(FRAME - len(chunk), np.int16)])
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            frame.buf = pj.ByteVector(chunk.astype("<i2").tobytes())
            frame.size = FRAME * 2

        def onFrameReceived(self, frame: Any) -> None:
            if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size:
                self.heard.append(bytes(bytearray(frame.buf)))

    # Calls are known by a number of ours: pjsua reuses its call ids once a call ends,
    # and what an ended call heard stays readable.
    calls: dict[int, Any] = {}
    ports: dict[int, Port] = {}
    serial = iter(range(1, 1_000_000))

    class Call(pj.Call):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.key = next(serial)
            calls[self.key] = self

        def onCallState(self, prm: Any) -> None:
            info = self.getInfo()
            emit({"event": "call_state", "call": self.key, "state": info.stateText,
                  "code": info.lastStatusCode, "reason": info.lastReason})  # fmt: skip

        def onCallMediaState(self, prm: Any) -> None:
            info = self.getInfo()
            for index, media in enumerate(info.media):
                if media.type != pj.PJMEDIA_TYPE_AUDIO:
                    continue
                status = media.status
                emit({"event": "media_state", "call": self.key,
                      "status": statuses.get(status, str(status))})  # fmt: skip
                if status in (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD):
                    audio = self.getAudioMedia(index)
                    port = ports.get(self.key)
                    if port is None:
                        port = Port()
                        fmt = pj.MediaFormatAudio()
                        fmt.init(pj.PJMEDIA_FORMAT_PCM, RATE, 1, 20000, 16)
                        port.createPort(f"call{self.key}", fmt)
                        ports[self.key] = port
                    audio.startTransmit(port)
                    port.startTransmit(audio)

        def onCallTransferStatus(self, prm: Any) -> None:
            emit({"event": "xfer_status", "call": self.key, "code": prm.statusCode,
                  "reason": prm.reason, "final": bool(prm.finalNotify)})  # fmt: skip
            prm.cont = True  # keep the call: what happens to it is the test's to decide

        def onDtmfDigit(self, prm: Any) -> None:
            method = methods.get(prm.method, str(prm.method))
            emit({"event": "dtmf", "call": self.key, "digit": prm.digit, "method": method})

    buddies: list[Any] = []

    class Buddy(pj.Buddy):
        """A colleague whose presence the phone watches (RFC 3856): each change emitted."""

        def onBuddyState(self) -> None:
            info = self.getInfo()
            status = info.presStatus
            emit({"event": "buddy", "uri": info.uri, "online":
                  status.status == pj.PJSUA_BUDDY_STATUS_ONLINE, "note": status.note,
                  "text": status.statusText, "sub_state": info.subStateName})  # fmt: skip

    class Account(pj.Account):
        def onRegState(self, prm: Any) -> None:
            info = self.getInfo()
            emit({"event": "reg_state", "code": prm.code, "active": info.regIsActive,
                  "expires": prm.expiration})  # fmt: skip

        def onIncomingCall(self, prm: Any) -> None:
            call = Call(self, prm.callId)
            info = call.getInfo()
            emit({"event": "incoming", "call": call.key, "from": info.remoteUri,
                  "to": info.localUri, "contact": info.remoteContact,
                  "message": prm.rdata.wholeMsg})  # fmt: skip
            ringing = pj.CallOpParam()
            ringing.statusCode = 180
            call.answer(ringing)

        def onMwiInfo(self, prm: Any) -> None:
            emit({"event": "mwi", "body": prm.rdata.wholeMsg})

        def onInstantMessage(self, prm: Any) -> None:
            emit({"event": "im", "from": prm.fromUri, "body": prm.msgBody,
                  "content_type": prm.contentType})  # fmt: skip

        def onInstantMessageStatus(self, prm: Any) -> None:
            emit({"event": "im_status", "to": prm.toUri, "code": prm.code,
                  "reason": prm.reason})  # fmt: skip

    endpoint = pj.Endpoint()
    endpoint.libCreate()
    config = pj.EpConfig()
    config.uaConfig.threadCnt = 0
    config.uaConfig.mainThreadOnly = True
    config.uaConfig.userAgent = "pjsua2 (Vaxel tests)"
    config.logConfig.level = 4
    config.logConfig.consoleLevel = 4
    config.medConfig.noVad = True
    config.medConfig.clockRate = RATE
    config.medConfig.sndClockRate = RATE
    config.medConfig.channelCount = 1
    config.medConfig.ecTailLen = 0
    config.medConfig.quality = 10
    endpoint.libInit(config)
    endpoint.audDevManager().setNullDev()
    account: Account | None = None
    running = True

    def start(args: dict[str, Any]) -> dict[str, Any]:
        nonlocal account
        # Only the codecs asked for (PCMA alone by default: the tests compare A-law
        # codes), in that order; no loss concealment: a lost frame shows as a gap.
        wanted = [f"{name}/8000/1" for name in args["codecs"]]
        for codec in endpoint.codecEnum2():
            priority = 255 - wanted.index(codec.codecId) if codec.codecId in wanted else 0
            endpoint.codecSetPriority(codec.codecId, priority)
            if priority:
                param = endpoint.codecGetParam(codec.codecId)
                param.setting.plc = False
                endpoint.codecSetParam(codec.codecId, param)
        kind = {
            "udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP,
            "tls": pj.PJSIP_TRANSPORT_TLS,
        }[args["transport"]]  # fmt: skip
        transport = pj.TransportConfig()
        transport.port = args["port"]
        transport.boundAddress = "127.0.0.1"
        transport.publicAddress = "127.0.0.1"
        if args["transport"] == "tls":
            transport.tlsConfig.CaListFile = args["cafile"]
            transport.tlsConfig.verifyServer = bool(args["cafile"])
            transport.tlsConfig.certFile = args.get("certfile", "")
            transport.tlsConfig.privKeyFile = args.get("keyfile", "")
        transport_id = endpoint.transportCreate(kind, transport)
        endpoint.libStart()
        port = endpoint.transportGetInfo(transport_id).localName.rsplit(":", 1)[1]
        suffix = "" if args["transport"] == "udp" else f";transport={args['transport']}"
        scheme = "sip"
        if args.get("sips"):
            scheme, suffix = "sips", ""
        acc = pj.AccountConfig()
        acc.idUri = f"{scheme}:{args['user']}@{args['domain']}"
        acc.sipConfig.transportId = transport_id
        acc.sipConfig.proxies.append(f"{scheme}:{args['proxy']};lr{suffix}")
        if args["register"]:
            acc.regConfig.registrarUri = f"{scheme}:{args['domain']}{suffix}"
            acc.regConfig.timeoutSec = 300
            acc.regConfig.retryIntervalSec = 0
        else:
            acc.regConfig.registerOnAdd = False
        if args["password"]:  # for the switch's challenges to REGISTER, INVITE, SUBSCRIBE
            acc.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", "*", args["user"], 0, args["password"])
            )
        acc.natConfig.contactRewriteUse = 0
        acc.natConfig.viaRewriteUse = 0
        acc.natConfig.sdpNatRewriteUse = 0
        acc.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
        acc.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
        # Ports of its own (`peer_rtp_ports`): not where the test switches bind theirs,
        # nor where other processes' ephemeral ports land.
        acc.mediaConfig.transportConfig.port = args["rtp_port"]
        acc.mediaConfig.transportConfig.portRange = 100
        acc.mwiConfig.enabled = bool(args["mwi"])
        timer = args.get("session_timer")
        acc.callConfig.timerUse = {
            None: pj.PJSUA_SIP_TIMER_OPTIONAL, "always": pj.PJSUA_SIP_TIMER_ALWAYS,
            "required": pj.PJSUA_SIP_TIMER_REQUIRED,
        }[timer]  # fmt: skip
        acc.callConfig.timerSessExpiresSec = 90
        acc.callConfig.timerMinSESec = 90
        account = Account()
        account.create(acc)
        return {"port": int(port)}

    def call_of(args: dict[str, Any]) -> Any:
        call = calls.get(int(args["call"]))
        if call is None:
            raise KeyError(f"no call {args['call']}")
        return call

    def port_of(args: dict[str, Any]) -> Port:
        port = ports.get(int(args["call"]))
        if port is None:
            raise KeyError(f"call {args['call']} has no audio yet")
        return port

    def buddy_of(uri: str, *, watch: bool) -> Any:
        """A colleague in the phone's buddy list (subscribed to their presence if `watch`)."""
        assert account is not None
        config = pj.BuddyConfig()
        config.uri = uri
        config.subscribe = watch
        buddy = Buddy()
        buddy.create(account, config)
        buddies.append(buddy)
        return buddy

    def run(cmd: str, args: dict[str, Any]) -> dict[str, Any]:
        nonlocal running
        if cmd == "start":
            return start(args)
        if cmd == "call":
            assert account is not None
            call = Call(account)
            param = pj.CallOpParam(True)
            for name, value in args["headers"].items():
                header = pj.SipHeader()
                header.hName, header.hValue = name, value
                param.txOption.headers.append(header)
            call.makeCall(args["uri"], param)
            return {"call": call.key}
        if cmd == "answer":
            param = pj.CallOpParam()
            param.statusCode = int(args["code"])
            call_of(args).answer(param)
            return {}
        if cmd == "hangup":
            param = pj.CallOpParam()
            param.statusCode = int(args["code"])
            call_of(args).hangup(param)
            return {}
        if cmd == "dtmf":
            param = pj.CallSendDtmfParam()
            param.digits = args["digits"]
            param.method = {"rfc2833": pj.PJSUA_DTMF_METHOD_RFC2833,
                            "info": pj.PJSUA_DTMF_METHOD_SIP_INFO}[args["method"]]  # fmt: skip
            call_of(args).sendDtmf(param)
            return {}
        if cmd == "xfer":
            call_of(args).xfer(args["uri"], pj.CallOpParam(True))
            return {}
        if cmd == "xfer_replaces":
            dest = calls.get(int(args["dest"]))
            if dest is None:
                raise KeyError(f"no call {args['dest']}")
            call_of(args).xferReplaces(dest, pj.CallOpParam(True))
            return {}
        if cmd == "hold":
            call_of(args).setHold(pj.CallOpParam(True))
            return {}
        if cmd == "im":
            param = pj.SendInstantMessageParam()
            param.content = args["text"]
            buddy_of(args["uri"], watch=False).sendInstantMessage(param)
            return {}
        if cmd == "watch":
            buddy_of(args["uri"], watch=True)
            return {}
        if cmd == "resume":
            param = pj.CallOpParam(True)
            param.opt.flag = pj.PJSUA_CALL_UNHOLD
            call_of(args).reinvite(param)
            return {}
        if cmd == "update":
            call_of(args).update(pj.CallOpParam(True))
            return {}
        if cmd == "play":
            port = port_of(args)
            port.say = np.frombuffer(base64.b64decode(args["samples"]), "<i2").astype(np.int16)
            port.position = 0
            return {}
        if cmd == "played":
            port = port_of(args)
            return {"done": port.position >= len(port.say)}
        if cmd == "heard":
            port = ports.get(int(args["call"]))
            data = b"".join(port.heard[int(args["since"]) // FRAME :]) if port else b""
            return {"samples": base64.b64encode(data).decode()}
        if cmd == "clear":
            port_of(args).heard.clear()
            return {}
        if cmd == "quit":
            endpoint.hangupAllCalls()
            if account is not None and account.getInfo().regIsActive:
                account.setRegistration(False)
                deadline = time.monotonic() + 3
                while account.getInfo().regIsActive and time.monotonic() < deadline:
                    endpoint.libHandleEvents(20)
            running = False
            return {}
        raise ValueError(f"unknown command {cmd}")

    buffer = ""
    stdin = sys.stdin.fileno()
    while running:
        endpoint.libHandleEvents(10)
        ready, _, _ = select.select([stdin], [], [], 0)
        if not ready:
            continue
        chunk = os.read(stdin, 65536).decode()
        if not chunk:
            break
        buffer += chunk
        while "\n" in buffer:
            line, buffer = buffer.split("\n", 1)
            message = json.loads(line)
            try:
                reply = run(message.pop("cmd"), message)
            except Exception as exc:  # the parent's assertion shows it
                # A PJSIP error says what went wrong in info(), not in str().
                text = exc.info() if hasattr(exc, "info") else str(exc)
                reply = {"error": f"{type(exc).__name__}: {text}"}
            emit({"reply": message["id"], **reply})
    ports.clear()
    calls.clear()
    account = None
    endpoint.libDestroy()


if __name__ == "__main__":
    # As a child, this file is run by path: keep its folder's sibling modules off the path.
    sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).parent]
    _child()
