"""Queue visits (S9, A10): one row per call offered to an answering group or waiting in
its queue, the ground of the queue statistics.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queue_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("group", sa.Text(), nullable=False),
        sa.Column("call_id", sa.Text(), nullable=False),
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("wait_seconds", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('answered', 'abandoned', 'timeout', 'overflow', 'ended')",
            name=op.f("ck_queue_visits_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_queue_visits_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_visits")),
    )
    op.create_index(
        "ix_queue_visits_company_id_entered_at",
        "queue_visits",
        ["company_id", "entered_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_queue_visits_company_id_entered_at", table_name="queue_visits")
    op.drop_table("queue_visits")
