"""Voicemail PINs in the stored descriptions are hashed; shared boxes lose their PIN (O2, S6).

A user's PIN stored in clear (users[].voicemail.pin) becomes the salted scrypt
hash that services.voicemail.verify_pin checks. A shared box's PIN
(voicemail.*.pin) was never asked for by anything and is no longer part of a
description, so it goes. The downgrade changes nothing back: a hash cannot
be turned into the PIN again (an older switch would then refuse every PIN).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import hashlib
import json
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The stored form of services.voicemail.hash_pin, written out so this step never changes.
_N, _R, _P = 2**9, 8, 1


def _hash(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def _migrated(document: dict) -> bool:
    changed = False
    for user in document.get("users") or []:
        voicemail = user.get("voicemail") or {}
        pin = voicemail.get("pin")
        if isinstance(pin, str) and not pin.startswith("scrypt$"):
            voicemail["pin"] = _hash(pin)
            changed = True
    for box in (document.get("voicemail") or {}).values():
        if isinstance(box, dict) and "pin" in box:
            del box["pin"]
            changed = True
    return changed


def upgrade() -> None:
    connection = op.get_bind()
    table = sa.table(
        "company_documents", sa.column("company_id", sa.Integer), sa.column("document", sa.Text)
    )
    rows = connection.execute(sa.select(table.c.company_id, table.c.document)).all()
    for company_id, text in rows:
        document = json.loads(text)
        if _migrated(document):
            connection.execute(
                table.update()
                .where(table.c.company_id == company_id)
                .values(document=json.dumps(document, sort_keys=True))
            )


def downgrade() -> None:
    pass
