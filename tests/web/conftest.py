"""A real HTTP server (uvicorn, the app `vaxel serve` runs) on a free loopback port, over
a real store (SQLite and PostgreSQL), with two companies to keep apart.

The listening socket is bound before the server starts, so a request made at once waits
in the backlog until uvicorn accepts it: no readiness polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from tests.conftest import empty_database
from vaxel.bus import Bus
from vaxel.services import accounts, configuration
from vaxel.services.company_config import parse_config
from vaxel.store import Store
from vaxel.web.context import WebContext
from vaxel.web.launcher import listen
from vaxel.web.limits import LoginLimiter
from vaxel.web.server import WebServer

PASSWORD = "correct horse battery"  # every test login's web password
SIP_PASSWORD = "sip-secret-1"

ACME = {
    "company": {"domain": "acme.example", "name": "Acme AB"},
    "users": [
        {"ext": "1001", "name": "Anna Admin", "password": SIP_PASSWORD},
        {"ext": "1002", "name": "Bo User", "password": SIP_PASSWORD},
        {"ext": "1003", "name": "Cia Colleague", "password": SIP_PASSWORD,
         "voicemail": {"pin": "4321"}},
    ],
    "numbers": [{"number": "+46812345600", "flow": "main"}],
    "flows": {"main": {"destination": {"group": "sales"}}},
    "groups": {"sales": {"members": ["1002", "1003"]}},
    "trunks": {"carrier": {"host": "127.0.0.1", "username": "acme", "password": "trunk-pw"}},
    "outbound_trunk": "carrier",
}  # fmt: skip

OTHER = {
    "company": {"domain": "other.example", "name": "Other AB"},
    "users": [{"ext": "2001", "name": "Olle Other", "password": SIP_PASSWORD}],
}


class Client(httpx.Client):
    """An httpx client that can be used in `with` after its first request (the login)."""

    def __enter__(self) -> Client:
        return self


@dataclass
class Web:
    base: str
    store: Store
    data: Path
    bus: Bus  # the switch's bus the live events come from (P8)
    loop: asyncio.AbstractEventLoop  # the server's loop, where the bus publishes
    context: WebContext  # what the server was given (a test's own store goes in here)

    def publish(self, *events: object) -> None:
        """Publish on the server's loop, as the switch does, in order."""
        for event in events:
            self.loop.call_soon_threadsafe(self.bus.publish, event)

    def client(self) -> Client:
        return Client(base_url=self.base, timeout=30)

    def login(self, login: str, password: str = PASSWORD) -> Client:
        """A logged-in client whose changes carry the session's CSRF token."""
        client = self.client()
        response = client.post("/api/v1/login", json={"login": login, "password": password})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    def token(self, login: str, scopes: list[str]) -> Client:
        """A client that authenticates with a new API token of these scopes."""
        with self.login(login) as session:
            made = session.post("/api/v1/tokens", json={"name": "test", "scopes": scopes})
        assert made.status_code == 201, made.text
        return Client(
            base_url=self.base,
            timeout=30,
            headers={"Authorization": f"Bearer {made.json()['token']}"},
        )


def seed(store: Store, data: Path) -> None:
    for description in (ACME, OTHER):
        configuration.apply_config(store, parse_config(description), data=data)
    accounts.add_provider_admin(store, "provider@vaxel.test", PASSWORD)
    accounts.set_user_account(store, "acme.example", "1001", password=PASSWORD, role="admin")
    accounts.set_user_account(store, "acme.example", "1002", password=PASSWORD, role="user")
    accounts.set_user_account(store, "other.example", "2001", password=PASSWORD, role="admin")


@pytest.fixture
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite for the API's tests, unless a module asks for both databases (its queries
    are the services', which tests/services runs on both already)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'vaxel.db'}"
    url: str = request.getfixturevalue("postgres_migrated")
    empty_database(url)
    return url


BOTH_DATABASES = pytest.mark.parametrize(
    "migrated_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)  # fmt: skip


@pytest.fixture(autouse=True, scope="session")
def cheap_argon2() -> None:
    """argon2id with the smallest cost: the suite logs in hundreds of times, and the
    production parameters take 0.1 s of CPU per hash on this machine."""
    accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@contextmanager
def serve(store: Store, data: Path) -> Iterator[Web]:
    """The web app on a free loopback port over `store`, until the block ends (the
    browser tests in tests/integration use it too)."""
    bus = Bus()
    loop = asyncio.new_event_loop()
    context = WebContext(
        store, data, bus=bus, publish=lambda event: loop.call_soon_threadsafe(bus.publish, event)
    )
    server = WebServer(context, listen("127.0.0.1", 0))

    def run() -> None:
        async def main() -> None:
            server.start()
            assert server.task is not None
            await server.task

        loop.run_until_complete(main())

    thread = threading.Thread(target=run, name="web", daemon=True)
    thread.start()
    try:
        yield Web(server.address, store, data, bus, loop, context)
    finally:
        server.server.force_exit = True  # no waiting for idle keep-alive connections
        loop.call_soon_threadsafe(setattr, server.server, "should_exit", True)
        thread.join(timeout=30)
        server.socket.close()
        loop.close()


@dataclass
class Seeded:
    """A seeded SQLite database and data folder, copied for each test."""

    database: Path
    data: Path


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    folder = tmp_path_factory.mktemp("web-seeded")
    data = folder / "data"
    data.mkdir()
    store = Store.open(folder, url=f"sqlite:///{folder / 'vaxel.db'}")
    seed(store, data)
    store.close()
    with contextlib.closing(sqlite3.connect(folder / "vaxel.db")) as database:
        database.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all in the one file we copy
    return Seeded(folder / "vaxel.db", data)


@pytest.fixture(scope="session")
def site(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """One server for the API's and the pages' tests; each test gives it its own store,
    data folder and login limiter (`web`), so tests share nothing but the process."""
    folder = tmp_path_factory.mktemp("web-idle")
    store = Store.open(folder, url=f"sqlite:///{folder / 'vaxel.db'}")
    with serve(store, folder) as shared:
        yield shared
    store.close()


@pytest.fixture
def web(site: Web, migrated_url: str, seeded: Seeded, tmp_path: Path) -> Iterator[Web]:
    data = tmp_path / "data"
    if migrated_url.startswith("sqlite"):
        shutil.copyfile(seeded.database, tmp_path / "vaxel.db")
        shutil.copytree(seeded.data, data)
        store = Store.open(tmp_path, url=migrated_url)
    else:  # PostgreSQL: seeded afresh (a few modules run on both databases)
        data.mkdir()
        store = Store.open(tmp_path, url=migrated_url)
        seed(store, data)
    context = site.context
    context.store, context.data, context.limiter = store, data, LoginLimiter()
    try:
        yield Web(site.base, store, data, site.bus, site.loop, context)
    finally:
        store.close()
