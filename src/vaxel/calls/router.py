"""Where a call's targets are (P3, P6): a user's registered phones, a number via a trunk.

Features name whom to ring in the call-control API's SIP-free terms
(`api.Device`, `api.Line`); this module finds their SIP addresses when a
leg is dialled. Devices are reached at the address their REGISTER came
from (RFC 3581 / NAT), never at a host name taken from a Contact: over UDP,
or back over the TCP or TLS connection it came on (the flow, RFC 5626). A
binding that asks for TLS (a `sips:` Contact, or `;transport=tls`) is
reached only over a TLS flow, never over a plain one (O2). A trunk is
reached at its configured address, answering its digest challenges with the
trunk's credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from vaxel.calls.api import UNAVAILABLE, Device, Line, Reach, Target
from vaxel.calls.registrar import Location
from vaxel.services.registrations import Binding
from vaxel.services.users import SipUser
from vaxel.transport.base import Source

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.


@dataclass(frozen=True, slots=True)
class SipTarget:
    """One device or peer to ring, in SIP: where the INVITE goes, and what it says."""

    uri: str  # the Request-URI
    destination: Source
    label: str  # who is rung: an extension, or the number dialled out
    display_name: str = ""
    to_uri: str | None = None  # the To header's URI; default: the Request-URI
    domain: str = ""  # the caller's From domain on this leg
    credentials: tuple[str, str] | None = None  # (username, password) for a 401/407
    caller_id: str | None = None  # the number the far end sees (calls out via a trunk)

    def __init__(
        self,
        uri: str,
        destination: Source,
        label: str,
        display_name: str = "",
        to_uri: str | None = None,
        domain: str = "",
        credentials: tuple[str, str] | None = None,
        caller_id: str | None = None,
    ) -> None:
        object.__setattr__(self, "uri", uri)
        object.__setattr__(self, "destination", destination)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "display_name", display_name)
        object.__setattr__(self, "to_uri", to_uri)
        object.__setattr__(self, "domain", domain)
        object.__setattr__(self, "credentials", credentials)
        object.__setattr__(self, "caller_id", caller_id)


#: What a binding's flow may be: a WebSocket's (WS, WSS: P2, U1) is the one its REGISTER
#: came over, used while it is open (calls/registrar.py `flow_failed`).
TRANSPORTS = ("UDP", "TCP", "TLS", "WS", "WSS")


def parse_source(text: str) -> Source | None:
    """A binding's `received` ("udp:127.0.0.1:5062", "tls:[::1]:5071", "ws:127.0.0.1:41000")
    as a Source."""
    transport, _, rest = text.partition(":")
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit() or transport.upper() not in TRANSPORTS:
        return None
    return Source(transport.upper(), host.strip("[]"), int(port))


def wants_tls(contact: str) -> bool:
    """Does a Contact ask to be reached over TLS only (`sips:`, or `;transport=tls`)?"""
    lowered = contact.lower()
    return lowered.startswith("sips:") or ";transport=tls" in lowered


def binding_source(binding: Binding) -> Source | None:
    """Where a binding is reached: its flow, unless it wants TLS and its flow is plain."""
    source = parse_source(binding.received)
    if source is None or (source.transport != "TLS" and wants_tls(binding.contact)):
        return None
    return source


class Trunk(Protocol):
    """A company's trunk as routing needs it (`services.company_config.TrunkConfig`)."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def transport(self) -> str: ...

    @property
    def domain(self) -> str | None: ...

    @property
    def username(self) -> str | None: ...

    @property
    def password(self) -> str | None: ...


class Router:
    """A user's devices now, and the SIP address of any target a feature dials."""

    def __init__(self, location: Location) -> None:
        self.location = location
        self.trunks: Mapping[tuple[int, str], Trunk] = {}  # (company id, name) -> trunk

    def use_trunks(self, trunks: Mapping[tuple[int, str], Trunk]) -> None:
        """The companies' trunks as their descriptions now say (after every reload)."""
        self.trunks = trunks

    def devices(self, user: SipUser, now: float) -> Reach:
        """Where a user's phones are now (their live bindings)."""
        devices = tuple(
            Device(user.user_id, user.extension, user.display_name, user.company_domain, b.contact)
            for b in self.location.current(user.user_id, now)
            if binding_source(b) is not None
        )
        if not devices:
            return Reach(user.extension, refusal=UNAVAILABLE)
        return Reach(user.extension, devices, user.ring_seconds)

    def resolve(self, target: Target, now: float) -> SipTarget | None:
        """The SIP side of `target`, or None when it cannot be reached now."""
        if isinstance(target, Device):
            return self._device(target, now)
        return self._line(target)

    def _device(self, device: Device, now: float) -> SipTarget | None:
        for binding in self.location.current(device.user_id, now):
            if binding.contact == device.binding:
                destination = binding_source(binding)
                if destination is None:
                    return None
                return SipTarget(
                    uri=binding.contact,
                    destination=destination,
                    label=device.extension,
                    display_name=device.name,
                    to_uri=f"sip:{device.extension}@{device.domain}",
                    domain=device.domain,
                )
        return None

    def _line(self, line: Line) -> SipTarget | None:
        trunk = self.trunks.get((line.company_id, line.trunk))
        if trunk is None:
            return None
        host = trunk.domain or trunk.host
        credentials = None
        if trunk.username and trunk.password:
            credentials = (trunk.username, trunk.password)
        return SipTarget(
            uri=f"sip:{line.number}@{host}",
            destination=Source(trunk.transport.upper(), trunk.host, trunk.port),
            label=line.number,
            domain=host,
            credentials=credentials,
            caller_id=line.caller_id,
        )
