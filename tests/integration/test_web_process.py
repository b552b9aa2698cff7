"""The web's own process (P8, O1; web/launcher.py, web/process.py, web/link.py).

`vaxel serve --http` runs the web and API in a child process, so the web's work
never holds up the loop that relays calls. A web process that dies is started
again while the switch keeps answering; a switch that dies takes its web with it.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from tests.integration.peers import Server, SipSocket, options_request


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; its parent has not reaped it yet


def _nice(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of proc(5)


def _web_pid(server: Server, other_than: int = 0, timeout: float = 60.0) -> int:
    assert server.process is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [pid for pid in _children(server.process.pid) if pid != other_than]
        if found and _alive(found[0]):
            return found[0]
        time.sleep(0.05)
    raise AssertionError("no web process")


def _healthy(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{server.web}/api/v1/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the web did not come back"
        time.sleep(0.05)


def _answers_sip(server: Server) -> bool:
    with SipSocket(server) as sock:
        sock.send(options_request(sock.port))
        reply = sock.recv(timeout=10)
    return reply is not None and reply.startswith(b"SIP/2.0 200")


def test_a_web_process_that_dies_is_started_again(tmp_path: Path) -> None:
    server = Server(tmp_path).start("--demo")
    try:
        _healthy(server)
        first = _web_pid(server)
        os.kill(first, signal.SIGKILL)
        assert _answers_sip(server)  # the switch never noticed
        second = _web_pid(server, other_than=first)
        assert second != first
        _healthy(server)
        login = httpx.post(f"{server.web}/api/v1/login", timeout=30,
                           json={"login": "admin@vaxel.test", "password": "wrong"})  # fmt: skip
        assert login.status_code == 401
    finally:
        server.stop()
    assert "the web process ended" in server.output


def test_the_web_process_never_outlives_the_switch(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    try:
        _healthy(server)
        web = _web_pid(server)
        assert server.process is not None
        server.process.kill()  # no SIGTERM, no clean-up: the link just closes
        server.process.wait()
        deadline = time.monotonic() + 30
        while _alive(web):
            assert time.monotonic() < deadline, "the web process outlived the switch"
            time.sleep(0.05)
    finally:
        server.stop()


def test_stopping_the_switch_stops_its_web(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    _healthy(server)
    web = _web_pid(server)
    assert server.process is not None
    assert _nice(web) > _nice(server.process.pid)  # the calls' loop gets the CPU first
    assert server.stop() == 0
    assert not _alive(web)
