"""P5 media anchoring and O2 strict source: real sockets on loopback, a real engine,
Python RTP peers."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import pytest

from tests.integration.peers import free_port
from vaxel.media.endpoint import LEARNING
from vaxel.media.engine import MediaEngine, NoPorts
from vaxel.rtp.dtmf import build_event
from vaxel.rtp.g711 import ALAW_TO_ULAW
from vaxel.rtp.packet import build, parse_header
from vaxel.rtp.rtcp import ReceiverReport, Sdes, SenderReport, build_sr, parse
from vaxel.sip.sdp import Answer, Codec, build_offer

HOST = "127.0.0.1"
PCMA, PCMU = Codec("PCMA", 8, 8000), Codec("PCMU", 0, 8000)


class Peer:
    """A phone's RTP socket pair."""

    def __init__(self) -> None:
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((HOST, 0))
        self.rtp.setblocking(False)
        self.port = self.rtp.getsockname()[1]

    def answer(self, codec: Codec, dtmf_pt: int | None = 101, port: int | None = None) -> Answer:
        """What the switch learnt from this phone's SDP."""
        sdp = build_offer(address=HOST, port=self.port, session_id=1)
        remote = (HOST, port or self.port)
        return Answer(sdp, codec, dtmf_pt, remote, (HOST, remote[1] + 1), "sendrecv")

    def send(self, endpoint_port: int, packet: bytes) -> None:
        self.rtp.sendto(packet, (HOST, endpoint_port))

    async def receive(self, count: int, timeout: float = 2.0) -> list[bytes]:
        got: list[bytes] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            try:
                got.append(self.rtp.recv(2048))
            except BlockingIOError:
                await asyncio.sleep(0.005)
        return got

    def close(self) -> None:
        self.rtp.close()


def in_loop(test: Callable[[MediaEngine], Awaitable[None]]) -> Callable[[], None]:
    """Run an async test on a fresh event loop with its own media engine."""

    def run() -> None:
        async def main() -> None:
            low = free_port() & ~1
            media = MediaEngine(HOST, (low, low + 40), clock=time.time)
            try:
                await test(media)
            finally:
                media.close()

        asyncio.run(main())

    run.__name__, run.__doc__ = test.__name__, test.__doc__  # not wraps: pytest would see `engine`
    return run


def _noop(digit: str) -> None:
    pass


async def bridged(
    engine: MediaEngine,
    a_codec: Codec,
    b_codec: Codec,
    on_dtmf: Callable[[str], None] = _noop,
    b_dtmf: int | None = 96,
):  # type: ignore[no-untyped-def]
    a, b = Peer(), Peer()
    ea, eb = engine.allocate(on_dtmf), engine.allocate(_noop)
    ea.configure(a.answer(a_codec), sending=True)
    eb.configure(b.answer(b_codec, dtmf_pt=b_dtmf), sending=True)
    engine.connect(ea, eb)
    return a, b, ea, eb


@in_loop
async def test_pcma_both_ways_is_relayed_bit_exact_with_our_ssrc(engine: MediaEngine) -> None:
    a, b, ea, eb = await bridged(engine, PCMA, PCMA)
    payloads = [bytes([(i * 7 + j) & 0xFF for j in range(160)]) for i in range(5)]
    for i, payload in enumerate(payloads):
        a.send(ea.port, build(8, 1000 + i, 160 * i, 0xAAAA, payload))
    got = await b.receive(5)
    assert [packet[12:] for packet in got] == payloads
    headers = [parse_header(packet) for packet in got]
    assert {h[4] for h in headers if h} == {eb.rewriter.ssrc}
    seqs = [h[2] for h in headers if h]
    assert seqs == [(seqs[0] + i) & 0xFFFF for i in range(5)]
    assert all(h[0] == 8 for h in headers if h)
    # And back: what b says reaches a.
    b.send(eb.port, build(8, 7, 0, 0xBBBB, payloads[0]))
    (back,) = await a.receive(1)
    assert back[12:] == payloads[0] and parse_header(back)[4] == ea.rewriter.ssrc  # type: ignore[index]
    a.close(), b.close()


@in_loop
async def test_different_laws_are_transcoded(engine: MediaEngine) -> None:
    a, b, ea, _eb = await bridged(engine, PCMA, PCMU)
    payload = bytes(range(160))
    a.send(ea.port, build(8, 1, 0, 1, payload))
    (got,) = await b.receive(1)
    assert parse_header(got)[0] == 0  # type: ignore[index]
    assert got[12:] == payload.translate(ALAW_TO_ULAW)
    a.close(), b.close()


@in_loop
async def test_telephone_events_are_mapped_and_reported_once(engine: MediaEngine) -> None:
    digits: list[str] = []
    a, b, ea, _eb = await bridged(engine, PCMA, PCMA, digits.append, b_dtmf=96)
    seq = 1
    for code in (1, 11):  # "1" then "#"
        start = 8000 * seq
        for duration, end in ((160, False), (320, False), (480, True), (480, True), (480, True)):
            a.send(ea.port, build(101, seq, start, 5, build_event(code, end, 10, duration)))
            seq += 1
    got = await b.receive(10)
    await asyncio.sleep(0.05)
    assert len(got) == 10
    assert {parse_header(packet)[0] for packet in got} == {96}  # type: ignore[index]
    assert digits == ["1", "#"]
    a.close(), b.close()


@in_loop
async def test_no_dtmf_payload_type_on_the_other_leg_drops_events(engine: MediaEngine) -> None:
    a, b, ea, _eb = await bridged(engine, PCMA, PCMA, b_dtmf=None)
    a.send(ea.port, build(101, 1, 0, 5, build_event(5, False, 10, 160)))
    a.send(ea.port, build(8, 2, 160, 5, bytes(160)))
    (got,) = await b.receive(2, timeout=0.5)
    assert parse_header(got)[0] == 8  # type: ignore[index]
    a.close(), b.close()


@in_loop
async def test_symmetric_rtp_latches_to_the_real_source(engine: MediaEngine) -> None:
    a, b = Peer(), Peer()
    ea, eb = engine.allocate(_noop), engine.allocate(_noop)
    ea.configure(a.answer(PCMA, port=free_port()), sending=True)  # SDP names another port (NAT)
    eb.configure(b.answer(PCMA), sending=True)
    engine.connect(ea, eb)
    a.send(ea.port, build(8, 1, 0, 1, bytes(160)))  # first packet from the real address
    await b.receive(1)
    b.send(eb.port, build(8, 1, 0, 2, bytes(160)))
    (back,) = await a.receive(1)
    assert back[12:] == bytes(160)
    a.close(), b.close()


@in_loop
async def test_nothing_is_sent_to_a_party_that_holds(engine: MediaEngine) -> None:
    a, b, ea, eb = await bridged(engine, PCMA, PCMA)
    eb.configure(b.answer(PCMA), sending=False)  # b said sendonly/inactive
    a.send(ea.port, build(8, 1, 0, 1, bytes(160)))
    assert await b.receive(1, timeout=0.3) == []
    eb.configure(b.answer(PCMA), sending=True)  # resumed
    a.send(ea.port, build(8, 2, 160, 1, bytes(160)))
    assert len(await b.receive(1)) == 1
    a.close(), b.close()


@in_loop
async def test_rtcp_report_goes_to_the_party(engine: MediaEngine) -> None:
    a, b, ea, eb = await bridged(engine, PCMA, PCMA)
    rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp.bind((HOST, b.port + 1))
    rtcp.settimeout(2)
    for i in range(3):
        a.send(ea.port, build(8, i, 160 * i, 1, bytes(160)))
        b.send(eb.port, build(8, i, 160 * i, 2, bytes(160)))
    await b.receive(3)
    await asyncio.sleep(0.05)
    eb.report(engine.cname)
    packets = parse(rtcp.recv(2048))
    assert isinstance(packets[0], SenderReport) and packets[0].ssrc == eb.rewriter.ssrc
    assert packets[0].packet_count == 3
    assert packets[0].blocks[0].ssrc == 2  # b's own stream, as we received it
    assert any(isinstance(p, Sdes) for p in packets)
    assert not isinstance(packets[0], ReceiverReport)
    rtcp.close(), a.close(), b.close()


@in_loop
async def test_ports_are_pairs_and_run_out_cleanly(engine: MediaEngine) -> None:
    endpoints = []
    with pytest.raises(NoPorts):
        while True:
            endpoints.append(engine.allocate(_noop))
    assert endpoints and all(e.port % 2 == 0 for e in endpoints)
    first = endpoints[0].port
    endpoints[0].close()
    again = engine.allocate(_noop)
    assert again.port == first  # the only free pair, at the back of the queue


@in_loop
async def test_a_released_endpoint_relays_nothing_and_is_reused_fresh(
    engine: MediaEngine,
) -> None:
    a, b, ea, eb = await bridged(engine, PCMA, PCMA)
    port = ea.port
    ea.close()  # the leg ended: its sockets stay bound, idle
    a.send(port, build(8, 1, 0, 1, bytes(160)))
    assert await b.receive(1, timeout=0.3) == []  # a late packet of the old call goes nowhere
    assert ea.peer is None and eb.peer is None and ea.codec == ""
    a.close(), b.close()


@in_loop
async def test_port_pairs_are_bound_ahead_of_need_and_handed_out_fresh(
    engine: MediaEngine,
) -> None:
    assert engine.prepare(reserve=4, at_most=3) == 3  # a few per timer tick
    assert engine.prepare(reserve=4, at_most=3) == 1  # up to the reserve
    assert engine.prepare(reserve=4, at_most=3) == 0
    prepared = {e.port for e in engine._ready}
    peer = Peer()
    peer.send(min(prepared), build(8, 1, 0, 1, bytes(160)))  # a stray packet: dropped
    endpoint = engine.allocate(_noop)
    assert endpoint.port in prepared and endpoint.peer is None and endpoint.codec == ""
    # Every pair bound: the reserve stops growing, and allocation still works.
    while engine.prepare(reserve=1000, at_most=1000):
        pass
    assert engine.allocate(_noop).port % 2 == 0
    peer.close()


# -- strict source (O2) ------------------------------------------------------------------------

VOICE = bytes(range(160))  # what the party says
NOISE = b"\x2a" * 160  # what a stranger tries to slip into the call


class Clock:
    """The endpoints' clock, moved by the test (the learning window is a matter of time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


@in_loop
async def test_a_latched_stream_hears_only_its_source(engine: MediaEngine) -> None:
    clock = Clock()
    engine.clock = clock  # the endpoints allocated next read this clock
    a, b, ea, eb = await bridged(engine, PCMA, PCMA)
    stranger = Peer()
    a.send(ea.port, build(8, 1, 0, 1, VOICE))  # the party's first packet: latched
    assert [p[12:] for p in await b.receive(1)] == [VOICE]
    for when in (clock.now + 0.1, clock.now + LEARNING + 60):  # learning, and long after
        clock.now = when
        for seq in range(5):
            stranger.send(ea.port, build(8, 2 + seq, 160 * (2 + seq), 1, NOISE))
        a.send(ea.port, build(8, 9, 160 * 9, 1, VOICE))  # queued behind the stranger's
        # Anything relayed from the stranger would have reached b before this packet.
        assert [p[12:] for p in await b.receive(1)] == [VOICE]
    assert ea.received == 3  # the stranger's packets were not even counted
    b.send(eb.port, build(8, 1, 0, 2, VOICE))
    assert [p[12:] for p in await a.receive(1)] == [VOICE]  # b's audio still goes to a
    with pytest.raises(BlockingIOError):
        stranger.rtp.recv(2048)
    a.close(), b.close(), stranger.close()


@in_loop
async def test_behind_nat_another_address_may_take_over_only_while_learning(
    engine: MediaEngine,
) -> None:
    clock = Clock()
    engine.clock = clock
    a, b, moved, late = Peer(), Peer(), Peer(), Peer()
    ea, eb = engine.allocate(_noop), engine.allocate(_noop)
    behind_nat = a.answer(PCMA, port=free_port())  # the SDP names another port
    ea.configure(behind_nat, sending=True)
    eb.configure(b.answer(PCMA), sending=True)
    engine.connect(ea, eb)
    a.send(ea.port, build(8, 1, 0, 1, VOICE))
    assert len(await b.receive(1)) == 1
    clock.now += LEARNING / 2  # the NAT binding settles on another port: followed
    moved.send(ea.port, build(8, 2, 160, 1, VOICE))
    assert len(await b.receive(1)) == 1
    b.send(eb.port, build(8, 1, 0, 2, VOICE))
    assert len(await moved.receive(1)) == 1
    clock.now += LEARNING  # learnt: nobody else takes over, not even the first address
    for peer in (late, a):
        peer.send(ea.port, build(8, 3, 320, 1, NOISE))
    moved.send(ea.port, build(8, 4, 480, 1, VOICE))
    assert [p[12:] for p in await b.receive(1)] == [VOICE]
    # The same SDP again (a re-INVITE after the NAT moved) opens the window once more.
    clock.now += 60
    ea.configure(behind_nat, sending=True)
    late.send(ea.port, build(8, 5, 640, 1, VOICE))
    assert [p[12:] for p in await b.receive(1)] == [VOICE]
    assert ea.remote == (HOST, late.port)
    for peer in (a, b, moved, late):
        peer.close()


@in_loop
async def test_new_sdp_lets_the_party_latch_at_its_new_address(engine: MediaEngine) -> None:
    clock = Clock()
    engine.clock = clock
    a, b, ea, _eb = await bridged(engine, PCMA, PCMA)
    a.send(ea.port, build(8, 1, 0, 1, VOICE))
    assert len(await b.receive(1)) == 1
    clock.now += LEARNING + 60
    phone = Peer()  # the party moved to another network ...
    phone.send(ea.port, build(8, 2, 160, 1, NOISE))  # ... and until its SDP says so, is not heard
    a.send(ea.port, build(8, 3, 320, 1, VOICE))
    assert [p[12:] for p in await b.receive(1)] == [VOICE]
    ea.configure(phone.answer(PCMA), sending=True)  # the re-INVITE
    phone.send(ea.port, build(8, 4, 480, 1, VOICE))
    a.send(ea.port, build(8, 5, 640, 1, NOISE))  # the old address matches the SDP less well
    phone.send(ea.port, build(8, 6, 800, 1, VOICE))
    assert [p[12:] for p in await b.receive(2)] == [VOICE, VOICE]
    assert ea.remote == (HOST, phone.port)
    for peer in (a, b, phone):
        peer.close()


@in_loop
async def test_rtcp_is_taken_only_from_the_latched_source(engine: MediaEngine) -> None:
    clock = Clock()
    engine.clock = clock
    a, b, ea, _eb = await bridged(engine, PCMA, PCMA)
    a_rtcp, stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), Peer()
    a_rtcp.bind((HOST, 0))
    a.send(ea.port, build(8, 1, 0, 1, VOICE))
    assert len(await b.receive(1)) == 1
    a_rtcp.sendto(build_sr(1, 10.0, 0, 1, 160, []), (HOST, ea.port + 1))
    await until(lambda: ea.stats._lsr != 0)
    assert ea.rtcp_remote == a_rtcp.getsockname()
    clock.now += LEARNING + 60
    stranger.rtp.sendto(build_sr(1, 99.0, 0, 1, 160, []), (HOST, ea.port + 1))
    a_rtcp.sendto(build_sr(1, 20.0, 0, 1, 160, []), (HOST, ea.port + 1))  # queued behind it
    lsr_of_20 = build_sr(1, 20.0, 0, 1, 160, [])[10:14]
    await until(lambda: ea.stats._lsr == int.from_bytes(lsr_of_20, "big"))
    assert ea.rtcp_remote == a_rtcp.getsockname()  # the stranger's report moved nothing
    a_rtcp.close(), a.close(), b.close(), stranger.close()
