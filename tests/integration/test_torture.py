"""P2: the 49 RFC 4475 torture messages sent to a running switch over UDP.

Each gets the answer the RFC prescribes (or none, for responses), and the
switch still answers OPTIONS after all of them.
"""

from __future__ import annotations

import re

import pytest

from tests.integration.peers import Server, SipSocket, options_request
from tests.vectors import load_json, load_vector, vector_names

EXPECTED = load_json("rfc4475", "expected.json")


@pytest.mark.parametrize("name", vector_names("rfc4475"))
def test_torture_message_over_udp(server: Server, name: str) -> None:
    expected = EXPECTED[name]
    data = load_vector("rfc4475", f"{name}.dat")
    is_response = data.startswith(b"SIP/")
    with SipSocket(server) as sock:
        sock.send(data)
        reply = sock.recv(timeout=1.0 if is_response else 3.0)
    if is_response:  # no transaction of ours: parsed or not, a response is dropped
        assert reply is None, reply
        return
    if expected["outcome"] == "drop":
        assert reply is None, reply
        return
    assert reply is not None, f"no answer to {name}"
    status = int(reply.split(b" ", 2)[1])
    if expected["outcome"] == "reject":
        assert status == expected["status"], reply
        if status == 420:
            assert re.search(rb"\r\nUnsupported: ", reply), reply
        if status in (405, 501):
            assert re.search(rb"\r\nAllow: ", reply), reply
    else:
        assert status not in (400, 416, 420, 505), reply
    assert server.alive()


def test_options_answered_after_torture(server: Server) -> None:
    with SipSocket(server) as sock:
        for name in vector_names("rfc4475"):
            sock.send(load_vector("rfc4475", f"{name}.dat"))
        while sock.recv(timeout=1.0) is not None:
            pass
        sock.send(options_request(sock.port))
        reply = None
        while reply is None or b"CSeq: 1 OPTIONS" not in reply:
            reply = sock.recv()
            assert reply is not None
    assert reply.startswith(b"SIP/2.0 200")
    assert server.alive()
