"""P1/P3 security: no extension enumeration (svwar) and bounded password guessing (svcrack)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import DOMAIN, USERS, provision
from tests.integration.peers import Server, SipSocket, free_port, options_request

BIN = Path(sys.executable).parent


def _svwar(server: Server, method: str, *extra: str) -> str:
    result = subprocess.run(
        [
            str(BIN / "sipvicious_svwar"), "-e", "990-1010", "-m", method, "--domain", DOMAIN,
            "-b", "127.0.0.1", "-x", "127.0.0.1", "-P", str(free_port()), "-p", str(server.port),
            "-t", "0.02",
            "--maximumtime", "20", *extra, "127.0.0.1",
        ],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return result.stdout + result.stderr


def test_svwar_finds_no_extension(server: Server) -> None:
    for method in ("REGISTER", "INVITE", "OPTIONS"):
        output = _svwar(server, method)
        for ext in USERS:
            assert f"| {ext} " not in output and f"|{ext}" not in output, (method, output)
        forced = _svwar(server, method, "--force")
        # Forced, it may list every extension it tried or none: never only the real ones.
        listed = {ext for ext in map(str, range(990, 1011)) if f"| {ext} " in forced}
        assert listed in (set(), set(map(str, range(990, 1011)))), (method, forced)


def test_svcrack_is_refused_after_repeated_failures(tmp_path: Path) -> None:
    provision(tmp_path)
    server = Server(tmp_path).start()
    try:
        dictionary = tmp_path / "dict.txt"
        guesses = [f"guess-{i:03d}" for i in range(60)]
        guesses.insert(45, USERS["1001"][1])  # the right one, after the limit
        dictionary.write_text("\n".join(guesses) + "\n")
        result = subprocess.run(
            [
                str(BIN / "sipvicious_svcrack"), "-u", "1001", "-d", str(dictionary),
                "--domain", DOMAIN, "-b", "127.0.0.1", "-x", "127.0.0.1", "-P", str(free_port()),
                "-p", str(server.port), "--maximumtime", "8", "127.0.0.1",
            ],
            capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        output = result.stdout + result.stderr
        assert USERS["1001"][1] not in output, output
        assert server.alive()
        # The guessing source now gets silence, even for the right password.
        with SipSocket(server) as sock:
            sock.send(options_request(sock.port))
            assert sock.recv(timeout=2) is None
    finally:
        server.stop()
