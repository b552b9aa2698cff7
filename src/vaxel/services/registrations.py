"""Registrar bindings (P3, O1): persisted so a restart keeps every phone reachable.

The registrar keeps the live location table in memory; it loads everything with
`all_bindings()` at start and writes a user's whole binding set back with
`replace_bindings()` after each REGISTER that changes it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, select
from sqlalchemy.exc import IntegrityError

from vaxel.services.companies import get_company
from vaxel.services.errors import NotFound
from vaxel.store import Registration, Store, User

# Path header values (RFC 3327) are stored one per line: a URI or name-addr never
# holds a raw line break, while it may hold commas.
_PATH_SEPARATOR = "\n"


@dataclass(frozen=True, slots=True)
class Binding:
    """One contact of an address-of-record (RFC 3261 §10.3, RFC 5626 instance/reg-id)."""

    contact: str  # the full Contact URI, parameters included
    expires_at: float  # UTC epoch seconds
    q: float | None
    call_id: str
    cseq: int
    instance_id: str | None = None  # +sip.instance, e.g. "<urn:uuid:...>"
    reg_id: int | None = None
    received: str = ""  # source of the REGISTER: "udp:192.0.2.4:5060"
    path: tuple[str, ...] = ()
    user_agent: str = ""


_COLUMNS = (
    Registration.contact,
    Registration.expires_at,
    Registration.q,
    Registration.call_id,
    Registration.cseq,
    Registration.instance_id,
    Registration.reg_id,
    Registration.received,
    Registration.path,
    Registration.user_agent,
)


def _binding(row: tuple) -> Binding:
    contact, expires_at, q, call_id, cseq, instance_id, reg_id, received, path, user_agent = row
    return Binding(
        contact,
        expires_at,
        q,
        call_id,
        cseq,
        instance_id,
        reg_id,
        received,
        tuple(path.split(_PATH_SEPARATOR)) if path else (),
        user_agent,
    )


def load_bindings(store: Store, user_id: int) -> list[Binding]:
    query = select(*_COLUMNS).where(Registration.user_id == user_id).order_by(Registration.id)
    with store.read() as connection:
        return [_binding(row) for row in connection.execute(query)]


def _rows(company_id: int, user_id: int, bindings: Iterable[Binding], now: float) -> list[dict]:
    return [
        {
            "company_id": company_id,
            "user_id": user_id,
            "contact": b.contact,
            "expires_at": b.expires_at,
            "q": b.q,
            "call_id": b.call_id,
            "cseq": b.cseq,
            "instance_id": b.instance_id,
            "reg_id": b.reg_id,
            "received": b.received,
            "path": _PATH_SEPARATOR.join(b.path),
            "user_agent": b.user_agent,
            "updated_at": now,
        }
        for b in bindings
    ]


def replace_bindings(
    store: Store, company_id: int, user_id: int, bindings: Iterable[Binding]
) -> None:
    """Make `bindings` the user's complete binding set, atomically."""
    try:
        replace_many(store, [(company_id, user_id, list(bindings))])
    except IntegrityError:
        # The composite foreign key refuses a user of another company: say so.
        owner = select(User.id).where(User.id == user_id, User.company_id == company_id)
        with store.read() as connection:
            if connection.execute(owner).first() is None:
                raise NotFound(f"unknown user {user_id} in company {company_id}") from None
        raise


def replace_many(store: Store, changes: Iterable[tuple[int, int, list[Binding]]]) -> None:
    """Replace the binding sets of several users in one transaction.

    The registrar writes behind the in-memory location table in batches, so
    a burst of registrations costs one commit, not one per REGISTER.
    """
    now = time.time()
    changes = list(changes)
    rows = [row for c, u, bindings in changes for row in _rows(c, u, bindings, now)]
    with store.session() as session:
        for company_id in {c for c, _, _ in changes}:
            users = [u for c, u, _ in changes if c == company_id]
            session.execute(
                delete(Registration).where(
                    Registration.company_id == company_id, Registration.user_id.in_(users)
                )
            )
        if rows:
            session.execute(cast(Table, Registration.__table__).insert(), rows)


# Refreshes that only move expiry times are written this often, coalesced;
# a changed set of devices is written at the next flush (~50 ms).
REFRESH_WRITE_INTERVAL = 30.0
BATCH = 200


def _shape(bindings: list[Binding]) -> tuple[tuple[object, ...], ...]:
    """What a binding set routes to: expiry, Call-ID and CSeq (which only order
    the device's own REGISTERs) left out."""
    return tuple(
        (b.contact, b.instance_id, b.reg_id, b.received, b.path, b.q, b.user_agent)
        for b in bindings
    )


def _nothing() -> None:
    pass


class WriteBehind:
    """Collects binding changes and writes them in batches, off the call path.

    The location table in memory is the truth for calls; this keeps the
    database a short step behind it, the way Kamailio's usrloc write-back
    mode does. A new, moved or removed device is written at the next
    `take()` (the caller takes whenever the previous batch is written, writes
    on a worker thread, and flushes on shutdown); a refresh that only extends
    expiry times is coalesced and written every REFRESH_WRITE_INTERVAL.

    Acknowledged means stored (O1): the registrar answers a REGISTER that
    changed the device set only once the batch holding it is committed
    (`after_write`, group commit as databases do), so a switch killed right
    after the 200 still knows the device when it starts again. A refresh is
    answered at once: its device is stored already, and its new expiry at
    most REFRESH_WRITE_INTERVAL behind, which is less than a device with the
    shortest expiry allowed (60 s) leaves itself to refresh.
    """

    def __init__(
        self,
        store: Store,
        *,
        refresh_interval: float = REFRESH_WRITE_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.refresh_interval = refresh_interval
        self.clock = clock
        self._pending: dict[int, tuple[int, list[Binding]]] = {}
        self._refreshed: dict[int, tuple[int, list[Binding]]] = {}
        self._stored: dict[int, tuple[tuple[object, ...], ...]] = {}  # shape written or queued
        self._next_refresh_write = clock() + refresh_interval
        self._waiting: list[Callable[[bool], None]] = []  # told when the next batch is stored
        self.queued: Callable[[], None] = _nothing  # told when a change waits to be written
        self._in_flight: list[Callable[[bool], None]] = []  # told when this batch is stored

    def __call__(self, company_id: int, user_id: int, bindings: list[Binding]) -> bool:
        """Queue a user's bindings; True when they wait for the next batch (a change), False
        for a refresh (coalesced, answered at once)."""
        shape = _shape(bindings)
        entry = (company_id, bindings)
        if user_id in self._pending or self._stored.get(user_id) != shape:
            self._pending[user_id] = entry
            self._refreshed.pop(user_id, None)
            self._stored[user_id] = shape
            self.queued()
            return True
        self._refreshed[user_id] = entry
        return False

    def after_write(self, done: Callable[[bool], None]) -> None:
        """Run `done(stored)` once everything queued so far is committed (or failed)."""
        self._waiting.append(done)

    def written(self, stored: bool) -> None:
        """The batch taken last is committed (or failed): tell who waited for it."""
        waiting, self._in_flight = self._in_flight, []
        for done in waiting:
            done(stored)

    def forget(self, user_ids: list[int]) -> None:
        """The database dropped these users' bindings behind our back (expiry):
        their next change is a change, not a refresh."""
        for user_id in user_ids:
            self._stored.pop(user_id, None)

    @property
    def due(self) -> bool:
        """Is there anything to write now?"""
        return bool(self._pending) or (
            bool(self._refreshed) and self.clock() >= self._next_refresh_write
        )

    def take(self, *, everything: bool = False) -> list[tuple[int, int, list[Binding]]]:
        """Hand over what is due (on the thread that registers).

        Refreshes go out at most BATCH users at a time, so that writing tens
        of thousands of them never holds the interpreter for long.
        """
        batch, self._pending = self._pending, {}
        self._in_flight += self._waiting
        self._waiting = []
        if everything or self.clock() >= self._next_refresh_write:
            refreshed = self._refreshed
            if everything or len(refreshed) <= BATCH:
                batch.update(refreshed)
                self._refreshed = {}
                self._next_refresh_write = self.clock() + self.refresh_interval
            else:
                for user_id in list(refreshed)[:BATCH]:
                    batch[user_id] = refreshed.pop(user_id)
        return [(c, u, b) for u, (c, b) in batch.items()]

    def write(self, changes: list[tuple[int, int, list[Binding]]]) -> None:
        """Write a batch from `take()`; safe on a worker thread, one batch at a time."""
        if not changes:
            return
        try:
            replace_many(self.store, changes)
        except IntegrityError:
            # A user was deleted meanwhile: write the others one by one.
            for company_id, user_id, bindings in changes:
                with contextlib.suppress(NotFound, IntegrityError):
                    replace_bindings(self.store, company_id, user_id, bindings)

    def flush(self) -> None:
        """Write everything now (shutdown)."""
        self.write(self.take(everything=True))
        self.written(True)


def all_bindings(store: Store) -> dict[int, list[Binding]]:
    """Every stored binding by user id (the registrar's state at start-up)."""
    query = select(Registration.user_id, *_COLUMNS).order_by(Registration.id)
    result: dict[int, list[Binding]] = {}
    with store.read() as connection:
        for user_id, *row in connection.execute(query):
            result.setdefault(user_id, []).append(_binding(tuple(row)))
    return result


def delete_websocket_flows(store: Store) -> int:
    """Remove the bindings registered over a WebSocket (P2, U1), at start-up: their
    flows ended with the switch that served them, and nothing can reach those devices
    until they register again. Returns how many."""
    over_websocket = Registration.received.startswith("ws:") | Registration.received.startswith(
        "wss:"
    )
    with store.session() as session:
        result = session.execute(delete(Registration).where(over_websocket))
        return cast(CursorResult[Any], result).rowcount


def delete_expired(store: Store, now: float) -> int:
    """Remove bindings that expired at or before `now`; returns how many."""
    with store.session() as session:
        result = session.execute(delete(Registration).where(Registration.expires_at <= now))
        return cast(CursorResult[Any], result).rowcount


def list_registrations(store: Store, company_domain: str) -> list[tuple[str, Binding]]:
    """(extension, binding) pairs of one company, by extension."""
    company = get_company(store, company_domain)
    query = (
        select(User.extension, *_COLUMNS)
        .join(User, (User.id == Registration.user_id) & (User.company_id == company.id))
        .where(Registration.company_id == company.id)
        .order_by(User.extension, Registration.id)
    )
    with store.read() as connection:
        return [(ext, _binding(tuple(row))) for ext, *row in connection.execute(query)]


def user_registrations(store: Store, company_id: int, extension: str) -> list[Binding]:
    """One user's bindings as stored (refreshes reach the database in batches)."""
    query = (
        select(*_COLUMNS)
        .join(User, (User.id == Registration.user_id) & (User.company_id == company_id))
        .where(Registration.company_id == company_id, User.extension == extension)
        .order_by(Registration.id)
    )
    with store.read() as connection:
        return [_binding(tuple(row)) for row in connection.execute(query)]
