"""The test peers' own footing on a busy machine: SIPp's ports (every SIPp gets its own SIP
and media ports, all of them free, and runs again when another process took one)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.integration import peers
from tests.integration.conftest import USERS
from tests.integration.peers import Server, free_port, sipp


@pytest.fixture
def taken() -> Iterator[socket.socket]:
    """A UDP port on 127.0.0.1 that some other process holds."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


def test_a_media_port_is_free_for_sipps_video_too(
    taken: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIPp binds -mp for audio and -mp + 2 for video: a port whose video port is taken
    is passed over."""
    video = taken.getsockname()[1]
    offered = iter([video - 2, free_port()])
    monkeypatch.setattr(peers, "free_port", lambda host="127.0.0.1": next(offered))
    port = peers.free_media_port()
    assert port != video - 2
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as audio:
        audio.bind(("127.0.0.1", port))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as second:
        second.bind(("127.0.0.1", port + 2))


def test_a_sipp_that_finds_its_media_port_taken_runs_again(
    server: Server, taken: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process took the media port between our look and SIPp's bind: SIPp exits
    at once ("Address already in use") and is run again on new ports."""
    chosen = [taken.getsockname()[1]]
    real = peers.free_media_port
    monkeypatch.setattr(
        peers, "free_media_port", lambda host="127.0.0.1": chosen.pop() if chosen else real(host)
    )
    result = sipp(server, "register_auth.xml", user="1001", password=USERS["1001"][1])
    assert result.returncode == 0, result.stdout + result.stderr
    assert not chosen  # the taken port was tried first
