"""Answering-group logouts and call forwardings (S8, U11).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_logouts",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("group", sa.String(40), nullable=False),
        sa.Column("extension", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_group_logouts_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", "group", "extension", name=op.f("pk_group_logouts")),
    )
    op.create_table(
        "forwardings",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.CheckConstraint(
            "kind IN ('always', 'busy', 'no_answer')", name=op.f("ck_forwardings_kind")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_forwardings_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", "extension", "kind", name=op.f("pk_forwardings")),
    )


def downgrade() -> None:
    op.drop_table("forwardings")
    op.drop_table("group_logouts")
