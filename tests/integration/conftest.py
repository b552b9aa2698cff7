"""Fixtures that start a real `vaxel serve` with a company and users made by the CLI.

Every test in this folder starts the switch or a real peer, so each one is marked
`integration` here, once: `pytest -m "not integration"` runs the in-memory layer alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.acme import Mailbox
from tests.integration.peers import Server, free_port, vaxel_cli

HERE = Path(__file__).parent

DOMAIN = "demo.vaxel.test"
USERS = {
    "1001": ("Anna Svensson", "anna-secret-1"),
    "1002": ("Björn Karlsson", "bjorn-secret-2"),
    "1003": ("Cecilia Lind", "cecilia-secret-3"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder `integration`."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


def provision(data: Path, domain: str = DOMAIN, users: dict[str, tuple[str, str]] = USERS) -> None:
    result = vaxel_cli(data, "company", "add", domain, "--name", "Demo AB")
    assert result.returncode == 0, result.stderr
    for ext, (name, password) in users.items():
        result = vaxel_cli(
            data, "user", "add", "--company", domain, "--ext", ext, "--name", name,
            "--password", password,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("vaxel-data")
    provision(data)
    return data


@pytest.fixture(scope="module")
def server(provisioned: Path) -> Iterator[Server]:
    srv = Server(provisioned).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session", autouse=True)
def system_prompts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The switch's system prompts, made once for every server the tests start."""
    from vaxel.media.say import build_system_prompts

    folder = tmp_path_factory.mktemp("system-prompts")
    build_system_prompts(folder)
    previous = os.environ.get("VAXEL_SYSTEM_PROMPTS")
    os.environ["VAXEL_SYSTEM_PROMPTS"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("VAXEL_SYSTEM_PROMPTS", None)
    else:
        os.environ["VAXEL_SYSTEM_PROMPTS"] = previous


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server (aiosmtpd) on loopback, keeping every message it gets."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, mailbox
    controller.stop()
