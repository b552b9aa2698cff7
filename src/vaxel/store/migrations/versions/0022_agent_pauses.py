"""Agents' pauses (A5): an agent who paused, with the reason and since when; no answering
group offers them a call until they unpause.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_pauses",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id", "extension"],
            ["users.company_id", "users.extension"],
            name="fk_agent_pauses_company_id_extension_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", "extension", name=op.f("pk_agent_pauses")),
    )


def downgrade() -> None:
    op.drop_table("agent_pauses")
