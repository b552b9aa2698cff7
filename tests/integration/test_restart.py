"""P3/P7: bindings live in the database and survive a restart of the switch."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import DOMAIN, USERS, provision
from tests.integration.peers import Server, free_port, sipp, vaxel_cli


def test_bindings_survive_restart(tmp_path: Path) -> None:
    provision(tmp_path)
    server = Server(tmp_path).start()
    device_port = str(free_port())
    try:
        result = sipp(
            server, "register_auth.xml", user="1001", password=USERS["1001"][1],
            keys={"devport": device_port},
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        assert server.stop() == 0, server.output

    listing = vaxel_cli(tmp_path, "registrations", "--company", DOMAIN)
    assert f"127.0.0.1:{device_port}" in listing.stdout, listing.stdout + listing.stderr

    server.start()  # same data folder, same port
    try:
        result = sipp(
            server, "register_query.xml", user="1001", password=USERS["1001"][1],
            keys={"expect": f"Contact: <sip:1001@127.0.0.1:{device_port}[^>]*>;expires=3\\d{{3}}"},
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        server.stop()
