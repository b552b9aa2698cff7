"""A user's own settings (U9, U11, U4): a diversion's scope (all, fixed or mobile calls),
forwarding by activity, saved diversion shortcuts and favourite colleagues.

`diversions` is rebuilt in batch mode on SQLite for its new check constraint (it has
no directory_version triggers, unlike `users`: see 0003).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "status IN ('lunch', 'meeting', 'away', 'sick', 'vacation', 'custom')"
SCOPES = "scope IN ('all', 'fixed', 'mobile')"


def _user_key(table: str, column: str = "extension") -> sa.ForeignKeyConstraint:
    """The row goes with the user (composite key: never another company's user)."""
    return sa.ForeignKeyConstraint(
        ["company_id", column],
        ["users.company_id", "users.extension"],
        name=f"fk_{table}_company_id_{column}_users",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    with op.batch_alter_table("diversions") as batch:
        batch.add_column(
            sa.Column("scope", sa.String(8), nullable=False, server_default="all"),
        )
        batch.create_check_constraint("ck_diversions_scope", SCOPES)
    op.create_table(
        "activity_forwardings",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.CheckConstraint(STATUSES, name=op.f("ck_activity_forwardings_status")),
        _user_key("activity_forwardings"),
        sa.PrimaryKeyConstraint(
            "company_id", "extension", "status", name=op.f("pk_activity_forwardings")
        ),
    )
    op.create_table(
        "diversion_shortcuts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("at", sa.String(5), nullable=True),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.CheckConstraint(STATUSES, name=op.f("ck_diversion_shortcuts_status")),
        sa.CheckConstraint(SCOPES, name=op.f("ck_diversion_shortcuts_scope")),
        sa.CheckConstraint(
            "minutes IS NULL OR at IS NULL", name=op.f("ck_diversion_shortcuts_one_end")
        ),
        _user_key("diversion_shortcuts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diversion_shortcuts")),
    )
    op.create_index(
        "ix_diversion_shortcuts_company_id_extension",
        "diversion_shortcuts",
        ["company_id", "extension"],
    )
    op.create_table(
        "favourites",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(8), nullable=False),
        sa.Column("colleague", sa.String(8), nullable=False),
        _user_key("favourites"),
        _user_key("favourites", "colleague"),
        sa.PrimaryKeyConstraint("company_id", "extension", "colleague", name=op.f("pk_favourites")),
    )


def downgrade() -> None:
    op.drop_table("favourites")
    op.drop_index("ix_diversion_shortcuts_company_id_extension", table_name="diversion_shortcuts")
    op.drop_table("diversion_shortcuts")
    op.drop_table("activity_forwardings")
    with op.batch_alter_table("diversions") as batch:
        batch.drop_constraint("ck_diversions_scope", type_="check")
        batch.drop_column("scope")
