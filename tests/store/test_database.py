"""P7: opening the store, migrations, and backend settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from vaxel.store import Base, Company, Store, User
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
