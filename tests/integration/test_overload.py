"""Overload control with a real switch: while requests pile up unread, a new call gets
503 with Retry-After, and everything else is still answered."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.integration.peers import Server, rtp_ports
from tests.integration.phone import Phone
from tests.integration.test_calls import DOMAIN, USERS, data

__all__ = ["data"]

FILLERS = 3000  # some 150 ms of work: the switch looks at its queue every 50 ms
LATE = 2500  # the new call comes after most of them


def options(port: int, n: int) -> bytes:
    return (
        f"OPTIONS sip:{DOMAIN} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKfill{n};rport\r\n"
        f"From: <sip:1001@{DOMAIN}>;tag=fill\r\nTo: <sip:{DOMAIN}>\r\n"
        f"Call-ID: filler-{n}@phone\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def test_a_new_call_is_turned_away_while_the_switch_is_behind(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAXEL_SHED_AT", "100")
    server = Server(data).start("--rtp-ports", rtp_ports())
    caller = Phone(server, "1001", USERS["1001"][1], DOMAIN)
    filler = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    filler.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
    filler.bind(("127.0.0.1", 0))
    port = filler.getsockname()[1]
    try:
        assert server.process is not None
        # The switch stalls (a stopped process) while requests arrive: they wait
        # in its socket, as they do when it cannot keep up.
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            for n in range(FILLERS):
                filler.sendto(options(port, n), ("127.0.0.1", server.port))
                if n == LATE:
                    caller.send([
                        f"INVITE sip:1005@{DOMAIN} SIP/2.0", caller._via(),
                        f"From: <sip:1001@{DOMAIN}>;tag=late", f"To: <sip:1005@{DOMAIN}>",
                        "Call-ID: turned-away@phone", "CSeq: 1 INVITE", "Max-Forwards: 70",
                    ])  # fmt: skip
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        refusal = caller.wait_response("INVITE", timeout=10)
        assert refusal.status == 503, refusal
        assert refusal.headers.get("Retry-After") == "5"
        # Everything else was served: each OPTIONS got its 200.
        filler.settimeout(5)
        answered = 0
        with contextlib.suppress(TimeoutError):
            while answered < FILLERS:
                answered += filler.recv(4096).startswith(b"SIP/2.0 200 ")
        assert answered == FILLERS
        # Once the backlog is gone, calls are served again: this one is challenged.
        time.sleep(0.3)
        assert caller.invite("1005").status != 503
        server.stop()
        assert "overloaded: new calls get 503" in server.output
    finally:
        filler.close()
        caller.close()
        server.stop()
