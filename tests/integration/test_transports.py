"""P2 transports: UDP and TCP on IPv4 and IPv6, rport/received, keep-alives, bad streams."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import USERS
from tests.integration.peers import Server, SipSocket, options_request, sipp


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def server6(provisioned: Path) -> Iterator[Server]:
    if not _has_ipv6():
        pytest.skip("no IPv6 loopback on this machine")
    srv = Server(provisioned, host="::1").start()
    yield srv
    srv.stop()


def test_udp_response_goes_to_source_with_rport_and_received(server: Server) -> None:
    with SipSocket(server) as sock:
        # The Via claims another host and port; the answer must still come back here.
        request = options_request(sock.port).replace(
            f"127.0.0.1:{sock.port};".encode(), b"192.0.2.7:5999;"
        )
        sock.send(request)
        reply = sock.recv()
    assert reply is not None and reply.startswith(b"SIP/2.0 200")
    via = re.search(rb"\r\nVia: ([^\r]*)", reply)
    assert via is not None
    assert b"received=127.0.0.1" in via.group(1)
    assert f"rport={sock.port}".encode() in via.group(1)


def test_tcp_options_and_crlf_keepalive(server: Server) -> None:
    with SipSocket(server, "tcp") as sock:
        sock.send(b"\r\n\r\n")
        assert sock.recv() == b"\r\n"  # RFC 5626 §4.4.1 pong
        sock.send(options_request(sock.port, transport="TCP"))
        reply = sock.recv()
        assert reply is not None and reply.startswith(b"SIP/2.0 200")


def test_tcp_two_messages_in_one_segment(server: Server) -> None:
    with SipSocket(server, "tcp") as sock:
        sock.send(options_request(sock.port, transport="TCP") * 2)
        replies = b""
        while replies.count(b"SIP/2.0 200") < 2:
            chunk = sock.recv()
            assert chunk, replies
            replies += chunk


def _closed_by_peer(sock: SipSocket, timeout: float = 5.0) -> bool:
    """True when the switch closed the connection (EOF or reset), False on silence."""
    sock.sock.settimeout(timeout)
    try:
        return sock.sock.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_tcp_oversized_stream_is_closed(server: Server) -> None:
    with SipSocket(server, "tcp") as sock:
        sock.send(b"OPTIONS sip:x SIP/2.0\r\nX-Junk: " + b"a" * 70000)
        assert _closed_by_peer(sock)
    assert server.alive()


def test_tcp_missing_content_length_closes_connection(server: Server) -> None:
    with SipSocket(server, "tcp") as sock:
        message = options_request(sock.port, transport="TCP").replace(b"Content-Length: 0\r\n", b"")
        sock.send(message)
        assert _closed_by_peer(sock)
    with SipSocket(server) as sock:
        sock.send(options_request(sock.port))
        reply = sock.recv()
        assert reply is not None and reply.startswith(b"SIP/2.0 200")


def test_register_over_ipv6_udp_and_tcp(server6: Server) -> None:
    for transport in ("u1", "t1"):
        result = sipp(
            server6, "register_auth.xml", user="1001", password=USERS["1001"][1],
            transport=transport, host="::1",
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
