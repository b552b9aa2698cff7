"""P3/P4 calls between users through the B2BUA: SIPp callers and SIPp devices on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.peers import (
    Server,
    free_port,
    rtp_ports,
    sipp,
    sipp_background,
    vaxel_cli,
)

DOMAIN = "calls.vaxel.test"
OTHER = "other.vaxel.test"
USERS = {
    "1001": ("Anna Svensson", "anna-secret-1", 30),
    "1002": ("Björn Karlsson", "bjorn-secret-2", 30),
    "1003": ("Cecilia Lind", "cecilia-secret-3", 30),
    "1004": ("David Ek", "david-secret-4", 5),
    "1005": ("Eva Berg", "eva-secret-5", 30),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("vaxel-calls")
    for domain in (DOMAIN, OTHER):
        assert vaxel_cli(folder, "company", "add", domain, "--name", domain).returncode == 0
    for ext, (name, password, ring) in USERS.items():
        result = vaxel_cli(
            folder, "user", "add", "--company", DOMAIN, "--ext", ext, "--name", name,
            "--password", password, "--ring-time", str(ring),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    result = vaxel_cli(
        folder, "user", "add", "--company", OTHER, "--ext", "2001", "--name", "Other",
        "--password", "other-secret-1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def server(data: Path) -> Iterator[Server]:
    srv = Server(data).start("--rtp-ports", rtp_ports())
    yield srv
    srv.stop()


def register(server: Server, ext: str, port: int) -> None:
    result = sipp(
        server, "register_auth.xml", user=ext, password=USERS[ext][1], port=port,
        keys={"domain": DOMAIN},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def device(server: Server, ext: str, scenario: str, **options: object):  # type: ignore[no-untyped-def]
    """A registered SIPp device of `ext` waiting for one call with `scenario`."""
    port = free_port()
    register(server, ext, port)
    process = sipp_background(server, scenario, user=ext, port=port, **options)  # type: ignore[arg-type]
    time.sleep(0.3)
    return process


def call(server: Server, caller: str, callee: str, scenario: str = "call_caller.xml", **options):  # type: ignore[no-untyped-def]
    return sipp(
        server, scenario, user=caller, password=USERS[caller][1],
        keys={"domain": DOMAIN, "callee": callee}, **options,
    )  # fmt: skip


def records(data: Path, wanted: int) -> list[str]:
    """The call list's lines, once it has at least `wanted` calls (records are written behind)."""
    deadline = time.monotonic() + 10
    while True:
        result = vaxel_cli(data, "calls", "--company", DOMAIN)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.strip().splitlines()[1:]
        if len(lines) >= wanted or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def test_call_answered_and_hung_up_by_caller(server: Server, data: Path) -> None:
    callee = device(server, "1002", "callee_answer.xml")
    result = call(server, "1001", "1002", extra=("-d", "500"))
    assert result.returncode == 0, result.stdout + result.stderr + server.output
    out, _ = callee.communicate(timeout=30)
    assert callee.returncode == 0, out
    (line,) = [line for line in records(data, 1) if "answered" in line]
    assert "1001" in line and "1002" in line and "caller" in line
