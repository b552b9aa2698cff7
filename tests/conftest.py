"""Shared fixtures: a `store` on SQLite and on a throwaway PostgreSQL cluster."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vaxel.store import Store

PG_BIN = Path(os.environ.get("VAXEL_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster on 127.0.0.1 with trust auth, removed afterwards.

    initdb refuses to run as root, so as root the cluster belongs to `postgres`.
    """
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN} (apt-get install postgresql)")
    as_postgres: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="vaxel-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root but runuser is missing")
        as_postgres = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres", "postgres")
    data, log = root / "data", root / "postgres.log"

    def run(*argv: str) -> None:
        subprocess.run([*as_postgres, *argv], check=True, capture_output=True, cwd=root)

    run(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    server = None
    try:
        for _attempt in range(3):  # the free port may be taken before postgres binds it
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {root}"
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                run(str(PG_BIN / "pg_ctl"), "start", "-w", "-D", str(data), "-l", str(log),
                    "-o", options)  # fmt: skip
            except subprocess.CalledProcessError:
                continue
            server = PostgresServer("127.0.0.1", port)
            break
        if server is None:
            pytest.fail(f"PostgreSQL did not start:\n{log.read_text(errors='replace')}")
        yield server
    finally:
        if server is not None:
            run(str(PG_BIN / "pg_ctl"), "stop", "-D", str(data), "-m", "fast")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A URL of a fresh, empty database, dropped after the test."""
    name = f"vaxel_test_{uuid.uuid4().hex[:12]}"
    postgres_server.admin(f'CREATE DATABASE "{name}"')
    yield postgres_server.url(name)
    postgres_server.admin(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database of each kind (SQLite in the test's data folder)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vaxel.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def postgres_migrated(postgres_server: PostgresServer) -> str:
    """One database, migrated once for the session; each test empties it first (emptying
    takes milliseconds; making and migrating a database, a few hundred)."""
    name = f"vaxel_shared_{uuid.uuid4().hex[:8]}"
    postgres_server.admin(f'CREATE DATABASE "{name}"')
    Store.open(url=postgres_server.url(name)).close()
    return postgres_server.url(name)


def empty_database(url: str) -> None:
    """Every table as a fresh migration leaves it (ids from 1, directory version 0)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            tables = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                     " AND tablename NOT IN ('alembic_version', 'directory_version')")
            ).scalars().all()  # fmt: skip
            names = ", ".join(f'"{table}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            connection.execute(text("UPDATE directory_version SET version = 0"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vaxel.db'}"
    url: str = request.getfixturevalue("postgres_migrated")
    empty_database(url)
    return url


@pytest.fixture
def store(migrated_url: str, tmp_path: Path) -> Iterator[Store]:
    """A migrated store, once on SQLite and once on PostgreSQL; data folder `tmp_path`."""
    opened = Store.open(tmp_path, url=migrated_url)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def tone_prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The switch's system prompts as short tones, each its own (in-memory tests)."""
    from tests.memory import tone_prompts

    return tone_prompts(tmp_path_factory.mktemp("tone-prompts"))
