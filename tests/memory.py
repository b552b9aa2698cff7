"""The whole switch in memory, for tests of the B2BUA, the switch and every feature.

`MemorySwitch` assembles the same core `vaxel serve` runs (`vaxel.assembly`)
on a real SQLite store, with the in-memory transport (`transport.memory`),
media backend (`media.memory`) and a fake clock; `MemoryPhone` is a phone on
that network. Time moves only in `advance()`, 20 ms at a time, so a 30 s ring
time takes milliseconds. Prompts are short tones, each its own, so what a
caller hears is recognised by its samples.

These tests use the suite's own phone by design (in memory there is no
other); the integration tests run every feature path with third-party
peers over real sockets.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import wave
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from vaxel.assembly import Core, assemble
from vaxel.calls.api import Call
from vaxel.calls.records import call_record
from vaxel.clock import FakeClock
from vaxel.media.memory import MemoryEndpoint, MemoryMedia
from vaxel.media.player import Samples, load_prompt
from vaxel.media.say import SYSTEM_PROMPTS, TONES
from vaxel.services import companies, users
from vaxel.services.call_records import NewCallRecord
from vaxel.services.company import Background
from vaxel.services.configuration import apply_config, load_yaml, prompt_folder
from vaxel.sip.digest import DigestClient, DigestServer
from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.message import Request, Response, make_response, parse_message
from vaxel.store import Store
from vaxel.transport.base import Local, Source
from vaxel.transport.memory import MemoryNetwork

SWITCH = ("192.0.2.10", 5060)
DOMAIN = "acme.test"
PASSWORD = "secret-pass-1"


def tone(name: str, seconds: float = 0.3) -> Samples:
    """A prompt that sounds like no other: a tone whose pitch comes from its name."""
    pitch = 300 + int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 1500
    t = np.arange(int(8000 * seconds)) / 8000
    return (8000 * np.sin(2 * np.pi * pitch * t)).astype(np.int16)


def write_wav(path: Path, samples: Samples) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(samples.astype("<i2").tobytes())
    return path


def tone_prompts(folder: Path, names: Iterable[str] = (*SYSTEM_PROMPTS, *TONES)) -> Path:
    """The switch's system prompts as tones, in both languages."""
    for language in ("sv", "en"):
        for name in names:
            write_wav(folder / language / f"{name}.wav", tone(f"{language}/{name}"))
    return folder


def contains(heard: Samples, prompt: Samples) -> bool:
    """Did `heard` play `prompt` (every sample of it, in one piece)?"""
    if len(prompt) == 0 or len(heard) < len(prompt):
        return False
    return prompt.tobytes() in heard.tobytes()


class Immediately:
    """The background writer of `services.company`, done at once (tests need no thread)."""

    def run(self, work, then=None):  # type: ignore[no-untyped-def]
        result = work()
        if then is not None:
            then(result)


class Later:
    """The background writer, done when the test says (`finish`): a slow database."""

    def __init__(self) -> None:
        self.waiting: list[tuple[object, object]] = []

    def run(self, work, then=None):  # type: ignore[no-untyped-def]
        self.waiting.append((work, then))

    def finish(self) -> None:
        while self.waiting:
            work, then = self.waiting.pop(0)
            result = work()  # type: ignore[operator]
            if then is not None:
                then(result)  # type: ignore[operator]


class MemorySwitch:
    """A company on a switch in memory: `users` are added, `description` applied."""

    def __init__(
        self,
        data: Path,
        system_prompts: Path,
        *,
        description: str | None = None,
        prompts: Iterable[str] = (),
        user_names: dict[str, str] | None = None,
        start: float = 1_800_000_000.0,  # Friday 15 January 2027, 09:00 in Stockholm
        background: Background | None = None,
    ) -> None:
        self.data = data
        self.store = Store.open(data)
        companies.add_company(self.store, DOMAIN, "Acme AB")
        for ext, name in (user_names or {"1001": "Anna", "1002": "Björn"}).items():
            users.add_user(self.store, DOMAIN, ext, name, PASSWORD)
        if description is not None:
            apply_config(self.store, load_yaml(description))
        for name in prompts:  # the company's own prompts, as tones
            write_wav(prompt_folder(data, DOMAIN) / f"{name}.wav", tone(f"company/{name}"))
        self.clock = FakeClock(start)
        self.network = MemoryNetwork()
        self.media = MemoryMedia(self.clock)
        self.records: list[NewCallRecord] = []
        self.hold_records = False  # True: call records wait to be stored (store_records)
        self.unstored: list[Callable[[], None]] = []
        self.core: Core = assemble(
            self.store,
            media=self.media,
            clock=self.clock,
            background=background or Immediately(),
            data=data,
            system_prompts=system_prompts,
            digest=DigestServer(secrets.token_bytes(32)),
            finished=self._finished,
        )
        self.system_prompts = system_prompts
        udp = self.network.listen("UDP", *SWITCH, self.core.inbound.receive)
        tcp = self.network.listen("TCP", *SWITCH, self.core.inbound.receive)
        ws = self.network.listen("WS", *SWITCH, self.core.inbound.receive)  # as the web relays
        tls = self.network.listen("TLS", *SWITCH, self.core.inbound.receive)
        self.core.outbox.add(udp, udp.local)
        self.core.outbox.add(tcp, tcp.local)
        self.core.outbox.add(ws, ws.local)
        self.core.outbox.add(tls, tls.local)
        self.core.directory.refresh()
        self._hosts = itertools.count(20)
        self.hold_writes = False  # True: the database is slow, bindings wait to be stored

    def _finished(self, call: Call, stored: Callable[[], None]) -> None:
        self.records.append(call_record(call))
        if self.hold_records:
            self.unstored.append(stored)
        else:
            stored()

    def store_records(self) -> None:
        """The held call records are committed now."""
        while self.unstored:
            self.unstored.pop(0)()
        self.run()

    def close(self) -> None:
        self.store.close()

    # -- time -------------------------------------------------------------------------

    def run(self) -> None:
        """Deliver everything in flight (and what it causes) without moving the clock; the
        bindings are stored as soon as they change (a database that keeps up)."""
        persist = self.core.persist
        while True:
            self.network.deliver()
            if not persist.due or self.hold_writes:
                return
            persist.write(persist.take())
            persist.written(True)

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass, 20 ms at a time: media plays, timers fire, messages flow."""
        steps = max(1, round(seconds / 0.02))
        for _ in range(steps):
            self.clock.advance(0.02)
            self.media.tick()
            self.core.drive_timers()
            self.run()

    def until(self, condition, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
        """Advance until `condition()` holds; fail after `seconds` of switch time."""
        self.run()
        waited = 0.0
        while not condition():
            if waited >= seconds:
                raise AssertionError(f"not so after {seconds} s: {condition}")
            self.advance(0.02)
            waited += 0.02

    # -- what a test uses ---------------------------------------------------------------

    def phone(
        self,
        user: str,
        *,
        password: str = PASSWORD,
        register: bool = True,
        transport: str = "UDP",
        contact: str | None = None,
    ) -> MemoryPhone:
        host = f"198.51.100.{next(self._hosts)}"
        phone = MemoryPhone(self, user, password, host, transport=transport)
        if contact is not None:
            phone.contact = contact
        if register:
            assert phone.register().status == 200
        return phone

    def carrier(self, host: str = "203.0.113.5", port: int = 5060) -> MemoryPhone:
        """A carrier's SIP peer (no password: known by its address)."""
        return MemoryPhone(self, "+46701740605", "", host, port=port, domain="carrier.test")

    def prompt(self, name: str) -> Samples:
        return load_prompt(prompt_folder(self.data, DOMAIN) / f"{name}.wav")

    def system(self, name: str, language: str = "sv") -> Samples:
        return load_prompt(self.system_prompts / language / f"{name}.wav")

    @property
    def calls(self) -> dict[str, Call]:
        return self.core.calls.calls


class MemoryPhone:
    """A SIP phone on the memory network: one address, one call at a time, scripted by tests.

    It answers what a phone stack answers by itself (BYE, CANCEL, NOTIFY, OPTIONS,
    re-INVITE, ACKs) and keeps every request and response for the test to read.
    """

    def __init__(
        self,
        switch: MemorySwitch,
        user: str,
        password: str,
        host: str,
        *,
        port: int = 5060,
        domain: str = DOMAIN,
        transport: str = "UDP",
    ) -> None:
        self.switch, self.user, self.password, self.domain = switch, user, password, domain
        self.host, self.port = host, port
        self.transport = transport
        self.socket = switch.network.listen(transport, host, port, self._receive)
        self.media_port = 40000
        self.contact = f"<sip:{user}@{host}:{port}>"
        self.via_host = f"{host}:{port}"
        if transport in ("WS", "WSS"):  # as a browser says (RFC 7118 §5.2): no address of its own
            name = f"{secrets.token_hex(5)}.invalid"
            self.contact = f"<sip:{user}@{name};transport={transport.lower()}>"
            self.via_host = name
        self.tag = secrets.token_hex(4)
        self.cseq = itertools.count(1)
        self.digest = DigestClient()
        self.received: list[Request | Response] = []
        self.raw: list[bytes] = []  # every message as it came
        self.challenges: list[Response] = []  # 401/407s this phone answered
        self.invites: list[Request] = []  # INVITEs that rang this phone, latest last
        self.done: set[str] = set()  # Call-IDs of INVITEs this phone gave a final answer
        self.call_id = ""
        self.dialog: tuple[str, str, str, str] | None = None  # local uri, remote uri, tag, target
        self.invite_cseq = 0
        self.user_agent = "MemoryPhone"
        self.ring_back = True  # say 180 Ringing to every new INVITE, as phones do
        self.takes_messages = True  # say 200 to a chat MESSAGE, as softphones do
        self.srtp_key: bytes | None = None  # set: its SDP is RTP/SAVP with this SDES key

    def sdp(self, direction: str = "sendrecv", codecs: str = "8 0 101") -> str:
        proto, crypto = "RTP/AVP", ""
        if self.transport in ("WS", "WSS"):  # a browser (U1): ICE and DTLS, not run here
            proto, crypto = (
                "UDP/TLS/RTP/SAVPF",
                (
                    f"a=ice-ufrag:{self.user}\r\na=ice-pwd:memory-browser-password\r\n"
                    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n"
                    "a=setup:active\r\na=rtcp-mux\r\n"
                ),
            )
        elif self.srtp_key is not None:
            inline = base64.b64encode(self.srtp_key).decode()
            proto, crypto = "RTP/SAVP", f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{inline}\r\n"
        return (
            f"v=0\r\no=phone 1 1 IN IP4 {self.host}\r\ns=-\r\nc=IN IP4 {self.host}\r\n"
            f"t=0 0\r\nm=audio {self.media_port} {proto} {codecs}\r\n"
            "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
            f"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na={direction}\r\n" + crypto
        )

    # -- the wire ---------------------------------------------------------------------

    def send(self, lines: list[str], body: str = "", content_type: str = "application/sdp") -> None:
        if body:
            lines = [*lines, f"Content-Type: {content_type}"]
        data = "\r\n".join([*lines, f"Content-Length: {len(body.encode())}", "", body]).encode()
        self.socket.send(data, Source(self.transport, *SWITCH))

    def send_message(self, message: Request | Response) -> None:
        self.socket.send(bytes(message), Source(self.transport, *SWITCH))

    def _via(self) -> str:
        branch = f"z9hG4bK{secrets.token_hex(6)}"
        return f"Via: SIP/2.0/{self.transport} {self.via_host};branch={branch};rport"

    def _receive(self, data: bytes, source: Source, local: Local) -> None:
        self.raw.append(data)
        try:
            message = parse_message(data, stream=source.reliable)
        except RemoteProtocolError:
            return  # (an answer to a malformed request may copy what made it malformed)
        self.received.append(message)
        if isinstance(message, Request):
            self._auto(message)

    def _auto(self, request: Request) -> None:
        """What a phone's SIP stack answers by itself."""
        method = request.method
        if method == "INVITE" and request.to.tag is None:
            self.invites.append(request)
            if self.ring_back:
                self.reply(request, 180)
        elif method == "INVITE":  # a re-INVITE (hold, refresh): agree
            direction = "sendrecv"
            if request.body and b"a=sendonly" in request.body:
                direction = "recvonly"
            self.reply(request, 200, self.sdp(direction))
        elif method == "CANCEL":
            self.reply(request, 200)
            invite = next((i for i in self.invites if i.call_id == request.call_id), None)
            if invite is not None:
                self.reply(invite, 487)
        elif method in ("BYE", "NOTIFY", "OPTIONS", "INFO", "UPDATE") or (
            method == "MESSAGE" and self.takes_messages
        ):
            self.reply(request, 200)

    def reply(
        self, request: Request, status: int, body: str = "", headers: Iterable[str] = ()
    ) -> Response:
        to_tag = self.tag if request.to.tag is None and status > 100 else None
        response = make_response(request, status, to_tag=to_tag)
        for header in headers:
            name, _, value = header.partition(":")
            response.headers.add(name.strip(), value.strip())
        if request.method == "INVITE" and status >= 200:
            self.done.add(request.call_id)
        if status < 300 and request.method in ("INVITE", "UPDATE", "SUBSCRIBE"):
            response.headers.add("Contact", self.contact)
        if body:
            response.headers.add("Content-Type", "application/sdp")
            response.body = body.encode()
        self.send_message(response)
        if request.method == "INVITE" and 200 <= status < 300 and request.to.tag is None:
            self.call_id = request.call_id
            self.dialog = (
                f"<{request.to.uri}>",
                str(request.from_),
                self.tag,
                str(request.contacts[0].uri),
            )
        return response

    def responses(self, method: str) -> list[Response]:
        return [m for m in self.received if isinstance(m, Response) and m.cseq.method == method]

    def requests(self, method: str) -> list[Request]:
        return [m for m in self.received if isinstance(m, Request) and m.method == method]

    def last_final(self, method: str, call_id: str | None = None) -> Response | None:
        finals = [
            r
            for r in self.responses(method)
            if r.status >= 200 and (call_id is None or r.call_id == call_id)
        ]
        return finals[-1] if finals else None

    def disconnect(self) -> None:
        """Close this phone's connection, as a browser tab that closes its WebSocket: the
        switch hears of it as transport/ws.py tells it (`Core.flow_failed`)."""
        self.socket.close()
        self.switch.core.flow_failed(Source(self.transport, self.host, self.port))
        self.switch.run()

    # -- as a user would --------------------------------------------------------------------

    def register(self, expires: int = 3600) -> Response:
        call_id = f"{secrets.token_hex(8)}@phone"
        authorization = None
        uri = f"sip:{self.domain}"
        response: Response | None = None
        for _ in range(2):
            lines = [
                f"REGISTER {uri} SIP/2.0", self._via(),
                f"From: <sip:{self.user}@{self.domain}>;tag={self.tag}",
                f"To: <sip:{self.user}@{self.domain}>", f"Call-ID: {call_id}",
                f"CSeq: {next(self.cseq)} REGISTER", "Max-Forwards: 70",
                f"Contact: {self.contact}", f"Expires: {expires}",
            ]  # fmt: skip
            if authorization:
                lines.append(f"Authorization: {authorization}")
            self.send(lines)
            self.switch.run()
            response = self.last_final("REGISTER", call_id)
            assert response is not None, "no answer to REGISTER"
            if response.status != 401:
                return response
            authorization = self.digest.authorization(
                self.digest.choose_challenge(response.headers.get_all("WWW-Authenticate")),
                method="REGISTER", uri=uri, username=self.user, password=self.password,
            )  # fmt: skip
        assert response is not None
        return response

    def dial(
        self,
        number: str,
        *,
        body: str | None = None,
        headers: Iterable[str] = (),
        authenticate: bool = True,
        scheme: str = "sip",
    ) -> str:
        """Call `number` (answering the 407, unless not `authenticate`); returns the Call-ID.
        The switch has handled the INVITE: read what happened with `last_final`, or move
        time on. An answered challenge moves to `challenges`. `scheme` "sips" asks for
        TLS all the way (RFC 5630)."""
        self.call_id = call_id = f"{secrets.token_hex(8)}@phone"
        target = f"{scheme}:{number}@{self.domain}"
        offer = self.sdp() if body is None else body
        authorization = None
        for _ in range(2):
            cseq = next(self.cseq)
            lines = [
                f"INVITE {target} SIP/2.0", self._via(),
                f"From: <sip:{self.user}@{self.domain}>;tag={self.tag}", f"To: <{target}>",
                f"Call-ID: {call_id}", f"CSeq: {cseq} INVITE", f"Contact: {self.contact}",
                f"User-Agent: {self.user_agent}", *headers,
            ]  # fmt: skip
            if not any(h.startswith("Max-Forwards") for h in headers):
                lines.append("Max-Forwards: 70")
            if authorization:
                lines.append(f"Proxy-Authorization: {authorization}")
            self.send(lines, offer)
            self.switch.run()
            self.invite_cseq = cseq
            final = self.last_final("INVITE", call_id)
            if final is None or final.status != 407 or not authenticate or authorization:
                return call_id
            self._ack(final, cseq, target)
            self.received.remove(final)
            self.challenges.append(final)
            authorization = self.digest.authorization(
                self.digest.choose_challenge(final.headers.get_all("Proxy-Authenticate")),
                method="INVITE", uri=target, username=self.user, password=self.password,
            )  # fmt: skip
        return call_id

    def _ack(self, response: Response, cseq: int, target: str) -> None:
        """The ACK of a non-2xx final response (a challenge is stateless: any branch)."""
        self.send([
            f"ACK {target} SIP/2.0", self._via(), f"From: {response.headers.get('From')}",
            f"To: {response.headers.get('To')}", f"Call-ID: {response.call_id}",
            f"CSeq: {cseq} ACK", "Max-Forwards: 70",
        ])  # fmt: skip

    def answered(self) -> Response | None:
        """The 2xx of our call, once it came (ACKed)."""
        final = self.last_final("INVITE", self.call_id)
        if final is None or final.status >= 300:
            return None
        if self.dialog is None or self.dialog[1] != str(final.to):
            target = str(final.contacts[0].uri)
            self.dialog = (f"<sip:{self.user}@{self.domain}>", str(final.to), self.tag, target)
            self.send(self._in_dialog("ACK", self.invite_cseq))
        return final

    def _in_dialog(self, method: str, cseq: int) -> list[str]:
        assert self.dialog is not None
        local, remote, tag, target = self.dialog
        return [
            f"{method} {target} SIP/2.0", self._via(), f"From: {local};tag={tag}",
            f"To: {remote}", f"Call-ID: {self.call_id}", f"CSeq: {cseq} {method}",
            "Max-Forwards: 70", f"Contact: {self.contact}",
        ]  # fmt: skip

    def request(self, method: str, body: str = "", content_type: str = "application/sdp") -> None:
        """An in-dialog request of the current call (answer it with the switch's `run`)."""
        cseq = next(self.cseq) + 100
        self.send(self._in_dialog(method, cseq), body, content_type)
        if method == "INVITE":
            self.invite_cseq = cseq

    def hang_up(self) -> None:
        if self.dialog is None:
            self.answered()  # (ACK the 2xx first, as any phone does)
        self.request("BYE")
        self.switch.run()

    def cancel(self) -> None:
        """CANCEL our unanswered INVITE (the same branch is what matches it, so: resend)."""
        invite = next(
            m
            for m in reversed(self.socket.sent)
            if m[0].startswith(b"INVITE ") and self.call_id.encode() in m[0]
        )
        request = parse_message(invite[0])
        assert isinstance(request, Request)
        lines = [
            f"CANCEL {request.uri} SIP/2.0", f"Via: {request.headers.get('Via')}",
            f"From: {request.headers.get('From')}", f"To: {request.headers.get('To')}",
            f"Call-ID: {request.call_id}", f"CSeq: {request.cseq.number} CANCEL",
            "Max-Forwards: 70",
        ]  # fmt: skip
        self.send(lines)
        self.switch.run()

    def subscribe(
        self,
        account: str | None = None,
        expires: int = 600,
        event: str = "message-summary",
        headers: Iterable[str] = (),
    ) -> int:
        """SUBSCRIBE to `account`'s `event` (default: our own message summary), answering
        the 401; returns the final status."""
        account = account or self.user
        uri = f"sip:{account}@{self.domain}"
        extra = [f"Contact: {self.contact}", f"Event: {event}", f"Expires: {expires}", *headers]
        return self._authorized("SUBSCRIBE", uri, f"sub-{account}-{secrets.token_hex(4)}@phone",
                                extra, tag="s")  # fmt: skip

    def message(self, to: str, text: str, content_type: str = "text/plain") -> int:
        """Send a chat MESSAGE (RFC 3428) to `to`, answering the 407; the final status."""
        uri = f"sip:{to}@{self.domain}"
        call_id = f"msg-{secrets.token_hex(4)}@phone"
        return self._authorized("MESSAGE", uri, call_id, [], tag="m", body=text,
                                content_type=content_type, proxy=True)  # fmt: skip

    def _authorized(
        self,
        method: str,
        uri: str,
        call_id: str,
        extra: list[str],
        *,
        tag: str,
        body: str = "",
        content_type: str = "",
        proxy: bool = False,
    ) -> int:
        """Send an out-of-dialog request, once more with credentials if challenged (401, or
        407 when `proxy`); the final status."""
        challenge, answer = ("Proxy-Authenticate", "Proxy-Authorization") if proxy else (
            "WWW-Authenticate", "Authorization")  # fmt: skip
        authorization = None
        status = 0
        for _ in range(2):
            lines = [
                f"{method} {uri} SIP/2.0", self._via(),
                f"From: <sip:{self.user}@{self.domain}>;tag={tag}", f"To: <{uri}>",
                f"Call-ID: {call_id}", f"CSeq: {next(self.cseq)} {method}", "Max-Forwards: 70",
                *extra,
            ]  # fmt: skip
            if authorization:
                lines.append(f"{answer}: {authorization}")
            self.send(lines, body, content_type)
            self.switch.run()
            final = self.last_final(method, call_id)
            assert final is not None, f"no answer to {method}"
            status = final.status
            if status != (407 if proxy else 401) or authorization:
                break
            authorization = self.digest.authorization(
                self.digest.choose_challenge(final.headers.get_all(challenge)),
                method=method, uri=uri, username=self.user, password=self.password,
            )  # fmt: skip
        return status

    def lamp(self) -> tuple[int, int]:
        """(new, old) messages as the last NOTIFY said (RFC 3842)."""
        from vaxel.sip.mwi import parse_message_summary

        notify = self.requests("NOTIFY")[-1]
        voice = parse_message_summary(notify.body).voice
        return (voice.new, voice.old) if voice is not None else (0, 0)

    # -- being called --------------------------------------------------------------------

    def ringing(self) -> Request | None:
        """The INVITE ringing this phone now (not yet answered or refused), if any."""
        for invite in reversed(self.invites):
            if invite.call_id not in self.done:
                return invite
        return None

    def pick_up(self, headers: Iterable[str] = ()) -> None:
        invite = self.ringing()
        assert invite is not None, f"{self.user} is not ringing"
        self.reply(invite, 200, self.sdp(), headers)
        self.switch.run()

    def refuse(self, status: int = 486) -> None:
        invite = self.ringing()
        assert invite is not None, f"{self.user} is not ringing"
        self.reply(invite, status)
        self.switch.run()

    # -- media -------------------------------------------------------------------------------

    @property
    def endpoint(self) -> MemoryEndpoint:
        """The switch's media endpoint facing this phone."""
        found = self.switch.media.facing((self.host, self.media_port))
        assert found is not None, f"no media towards {self.user}"
        return found

    def press(self, keys: str) -> None:
        for key in keys:
            self.endpoint.press(key)
            self.switch.run()

    def say(self, samples: Samples) -> None:
        self.endpoint.say(samples)

    def heard(self) -> Samples:
        return self.endpoint.audio()
