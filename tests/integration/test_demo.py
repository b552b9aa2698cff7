"""`vaxel serve --demo` (the `make run` path): prints the demo users, and they register."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

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


def test_demo_prints_web_logins_that_work(tmp_path: Path) -> None:
    """The three logins `make run` prints open the API, each as its role; the provider's
    metrics count the registered phone."""
    server = Server(tmp_path).start("--demo")
    try:
        logins = dict(re.findall(r"^  (?:provider admin|company admin|user)\s+(\S+@\S+)"
                                 r"  password (\S+)$", server.output, re.M))  # fmt: skip
        assert sorted(logins) == [
            "1001@demo.vaxel.test",
            "1002@demo.vaxel.test",
            "admin@vaxel.test",
        ]
        phones = dict(re.findall(r"user (\d{4})\s+password (\S+)", server.output))
        result = sipp(server, "register_auth.xml", user="1003", password=phones["1003"])
        assert result.returncode == 0, result.stdout + result.stderr
        roles = {}
        for login, password in logins.items():
            with httpx.Client(base_url=server.web, timeout=30) as client:
                answer = client.post("/api/v1/login", json={"login": login, "password": password})
                assert answer.status_code == 200, answer.text
                roles[login] = answer.json()["role"]
                if login == "admin@vaxel.test":
                    metrics = client.get("/api/v1/metrics").text
        assert roles == {"admin@vaxel.test": "provider", "1001@demo.vaxel.test": "admin",
                         "1002@demo.vaxel.test": "user"}  # fmt: skip
        assert "\nvaxel_devices_registered 1\n" in metrics, metrics
    finally:
        server.stop()
