"""The registrar (P3, RFC 3261 §10.3): binds a user's devices to their address.

A user may have several devices at once (mobile app, softphone, desk
phone); each REGISTER adds, refreshes or removes bindings, and the 200 OK
lists every current one. The location table lives in memory for the call
path and is written through to the store so it survives a restart. A device
that appears, is removed or expires is a live event on the bus (P8), built
only while someone watches the user's company: a refresh publishes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache
from typing import Protocol

from vaxel.bus import Bus, DeviceRegistration
from vaxel.services.registrations import Binding
from vaxel.services.users import SipUser
from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.headers import NameAddr
from vaxel.sip.message import Request, Response, make_response
from vaxel.transport.base import Source

# __init__s are written out: mypyc compiles them, not the dataclass-generated ones.


OUT_OF_ORDER = "Server Internal Error (CSeq out of order)"
#: How a binding's `received` starts when it is a WebSocket's flow (transport/ws.py).
WS_FLOWS = ("ws:", "wss:")


class Persist(Protocol):
    """Where bindings are stored (`services.registrations.WriteBehind`)."""

    def __call__(self, company_id: int, user_id: int, bindings: list[Binding]) -> bool:
        """Queue a user's bindings; True when the answer must wait until they are stored."""
        ...

    def after_write(self, done: Callable[[bool], None]) -> None:
        """Run `done(stored)` once what is queued now is committed (or failed)."""
        ...


@dataclass(frozen=True, slots=True)
class RegistrarPolicy:
    min_expires: int = 60
    max_expires: int = 3600
    default_expires: int = 3600
    max_contacts: int = 10

    def __init__(
        self,
        min_expires: int = 60,
        max_expires: int = 3600,
        default_expires: int = 3600,
        max_contacts: int = 10,
    ) -> None:
        object.__setattr__(self, "min_expires", min_expires)
        object.__setattr__(self, "max_expires", max_expires)
        object.__setattr__(self, "default_expires", default_expires)
        object.__setattr__(self, "max_contacts", max_contacts)


class Location:
    """The in-memory location service: current bindings per user id.

    Bindings over a WebSocket are also indexed by their flow (`received`), so a
    WebSocket that closes finds its bindings at once (`drop_flow`); a WebSocket flow
    never comes back, unlike a UDP address or a TCP client that reconnects."""

    def __init__(self, bindings: dict[int, list[Binding]] | None = None) -> None:
        self._bindings: dict[int, list[Binding]] = bindings or {}
        self._flows: dict[str, set[int]] = {}  # a WebSocket flow -> users bound over it
        for user_id, user_bindings in self._bindings.items():
            self._index(user_id, user_bindings)

    def current(self, user_id: int, now: float) -> list[Binding]:
        return [b for b in self._bindings.get(user_id, ()) if b.expires_at > now]

    def replace(self, user_id: int, bindings: list[Binding]) -> None:
        before = self._bindings.get(user_id)
        if before is not None and self._flows:
            self._unindex(user_id, before)
        if bindings:
            self._bindings[user_id] = bindings
            self._index(user_id, bindings)
        else:
            self._bindings.pop(user_id, None)

    def drop_flow(self, received: str) -> list[tuple[int, list[Binding]]]:
        """Remove the bindings over one flow (it failed); (user id, what was dropped) each."""
        dropped: list[tuple[int, list[Binding]]] = []
        for user_id in sorted(self._flows.get(received, ())):
            bindings = self._bindings.get(user_id, [])
            gone = [b for b in bindings if b.received == received]
            self.replace(user_id, [b for b in bindings if b.received != received])
            if gone:
                dropped.append((user_id, gone))
        return dropped

    def everything(self, user_id: int) -> list[Binding]:
        """A user's bindings as held, expired ones included until the next sweep."""
        return list(self._bindings.get(user_id, ()))

    def _index(self, user_id: int, bindings: list[Binding]) -> None:
        for binding in bindings:
            if binding.received.startswith(WS_FLOWS):
                self._flows.setdefault(binding.received, set()).add(user_id)

    def _unindex(self, user_id: int, bindings: list[Binding]) -> None:
        for binding in bindings:
            users = self._flows.get(binding.received)
            if users is not None:
                users.discard(user_id)
                if not users:
                    del self._flows[binding.received]

    def devices(self) -> int:
        """How many bindings are held (expired ones until the next sweep), for metrics."""
        return sum(len(bindings) for bindings in self._bindings.values())

    def expire(
        self, now: float, dropped: Callable[[int, list[Binding]], None] | None = None
    ) -> list[int]:
        """Drop expired bindings; return the users whose bindings changed (and hand each
        user's dropped bindings to `dropped`)."""
        changed = []
        for user_id, bindings in list(self._bindings.items()):
            alive = [b for b in bindings if b.expires_at > now]
            if len(alive) != len(bindings):
                changed.append(user_id)
                self.replace(user_id, alive)
                if dropped is not None:
                    dropped(user_id, [b for b in bindings if b.expires_at <= now])
        return changed


def _reg_id(contact: NameAddr) -> int | None:
    value = contact.params.get("reg-id")
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _same_contact(a: Binding, b_contact: str, instance: str | None, reg_id: int | None) -> bool:
    if instance is not None and a.instance_id == instance:
        return a.reg_id == reg_id
    return a.contact == b_contact


def _contact_key(na: NameAddr) -> str:
    return str(na.uri)


class Registrar:
    def __init__(
        self,
        location: Location,
        persist: Persist,
        policy: RegistrarPolicy,
        bus: Bus | None = None,
    ) -> None:
        self.location = location
        self.persist = persist
        self.policy = policy
        self.bus = bus  # devices registered and gone, as live events (P8)
        # user id -> (company id, extension), learnt from REGISTERs: whose binding expired
        # or went with its flow.
        self._owners: dict[int, tuple[int, str]] = {}

    def register(
        self, request: Request, user: SipUser, source: Source, now: float
    ) -> tuple[Response, bool]:
        """Apply an authenticated REGISTER for `user`: the final response, and whether it
        must wait until the bindings are stored (`persist.after_write`)."""
        try:
            contacts = request.contacts
            header_expires = self._expires_header(request)
        except RemoteProtocolError as exc:
            return make_response(request, exc.status, exc.reason), False
        current = self.location.current(user.user_id, now)
        if any(c.wildcard for c in contacts):
            if len(contacts) != 1 or header_expires != 0:
                refusal = make_response(request, 400, "Bad Request (wildcard needs Expires: 0)")
                return refusal, False
            return self._commit(request, user, [], now, current)
        updated = list(current)
        for contact in contacts:
            try:
                expires = self._expires_of(contact, header_expires)
            except RemoteProtocolError as exc:
                return make_response(request, exc.status, exc.reason), False
            if 0 < expires < self.policy.min_expires:
                response = make_response(request, 423)
                response.headers.add("Min-Expires", str(self.policy.min_expires))
                return response, False
            expires = min(expires, self.policy.max_expires)
            key = _contact_key(contact)
            instance = contact.params.get("+sip.instance")
            reg_id = _reg_id(contact)
            existing = next((b for b in updated if _same_contact(b, key, instance, reg_id)), None)
            if existing is not None:
                if existing.call_id == request.call_id and existing.cseq >= request.cseq.number:
                    refusal = make_response(
                        request, 500, "Server Internal Error (CSeq out of order)"
                    )
                    return refusal, False
                updated.remove(existing)
            if expires == 0:
                continue
            updated.append(
                Binding(
                    contact=key,
                    expires_at=now + expires,
                    q=_q_value(contact),
                    call_id=request.call_id,
                    cseq=request.cseq.number,
                    instance_id=instance,
                    reg_id=reg_id,
                    received=str(source),
                    path=tuple(request.headers.values("Path")),
                    user_agent=(request.headers.get("User-Agent") or "")[:200],
                )
            )
        if len(updated) > self.policy.max_contacts:
            return make_response(request, 403, "Forbidden (too many devices)"), False
        return self._commit(request, user, updated, now, current)

    def expire(self, now: float) -> list[int]:
        """Drop expired bindings (telling the bus); return the users whose bindings changed."""
        bus = self.bus
        if bus is None:
            return self.location.expire(now)
        owners = self._owners

        def dropped(user_id: int, bindings: list[Binding]) -> None:
            owner = owners.get(user_id)
            if owner is None or not bus.wants(owner[0]):
                return
            for binding in bindings:
                bus.publish(
                    DeviceRegistration(
                        owner[0], owner[1], "expired", binding.contact, binding.user_agent,
                        None, now,
                    )
                )  # fmt: skip

        return self.location.expire(now, dropped)

    def flow_failed(self, source: Source, now: float) -> list[int]:
        """The flow `source` failed (its WebSocket closed, RFC 5626 §4.4): the bindings
        registered over it are dropped (and stored so), and told as `disconnected`, so no
        call rings them; return the users whose bindings changed."""
        changed: list[int] = []
        bus = self.bus
        for user_id, gone in self.location.drop_flow(str(source)):
            changed.append(user_id)
            owner = self._owners.get(user_id)
            if owner is None:
                continue  # not registered in this run: nothing of it was stored by us
            self.persist(owner[0], user_id, self.location.everything(user_id))
            if bus is None or not bus.wants(owner[0]):
                continue
            for binding in gone:
                bus.publish(
                    DeviceRegistration(
                        owner[0], owner[1], "disconnected", binding.contact,
                        binding.user_agent, None, now,
                    )
                )  # fmt: skip
        return changed

    def _commit(
        self,
        request: Request,
        user: SipUser,
        bindings: list[Binding],
        now: float,
        before: list[Binding],
    ) -> tuple[Response, bool]:
        self.location.replace(user.user_id, bindings)
        self._owners[user.user_id] = (user.company_id, user.extension)
        bus = self.bus
        if bus is not None and bus.wants(user.company_id):
            _report(bus, user, before, bindings, now)
        waits = self.persist(user.company_id, user.user_id, bindings)
        response = make_response(request, 200)
        for binding in bindings:
            remaining = max(0, int(binding.expires_at - now + 0.5))
            extra = ""
            if binding.instance_id is not None:  # RFC 5626 §6: echo the device's identity
                extra = f";+sip.instance={binding.instance_id}"
                if binding.reg_id is not None:
                    extra += f";reg-id={binding.reg_id}"
            response.headers.add("Contact", f"<{binding.contact}>;expires={remaining}{extra}")
        response.headers.add("Date", _http_date(int(now)))
        return response, waits

    @staticmethod
    def _expires_header(request: Request) -> int | None:
        value = request.headers.get("Expires")
        if value is None:
            return None
        value = value.strip()
        if not value.isdigit():
            raise RemoteProtocolError("bad Expires header")
        return min(int(value), 2**32 - 1)

    def _expires_of(self, contact: NameAddr, header_expires: int | None) -> int:
        value = contact.params.get("expires")
        if value is not None:
            if not value.isdigit():
                raise RemoteProtocolError("bad expires parameter")
            return min(int(value), 2**32 - 1)
        return self.policy.default_expires if header_expires is None else header_expires


def _report(
    bus: Bus, user: SipUser, before: list[Binding], after: list[Binding], now: float
) -> None:
    """Devices that came and went in one REGISTER (a refresh is neither)."""
    old = {binding.contact for binding in before}
    new = {binding.contact for binding in after}
    for binding in before:
        if binding.contact not in new:
            bus.publish(
                DeviceRegistration(
                    user.company_id, user.extension, "unregistered", binding.contact,
                    binding.user_agent, None, now,
                )
            )  # fmt: skip
    for binding in after:
        if binding.contact not in old:
            bus.publish(
                DeviceRegistration(
                    user.company_id, user.extension, "registered", binding.contact,
                    binding.user_agent, binding.expires_at, now,
                )
            )  # fmt: skip


@lru_cache(maxsize=4)
def _http_date(second: int) -> str:
    """The Date header (RFC 3261 §20.17) for one second; formatted once per second."""
    return formatdate(second, usegmt=True)


def _q_value(contact: NameAddr) -> float:
    try:
        return max(0.0, min(1.0, float(contact.params.get("q") or 1.0)))
    except ValueError:
        return 1.0
