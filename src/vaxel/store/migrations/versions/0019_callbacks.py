"""Callbacks (A5, A1, A18): the list of callbacks asked for, and a queue visit may end as
`callback-failed`.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "outcome IN ('answered', 'abandoned', 'timeout', 'overflow', 'ended')"
NEW = "outcome IN ('answered', 'abandoned', 'timeout', 'overflow', 'ended', 'callback-failed')"


def upgrade() -> None:
    with op.batch_alter_table("queue_visits") as batch:
        batch.drop_constraint("outcome", type_="check")
        batch.create_check_constraint("outcome", NEW)
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("group", sa.Text(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("agent", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('waiting', 'calling', 'done', 'failed', 'cancelled')",
            name=op.f("ck_callbacks_status"),
        ),
        sa.CheckConstraint(
            "source IN ('queue', 'menu', 'scheduled')", name=op.f("ck_callbacks_source")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_callbacks_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
        sa.UniqueConstraint("key", name=op.f("uq_callbacks_key")),
    )
    op.create_index(
        "ix_callbacks_company_id_requested_at",
        "callbacks",
        ["company_id", "requested_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_callbacks_company_id_requested_at", table_name="callbacks")
    op.drop_table("callbacks")
    with op.batch_alter_table("queue_visits") as batch:
        batch.drop_constraint("outcome", type_="check")
        batch.create_check_constraint("outcome", OLD)
