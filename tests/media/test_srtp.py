"""O2, P5: SRTP on the switch's media endpoints (RFC 3711): real sockets on loopback, a real
engine, phones whose SRTP is libsrtp's own (pylibsrtp), not ours."""

from __future__ import annotations

import asyncio
import socket
import time

from pylibsrtp import Error, Policy, Session

from tests.media.test_endpoint import HOST, PCMA, PCMU, Peer, _noop, in_loop
from vaxel.media.engine import MediaEngine
from vaxel.media.player import Player
from vaxel.media.srtp import SrtpContext
from vaxel.rtp.dtmf import build_event
from vaxel.rtp.g711 import ALAW_TO_ULAW, ULAW_TO_ALAW, encode
from vaxel.rtp.packet import build, parse_header
from vaxel.rtp.rtcp import ReceiverReport, build_sr, parse
from vaxel.sip.sdp import Answer, Codec, Crypto, SrtpKeys

SUITE_80, SUITE_32 = "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"
PROFILES = {
    SUITE_80: Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    SUITE_32: Policy.SRTP_PROFILE_AES128_CM_SHA1_32,
}


class SrtpPhone(Peer):
    """A phone with SDES keys: its own for what it sends, the switch's for what it gets."""

    def __init__(self, suite: str = SUITE_80) -> None:
        super().__init__()
        self.suite = suite
        self.key = bytes((i * 13 + self.port) & 0xFF for i in range(30))
        self.switch_key = bytes((i * 31 + self.port + 7) & 0xFF for i in range(30))
        profile = PROFILES[suite]
        self.tx = Session(Policy(self.key, Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
        self.rx = Session(Policy(self.switch_key, Policy.SSRC_ANY_INBOUND, srtp_profile=profile))

    def answer(self, codec: Codec, dtmf_pt: int | None = 101, port: int | None = None) -> Answer:
        result = super().answer(codec, dtmf_pt, port)
        local = Crypto(1, self.suite, self.switch_key)
        result.srtp = SrtpKeys(local, Crypto(1, self.suite, self.key))
        return result

    def send_srtp(self, endpoint_port: int, packet: bytes) -> None:
        self.send(endpoint_port, self.tx.protect(packet))

    async def receive_plain(self, count: int, timeout: float = 2.0) -> list[bytes]:
        return [self.rx.unprotect(packet) for packet in await self.receive(count, timeout)]


async def connect(engine: MediaEngine, a: Peer, b: Peer, codec_b: Codec = PCMA):  # type: ignore[no-untyped-def]
    ea, eb = engine.allocate(_noop), engine.allocate(_noop)
    ea.configure(a.answer(PCMA), sending=True)
    eb.configure(b.answer(codec_b), sending=True)
    engine.connect(ea, eb)
    return ea, eb


PAYLOADS = [bytes([(i * 7 + j) & 0xFF for j in range(160)]) for i in range(5)]


@in_loop
async def test_an_srtp_leg_bridged_to_a_plain_one_works_both_ways(engine: MediaEngine) -> None:
    a, b = SrtpPhone(), Peer()
    ea, eb = await connect(engine, a, b)
    for i, payload in enumerate(PAYLOADS):
        a.send_srtp(ea.port, build(8, 1000 + i, 160 * i, 0xAAAA, payload))
    got = await b.receive(5)
    assert [packet[12:] for packet in got] == PAYLOADS  # plain, bit-exact
    # And back: b's plain audio reaches a encrypted with the switch's key for a's leg.
    b.send(eb.port, build(8, 7, 0, 0xBBBB, PAYLOADS[0]))
    (wire,) = await a.receive(1)
    assert PAYLOADS[0] not in wire and len(wire) == 12 + 160 + 10
    plain = a.rx.unprotect(wire)
    assert plain[12:] == PAYLOADS[0] and parse_header(plain)[4] == ea.rewriter.ssrc  # type: ignore[index]
    a.close(), b.close()


@in_loop
async def test_two_srtp_legs_each_have_their_own_keys(engine: MediaEngine) -> None:
    a, b = SrtpPhone(SUITE_80), SrtpPhone(SUITE_32)
    ea, eb = await connect(engine, a, b, PCMU)  # and another law: transcoded in between
    sent = []
    for i, payload in enumerate(PAYLOADS):
        packet = a.tx.protect(build(8, 10 + i, 160 * i, 0xAAAA, payload))
        sent.append(packet)
        a.send(ea.port, packet)
    wire = await b.receive(5)
    assert len(wire) == 5 and not set(wire) & set(sent)  # re-encrypted, never passed through
    assert all(len(packet) == 12 + 160 + 4 for packet in wire)  # b's suite: a 32-bit tag
    assert [b.rx.unprotect(p)[12:] for p in wire] == [p.translate(ALAW_TO_ULAW) for p in PAYLOADS]
    b.send_srtp(eb.port, build(0, 1, 0, 0xBBBB, PAYLOADS[1]))
    (back,) = await a.receive_plain(1)
    assert back[12:] == PAYLOADS[1].translate(ULAW_TO_ALAW)
    a.close(), b.close()


@in_loop
async def test_packets_failing_authentication_are_dropped_and_counted(engine: MediaEngine) -> None:
    a, b = SrtpPhone(), Peer()
    ea, _eb = await connect(engine, a, b)
    good = a.tx.protect(build(8, 1, 0, 0xAAAA, PAYLOADS[0]))
    tampered = bytearray(good)
    tampered[20] ^= 1
    a.send(ea.port, bytes(tampered))  # one bit changed
    a.send(ea.port, build(8, 2, 160, 0xAAAA, PAYLOADS[1]))  # plain RTP on an SRTP leg
    stranger = SrtpPhone()  # another key altogether, from another address
    stranger.send_srtp(ea.port, build(8, 3, 320, 0xAAAA, PAYLOADS[2]))
    a.send(ea.port, good)
    a.send(ea.port, good)  # a replay
    got = await b.receive(5, timeout=0.5)
    assert [packet[12:] for packet in got] == [PAYLOADS[0]]
    assert ea.srtp_dropped == 4
    assert ea._source == (HOST, a.port)  # the forged packets latched nothing
    a.close(), b.close(), stranger.close()


@in_loop
async def test_keys_pressed_on_an_srtp_leg_are_heard_and_relayed(engine: MediaEngine) -> None:
    digits: list[str] = []
    a, b = SrtpPhone(), Peer()
    ea, _eb = await connect(engine, a, b)
    ea.on_dtmf = digits.append
    for seq, (duration, end) in enumerate(((160, False), (320, True), (320, True)), 1):
        a.send_srtp(ea.port, build(101, seq, 8000, 5, build_event(5, end, 10, duration)))
    got = await b.receive(3)
    assert len(got) == 3 and {parse_header(p)[0] for p in got} == {101}  # type: ignore[index]
    assert digits == ["5"]
    a.close(), b.close()


@in_loop
async def test_what_the_switch_plays_and_records_on_an_srtp_leg(engine: MediaEngine) -> None:
    a, b = SrtpPhone(), Peer()
    ea, _eb = await connect(engine, a, b)
    heard: list[object] = []
    ea.sinks.append(heard.append)  # a recorder's or a detector's place
    a.send_srtp(ea.port, build(8, 1, 0, 0xAAAA, encode("PCMA", [1000] * 160)))
    await b.receive(1)
    assert heard and len(heard[0]) == 160  # type: ignore[arg-type]
    done = asyncio.Event()
    ea.play(Player([[1000] * 320]), done.set)  # two frames of a prompt
    frames = await a.receive_plain(2)
    assert [f[12:] for f in frames] == [encode("PCMA", [1000] * 160)] * 2
    await asyncio.wait_for(done.wait(), 2)
    a.close(), b.close()


@in_loop
async def test_rtcp_is_srtcp_both_ways(engine: MediaEngine) -> None:
    a, b = SrtpPhone(), Peer()
    ea, _eb = await connect(engine, a, b)
    rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp.bind((HOST, a.port + 1))
    rtcp.settimeout(2)
    a.send_srtp(ea.port, build(8, 1, 0, 0xAAAA, PAYLOADS[0]))
    await b.receive(1)
    now = time.time()
    report = build_sr(0xAAAA, now, 0, 1, 160, [])
    rtcp.sendto(a.tx.protect_rtcp(report), (HOST, ea.port + 1))
    rtcp.sendto(report, (HOST, ea.port + 1))  # plain RTCP: dropped
    deadline = time.monotonic() + 2
    while ea.stats._lsr == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert ea.stats._lsr != 0  # the party's SR was taken (for our LSR/DLSR)
    while ea.srtp_dropped < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert ea.srtp_dropped == 1
    ea.report(engine.cname)
    wire = rtcp.recv(2048)
    try:
        parse(wire)
        raise AssertionError("our report went out in the clear")
    except ValueError:
        pass
    packets = parse(a.rx.unprotect_rtcp(wire))
    assert isinstance(packets[0], ReceiverReport) and packets[0].ssrc == ea.rewriter.ssrc
    assert packets[0].blocks[0].ssrc == 0xAAAA  # a's stream, as the switch received it
    rtcp.close(), a.close(), b.close()


@in_loop
async def test_new_sdp_with_the_same_keys_keeps_the_contexts(engine: MediaEngine) -> None:
    a, b = SrtpPhone(), Peer()
    ea, _eb = await connect(engine, a, b)
    contexts = (ea.srtp_in, ea.srtp_out)
    ea.configure(a.answer(PCMA), sending=True)  # a re-INVITE that changed nothing
    assert (ea.srtp_in, ea.srtp_out) == contexts
    plain = b.answer(PCMA)
    ea.configure(plain, sending=True)  # went plain (a new offer without SAVP)
    assert ea.srtp_in is None and ea.srtp_out is None
    ea.close()
    assert ea.srtp_in is None
    a.close(), b.close()


@in_loop
async def test_a_new_key_in_new_sdp_takes_over(engine: MediaEngine) -> None:
    a, b = SrtpPhone(), Peer()
    ea, _eb = await connect(engine, a, b)
    old_tx = a.tx
    a.key = bytes(30)  # the phone re-keys in a re-INVITE (RFC 4568 §7.1.4)
    a.tx = Session(Policy(a.key, Policy.SSRC_ANY_OUTBOUND))
    ea.configure(a.answer(PCMA), sending=True)
    a.send_srtp(ea.port, build(8, 1, 0, 0xAAAA, PAYLOADS[0]))
    a.send(ea.port, old_tx.protect(build(8, 2, 160, 0xAAAA, PAYLOADS[1])))  # the old key
    got = await b.receive(2, timeout=0.5)
    assert [p[12:] for p in got] == [PAYLOADS[0]] and ea.srtp_dropped == 1
    a.close(), b.close()


def test_an_mki_is_carried_and_taken_out() -> None:
    key = bytes(range(30))
    crypto = Crypto(1, SUITE_80, key, 7, 2)
    ours = SrtpContext(crypto, outbound=True)
    packet = build(8, 1, 0, 5, PAYLOADS[0])
    wire = ours.protect(packet)
    assert wire is not None and wire[-12:-10] == b"\x00\x07"
    # libsrtp itself, told nothing of the MKI, reads it once the MKI is out.
    peer = Session(Policy(key, Policy.SSRC_ANY_INBOUND))
    assert peer.unprotect(wire[:-12] + wire[-10:]) == packet
    theirs = SrtpContext(crypto, outbound=False)
    assert theirs.unprotect(wire) == packet
    assert theirs.unprotect(wire) is None  # replayed
    assert theirs.unprotect(b"\x80" * 20) is None
    try:
        peer.unprotect(wire)
        raise AssertionError("a replay must fail")
    except Error:
        pass
    assert "inline" not in repr(ours) and key.hex() not in repr(ours)
