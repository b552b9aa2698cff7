"""A counter that every change to companies or users bumps (P3 credential cache).

The switch caches credentials in memory; it re-reads them only when this
counter moved, which triggers guarantee for every writer (the CLI, the web
API, a hand-written SQL fix) on SQLite and PostgreSQL alike.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("companies", "users")
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "directory_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_version")),
    )
    op.execute("INSERT INTO directory_version (id, version) VALUES (1, 0)")
    bump = "UPDATE directory_version SET version = version + 1 WHERE id = 1"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION bump_directory_version() RETURNS trigger AS $$ "
            f"BEGIN {bump}; RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_directory_version AFTER INSERT OR UPDATE OR DELETE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version()"
            )
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_{event.lower()}_directory_version AFTER {event} "
                    f"ON {table} BEGIN {bump}; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_directory_version ON {table}")
        op.execute("DROP FUNCTION bump_directory_version()")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER {table}_{event.lower()}_directory_version")
    op.drop_table("directory_version")
