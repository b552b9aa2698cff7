"""Voicemail messages (S6, U7): stored as WAV files with a row each, counted per box.

A box is a user's own (named by the extension) or a shared box of the
company. Files live under the data folder, one folder per company and box.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from vaxel.services.errors import NotFound
from vaxel.store import Store
from vaxel.store.models import VoicemailMessage


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    box: str
    caller: str
    caller_name: str
    received_at: datetime
    duration_seconds: float
    path: Path
    heard: bool


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message just recorded by a call flow, before it is stored."""

    box: str
    caller: str
    caller_name: str
    seconds: float
    path: Path


def _message(row: VoicemailMessage) -> Message:
    return Message(
        row.id, row.box, row.caller, row.caller_name, row.received_at, row.duration_seconds,
        Path(row.path), row.heard,
    )  # fmt: skip


def new_path(folder: Path, company_id: int, box: str) -> Path:
    """Where a message being recorded goes (a fresh name; the folder is created)."""
    path = folder / str(company_id) / box / f"{secrets.token_hex(8)}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save_message(
    store: Store,
    company_id: int,
    box: str,
    *,
    caller: str,
    caller_name: str,
    received_at: datetime,
    duration_seconds: float,
    path: Path,
) -> Message:
    with store.session() as session:
        row = VoicemailMessage(
            company_id=company_id, box=box, caller=caller, caller_name=caller_name,
            received_at=received_at, duration_seconds=duration_seconds, path=str(path),
            heard=False,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return _message(row)


def list_messages(store: Store, company_id: int, box: str) -> list[Message]:
    """A box's messages, new ones first, then oldest first within each."""
    query = (
        select(VoicemailMessage)
        .where(VoicemailMessage.company_id == company_id, VoicemailMessage.box == box)
        .order_by(VoicemailMessage.heard, VoicemailMessage.received_at, VoicemailMessage.id)
    )
    with store.session(read_only=True) as session:
        return [_message(row) for row in session.scalars(query)]


def counts(store: Store, company_id: int, box: str) -> tuple[int, int]:
    """(new, old) messages of a box: what a phone's message light shows (RFC 3842)."""
    query = (
        select(VoicemailMessage.heard, func.count())
        .where(VoicemailMessage.company_id == company_id, VoicemailMessage.box == box)
        .group_by(VoicemailMessage.heard)
    )
    with store.session(read_only=True) as session:
        by_state = dict(session.execute(query).all())
    return by_state.get(False, 0), by_state.get(True, 0)


def _row(session, company_id: int, message_id: int) -> VoicemailMessage:  # type: ignore[no-untyped-def]
    row = session.get(VoicemailMessage, message_id)
    if row is None or row.company_id != company_id:
        raise NotFound(f"no message {message_id}")
    return row


def mark_heard(store: Store, company_id: int, message_id: int, heard: bool = True) -> None:
    with store.session() as session:
        _row(session, company_id, message_id).heard = heard


def delete_message(store: Store, company_id: int, message_id: int) -> None:
    with store.session() as session:
        row = _row(session, company_id, message_id)
        path = Path(row.path)
        session.delete(row)
    path.unlink(missing_ok=True)
