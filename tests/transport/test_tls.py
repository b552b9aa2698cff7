"""transport/tls on a real loopback socket with a real TLS client (P2, O2): framing, the
keep-alive pong, the caps, handshakes that fail or stall, protocol versions, and a new
certificate for new connections."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from vaxel.transport.base import Local, Source
from vaxel.transport.certificates import fingerprint, self_signed
from vaxel.transport.tls import TlsTransport, client_context, server_context

OPTIONS = (
    b"OPTIONS sip:x.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK1\r\n"
    b"From: <sip:a@x.example>;tag=1\r\nTo: <sip:x.example>\r\nCall-ID: 1\r\n"
    b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    cert, key, _ = self_signed(tmp_path_factory.mktemp("tls"), ["127.0.0.1", "x.example"])
    return cert, key


def _client(cert: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    return context


async def _until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def _serve(
    files: tuple[Path, Path], **kw: float
) -> tuple[TlsTransport, list[tuple[bytes, Source, Local]]]:
    received: list[tuple[bytes, Source, Local]] = []
    transport = await TlsTransport.listen_tls(
        "127.0.0.1", 0, lambda d, s, loc: received.append((d, s, loc)),
        server_context(*files), **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return transport, received


async def _closed(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), 3) == b""
    except (ConnectionError, ssl.SSLError):
        return True


def test_messages_are_framed_answered_and_pinged_over_tls(certificate: tuple[Path, Path]) -> None:
    async def run() -> None:
        transport, received = await _serve(certificate)
        assert transport.local.transport == "TLS"
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", transport.local.port, ssl=_client(certificate[0]),
            server_hostname="127.0.0.1",
        )  # fmt: skip
        writer.write(OPTIONS[:30])
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(OPTIONS[30:] + OPTIONS)
        await _until(lambda: len(received) == 2)
        assert [r[0] for r in received] == [OPTIONS, OPTIONS]
        source = received[0][1]
        assert source.transport == "TLS" and source.reliable
        assert str(source).startswith("tls:127.0.0.1:")
        answer = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"
        assert transport.send(answer, source)
        assert await asyncio.wait_for(reader.readexactly(len(answer)), 3) == answer
        writer.write(b"\r\n\r\n")  # RFC 5626 §4.4.1 keep-alive: answered with a pong
        assert await asyncio.wait_for(reader.readexactly(2), 3) == b"\r\n"
        writer.close()
        transport.close()

    asyncio.run(run())


def test_a_request_sent_with_the_handshake_is_answered(certificate: tuple[Path, Path]) -> None:
    """A client that writes its first request as soon as it can (in the records right after
    its Finished): the request reaches the switch and its answer gets back."""

    async def run() -> None:
        received: list[tuple[bytes, Source, Local]] = []
        transport: TlsTransport

        def answer(data: bytes, source: Source, local: Local) -> None:
            received.append((data, source, local))
            transport.send(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", source)

        transport = await TlsTransport.listen_tls(
            "127.0.0.1", 0, answer, server_context(*certificate)
        )
        for _ in range(5):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", transport.local.port, ssl=_client(certificate[0]),
                server_hostname="127.0.0.1",
            )  # fmt: skip
            writer.write(OPTIONS)
            assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)).startswith(
                b"SIP/2.0 200 OK"
            )
            writer.close()
        assert len(received) == 5
        transport.close()

    asyncio.run(run())


def test_garbage_instead_of_a_client_hello_closes_that_connection_only(
    certificate: tuple[Path, Path],
) -> None:
    async def run() -> None:
        transport, received = await _serve(certificate)
        port = transport.local.port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(OPTIONS)  # plain SIP on the TLS port
        assert await _closed(reader)
        await _until(lambda: not transport.connections)
        assert transport.handshakes_failed == 1 and transport.per_host == {}
        # The next client is served as if nothing happened.
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=_client(certificate[0]), server_hostname="127.0.0.1"
        )
        writer.write(OPTIONS)
        await _until(lambda: len(received) == 1)
        assert received[0][0] == OPTIONS
        writer.close()
        transport.close()

    asyncio.run(run())


def test_a_stalled_handshake_is_closed_without_holding_the_loop(
    certificate: tuple[Path, Path],
) -> None:
    async def run() -> None:
        transport, received = await _serve(certificate, handshake_timeout=0.3)
        port = transport.local.port
        stalled = await asyncio.open_connection("127.0.0.1", port)  # says nothing
        await _until(lambda: len(transport.connections) == 1)
        # Meanwhile another client is served.
        _, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=_client(certificate[0]), server_hostname="127.0.0.1"
        )
        writer.write(OPTIONS)
        await _until(lambda: len(received) == 1)
        assert await _closed(stalled[0])
        await _until(lambda: len(transport.connections) == 1)
        assert transport.handshakes_failed == 1
        writer.close()
        transport.close()

    asyncio.run(run())


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated")
def test_tls_before_1_2_is_refused(certificate: tuple[Path, Path]) -> None:
    async def run() -> None:
        transport, _ = await _serve(certificate)
        old = _client(certificate[0])
        old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("ALL:@SECLEVEL=0")
        with pytest.raises((ssl.SSLError, ConnectionError)):
            await asyncio.open_connection(
                "127.0.0.1", transport.local.port, ssl=old, server_hostname="127.0.0.1"
            )
        await _until(lambda: transport.handshakes_failed == 1 and not transport.connections)
        # TLS 1.2 is served, with a forward-secret AEAD suite.
        tls12 = _client(certificate[0])
        tls12.maximum_version = ssl.TLSVersion.TLSv1_2
        _, writer = await asyncio.open_connection(
            "127.0.0.1", transport.local.port, ssl=tls12, server_hostname="127.0.0.1"
        )
        cipher = writer.get_extra_info("cipher")
        assert cipher[1] == "TLSv1.2" and cipher[0].startswith("ECDHE-") and "GCM" in cipher[0]
        writer.close()
        transport.close()

    asyncio.run(run())


def test_connections_are_capped_before_their_handshake(certificate: tuple[Path, Path]) -> None:
    async def run() -> None:
        transport, _ = await _serve(certificate, max_per_source=1)
        port = transport.local.port
        first = await asyncio.open_connection("127.0.0.1", port)  # no handshake yet
        await _until(lambda: len(transport.connections) == 1)
        second = await asyncio.open_connection("127.0.0.1", port)
        assert await _closed(second[0])  # over the cap: closed at once
        first[1].close()
        await _until(lambda: not transport.connections)
        transport.close()

    asyncio.run(run())


def test_a_new_certificate_reaches_new_connections_only(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    async def run() -> None:
        transport, received = await _serve(certificate)
        port = transport.local.port
        loose = ssl.create_default_context()
        loose.check_hostname = False
        loose.verify_mode = ssl.CERT_NONE

        async def seen() -> tuple[str, asyncio.StreamWriter]:
            _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=loose)
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            return hashlib.sha256(der).digest().hex(":").upper(), writer

        before, old = await seen()
        assert before == fingerprint(certificate[0])
        new_cert, new_key, made = self_signed(tmp_path / "new", ["127.0.0.1"])
        assert made
        transport.use(server_context(new_cert, new_key))
        after, new = await seen()
        assert after == fingerprint(new_cert) != before
        old.write(OPTIONS)  # the connection made before goes on as it was
        await _until(lambda: len(received) == 1)
        old.close()
        new.close()
        transport.close()

    asyncio.run(run())


def test_the_switch_connects_to_whom_its_dialer_names_and_checks_the_certificate(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    """A TLS trunk: what is sent to the carrier waits for a connection the switch opens
    itself, after the carrier's certificate checked out; the carrier answers over it. With
    another CA the carrier's certificate is refused and nothing reaches it; an address the
    dialer does not name is never connected to."""

    async def run() -> None:
        carrier, at_carrier = await _serve(certificate)
        switch, at_switch = await _serve(certificate)
        port = carrier.local.port
        other = self_signed(tmp_path / "other", ["127.0.0.1"])[0]
        trusted: list[Path] = [other]
        switch.dialer = lambda host, p: (
            (client_context(str(trusted[0])), "127.0.0.1") if p == port else None
        )
        destination = Source("TLS", "127.0.0.1", port)
        assert switch.send(OPTIONS, destination)  # waits for the connection
        await _until(lambda: switch.handshakes_failed == 1 and not switch.connections)
        assert switch.waiting == {} and at_carrier == []
        trusted[0] = certificate[0]
        assert switch.send(OPTIONS, destination)
        assert switch.send(OPTIONS, destination)  # the second one waits with the first
        await _until(lambda: len(at_carrier) == 2)
        assert [r[0] for r in at_carrier] == [OPTIONS, OPTIONS]
        answer = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"
        assert carrier.send(answer, at_carrier[0][1])
        await _until(lambda: len(at_switch) == 1)
        assert at_switch[0][:2] == (answer, destination)  # known by the trunk's address
        assert not switch.send(OPTIONS, Source("TLS", "127.0.0.1", 9))  # not a trunk
        carrier.close()
        switch.close()

    asyncio.run(run())
