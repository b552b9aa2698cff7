"""A scriptable SIP phone for call tests that need more control than SIPp gives.

One UDP socket per phone: it registers from it, calls from it and is called
on it, as a desk phone does. Requests and responses are written out here by
hand; digest answers come from `vaxel.sip.digest.DigestClient`.
"""

from __future__ import annotations

import itertools
import secrets
import time

from tests.integration.peers import Server, SipSocket
from vaxel.sip.digest import DigestClient
from vaxel.sip.message import Request, Response, StreamFramer, make_response, parse_message

SDP = (
    "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na={direction}\r\n"
)


def sdp(port: int = 40000, direction: str = "sendrecv") -> str:
    return SDP.format(port=port, direction=direction)


# What a browser answers (U1): DTLS-SRTP with ICE, RTCP on the RTP port. Only signalling
# is tested with it: this phone runs neither ICE nor DTLS.
BROWSER_SDP = (
    "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} UDP/TLS/RTP/SAVPF 8 0 101\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
    "a=ice-ufrag:tab1\r\na=ice-pwd:tab-ice-password-0123456789\r\n"
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n"
    "a=setup:active\r\na=rtcp-mux\r\na={direction}\r\n"
)


def browser_sdp(port: int = 40000, direction: str = "sendrecv") -> str:
    return BROWSER_SDP.format(port=port, direction=direction)


class Phone:
    def __init__(
        self,
        server: Server,
        user: str,
        password: str,
        domain: str,
        transport: str = "udp",
        port: int = 0,
    ) -> None:
        self.server, self.user, self.password, self.domain = server, user, password, domain
        self.sock = SipSocket(server, transport, port)
        self.port = self.sock.port
        self.transport = transport.upper()
        self.framer = StreamFramer() if transport == "tcp" else None
        suffix = ";transport=tcp" if transport == "tcp" else ""
        self.contact = f"<sip:{user}@127.0.0.1:{self.port}{suffix}>"
        self.cseq = itertools.count(1)
        self.digest = DigestClient()
        self.tag = secrets.token_hex(4)
        self.pending: list[Request | Response] = []
        # The dialog of the current call: (Call-ID, local tag, remote tag, remote URI, cseq).
        self.call_id = ""
        self.remote_tag = ""
        self.remote_target = ""
        self.local_uri = f"<sip:{user}@{domain}>"
        self.remote_uri = ""
        self.last_sent = b""

    def close(self) -> None:
        self.sock.close()

    # -- wire ------------------------------------------------------------------

    def send(self, lines: list[str], body: str = "") -> None:
        data = "\r\n".join([*lines, f"Content-Length: {len(body.encode())}", "", body])
        self.last_sent = data.encode()  # to retransmit it byte for byte
        self.sock.send(self.last_sent)

    def _via(self) -> str:
        branch = f"z9hG4bK{secrets.token_hex(6)}"
        return f"Via: SIP/2.0/{self.transport} 127.0.0.1:{self.port};branch={branch};rport"

    def _read(self, timeout: float) -> Request | Response | None:
        if self.framer is None:
            data = self.sock.recv(max(0.01, timeout))
            return None if data is None else parse_message(data)
        deadline = time.monotonic() + timeout
        while True:
            frame = self.framer.next()
            if frame is not None and frame.strip():
                return parse_message(frame, stream=True)
            if frame is not None:
                continue  # a keep-alive
            remaining = deadline - time.monotonic()
            data = self.sock.recv(remaining) if remaining > 0 else None
            if not data:
                return None
            self.framer.feed(data)

    def wait_response(self, method: str, timeout: float = 5.0, final: bool = True) -> Response:
        """The next response to `method` (final ones only, unless `final` is False).

        Requests arriving meanwhile are kept for `wait_request`.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self._read(deadline - time.monotonic())
            if message is None:
                break
            if isinstance(message, Request):
                self.pending.append(message)
            elif message.cseq.method == method and (message.status >= 200 or not final):
                return message
        raise AssertionError(f"no response to {method}")

    def wait_request(self, method: str, timeout: float = 5.0) -> Request:
        for message in self.pending:
            if isinstance(message, Request) and message.method == method:
                self.pending.remove(message)
                return message
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self._read(deadline - time.monotonic())
            if isinstance(message, Request):
                if message.method == method:
                    return message
                self.pending.append(message)
        raise AssertionError(f"no {method} arrived")

    def reply(self, request: Request, status: int, body: str = "", headers: list[str] = ()) -> None:
        response = make_response(
            request, status, to_tag=self.tag if request.to.tag is None else None
        )
        if status < 300 and request.method == "INVITE":
            response.headers.add("Contact", self.contact)
        for header in headers:
            name, _, value = header.partition(":")
            response.headers.add(name.strip(), value.strip())
        if body:
            response.headers.add("Content-Type", "application/sdp")
            response.body = body.encode()
        self.sock.send(bytes(response))
        if request.method == "INVITE" and status < 300:
            self.call_id, self.remote_tag = request.call_id, request.from_.tag or ""
            self.remote_target = str(request.contacts[0].uri)
            self.remote_uri = str(request.from_.uri)
            self.local_uri = f"<{request.to.uri}>"

    # -- REGISTER ----------------------------------------------------------------

    def register(self, expires: int = 3600, contact: str | None = None) -> Response:
        """REGISTER this phone (or `contact`, e.g. "*" to remove every binding)."""
        call_id = f"{secrets.token_hex(8)}@phone"
        authorization = None
        for _ in range(2):
            lines = [
                f"REGISTER sip:{self.domain} SIP/2.0", self._via(),
                f"From: <sip:{self.user}@{self.domain}>;tag={self.tag}",
                f"To: <sip:{self.user}@{self.domain}>", f"Call-ID: {call_id}",
                f"CSeq: {next(self.cseq)} REGISTER", "Max-Forwards: 70",
                f"Contact: {contact or self.contact}", f"Expires: {expires}",
            ]  # fmt: skip
            if authorization:
                lines.append(f"Authorization: {authorization}")
            self.send(lines)
            response = self.wait_response("REGISTER")
            if response.status != 401:
                return response
            challenge = self.digest.choose_challenge(response.headers.get_all("WWW-Authenticate"))
            authorization = self.digest.authorization(
                challenge, method="REGISTER", uri=f"sip:{self.domain}", username=self.user,
                password=self.password,
            )  # fmt: skip
        return response

    def subscribe(self, event: str = "message-summary", expires: int = 600) -> Response:
        """SUBSCRIBE to our own voicemail box (RFC 3842), answering the 401."""
        call_id = f"{secrets.token_hex(8)}@phone"
        authorization = None
        uri = f"sip:{self.user}@{self.domain}"
        for _ in range(2):
            lines = [
                f"SUBSCRIBE {uri} SIP/2.0", self._via(),
                f"From: <{uri}>;tag={self.tag}", f"To: <{uri}>", f"Call-ID: {call_id}",
                f"CSeq: {next(self.cseq)} SUBSCRIBE", "Max-Forwards: 70",
                f"Contact: {self.contact}", f"Event: {event}", f"Expires: {expires}",
                "Accept: application/simple-message-summary",
            ]  # fmt: skip
            if authorization:
                lines.append(f"Authorization: {authorization}")
            self.send(lines)
            response = self.wait_response("SUBSCRIBE")
            if response.status != 401:
                return response
            challenge = self.digest.choose_challenge(response.headers.get_all("WWW-Authenticate"))
            authorization = self.digest.authorization(
                challenge, method="SUBSCRIBE", uri=uri, username=self.user,
                password=self.password,
            )  # fmt: skip
        return response

    # -- calls -----------------------------------------------------------------------

    def invite(
        self, callee: str, body: str = "", headers: list[str] = (), ack: bool = True
    ) -> Response:
        """Call `callee`, answering the 407; return the final response (ACKed if `ack`)."""
        self.call_id = f"{secrets.token_hex(8)}@phone"
        self.challenged = False
        target = f"sip:{callee}@{self.domain}"
        authorization = None
        for _ in range(2):
            cseq = next(self.cseq)
            via = self._via()
            lines = [
                f"INVITE {target} SIP/2.0", via,
                f"From: <sip:{self.user}@{self.domain}>;tag={self.tag}", f"To: <{target}>",
                f"Call-ID: {self.call_id}", f"CSeq: {cseq} INVITE",
                f"Contact: {self.contact}", *headers,
            ]  # fmt: skip
            if "Max-Forwards" not in "".join(headers):
                lines.append("Max-Forwards: 70")
            if authorization:
                lines.append(f"Proxy-Authorization: {authorization}")
            if body:
                lines.append("Content-Type: application/sdp")
            self.send(lines, body)
            response = self.wait_response("INVITE", timeout=10)
            if response.status >= 300:
                self.send([
                    f"ACK {target} SIP/2.0", via,
                    f"From: <sip:{self.user}@{self.domain}>;tag={self.tag}",
                    f"To: {response.headers.get('To')}", f"Call-ID: {self.call_id}",
                    f"CSeq: {cseq} ACK", "Max-Forwards: 70",
                ])  # fmt: skip
            if response.status != 407:
                break
            self.challenged = True  # the switch asked for a password (a carrier is not asked)
            challenge = self.digest.choose_challenge(response.headers.get_all("Proxy-Authenticate"))
            authorization = self.digest.authorization(
                challenge, method="INVITE", uri=target, username=self.user, password=self.password
            )
        if 200 <= response.status < 300:
            self.remote_tag = response.to.tag or ""
            self.remote_target = str(response.contacts[0].uri)
            self.remote_uri = f"<{target}>"
            self.invite_cseq = cseq
            if ack:
                self.ack()
        return response

    def ack(self) -> None:
        self.send([
            f"ACK {self.remote_target} SIP/2.0", self._via(),
            f"From: {self.local_uri};tag={self.tag}",
            f"To: {self.remote_uri};tag={self.remote_tag}",
            f"Call-ID: {self.call_id}", f"CSeq: {self.invite_cseq} ACK", "Max-Forwards: 70",
        ])  # fmt: skip

    def request(
        self, method: str, body: str = "", content_type: str = "application/sdp"
    ) -> Response:
        """An in-dialog request of the current call; returns its final response."""
        cseq = next(self.cseq) + 100
        lines = [
            f"{method} {self.remote_target} SIP/2.0", self._via(),
            f"From: {self.local_uri};tag={self.tag}",
            f"To: {self.remote_uri};tag={self.remote_tag}",
            f"Call-ID: {self.call_id}", f"CSeq: {cseq} {method}", "Max-Forwards: 70",
            f"Contact: {self.contact}",
        ]  # fmt: skip
        if body:
            lines.append(f"Content-Type: {content_type}")
        self.send(lines, body)
        response = self.wait_response(method)
        if method == "INVITE" and response.status < 300:
            self.invite_cseq = cseq
            self.ack()
        return response
