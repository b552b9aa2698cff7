"""P7: opening the store, migrations, and backend settings."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from vaxel.services.configuration import load_document
from vaxel.services.voicemail import verify_pin
from vaxel.store import READ_DIRECTORY_VERSION, Base, Company, Store, User
from vaxel.store.database import DATABASE_URL_ENV, alembic_config


def test_migrations_create_the_schema(store: Store) -> None:
    assert {"companies", "users", "registrations"} <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        head = ScriptDirectory.from_config(alembic_config(store.url)).get_current_head()
        assert context.get_current_revision() == head


def test_reopening_keeps_data_and_does_not_migrate_again(store: Store, tmp_path: Path) -> None:
    with store.session() as session:
        session.add(Company(domain="acme.example", name="Acme AB"))
    store.close()
    with Store.open(tmp_path, url=store.url) as again, again.session(read_only=True) as session:
        assert session.query(Company.domain).all() == [("acme.example",)]


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(
            User(company_id=12345, extension="10", display_name="x", ha1_md5="", ha1_sha256="")
        )


def test_domain_must_be_lower_case_in_the_database(store: Store) -> None:
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(Company(domain="Acme.Example", name="Acme AB"))


def test_session_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        session.add(Company(domain="acme.example", name="Acme AB"))
        session.flush()
        raise RuntimeError("boom")
    with store.session(read_only=True) as session:
        assert session.query(Company).count() == 0


def test_sqlite_default_path_and_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    data = tmp_path / "nested" / "vaxel-data"
    with Store.open(data) as store:
        assert store.engine.url.database == str(data / "vaxel.db")
        assert (data.stat().st_mode & 0o777) == 0o700
        with store.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() > 0


def test_url_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{elsewhere}")
    with Store.open(tmp_path / "data"):
        pass
    assert elsewhere.exists()
    assert not (tmp_path / "data").exists()


def test_sqlite_writer_waits_for_another_writer(tmp_path: Path) -> None:
    """A second process-like connection gets the lock once the first commits."""
    with Store.open(tmp_path) as first, Store.open(tmp_path) as second:
        with first.session() as session:
            session.add(Company(domain="a.example", name="A"))
            session.flush()
            # A reader is not blocked by the open write transaction (WAL).
            with second.read() as connection:
                assert connection.execute(text("SELECT count(*) FROM companies")).scalar() == 0
        with second.session() as session:
            session.add(Company(domain="b.example", name="B"))
        with first.read() as connection:
            assert connection.execute(text("SELECT count(*) FROM companies")).scalar() == 2


def _directory_version(connection: Connection) -> int:
    return connection.execute(text("SELECT version FROM directory_version")).scalar_one()


def test_migration_0003_keeps_users_and_directory_triggers(
    database_url: str, tmp_path: Path
) -> None:
    """0002 -> 0003 on a database with users: they get a 30 s ring time, and the
    triggers that bump directory_version (0002) still fire afterwards."""
    command.upgrade(alembic_config(database_url), "0002")
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO companies (id, domain, name, created_at)"
                    " VALUES (1, 'acme.example', 'Acme AB', :now)"
                ),
                {"now": datetime.now(UTC)},
            )
            connection.execute(
                text(
                    "INSERT INTO users (id, company_id, extension, display_name, ha1_md5,"
                    " ha1_sha256, created_at) VALUES (7, 1, '1001', 'Anna', 'm', 's', :now)"
                ),
                {"now": datetime.now(UTC)},
            )
    finally:
        engine.dispose()

    with Store.open(tmp_path, url=database_url) as store:
        with store.engine.connect() as connection:
            head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
            assert MigrationContext.configure(connection).get_current_revision() == head
            before = _directory_version(connection)
        with store.session(read_only=True) as session:
            assert session.query(User.id, User.extension, User.ring_seconds).all() == [
                (7, "1001", 30)
            ]
        for change in (
            "UPDATE users SET ring_seconds = 45 WHERE id = 7",
            "INSERT INTO users (company_id, extension, display_name, ha1_md5, ha1_sha256,"
            " created_at) VALUES (1, '1002', 'Bo', 'm', 's', CURRENT_TIMESTAMP)",
            "DELETE FROM users WHERE extension = '1002'",
            "UPDATE companies SET name = 'Acme' WHERE id = 1",
        ):
            with store.engine.begin() as connection:
                connection.execute(text(change))
            with store.engine.connect() as connection:
                after = _directory_version(connection)
            assert after > before, change
            before = after
        with store.session(read_only=True) as session:
            assert session.query(User.ring_seconds).all() == [(45,)]


def test_migration_0003_downgrades_and_upgrades_again(database_url: str, tmp_path: Path) -> None:
    with Store.open(tmp_path, url=database_url) as store:
        with store.session() as session:
            company = Company(domain="acme.example", name="Acme AB")
            session.add(company)
            session.flush()
            session.add(
                User(
                    company_id=company.id,
                    extension="1001",
                    display_name="Anna",
                    ha1_md5="m",
                    ha1_sha256="s",
                    ring_seconds=20,
                )
            )
        command.downgrade(alembic_config(database_url), "0002")
        inspector = inspect(store.engine)
        assert "call_records" not in inspector.get_table_names()
        assert "ring_seconds" not in {c["name"] for c in inspector.get_columns("users")}
        with store.engine.connect() as connection:
            before = _directory_version(connection)
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE users SET display_name = 'Anna S'"))
        with store.engine.connect() as connection:
            assert _directory_version(connection) > before  # triggers survived the downgrade
        store.migrate()
        with store.session(read_only=True) as session:
            assert session.query(User.display_name, User.ring_seconds).all() == [("Anna S", 30)]


def test_sqlite_triggers_survive_migration_0003(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vaxel.db'}"
    with Store.open(tmp_path, url=url) as store, store.engine.connect() as connection:
        triggers = connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        ).scalars()
        assert [name for name in triggers if name.startswith("users_")] == [
            "users_delete_directory_version",
            "users_insert_directory_version",
            "users_update_directory_version",
        ]


def test_scalar_reader_sees_what_other_connections_commit(store: Store) -> None:
    # The switch's cache checks read the directory version this way, on the event loop.
    read_version = store.scalar_reader(READ_DIRECTORY_VERSION)
    before = read_version()
    with store.session() as session:
        session.add(Company(domain="acme.example", name="Acme AB"))  # a trigger bumps it
    assert read_version() > before
    with pytest.raises(LookupError):
        store.scalar_reader("SELECT version FROM directory_version WHERE id = -1")()


def test_migration_0007_hashes_clear_pins_and_drops_shared_box_pins(
    database_url: str, tmp_path: Path
) -> None:
    """O2: a description stored before PINs were hashed has none left in clear afterwards;
    the user's PIN still opens the box, and a shared box's PIN (which nothing asked) goes."""
    command.upgrade(alembic_config(database_url), "0006")
    document = {
        "company": {"domain": "acme.example", "name": "Acme AB"},
        "users": [
            {"ext": "1001", "name": "Anna", "voicemail": {"pin": "4711", "enabled": True}},
            {"ext": "1002", "name": "Björn", "voicemail": {"enabled": True}},
        ],
        "voicemail": {"reception": {"members": ["1001"], "pin": "9999"}},
    }
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO companies (id, domain, name, created_at)"
                    " VALUES (1, 'acme.example', 'Acme AB', :now)"
                ),
                {"now": datetime.now(UTC)},
            )
            connection.execute(
                text(
                    "INSERT INTO company_documents (company_id, document, version, updated_at)"
                    " VALUES (1, :document, 3, :now)"
                ),
                {"document": json.dumps(document), "now": datetime.now(UTC)},
            )
    finally:
        engine.dispose()

    with Store.open(tmp_path, url=database_url) as store:
        with store.engine.connect() as connection:
            stored = connection.execute(text("SELECT document FROM company_documents")).scalar()
        # (the clear PINs looked for outside the hashes' hex, where digits turn up by chance)
        outside = re.sub(r"[0-9a-f]{32,}", "", stored)
        assert "4711" not in outside and "9999" not in outside
        config = load_document(store, 1)
        assert config is not None
        pin = config.users[0].voicemail.pin
        assert pin is not None and verify_pin(pin, "4711") and not verify_pin(pin, "9999")
        assert config.users[1].voicemail.pin is None
        assert config.voicemail["reception"].members == ["1001"]
