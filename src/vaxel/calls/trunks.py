"""Registering with carriers (P6): a trunk with `registration` gets a REGISTER from the switch,
answered with digest credentials when challenged, refreshed before it expires, and retried
after a failure. Trunks without it are reached by address alone.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from vaxel.calls.api import Timer
from vaxel.calls.signalling import Signalling
from vaxel.services.company_config import TrunkConfig
from vaxel.sip.digest import DigestClient
from vaxel.sip.errors import SipError
from vaxel.sip.events import Event, ResponseReceived, TransactionTimeout
from vaxel.sip.message import Headers, Request
from vaxel.sip.uri import parse_uri
from vaxel.transport.base import Source

log = logging.getLogger(__name__)

RETRY_AFTER = 30.0  # seconds after a failed registration


@dataclass(eq=False)
class Registration:
    """One trunk's registration and where it stands."""

    key: tuple[int, str]  # (company id, trunk name)
    trunk: TrunkConfig
    call_id: str = field(default_factory=lambda: f"{secrets.token_hex(12)}@vaxel")
    tag: str = field(default_factory=lambda: secrets.token_hex(6))
    cseq: int = 0
    state: str = "new"  # new, registering, registered, failed
    expires_at: float = 0.0
    timer: Timer | None = None
    challenged: bool = False


class TrunkRegistrations:
    def __init__(
        self,
        sender: Signalling,
        *,
        clock: Callable[[], float],
        after: Callable[[float, Callable[[], None]], Timer],
    ) -> None:
        self.sender = sender
        self.clock = clock
        self.after = after
        self.registrations: dict[tuple[int, str], Registration] = {}

    def sync(self, trunks: dict[tuple[int, str], TrunkConfig]) -> None:
        """Start registering new trunks, stop (unregister) removed ones, keep the rest."""
        wanted = {key: trunk for key, trunk in trunks.items() if trunk.registration is not None}
        for key in list(self.registrations):
            current = self.registrations[key]
            if key not in wanted or wanted[key] != current.trunk:
                self._stop(current)
        for key, trunk in wanted.items():
            if key not in self.registrations:
                registration = Registration(key, trunk)
                self.registrations[key] = registration
                self._register(registration)

    def _stop(self, registration: Registration) -> None:
        del self.registrations[registration.key]
        if registration.timer is not None:
            registration.timer.cancel()
        if registration.state == "registered":
            self._register(registration, expires=0)

    def _register(
        self, registration: Registration, *, expires: int | None = None, authorization: str = ""
    ) -> None:
        trunk = registration.trunk
        assert trunk.registration is not None
        expires = trunk.registration.expires if expires is None else expires
        domain = trunk.domain or trunk.host
        aor = f"sip:{trunk.registration.username}@{domain}"
        registration.cseq += 1
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<{aor}>;tag={registration.tag}")
        headers.add("To", f"<{aor}>")
        headers.add("Call-ID", registration.call_id)
        headers.add("CSeq", f"{registration.cseq} REGISTER")
        contact = self.sender.contact(trunk.transport.upper())
        user_contact = contact.replace("sip:vaxel@", f"sip:{trunk.registration.username}@")
        headers.add("Contact", user_contact)
        headers.add("Expires", str(expires))
        if authorization:
            headers.add("Authorization", authorization)
        request = Request("REGISTER", parse_uri(f"sip:{domain}"), headers)
        registration.state = "registering"
        destination = Source(trunk.transport.upper(), trunk.host, trunk.port)
        self.sender.send_request(
            request, destination, lambda event: self._answered(registration, request, event)
        )

    def _answered(self, registration: Registration, request: Request, event: Event) -> None:
        if registration.key not in self.registrations:
            return  # stopped meanwhile (this was the unregistration)
        if isinstance(event, TransactionTimeout):
            self._failed(registration, "no answer")
            return
        if not isinstance(event, ResponseReceived):
            return
        response = event.response
        if response.status < 200:
            return
        trunk = registration.trunk
        assert trunk.registration is not None
        if response.status in (401, 407) and not registration.challenged:
            header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
            client = DigestClient()
            try:
                challenge = client.choose_challenge(response.headers.get_all(header))
                value = client.authorization(
                    challenge,
                    method="REGISTER",
                    uri=str(request.uri),
                    username=trunk.registration.username,
                    password=trunk.registration.password or "",
                )
            except (SipError, ValueError) as exc:
                self._failed(registration, f"cannot answer the challenge: {exc}")
                return
            registration.challenged = True
            self._register(registration, authorization=value)
            return
        registration.challenged = False
        if 200 <= response.status < 300:
            expires = self._granted(response) or trunk.registration.expires
            registration.state = "registered"
            registration.expires_at = self.clock() + expires
            # Refresh well before it runs out (at most half way, at least 5 s before).
            registration.timer = self.after(
                max(5.0, min(expires / 2, expires - 5)), lambda: self._register(registration)
            )
            return
        self._failed(registration, f"{response.status} {response.reason}")

    @staticmethod
    def _granted(response: object) -> int | None:
        headers = getattr(response, "headers", None)
        value = headers.get("Expires") if headers is not None else None
        return int(value) if value and value.strip().isdigit() else None

    def _failed(self, registration: Registration, why: str) -> None:
        registration.state = "failed"
        registration.challenged = False
        log.warning("trunk %s of company %s: registration failed (%s)", registration.key[1],
                    registration.key[0], why)  # fmt: skip
        registration.timer = self.after(RETRY_AFTER, lambda: self._register(registration))
