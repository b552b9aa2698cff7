"""U1, O2: a browser's leg on a real endpoint (real sockets on loopback): ICE-lite checks,
DTLS-SRTP keys, RTCP on the RTP port. The "browser" is aioice's STUN, a DTLS client of
its own certificate and libsrtp's own SRTP (pylibsrtp): none of it is the switch's code
path being tested."""

from __future__ import annotations

import asyncio
import time

from aioice import stun
from pylibsrtp import Policy, Session

from tests.media.test_endpoint import HOST, PCMA, Peer, _noop, in_loop
from vaxel.media.dtls import DtlsCertificate, DtlsHandshake
from vaxel.media.endpoint import Endpoint
from vaxel.media.engine import MediaEngine
from vaxel.rtp.packet import build
from vaxel.rtp.rtcp import build_rr, build_sdes
from vaxel.sip.sdp import Answer, IceDtls, WebRtcSession, build_offer

PAYLOADS = [bytes([(i * 11 + j) & 0xFF for j in range(160)]) for i in range(4)]


class Browser(Peer):
    """A browser's media socket: checks the switch's candidate, then is the DTLS client."""

    def __init__(self, certificate: DtlsCertificate | None = None) -> None:
        super().__init__()
        self.certificate = certificate or DtlsCertificate()
        self.dtls = DtlsHandshake(self.certificate, server=False)
        self.tx: Session | None = None
        self.rx: Session | None = None

    def answer_for(self, endpoint: Endpoint) -> Answer:
        """What the switch learnt from the browser's SDP: WebRTC, ICE and DTLS."""
        local = endpoint.ice().with_setup("passive")
        fingerprint = self.certificate.fingerprint
        remote = IceDtls("br01", "browser-ice-password-0123", fingerprint, "active")
        sdp = build_offer(address=HOST, port=9, session_id=1)
        return Answer(sdp, PCMA, 101, (HOST, 9), (HOST, 9), "sendrecv",
                      webrtc=WebRtcSession(local, remote))  # fmt: skip

    async def check(
        self, endpoint: Endpoint, *, nominate: bool, pwd: str | None = None
    ) -> bytes | None:
        """Send a connectivity check; the switch's answer, if any."""
        local = endpoint.ice()
        request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
        request.attributes.update({"USERNAME": f"{local.ufrag}:br01", "PRIORITY": 1,
                                   "ICE-CONTROLLING": 7})  # fmt: skip
        if nominate:
            request.attributes["USE-CANDIDATE"] = None
        request.add_message_integrity((pwd or local.pwd).encode())
        self.send(endpoint.port, bytes(request))
        return await self.receive_one()

    async def receive_one(self, timeout: float = 1.0) -> bytes | None:
        got = await self.receive(1, timeout)
        return got[0] if got else None

    async def handshake(self, endpoint: Endpoint) -> None:
        for datagram in self.dtls.start():
            self.send(endpoint.port, datagram)
        deadline = time.monotonic() + 3
        while not self.dtls.done and time.monotonic() < deadline:
            for datagram in await self.receive(1, timeout=0.2):
                for out in self.dtls.receive(datagram):
                    self.send(endpoint.port, out)
        assert self.dtls.done, "no DTLS handshake"
        self.dtls.check(endpoint.ice().fingerprint)
        assert self.dtls.keys is not None
        ours, theirs = self.dtls.keys
        profile = Policy.SRTP_PROFILE_AES128_CM_SHA1_80
        self.tx = Session(Policy(ours.key, Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
        self.rx = Session(Policy(theirs.key, Policy.SSRC_ANY_INBOUND, srtp_profile=profile))


async def bridged(engine: MediaEngine, browser: Browser, phone: Peer):  # type: ignore[no-untyped-def]
    ea, eb = engine.allocate(_noop), engine.allocate(_noop)
    ea.configure(browser.answer_for(ea), sending=True)
    eb.configure(phone.answer(PCMA), sending=True)
    engine.connect(ea, eb)
    return ea, eb


async def settle() -> None:
    await asyncio.sleep(0.05)  # the loop's reader runs


@in_loop
async def test_a_browser_checks_keys_and_talks_both_ways(engine: MediaEngine) -> None:
    browser, phone = Browser(), Peer()
    ea, eb = await bridged(engine, browser, phone)
    # Before ICE and DTLS nothing flows: plain RTP from the browser's port is not relayed,
    # and the phone's audio is not sent anywhere.
    browser.send(ea.port, build(8, 1, 0, 0xAAAA, PAYLOADS[0]))
    phone.send(eb.port, build(8, 1, 0, 0xBBBB, PAYLOADS[0]))
    assert await phone.receive(1, timeout=0.2) == []
    assert await browser.receive_one(0.2) is None
    # A check with the wrong password gets no answer; a right one does.
    assert await browser.check(ea, nominate=False, pwd="not the leg's password") is None
    response = await browser.check(ea, nominate=True)
    assert response is not None
    assert stun.parse_message(response).attributes["XOR-MAPPED-ADDRESS"] == (HOST, browser.port)
    await browser.handshake(ea)
    await settle()
    assert browser.tx is not None and browser.rx is not None
    for i, payload in enumerate(PAYLOADS):
        browser.send(ea.port, browser.tx.protect(build(8, 10 + i, 160 * i, 0xAAAA, payload)))
    got = await phone.receive(4)
    assert [packet[12:] for packet in got] == PAYLOADS  # decrypted for the plain leg
    phone.send(eb.port, build(8, 2, 160, 0xBBBB, PAYLOADS[1]))
    (wire,) = await browser.receive(1)
    assert PAYLOADS[1] not in wire and browser.rx.unprotect(wire)[12:] == PAYLOADS[1]
    browser.close(), phone.close()


@in_loop
async def test_only_the_nominated_address_is_heard(engine: MediaEngine) -> None:
    browser, phone = Browser(), Peer()
    ea, _eb = await bridged(engine, browser, phone)
    await browser.check(ea, nominate=True)
    await browser.handshake(ea)
    assert browser.tx is not None
    stranger = Peer()  # replays the browser's own packets from elsewhere
    stranger.send(ea.port, browser.tx.protect(build(8, 50, 0, 0xAAAA, PAYLOADS[2])))
    assert await phone.receive(1, timeout=0.3) == []
    browser.close(), phone.close(), stranger.close()


@in_loop
async def test_rtcp_shares_the_rtp_port(engine: MediaEngine) -> None:
    browser, phone = Browser(), Peer()
    ea, _eb = await bridged(engine, browser, phone)
    await browser.check(ea, nominate=True)
    await browser.handshake(ea)
    assert browser.tx is not None and browser.rx is not None
    browser.send(ea.port, browser.tx.protect(build(8, 1, 0, 0xAAAA, PAYLOADS[0])))
    await settle()
    browser.send(ea.port, browser.tx.protect_rtcp(build_rr(0xAAAA, []) + build_sdes(0xAAAA, "b")))
    await settle()
    assert ea.srtp_dropped == 0
    ea.report(engine.cname)  # our report goes to the browser's RTP address, protected
    wire = await browser.receive_one()
    assert wire is not None and 192 <= wire[1] <= 223
    assert browser.rx.unprotect_rtcp(wire)
    browser.close(), phone.close()


@in_loop
async def test_a_browser_whose_certificate_is_not_its_sdps_gets_no_media(
    engine: MediaEngine,
) -> None:
    browser, phone = Browser(), Peer()
    ea, eb = await bridged(engine, browser, phone)
    browser.dtls = DtlsHandshake(DtlsCertificate(), server=False)  # not the SDP's certificate
    await browser.check(ea, nominate=True)
    for datagram in browser.dtls.start():
        browser.send(ea.port, datagram)
    for _ in range(3):
        for datagram in await browser.receive(1, timeout=0.3):
            for out in browser.dtls.receive(datagram):
                browser.send(ea.port, out)
    await settle()
    assert ea.srtp_in is None and ea.remote is None
    phone.send(eb.port, build(8, 1, 0, 0xBBBB, PAYLOADS[0]))
    await settle()
    assert await browser.receive_one(0.2) is None  # nothing sent to it
    browser.close(), phone.close()
