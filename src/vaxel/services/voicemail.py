"""Voicemail messages (S6, U7): stored as WAV files with a row each, counted per box.

A box is a user's own (named by the extension) or a shared box of the
company. Files live under the data folder, one folder per company and box.

Also here (O2): a box's PIN is stored as a salted scrypt hash (`hash_pin`) and
checked in constant time (`verify_pin`); each box has a quota (`box_full`,
asked before a caller may record) and each company may have a retention, which
`expire_messages` / `expire_by_retention` enforce, files included.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from vaxel.services.errors import NotFound
from vaxel.store import Store
from vaxel.store.models import VoicemailMessage

if TYPE_CHECKING:  # company_config imports this module (the PIN hash format)
    from vaxel.services.company_config import CompanyConfig

#: How many messages a box keeps when its description sets no quota.
DEFAULT_QUOTA_MESSAGES = 100

# -- PINs -------------------------------------------------------------------------------------

# scrypt with 512 KiB of memory: about a millisecond per check, so a PIN check may run on
# the event loop. A PIN has 4 to 8 digits, so whoever holds the database can still try
# them all offline in minutes to hours: the hash keeps PINs out of sight (exports, backups
# read by eye, logs), while three wrong tries per call (*98) stop guessing by phone.
_PIN_SCHEME = "scrypt"
_PIN_N, _PIN_R, _PIN_P = 2**9, 8, 1
_PIN_MAX_N = 2**12  # a stored hash that asks for more is refused: a check stays cheap


def hash_pin(pin: str) -> str:
    """The stored form of a PIN: "scrypt$N$r$p$salt$hash" (hex), salted afresh each time."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_PIN_N, r=_PIN_R, p=_PIN_P, dklen=32)
    return f"{_PIN_SCHEME}${_PIN_N}${_PIN_R}${_PIN_P}${salt.hex()}${digest.hex()}"


def is_pin_hash(value: str) -> bool:
    """Whether `value` is a PIN's stored form rather than the PIN itself."""
    return value.startswith(_PIN_SCHEME + "$")


def verify_pin(stored: str, entered: str) -> bool:
    """Whether the digits a caller `entered` are the PIN whose stored form is `stored`.

    Compared in constant time (hmac.compare_digest). A stored value that is not a hash
    is a PIN kept in clear (a description built in memory, or stored before PINs were
    hashed) and is compared as it is. A malformed hash, or one whose cost is above
    what this module makes, never matches.
    """
    if not stored:
        return False
    if not is_pin_hash(stored):
        return hmac.compare_digest(stored.encode(), entered.encode())
    try:
        _, n_text, r_text, p_text, salt_hex, digest_hex = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if not (1 < n <= _PIN_MAX_N and n & (n - 1) == 0 and 1 <= r <= 8 and p == 1):
        return False
    if len(digest) != 32 or not salt:
        return False
    candidate = hashlib.scrypt(entered.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return hmac.compare_digest(candidate, digest)


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


def get_message(store: Store, company_id: int, message_id: int) -> Message:
    """One message of the company; NotFound for another company's (or none)."""
    with store.session(read_only=True) as session:
        return _message(_row(session, company_id, message_id))


def mark_heard(store: Store, company_id: int, message_id: int, heard: bool = True) -> None:
    with store.session() as session:
        _row(session, company_id, message_id).heard = heard


def delete_message(store: Store, company_id: int, message_id: int) -> None:
    with store.session() as session:
        row = _row(session, company_id, message_id)
        path = Path(row.path)
        session.delete(row)
    path.unlink(missing_ok=True)


# -- quota and retention ----------------------------------------------------------------------


def box_full(store: Store, company_id: int, box: str, config: CompanyConfig) -> bool:
    """Whether `box` is at its quota, so a caller must not record (they hear "vm-box-full").

    The quota is the shared box's, or the user's own box's (`users[].voicemail.quota`),
    from the company's description; a box it does not name keeps the default of 100
    messages. A quota of seconds may be passed by at most one message's length.
    """
    shared = config.voicemail.get(box)
    user = next((u for u in config.users if u.ext == box), None)
    if shared is not None:
        most_messages, most_seconds = shared.quota.messages, shared.quota.seconds
    elif user is not None:
        most_messages, most_seconds = user.voicemail.quota.messages, user.voicemail.quota.seconds
    else:
        most_messages, most_seconds = DEFAULT_QUOTA_MESSAGES, None
    if most_messages is None and most_seconds is None:
        return False
    query = select(
        func.count(VoicemailMessage.id),
        func.coalesce(func.sum(VoicemailMessage.duration_seconds), 0),
    ).where(VoicemailMessage.company_id == company_id, VoicemailMessage.box == box)
    with store.session(read_only=True) as session:
        messages, seconds = session.execute(query).one()
    return (most_messages is not None and messages >= most_messages) or (
        most_seconds is not None and seconds >= most_seconds
    )


_DELETE_BATCH = 500  # ids per DELETE: well under every backend's limit on parameters


def expire_messages(store: Store, company_id: int, max_age: timedelta, now: datetime) -> int:
    """Delete the company's messages received more than `max_age` before `now`, heard or
    not, and their files; returns how many. Rows go first (one transaction), then files,
    so a failure never leaves a row whose recording is gone."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (a naive time has no known zone)")
    cutoff = now - max_age
    query = select(VoicemailMessage.id, VoicemailMessage.path).where(
        VoicemailMessage.company_id == company_id, VoicemailMessage.received_at < cutoff
    )
    with store.session() as session:
        rows = session.execute(query).all()
        ids = [id_ for id_, _ in rows]
        for start in range(0, len(ids), _DELETE_BATCH):
            batch = ids[start : start + _DELETE_BATCH]
            session.execute(delete(VoicemailMessage).where(VoicemailMessage.id.in_(batch)))
    for _, path in rows:
        Path(path).unlink(missing_ok=True)
    return len(rows)


def expire_by_retention(store: Store, now: datetime) -> int:
    """The housekeeping sweep: every company with `company.voicemail_retention_days` in its
    description loses its older messages; returns how many went in all."""
    from vaxel.services.configuration import load_all_documents

    removed = 0
    for company_id, _domain, config in load_all_documents(store):
        days = config.company.voicemail_retention_days
        if days is not None:
            removed += expire_messages(store, company_id, timedelta(days=days), now)
    return removed
