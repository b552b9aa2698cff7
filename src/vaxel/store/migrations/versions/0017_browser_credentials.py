"""A SIP credential of its own for each user's browser softphone (U1, O2).

`users.web_ha1_md5` and `users.web_ha1_sha256` hold the digest HA1s of the
credential the /phone page registers with (username `<extension>-web`); NULL
until the page first asks for it, and again after it is revoked. They are added
and dropped with plain ALTER TABLE, never a batch rebuild of `users`, which on
SQLite would drop the directory_version triggers of 0002 (see 0003).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("web_ha1_md5", sa.String(length=32), nullable=True))
    op.add_column("users", sa.Column("web_ha1_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "web_ha1_sha256")
    op.drop_column("users", "web_ha1_md5")
