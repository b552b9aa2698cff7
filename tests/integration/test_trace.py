"""VAXEL_SIP_TRACE=1: an operator sees every SIP message in and out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.peers import Server, SipSocket, options_request


def test_sip_trace_shows_both_directions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAXEL_SIP_TRACE", "1")
    server = Server(tmp_path).start()
    try:
        with SipSocket(server) as sock:
            sock.send(options_request(sock.port))
            assert sock.recv() is not None
    finally:
        server.stop()
    assert f"from udp:127.0.0.1:{sock.port}:\nOPTIONS sip:" in server.output
    assert f"to udp:127.0.0.1:{sock.port}:\nSIP/2.0 200 OK" in server.output
