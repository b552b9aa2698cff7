"""The callback list (A5, A1, A18): every callback asked for, and where it stands.

The switch keeps a waiting callback's place in its queue's line (features/queue_callback.py);
this list is what agents and admins see of it, on the web and through the API. The switch
reports each change (`CallbackChange`: booked, a member took it, done, tried again,
failed) and `write_change` keeps one row per callback, found by its key, on the database
thread; a change never blocks a call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from vaxel.services.errors import Invalid
from vaxel.store import Store
from vaxel.store.models import CALLBACK_SOURCES, CALLBACK_STATUSES, Callback

MAX_LISTED = 500  # the newest callbacks one list shows


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackChange:
    """A callback as the switch sees it now (times timezone-aware)."""

    company_id: int
    key: str
    group: str
    number: str
    caller: str
    source: str
    requested_at: datetime
    status: str
    attempts: int
    agent: str
    at: datetime  # when this change happened
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CallbackInfo:
    """One row of the list."""

    key: str
    group: str
    number: str
    caller: str
    source: str
    requested_at: datetime
    due_at: datetime | None
    status: str
    attempts: int
    agent: str
    updated_at: datetime


def write_change(store: Store, change: CallbackChange) -> None:
    """Keep the callback's row up to date (made at its first change)."""
    if change.status not in CALLBACK_STATUSES:
        raise Invalid(f"unknown callback status {change.status!r}")
    if change.source not in CALLBACK_SOURCES:
        raise Invalid(f"unknown callback source {change.source!r}")
    with store.session() as session:
        found = session.scalar(
            select(Callback.id).where(
                Callback.key == change.key, Callback.company_id == change.company_id
            )
        )
        if found is None:
            session.add(Callback(
                key=change.key, company_id=change.company_id, group=change.group,
                number=change.number, caller=change.caller, source=change.source,
                requested_at=change.requested_at, due_at=change.due_at, status=change.status,
                attempts=change.attempts, agent=change.agent, updated_at=change.at,
            ))  # fmt: skip
        else:
            session.execute(
                update(Callback)
                .where(Callback.id == found)
                .values(
                    status=change.status,
                    attempts=change.attempts,
                    agent=change.agent,
                    updated_at=change.at,
                )
            )


def list_callbacks(
    store: Store,
    company_id: int,
    *,
    status: str | None = None,
    group: str | None = None,
    since: datetime | None = None,
) -> list[CallbackInfo]:
    """The company's callbacks, the oldest request first (at most MAX_LISTED, the newest)."""
    if status is not None and status not in CALLBACK_STATUSES:
        raise Invalid(f"unknown status {status!r}: use one of {', '.join(CALLBACK_STATUSES)}")
    query = select(Callback).where(Callback.company_id == company_id)
    if status is not None:
        query = query.where(Callback.status == status)
    if group is not None:
        query = query.where(Callback.group == group)
    if since is not None:
        query = query.where(Callback.requested_at >= since)
    query = query.order_by(Callback.requested_at.desc(), Callback.id.desc()).limit(MAX_LISTED)
    with store.session(read_only=True) as session:
        return [_info(row) for row in reversed(list(session.scalars(query)))]


def _info(r: Callback) -> CallbackInfo:
    return CallbackInfo(
        r.key, r.group, r.number, r.caller, r.source, r.requested_at, r.due_at,
        r.status, r.attempts, r.agent, r.updated_at,
    )  # fmt: skip


def pending(store: Store) -> dict[int, list[CallbackInfo]]:
    """Every company's callbacks still to be made (waiting, or calling when the switch
    stopped), for a switch that starts: company id -> them."""
    query = select(Callback).where(Callback.status.in_(("waiting", "calling")))
    found: dict[int, list[CallbackInfo]] = {}
    with store.session(read_only=True) as session:
        for row in session.scalars(query.order_by(Callback.requested_at, Callback.id)):
            found.setdefault(row.company_id, []).append(_info(row))
    return found
