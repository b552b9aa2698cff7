"""Number ranges the provider gives each company (P1, P6).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "number_ranges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("first", sa.String(20), nullable=False),
        sa.Column("last", sa.String(20), nullable=False),
        sa.CheckConstraint(
            "length(first) = length(last) AND first <= last",
            name=op.f("ck_number_ranges_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_number_ranges_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_ranges")),
    )
    op.create_index(op.f("ix_number_ranges_company_id"), "number_ranges", ["company_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_number_ranges_company_id"), table_name="number_ranges")
    op.drop_table("number_ranges")
