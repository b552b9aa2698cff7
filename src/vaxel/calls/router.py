"""Where a call goes: the dialled extension of the caller's own company, and its devices (P3).

A call is routed only within the caller's company. An extension that does
not exist and a user of another company get the same 404, so a caller
learns nothing about other tenants. Devices are reached at the address
their REGISTER came from (RFC 3581 / NAT), never at a host name taken from
a Contact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vaxel.calls.api import NOT_FOUND, UNAVAILABLE, Cause
from vaxel.calls.registrar import Location
from vaxel.services.users import SipUser
from vaxel.sip.message import Request
from vaxel.sip.uri import SipURI
from vaxel.transport.base import Source

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.

DEFAULT_RING_SECONDS = 30


@dataclass(frozen=True, slots=True)
class Target:
    """One device or peer to ring: where to send the INVITE, and what it says.

    A user's phone is reached at the address its registration came from; a
    trunk at its configured address, answering its digest challenges with
    `credentials`.
    """

    uri: str  # the Request-URI
    destination: Source
    label: str  # who is rung: an extension, or the number dialled out
    display_name: str = ""
    to_uri: str | None = None  # the To header's URI; default: the Request-URI
    domain: str = ""  # the caller's From domain on this leg
    user: SipUser | None = None
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
        user: SipUser | None = None,
        credentials: tuple[str, str] | None = None,
        caller_id: str | None = None,
    ) -> None:
        object.__setattr__(self, "uri", uri)
        object.__setattr__(self, "destination", destination)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "display_name", display_name)
        object.__setattr__(self, "to_uri", to_uri)
        object.__setattr__(self, "domain", domain)
        object.__setattr__(self, "user", user)
        object.__setattr__(self, "credentials", credentials)
        object.__setattr__(self, "caller_id", caller_id)


@dataclass(frozen=True, slots=True)
class Route:
    """The outcome of routing: devices to ring for how long, or the cause to refuse with."""

    dialled: str
    targets: tuple[Target, ...] = ()
    ring_seconds: int = DEFAULT_RING_SECONDS
    refusal: Cause | None = None
    callee: SipUser | None = None

    def __init__(
        self,
        dialled: str,
        targets: tuple[Target, ...] = (),
        ring_seconds: int = DEFAULT_RING_SECONDS,
        refusal: Cause | None = None,
        callee: SipUser | None = None,
    ) -> None:
        object.__setattr__(self, "dialled", dialled)
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "ring_seconds", ring_seconds)
        object.__setattr__(self, "refusal", refusal)
        object.__setattr__(self, "callee", callee)


def parse_source(text: str) -> Source | None:
    """A binding's `received` ("udp:127.0.0.1:5062", "tcp:[::1]:5070") as a Source."""
    transport, _, rest = text.partition(":")
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit() or transport.upper() not in ("UDP", "TCP"):
        return None
    return Source(transport.upper(), host.strip("[]"), int(port))


def device_target(user: SipUser, contact: str, destination: Source) -> Target:
    return Target(
        uri=contact,
        destination=destination,
        label=user.extension,
        display_name=user.display_name,
        to_uri=f"sip:{user.extension}@{user.company_domain}",
        domain=user.company_domain,
        user=user,
    )


class Router:
    """Routes an authenticated caller's INVITE to the devices of a user of the same company."""

    def __init__(
        self,
        users: Callable[[str, str], SipUser | None],
        location: Location,
        is_local: Callable[[str], bool],
    ) -> None:
        self.users = users
        self.location = location
        self.is_local = is_local  # hosts that name the switch itself (its IP addresses)

    def devices(self, callee: SipUser, now: float) -> Route:
        """Where a user's phones are now (their live bindings)."""
        targets = []
        for binding in self.location.current(callee.user_id, now):
            destination = parse_source(binding.received)
            if destination is not None:
                targets.append(device_target(callee, binding.contact, destination))
        if not targets:
            return Route(callee.extension, refusal=UNAVAILABLE, callee=callee)
        return Route(callee.extension, tuple(targets), callee.ring_seconds, callee=callee)

    def route(self, request: Request, caller: SipUser, now: float) -> Route:
        uri = request.uri
        if not isinstance(uri, SipURI) or not uri.user:
            return Route("", refusal=NOT_FOUND)
        dialled = uri.user
        host = uri.host.lower().strip("[]")
        if host != caller.company_domain and not self.is_local(host):
            return Route(dialled, refusal=NOT_FOUND)  # another company's, or a foreign domain
        callee = self.users(caller.company_domain, dialled)
        if callee is None or callee.company_id != caller.company_id:
            return Route(dialled, refusal=NOT_FOUND)
        route = self.devices(callee, now)
        return Route(dialled, route.targets, route.ring_seconds, route.refusal, callee)
