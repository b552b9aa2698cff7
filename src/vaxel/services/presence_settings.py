"""What users change from their phones: group login (S8), forwarding (U11), voicemail on/off (U7).

Each change bumps the directory version, so the running switch sees it at once.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from vaxel.services.companies import get_company
from vaxel.services.errors import Invalid, NotFound
from vaxel.store import DirectoryVersion, Store
from vaxel.store.models import Forwarding, GroupLogout, User, VoicemailSwitch

KINDS = ("always", "busy", "no_answer")


def _bump(session) -> None:  # type: ignore[no-untyped-def]
    session.execute(
        update(DirectoryVersion)
        .where(DirectoryVersion.id == 1)
        .values(version=DirectoryVersion.version + 1)
    )


def set_logged_in(store: Store, company_id: int, group: str, extension: str, on: bool) -> None:
    with store.session() as session:
        session.execute(
            delete(GroupLogout).where(
                GroupLogout.company_id == company_id,
                GroupLogout.group == group,
                GroupLogout.extension == extension,
            )
        )
        if not on:
            session.add(GroupLogout(company_id=company_id, group=group, extension=extension))
        _bump(session)


def logged_out(store: Store, company_id: int) -> set[tuple[str, str]]:
    """(group, extension) pairs of members who are logged out."""
    query = select(GroupLogout.group, GroupLogout.extension).where(
        GroupLogout.company_id == company_id
    )
    with store.session(read_only=True) as session:
        return {(group, ext) for group, ext in session.execute(query).all()}


def set_forwarding(
    store: Store, company_id: int, extension: str, kind: str, target: str | None
) -> None:
    """Forward `extension`'s calls (`kind`: always, busy, no_answer) to `target`; None clears.

    The user's choice wins over the forwarding the company description sets.
    """
    if kind not in KINDS:
        raise Invalid(f"unknown forwarding {kind!r}: use {', '.join(KINDS)}")
    with store.session() as session:
        session.execute(
            delete(Forwarding).where(
                Forwarding.company_id == company_id,
                Forwarding.extension == extension,
                Forwarding.kind == kind,
            )
        )
        # Clearing keeps an empty row: it also switches off what the description set.
        session.add(
            Forwarding(company_id=company_id, extension=extension, kind=kind, target=target or "")
        )
        _bump(session)


def forwardings(store: Store, company_id: int) -> dict[str, dict[str, str]]:
    """extension -> {kind: target} the users chose; "" is a forwarding they switched off."""
    query = select(Forwarding.extension, Forwarding.kind, Forwarding.target).where(
        Forwarding.company_id == company_id
    )
    result: dict[str, dict[str, str]] = {}
    with store.session(read_only=True) as session:
        for ext, kind, target in session.execute(query).all():
            result.setdefault(ext, {})[kind] = target
    return result


def set_voicemail(store: Store, company_id: int, extension: str, on: bool) -> None:
    """The user turns their personal voicemail box on or off."""
    with store.session() as session:
        known = session.scalar(
            select(User.id).where(User.company_id == company_id, User.extension == extension)
        )
        if known is None:
            raise NotFound(f"unknown extension {extension}")
        session.execute(
            delete(VoicemailSwitch).where(
                VoicemailSwitch.company_id == company_id, VoicemailSwitch.extension == extension
            )
        )
        session.add(VoicemailSwitch(company_id=company_id, extension=extension, enabled=on))
        _bump(session)


def voicemail_switches(store: Store, company_id: int) -> dict[str, bool]:
    """extension -> on/off for the users who chose; the others follow the description."""
    query = select(VoicemailSwitch.extension, VoicemailSwitch.enabled).where(
        VoicemailSwitch.company_id == company_id
    )
    with store.session(read_only=True) as session:
        return {ext: enabled for ext, enabled in session.execute(query).all()}


def company_id_of(store: Store, domain: str) -> int:
    return get_company(store, domain).id
