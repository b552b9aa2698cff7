"""Per-user ring time and call records (P3, P7).

`users.ring_seconds` is added with a plain ALTER TABLE ... ADD COLUMN, which
SQLite supports for a NOT NULL column with a constant default. A batch-mode
table rebuild would drop the directory_version triggers of 0002 on SQLite,
so this migration (and its downgrade) never rebuilds `users`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("ring_seconds", sa.Integer(), nullable=False, server_default=sa.text("30")),
    )
    op.create_table(
        "call_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Text(), nullable=False),
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("caller_name", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("callee", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("disposition", sa.Text(), nullable=False),
        sa.Column("hangup_side", sa.Text(), nullable=False),
        sa.Column("cause_code", sa.Integer(), nullable=False),
        sa.Column("cause_text", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.CheckConstraint(
            "disposition IN ('answered', 'busy', 'no-answer', 'canceled', 'failed')",
            name=op.f("ck_call_records_disposition"),
        ),
        sa.CheckConstraint(
            "hangup_side IN ('caller', 'callee', 'switch')",
            name=op.f("ck_call_records_hangup_side"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_call_records_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_records")),
    )
    op.create_index(
        "ix_call_records_company_id_started_at",
        "call_records",
        ["company_id", "started_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_call_records_company_id_started_at", table_name="call_records")
    op.drop_table("call_records")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), again without a rebuild.
    op.drop_column("users", "ring_seconds")
