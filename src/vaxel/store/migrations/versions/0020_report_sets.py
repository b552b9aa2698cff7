"""Saved statistics report sets (S9, A10): named reports with their filters, period and
mail schedule, per company.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("schedule", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("emails", sa.Text(), nullable=False, server_default=sa.text("'[]'")),
        sa.Column("mailed_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "schedule IN ('', 'daily', 'weekly', 'monthly')",
            name=op.f("ck_report_sets_schedule"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_report_sets_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_sets")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_report_sets_company_id_name")),
    )


def downgrade() -> None:
    op.drop_table("report_sets")
