"""A small SIP user agent for tests that need more control than SIPp scenarios give.

It speaks real SIP over a real socket to the running switch; digest answers
come from `vaxel.sip.digest.DigestClient`, itself checked against the RFC
7616 vectors.
"""

from __future__ import annotations

import itertools
import secrets

from tests.integration.peers import Server, SipSocket
from vaxel.sip.digest import DigestClient
from vaxel.sip.message import Response, parse_message


class RegisterClient:
    """Sends REGISTERs for one user from one socket (one device)."""

    def __init__(self, server: Server, user: str, password: str, domain: str) -> None:
        self.server = server
        self.user = user
        self.password = password
        self.domain = domain
        self.sock = SipSocket(server)
        self.call_id = f"{secrets.token_hex(8)}@test"
        self.cseq = itertools.count(1)
        self.digest = DigestClient()
        self.tag = secrets.token_hex(4)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RegisterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, headers: list[str], authorization: str | None = None) -> bytes:
        host = self.server.host
        lines = [
            f"REGISTER sip:{self.domain} SIP/2.0",
            f"Via: SIP/2.0/UDP {host}:{self.sock.port};branch=z9hG4bK{secrets.token_hex(6)};rport",
            f"From: <sip:{self.user}@{self.domain}>;tag={self.tag}",
            f"To: <sip:{self.user}@{self.domain}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {next(self.cseq)} REGISTER",
            "Max-Forwards: 70",
            *headers,
        ]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        lines += ["Content-Length: 0", "", ""]
        return "\r\n".join(lines).encode()

    def exchange(self, data: bytes) -> Response:
        self.sock.send(data)
        reply = self.sock.recv()
        assert reply is not None, "no answer from the switch"
        message = parse_message(reply)
        assert isinstance(message, Response)
        return message

    def register(
        self,
        *,
        contact: str | None = None,
        expires: int | None = 3600,
        headers: list[str] | None = None,
        password: str | None = None,
    ) -> Response:
        """REGISTER, answer the challenge, return the final response."""
        extra = list(headers or [])
        if contact is not None:
            extra.append(f"Contact: {contact}")
        if expires is not None:
            extra.append(f"Expires: {expires}")
        first = self.exchange(self.request(extra))
        if first.status != 401:
            return first
        challenge = self.digest.choose_challenge(first.headers.get_all("WWW-Authenticate"))
        authorization = self.digest.authorization(
            challenge,
            method="REGISTER",
            uri=f"sip:{self.domain}",
            username=self.user,
            password=self.password if password is None else password,
        )
        return self.exchange(self.request(extra, authorization))

    def contact(self, port: int | None = None) -> str:
        return f"<sip:{self.user}@127.0.0.1:{port or self.sock.port}>"
