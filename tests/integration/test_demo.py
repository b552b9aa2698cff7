"""`vaxel serve --demo` (the `make run` path): prints the demo users, and they register."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.peers import Server, sipp


def test_demo_company_prints_passwords_that_work(tmp_path: Path) -> None:
    server = Server(tmp_path).start("--demo")
    try:
        text = server.output
        assert "demo.vaxel.test" in text
        accounts = dict(re.findall(r"user (\d{4})\s+password (\S+)", text))
        assert sorted(accounts) == ["1001", "1002", "1003", "1004"], text
        assert "outbound proxy" in text and f"127.0.0.1:{server.port}" in text
        result = sipp(server, "register_auth.xml", user="1002", password=accounts["1002"])
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        assert server.stop() == 0
    # A second start reuses the company and prints the same passwords.
    server.start("--demo")
    try:
        again = dict(re.findall(r"user (\d{4})\s+password (\S+)", server.output))
        assert again == accounts
    finally:
        server.stop()
