"""Wallboard tokens (A11): read-only tokens that show one company's wallboard on a TV
without a login, kept as their SHA-256.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wallboard_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_wallboard_tokens_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallboard_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_wallboard_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_wallboard_tokens_company_id"), "wallboard_tokens", ["company_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_wallboard_tokens_company_id"), table_name="wallboard_tokens")
    op.drop_table("wallboard_tokens")
