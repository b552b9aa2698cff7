"""U1, O2: WebRTC offers and answers (RFC 8829, 8839, 8842, 5761, 5764): what the switch answers
a browser, what it offers one, and the browsers' answers it reads."""

from __future__ import annotations

import pytest

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.sdp import (
    IceDtls,
    SessionDescription,
    build_offer,
    negotiate,
    offers_webrtc,
    parse_answer,
)

FINGERPRINT = "sha-256 " + ":".join(f"{i:02X}" for i in range(32))
OURS = IceDtls("sw01", "switch-ice-password-0123456789ab", "sha-256 " + ":".join(["AA"] * 32))

# A Chromium offer, as JsSIP sends it (host candidates only, gathering complete).
CHROME = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS stream\r\n"
    "m=audio 51234 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 127.0.0.1\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1 1 udp 2122260223 127.0.0.1 51234 typ host generation 0\r\n"
    "a=ice-ufrag:Br0w\r\na=ice-pwd:browserpassword0123456789\r\na=ice-options:trickle\r\n"
    f"a=fingerprint:{FINGERPRINT.lower()}\r\na=setup:actpass\r\na=mid:0\r\n"
    "a=sendrecv\r\na=msid:stream track\r\na=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\na=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\na=ssrc:1 cname:x\r\n"
)


def chrome(replace: tuple[str, str] = ("", "")) -> SessionDescription:
    return SessionDescription.parse(CHROME.replace(*replace).encode())


def test_a_browsers_offer_is_answered_as_an_ice_lite_dtls_server_with_g711() -> None:
    offer = chrome()
    assert offers_webrtc(offer)
    answer = negotiate(offer, address="192.0.2.1", port=30000, session_id=7, webrtc=OURS)
    assert answer.codec is not None and answer.codec.name == "PCMA"  # no transcoding
    assert answer.dtmf_pt == 126  # the 8 kHz telephone-event
    assert answer.webrtc is not None and answer.webrtc.dtls_server
    assert answer.webrtc.remote.fingerprint == FINGERPRINT  # as written: upper case
    assert answer.webrtc.remote.ufrag == "Br0w" and answer.srtp is None
    text = bytes(answer.sdp).decode()
    assert "m=audio 30000 UDP/TLS/RTP/SAVPF 8 126\r\n" in text
    for line in ("a=group:BUNDLE 0", "a=ice-lite", "a=mid:0", "a=ice-ufrag:sw01",
                 f"a=ice-pwd:{OURS.pwd}", f"a=fingerprint:{OURS.fingerprint}",
                 "a=setup:passive", "a=rtcp-mux", "a=end-of-candidates",
                 "a=candidate:1 1 udp 2130706431 192.0.2.1 30000 typ host"):  # fmt: skip
        assert f"{line}\r\n" in text, line
    assert "crypto" not in text


def test_a_browser_that_wants_to_be_the_dtls_server_gets_its_way() -> None:
    answer = negotiate(
        chrome(("a=setup:actpass", "a=setup:passive")),
        address="192.0.2.1", port=30000, session_id=7, webrtc=OURS,
    )  # fmt: skip
    assert answer.webrtc is not None and not answer.webrtc.dtls_server
    assert "a=setup:active\r\n" in bytes(answer.sdp).decode()


@pytest.mark.parametrize(
    "change",
    [
        ("a=rtcp-mux\r\n", ""),  # we only multiplex RTCP with browsers
        ("a=ice-pwd:browserpassword0123456789\r\n", ""),
        (f"a=fingerprint:{FINGERPRINT.lower()}", "a=fingerprint:sha-1 00:11"),
        ("a=setup:actpass", "a=setup:holdconn"),
    ],
)
def test_an_offer_we_cannot_meet_is_refused(change: tuple[str, str]) -> None:
    with pytest.raises(RemoteProtocolError) as refused:
        negotiate(chrome(change), address="192.0.2.1", port=30000, session_id=7, webrtc=OURS)
    assert refused.value.status == 488


def test_a_leg_without_webrtc_refuses_a_browsers_offer() -> None:
    with pytest.raises(RemoteProtocolError) as refused:
        negotiate(chrome(), address="192.0.2.1", port=30000, session_id=7)
    assert refused.value.status == 488


def test_our_offer_to_a_browser_and_its_answer() -> None:
    offer = build_offer(address="192.0.2.1", port=30000, session_id=7, webrtc=OURS)
    text = bytes(offer).decode()
    assert "m=audio 30000 UDP/TLS/RTP/SAVPF 8 0 101\r\n" in text
    assert "a=ice-lite\r\n" in text and "a=setup:actpass\r\n" in text and "a=mid:0\r\n" in text
    browser = (
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 8 101\r\nc=IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:Br0w\r\na=ice-pwd:browserpassword0123456789\r\n"
        f"a=fingerprint:{FINGERPRINT}\r\na=setup:active\r\na=mid:0\r\na=rtcp-mux\r\n"
        "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )
    answer = parse_answer(offer, SessionDescription.parse(browser.encode()))
    assert answer.webrtc is not None and answer.webrtc.dtls_server
    assert answer.webrtc.local.pwd == OURS.pwd and answer.webrtc.remote.setup == "active"
    # An answer must choose a DTLS role, and multiplex RTCP.
    for good, bad in (("a=setup:active", "a=setup:actpass"), ("a=rtcp-mux", "a=x")):
        broken = browser.replace(good, bad)
        assert broken != browser
        with pytest.raises(RemoteProtocolError):
            parse_answer(offer, SessionDescription.parse(broken.encode()))


def test_our_ice_password_is_not_in_a_repr() -> None:
    assert OURS.pwd not in repr(OURS)


def test_a_browser_that_offers_only_opus_gets_opus_and_its_48_khz_keys() -> None:
    offer = chrome(("UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126", "UDP/TLS/RTP/SAVPF 111 110"))
    answer = negotiate(offer, address="192.0.2.1", port=30000, session_id=7, webrtc=OURS)
    assert answer.codec is not None and (answer.codec.name, answer.codec.pt) == ("OPUS", 111)
    assert answer.dtmf_pt == 110
    text = bytes(answer.sdp).decode()
    assert "m=audio 30000 UDP/TLS/RTP/SAVPF 111 110\r\n" in text
    assert "a=rtpmap:111 opus/48000/2\r\n" in text


def test_opus_is_never_taken_when_g711_is_offered_nor_from_a_desk_phone() -> None:
    answer = negotiate(chrome(), address="192.0.2.1", port=30000, session_id=7, webrtc=OURS)
    assert answer.codec is not None and answer.codec.name == "PCMA"
    desk = SessionDescription.parse(
        b"v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"
    )
    with pytest.raises(RemoteProtocolError):
        negotiate(desk, address="192.0.2.1", port=30000, session_id=7)
