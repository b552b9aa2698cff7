"""Agents' pauses (A5): an agent pauses with a reason ("lunch", "admin") and unpauses.

A paused agent stays logged in to their answering groups but no group offers them a call
(features/groups.py); the pause covers all their groups at once. The reason is one of the
company's `pause_reasons` (or none, from the phone's bare pause code). The pause is kept
in the database, so it outlives a restart, and set from the phone (features/codes.py),
the API and the web, all through this module; each change bumps the directory version,
so the running switch sees it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select

from vaxel.services.company_config import CompanyConfig
from vaxel.services.errors import Invalid, NotFound
from vaxel.services.presence_settings import _bump
from vaxel.store import Store
from vaxel.store.models import AgentPause, User


@dataclass(frozen=True, slots=True)
class Pause:
    extension: str
    reason: str  # one of the company's pause reasons; "" when none was given
    since: datetime


def check_reason(config: CompanyConfig, reason: str) -> str:
    """`reason` if the company has it ("" too: a pause without one); else Invalid."""
    if reason and reason not in config.pause_reasons:
        known = ", ".join(config.pause_reasons)
        raise Invalid(f"unknown pause reason {reason!r}: use one of {known}")
    return reason


def set_pause(store: Store, company_id: int, extension: str, reason: str, now: datetime) -> Pause:
    """Pause the agent (a new reason replaces the old one, keeping nothing else); raises
    NotFound for an unknown user. The reason is checked by the caller (`check_reason`)."""
    with store.session() as session:
        known = session.scalar(
            select(User.id).where(User.company_id == company_id, User.extension == extension)
        )
        if known is None:
            raise NotFound(f"unknown extension {extension}")
        session.execute(
            delete(AgentPause).where(
                AgentPause.company_id == company_id, AgentPause.extension == extension
            )
        )
        since = now.astimezone(UTC)
        session.add(AgentPause(company_id=company_id, extension=extension, reason=reason,
                               since=since))  # fmt: skip
        _bump(session)
    return Pause(extension, reason, since)


def clear_pause(store: Store, company_id: int, extension: str) -> bool:
    """Unpause the agent; True if they were paused."""
    with store.session() as session:
        row = session.get(AgentPause, (company_id, extension))
        if row is None:
            return False
        session.delete(row)
        _bump(session)
    return True


def pauses(store: Store, company_id: int) -> dict[str, Pause]:
    """extension -> pause, for the company's paused agents."""
    query = select(AgentPause).where(AgentPause.company_id == company_id)
    with store.session(read_only=True) as session:
        return {row.extension: _pause(row) for row in session.scalars(query)}


def all_pauses(store: Store) -> dict[int, dict[str, Pause]]:
    """Every company's paused agents (the switch loads them with the directory)."""
    found: dict[int, dict[str, Pause]] = {}
    with store.session(read_only=True) as session:
        for row in session.scalars(select(AgentPause)):
            found.setdefault(row.company_id, {})[row.extension] = _pause(row)
    return found


def _pause(row: AgentPause) -> Pause:
    return Pause(row.extension, row.reason, row.since)
