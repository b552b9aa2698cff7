"""Opening the database (P7): SQLite in the data folder by default, PostgreSQL by URL.

The schema is brought up to date by the packaged Alembic migrations every time
the store opens, so `vaxel serve` and the admin commands never see an old schema.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).with_name("migrations")
DATABASE_URL_ENV = "VAXEL_DATABASE_URL"
DEFAULT_DATA_DIR = Path("vaxel-data")
# How long a writer waits for another process's write lock (the CLI while the server runs).
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option of the read-only engine: its transactions need no write lock.
_READ_ONLY = "vaxel_read_only"


def alembic_config(url: str | URL, connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if isinstance(url, URL):
        url = url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit
    # BEGIN comes too late for a consistent read and never takes the write lock).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A writer takes the lock up front: a deferred transaction that later tries to
    # write gets SQLITE_BUSY at once instead of waiting on busy_timeout.
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Store:
    """The database of one vaxel installation; cheap to share, safe across threads."""

    def __init__(self, engine: Engine, data_dir: Path | None = None) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self._reader = engine.execution_options(**{_READ_ONLY: True})
        self._watchers: list[sqlite3.Connection] = []
        # Where services keep what they derive from this database (keyed by what it
        # depends on, such as the directory version), so it never outlives the store.
        self.memo: dict[object, object] = {}

    @classmethod
    def open(cls, data_dir: Path | None = None, url: str | None = None) -> Store:
        """Open (creating and migrating as needed) the database.

        The URL comes from `url`, else `$VAXEL_DATABASE_URL`, else SQLite at
        `<data_dir>/vaxel.db` (default data folder `./vaxel-data`).
        """
        url = url or os.environ.get(DATABASE_URL_ENV) or None
        if url is None:
            data_dir = data_dir if data_dir is not None else DEFAULT_DATA_DIR
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # HA1s are secrets
            url = URL.create("sqlite", database=str(data_dir / "vaxel.db")).render_as_string()
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # No pool_pre_ping: it would add a round trip to every registrar lookup; a
        # dropped connection invalidates the pool on first use instead.
        engine = create_engine(parsed)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        store = cls(engine, data_dir)
        try:
            store.migrate()
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def url(self) -> str:
        """The database URL, password included (to reopen the same database)."""
        return self.engine.url.render_as_string(hide_password=False)

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to `revision` in one transaction."""
        with self.engine.begin() as connection:
            command.upgrade(alembic_config(self.engine.url, connection), revision)

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on error.

        `read_only=True` skips the write lock on SQLite and never commits.
        """
        engine = self._reader if read_only else self.engine
        with Session(engine, expire_on_commit=False) as session:
            if read_only:
                yield session
                session.rollback()
            else:
                with session.begin():
                    yield session

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A Core connection for hot read paths (no ORM objects, no write lock)."""
        with self._reader.connect() as connection:
            yield connection

    def change_probe(self) -> Callable[[], object]:
        """A cheap function whose value changes when the database may have changed.

        On SQLite it is `PRAGMA data_version` on a connection of its own, which
        moves whenever any other connection commits (a microsecond, no I/O).
        Other databases get a 200 ms time bucket: callers then re-check what
        they cache at most five times a second.
        """
        if self.engine.dialect.name != "sqlite" or not self.engine.url.database:
            return lambda: int(time.monotonic() * 5)
        watcher = sqlite3.connect(self.engine.url.database, check_same_thread=False)
        self._watchers.append(watcher)
        cursor = watcher.cursor()

        def probe() -> object:
            return cursor.execute("PRAGMA data_version").fetchone()[0]

        return probe

    def scalar_reader(self, sql: str) -> Callable[[], Any]:
        """A function that runs one fixed, read-only `sql` and returns its single value.

        For the switch's cache checks, which run on the event loop: on SQLite
        it reads through a connection of its own (a few microseconds); a read
        through the engine's pool costs some 200 us of Python per call.
        """
        if self.engine.dialect.name != "sqlite" or not self.engine.url.database:
            statement = text(sql)

            def read_pooled() -> Any:
                with self.read() as connection:
                    row = connection.execute(statement).first()
                if row is None:
                    raise LookupError(f"no row for {sql!r}")
                return row[0]

            return read_pooled
        reader = sqlite3.connect(self.engine.url.database, check_same_thread=False)
        self._watchers.append(reader)
        cursor = reader.cursor()

        def read() -> Any:
            row = cursor.execute(sql).fetchone()
            if row is None:
                raise LookupError(f"no row for {sql!r}")
            return row[0]

        return read

    def close(self) -> None:
        for watcher in self._watchers:
            watcher.close()
        self._watchers.clear()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
