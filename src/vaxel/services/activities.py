"""Activity-based forwarding (U11): where a user's calls go while a diversion of a given
status is on ("Meeting" sends them to a colleague, "Vacation" to a number).

One target per status (lunch, meeting, away, sick, vacation, custom). Whether a target
is allowed (a colleague, never oneself, or a number the company's outbound policy lets
out) is checked by the caller with the description in hand, as for forwarding
(`web.api.me.target_error`); the switch falls back to saying the diversion when a
target has gone since (features/user.py). Each change bumps the directory version, so
the running switch sees it on its next call.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from vaxel.services.diversions import PRESETS
from vaxel.services.errors import Invalid, NotFound
from vaxel.services.presence_settings import _bump
from vaxel.store import Store
from vaxel.store.models import ActivityForwarding, User

MAX_TARGET = 40


def set_activity_forwarding(
    store: Store, company_id: int, extension: str, status: str, target: str | None
) -> None:
    """Forward `extension`'s calls to `target` while a `status` diversion is on; None
    (or "") clears it. Raises Invalid (unknown status, too long) or NotFound (no user)."""
    if status not in PRESETS:
        raise Invalid(f"unknown status {status!r}: use one of {', '.join(PRESETS)}")
    target = (target or "").strip()
    if len(target) > MAX_TARGET:
        raise Invalid(f"{status}: the target is longer than {MAX_TARGET} characters")
    with store.session() as session:
        known = session.scalar(
            select(User.id).where(User.company_id == company_id, User.extension == extension)
        )
        if known is None:
            raise NotFound(f"unknown extension {extension}")
        session.execute(
            delete(ActivityForwarding).where(
                ActivityForwarding.company_id == company_id,
                ActivityForwarding.extension == extension,
                ActivityForwarding.status == status,
            )
        )
        if target:
            session.add(
                ActivityForwarding(
                    company_id=company_id, extension=extension, status=status, target=target
                )
            )
        _bump(session)


def activity_forwardings(store: Store, company_id: int, extension: str) -> dict[str, str]:
    """status -> target of one user."""
    query = select(ActivityForwarding.status, ActivityForwarding.target).where(
        ActivityForwarding.company_id == company_id, ActivityForwarding.extension == extension
    )
    with store.session(read_only=True) as session:
        return {status: target for status, target in session.execute(query).all()}


def all_activity_forwardings(store: Store) -> dict[int, dict[str, dict[str, str]]]:
    """company id -> extension -> status -> target (the switch loads them with the
    directory)."""
    found: dict[int, dict[str, dict[str, str]]] = {}
    query = select(
        ActivityForwarding.company_id,
        ActivityForwarding.extension,
        ActivityForwarding.status,
        ActivityForwarding.target,
    )
    with store.session(read_only=True) as session:
        for company_id, ext, status, target in session.execute(query):
            found.setdefault(company_id, {}).setdefault(ext, {})[status] = target
    return found
