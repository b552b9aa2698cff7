"""The audit log (P8): every change made through the web or the API, by whom, from where.

An entry keeps the changed thing before and after as JSON. Callers pass what they would
show, never secrets: descriptions go in as exported (services.configuration strips PINs
and passwords). A company admin reads their company's entries; the provider's own
changes (companies, provider admins) have no company.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from vaxel.services.errors import Invalid
from vaxel.store import Store
from vaxel.store.models import AuditEntry

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    at: datetime
    actor: str
    source: str
    action: str
    target: str
    before: Any
    after: Any


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def record(
    store: Store,
    *,
    company_id: int | None,
    actor: str,
    source: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    now: datetime,
) -> None:
    with store.session() as session:
        session.add(
            AuditEntry(
                company_id=company_id,
                at=now,
                actor=actor,
                source=source,
                action=action,
                target=target,
                before=_json(before),
                after=_json(after),
            )
        )


def entries(
    store: Store, company_id: int | None, *, limit: int = 100, before_id: int | None = None
) -> list[Entry]:
    """Newest first; `before_id` pages back (the last id of the previous page)."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be 1 to {MAX_PAGE}")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    query = query.where(
        AuditEntry.company_id.is_(None)
        if company_id is None
        else AuditEntry.company_id == company_id
    )
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    with store.session(read_only=True) as session:
        return [
            Entry(
                e.id,
                e.at,
                e.actor,
                e.source,
                e.action,
                e.target,
                json.loads(e.before) if e.before else None,
                json.loads(e.after) if e.after else None,
            )
            for e in session.scalars(query)
        ]
