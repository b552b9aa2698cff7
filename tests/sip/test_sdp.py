"""P2: SDP parse/serialize (RFC 4566) and audio offer/answer (RFC 3264)."""

from __future__ import annotations

import pytest

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.sdp import (
    Codec,
    Connection,
    Origin,
    RtpMap,
    SessionDescription,
    build_offer,
    negotiate,
    next_version,
    parse_answer,
)


def sdp(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


BARESIP = sdp(
    "v=0",
    "o=- 1851212737 3462346283 IN IP4 192.168.1.20",
    "s=-",
    "c=IN IP4 192.168.1.20",
    "t=0 0",
    "m=audio 10450 RTP/AVP 96 0 8 101",
    "b=AS:80",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 stereo=1;sprop-stereo=1",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=rtcp:10451",
    "a=sendrecv",
    "a=label:1",
    "a=ssrc:2746138401 cname:6c1b0d2e-1f4a",
)

SIPP = sdp(
    "v=0",
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 6000 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
)

LINPHONE = sdp(
    "v=0",
    "o=alice 3151 1259 IN IP4 10.0.0.5",
    "s=Talk",
    "c=IN IP4 10.0.0.5",
    "t=0 0",
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics",
    "a=record:off",
    "m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 useinbandfec=1",
    "a=rtpmap:97 speex/16000",
    "a=fmtp:97 vbr=on",
    "a=rtpmap:98 speex/8000",
    "a=fmtp:98 vbr=on",
    "a=fmtp:18 annexb=yes",
    "a=rtpmap:101 telephone-event/48000",
    "a=rtpmap:99 telephone-event/16000",
    "a=rtpmap:100 telephone-event/8000",
    "a=rtcp-fb:* trr-int 1000",
    "a=rtcp-fb:* ccm tmmbr",
)

IPV6 = sdp(
    "v=0",
    "o=- 20518 0 IN IP6 2001:db8::1",
    "s=-",
    "c=IN IP6 2001:db8::1",
    "t=0 0",
    "m=audio 30000 RTP/AVP 8 96",
    "a=rtpmap:96 telephone-event/8000",
    "a=fmtp:96 0-16",
    "a=rtcp:30011 IN IP6 2001:db8::2",
    "a=ptime:20",
)

# Every line type RFC 4566 defines, and media with video, in the RFC's order.
FULL = sdp(
    "v=0",
    "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5",
    "s=SDP Seminar",
    "i=A Seminar on the session description protocol",
    "u=http://www.example.com/seminars/sdp.pdf",
    "e=j.doe@example.com (Jane Doe)",
    "p=+46 8 123 456",
    "c=IN IP4 10.47.16.5",
    "b=CT:128",
    "t=2873397496 2873404696",
    "r=7d 1h 0 25h",
    "z=2882844526 -1h 2898848070 0",
    "k=prompt",
    "a=recvonly",
    "a=tool:x 1.0",
    "m=audio 49170 RTP/AVP 0 8 97",
    "i=voice",
    "c=IN IP4 10.47.16.6",
    "b=AS:64",
    "k=prompt",
    "a=rtpmap:97 iLBC/8000",
    "a=sendrecv",
    "m=video 51372/2 RTP/AVP 31 32",
    "a=rtpmap:31 H261/90000",
    "a=rtpmap:32 MPV/90000",
    "m=application 9 UDP/BFCP *",
    "a=floorctrl:c-s",
)


@pytest.mark.parametrize("data", [BARESIP, SIPP, LINPHONE, IPV6, FULL])
def test_round_trip_is_byte_exact(data: bytes) -> None:
    assert bytes(SessionDescription.parse(data)) == data


def test_lf_only_input_is_written_with_crlf() -> None:
    lf_only = SIPP.replace(b"\r\n", b"\n")
    assert bytes(SessionDescription.parse(lf_only)) == SIPP


def test_parsed_fields() -> None:
    sd = SessionDescription.parse(FULL)
    assert sd.origin == Origin("jdoe", "2890844526", 2890842807, "IN", "IP4", "10.47.16.5")
    assert sd.name == "SDP Seminar"
    assert sd.connection == Connection("IN", "IP4", "10.47.16.5")
    assert sd.bandwidths == ["CT:128"]
    assert sd.times == ["2873397496 2873404696"]
    assert sd.attributes == [("recvonly", None), ("tool", "x 1.0")]
    audio, video, app = sd.media
    assert (audio.media, audio.port, audio.port_count, audio.proto) == (
        "audio",
        49170,
        None,
        "RTP/AVP",
    )
    assert audio.formats == ["0", "8", "97"]
    assert audio.bandwidths == ["AS:64"]
    assert audio.other == [("i", "voice"), ("k", "prompt")]
    assert (video.port, video.port_count, video.formats) == (51372, 2, ["31", "32"])
    assert app.formats == ["*"]


def test_media_helpers() -> None:
    sd = SessionDescription.parse(BARESIP)
    audio = sd.media[0]
    assert audio.rtpmap("96") == RtpMap("opus", 48000, 2)
    assert audio.rtpmap("101") == RtpMap("telephone-event", 8000, 1)
    assert audio.rtpmap("0") == RtpMap("PCMU", 8000)
    assert audio.rtpmap("77") is None
    assert audio.fmtp("96") == "stereo=1;sprop-stereo=1"
    assert audio.fmtp("0") is None
    assert audio.ptime is None
    assert audio.rtcp == (10451, None)
    assert audio.attribute("ssrc") == "2746138401 cname:6c1b0d2e-1f4a"
    assert sd.rtp_address(audio) == ("192.168.1.20", 10450)
    assert sd.rtcp_address(audio) == ("192.168.1.20", 10451)


def test_static_payload_types_need_no_rtpmap() -> None:
    audio = SessionDescription.parse(FULL).media[0]
    assert audio.rtpmap("8") == RtpMap("PCMA", 8000)
    assert audio.rtpmap("97") == RtpMap("iLBC", 8000)


def test_ipv6_and_rfc3605_rtcp_address() -> None:
    sd = SessionDescription.parse(IPV6)
    audio = sd.media[0]
    assert sd.connection == Connection("IN", "IP6", "2001:db8::1")
    assert audio.ptime == 20
    assert sd.rtp_address(audio) == ("2001:db8::1", 30000)
    assert sd.rtcp_address(audio) == ("2001:db8::2", 30011)


def test_media_connection_and_direction_override_the_session_ones() -> None:
    sd = SessionDescription.parse(FULL)
    audio, video, _ = sd.media
    assert sd.connection_of(audio) == Connection("IN", "IP4", "10.47.16.6")
    assert sd.connection_of(video) == Connection("IN", "IP4", "10.47.16.5")
    assert sd.direction_of(audio) == "sendrecv"
    assert sd.direction_of(video) == "recvonly"  # session-level default
    assert sd.rtcp_address(video) == ("10.47.16.5", 51373)


def test_direction_defaults_to_sendrecv_and_can_be_set() -> None:
    sd = SessionDescription.parse(SIPP)
    audio = sd.media[0]
    assert audio.direction is None
    assert sd.direction_of(audio) == "sendrecv"
    audio.set_direction("sendonly")
    audio.set_direction("inactive")
    assert audio.attributes[-1] == ("inactive", None)
    assert audio.values("inactive") == [None] and not audio.has("sendonly")
    with pytest.raises(ValueError):
        audio.set_direction("sideways")


def test_attribute_editing_keeps_order() -> None:
    audio = SessionDescription.parse(BARESIP).media[0]
    audio.set_attribute("rtcp", "20001")
    assert audio.attributes[6] == ("rtcp", "20001")
    audio.set_attribute("rtcp-mux")
    assert audio.attributes[-1] == ("rtcp-mux", None)
    audio.remove_attribute("rtpmap")
    assert not audio.has("rtpmap")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"o=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n",  # no v=
        b"v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n",
        b"v=0\r\ns=-\r\nt=0 0\r\n",  # no o=
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0 0\r\n",  # no s=
        b"v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n",
        b"v=0\r\no=- 1 x IN IP4 1.2.3.4\r\ns=-\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio x RTP/AVP 0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 70000 RTP/AVP 0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 1/x RTP/AVP 0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\ns=-\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\na = sendonly\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nhello\r\n",
        b"INVITE sip:bob@example.com SIP/2.0\r\n",
    ],
)
def test_malformed_sdp_is_a_400(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        SessionDescription.parse(data)
    assert info.value.status == 400


# -- offer/answer -------------------------------------------------------------


def offer_sdp(*media_lines: str, connection: str = "IN IP4 192.0.2.10") -> SessionDescription:
    return SessionDescription.parse(
        sdp(
            "v=0",
            "o=peer 100 100 IN IP4 192.0.2.10",
            "s=-",
            f"c={connection}",
            "t=0 0",
            *media_lines,
        )
    )


def answer(offer: SessionDescription, **kwargs: object):
    return negotiate(offer, address="198.51.100.1", port=20000, session_id=555, **kwargs)


def test_build_offer_bytes() -> None:
    offer = build_offer(address="198.51.100.1", port=20000, session_id=7)
    assert bytes(offer) == sdp(
        "v=0",
        "o=vaxel 7 7 IN IP4 198.51.100.1",
        "s=-",
        "c=IN IP4 198.51.100.1",
        "t=0 0",
        "m=audio 20000 RTP/AVP 8 0 101",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=ptime:20",
        "a=sendrecv",
    )


def test_build_offer_options() -> None:
    offer = build_offer(
        address="2001:db8::5",
        port=30000,
        session_id=9,
        codecs=("PCMU",),
        dtmf_pt=None,
        direction="sendonly",
        username="alice",
    )
    assert bytes(offer) == sdp(
        "v=0",
        "o=alice 9 9 IN IP6 2001:db8::5",
        "s=-",
        "c=IN IP6 2001:db8::5",
        "t=0 0",
        "m=audio 30000 RTP/AVP 0",
        "a=rtpmap:0 PCMU/8000",
        "a=ptime:20",
        "a=sendonly",
    )
    with pytest.raises(ValueError):
        build_offer(address="192.0.2.1", port=1, session_id=1, codecs=("G729",))


def test_pcma_is_chosen_over_pcmu_with_exact_answer_bytes() -> None:
    result = answer(SessionDescription.parse(BARESIP))
    assert result.codec == Codec("PCMA", 8, 8000)
    assert result.dtmf_pt == 101
    assert result.remote == ("192.168.1.20", 10450)
    assert result.remote_rtcp == ("192.168.1.20", 10451)
    assert (result.direction, result.hold) == ("sendrecv", False)
    assert bytes(result.sdp) == sdp(
        "v=0",
        "o=vaxel 555 555 IN IP4 198.51.100.1",
        "s=-",
        "c=IN IP4 198.51.100.1",
        "t=0 0",
        "m=audio 20000 RTP/AVP 8 101",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=ptime:20",
        "a=sendrecv",
    )


def test_pcmu_when_only_pcmu_is_offered() -> None:
    result = answer(SessionDescription.parse(SIPP))
    assert result.codec == Codec("PCMU", 0, 8000)
    assert result.dtmf_pt is None
    assert result.sdp.media[0].formats == ["0"]
    assert result.remote_rtcp == ("127.0.0.1", 6001)


def test_our_preference_order_wins() -> None:
    result = answer(SessionDescription.parse(BARESIP), preferred=("PCMU", "PCMA"))
    assert result.codec == Codec("PCMU", 0, 8000)


def test_linphone_offer_picks_8k_telephone_event() -> None:
    result = answer(SessionDescription.parse(LINPHONE))
    assert result.codec == Codec("PCMA", 8, 8000)
    assert result.dtmf_pt == 100
    assert result.sdp.media[0].formats == ["8", "100"]
    assert result.sdp.media[0].fmtp("100") == "0-15"  # no fmtp in the offer means 0-15


def test_telephone_event_96_is_echoed_on_ipv6() -> None:
    result = answer(SessionDescription.parse(IPV6))
    assert result.dtmf_pt == 96
    audio = result.sdp.media[0]
    assert audio.formats == ["8", "96"]
    assert audio.rtpmap("96") == RtpMap("telephone-event", 8000)
    assert audio.fmtp("96") == "0-16"
    assert result.remote == ("2001:db8::1", 30000)
    assert result.remote_rtcp == ("2001:db8::2", 30011)


def test_answer_keeps_only_the_dtmf_events_we_support() -> None:
    offer = offer_sdp(
        "m=audio 4000 RTP/AVP 8 101",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-11, 16,32-40",
    )
    assert answer(offer).sdp.media[0].fmtp("101") == "0-11,16"


def test_telephone_event_without_dtmf_events_is_not_taken() -> None:
    offer = offer_sdp(
        "m=audio 4000 RTP/AVP 8 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 32-40"
    )
    result = answer(offer)
    assert result.dtmf_pt is None
    assert result.sdp.media[0].formats == ["8"]


def test_answer_on_ipv6_address() -> None:
    result = negotiate(
        SessionDescription.parse(SIPP), address="2001:db8::9", port=4000, session_id=1
    )
    assert str(result.sdp.origin) == "vaxel 1 1 IN IP6 2001:db8::9"
    assert result.sdp.connection == Connection("IN", "IP6", "2001:db8::9")


def test_dynamic_payload_type_for_pcma_is_kept() -> None:
    offer = offer_sdp("m=audio 4000 RTP/AVP 110", "a=rtpmap:110 pcma/8000")
    assert answer(offer).codec == Codec("PCMA", 110, 8000)


@pytest.mark.parametrize(
    ("offered", "ours", "hold"),
    [
        ("sendrecv", "sendrecv", False),
        ("sendonly", "recvonly", True),
        ("recvonly", "sendonly", False),
        ("inactive", "inactive", True),
    ],
)
def test_answer_direction_mirrors_the_offer(offered: str, ours: str, hold: bool) -> None:
    offer = offer_sdp("m=audio 4000 RTP/AVP 8", f"a={offered}")
    result = answer(offer)
    assert (result.direction, result.hold) == (ours, hold)
    assert result.sdp.media[0].direction == ours


def test_session_level_direction_applies_to_the_stream() -> None:
    offer = offer_sdp("m=audio 4000 RTP/AVP 8")
    offer.set_direction("sendonly")
    assert answer(offer).direction == "recvonly"


@pytest.mark.parametrize(("offered", "ours"), [("sendrecv", "recvonly"), ("recvonly", "inactive")])
def test_old_style_hold_with_zero_address(offered: str, ours: str) -> None:
    offer = offer_sdp("m=audio 4000 RTP/AVP 8", f"a={offered}", connection="IN IP4 0.0.0.0")
    result = answer(offer)
    assert (result.direction, result.hold) == (ours, True)
    assert result.remote == ("0.0.0.0", 4000)


@pytest.mark.parametrize(
    ("offered", "override", "ours"),
    [
        ("sendrecv", "sendonly", "sendonly"),
        ("sendrecv", "inactive", "inactive"),
        ("sendonly", "sendonly", "inactive"),
        ("recvonly", "sendrecv", "sendonly"),
    ],
)
def test_direction_override_narrows_the_answer(offered: str, override: str, ours: str) -> None:
    offer = offer_sdp("m=audio 4000 RTP/AVP 8", f"a={offered}")
    assert answer(offer, direction_override=override).direction == ours


def test_disabled_stream_stays_disabled_and_video_is_rejected() -> None:
    offer = offer_sdp(
        "m=audio 0 RTP/AVP 0",
        "m=video 5002 RTP/AVP 96",
        "a=rtpmap:96 H264/90000",
        "m=audio 5004 RTP/AVP 0 8",
        "m=audio 5006 RTP/AVP 8",
    )
    result = answer(offer)
    assert result.codec == Codec("PCMA", 8, 8000)
    assert result.remote == ("192.0.2.10", 5004)
    assert bytes(result.sdp).split(b"t=0 0\r\n")[1] == sdp(
        "m=audio 0 RTP/AVP 0",
        "m=video 0 RTP/AVP 96",
        "m=audio 20000 RTP/AVP 8",
        "a=rtpmap:8 PCMA/8000",
        "a=ptime:20",
        "a=sendrecv",
        "m=audio 0 RTP/AVP 8",  # one audio stream is all we take
    )


def test_srtp_stream_is_rejected_for_a_plain_one() -> None:
    offer = offer_sdp("m=audio 4000 RTP/SAVP 8", "m=audio 4002 RTP/AVP 0")
    result = answer(offer)
    assert [(m.port, m.proto) for m in result.sdp.media] == [(0, "RTP/SAVP"), (20000, "RTP/AVP")]
    assert result.codec == Codec("PCMU", 0, 8000)


def test_offer_with_every_stream_disabled_is_answered_without_audio() -> None:
    result = answer(offer_sdp("m=audio 0 RTP/AVP 8"))
    assert (result.codec, result.remote, result.direction) == (None, None, "inactive")
    assert [m.port for m in result.sdp.media] == [0]


@pytest.mark.parametrize(
    "media",
    [
        ("m=audio 4000 RTP/AVP 18", "a=rtpmap:18 G729/8000"),
        ("m=audio 4000 RTP/AVP 18 101", "a=rtpmap:101 telephone-event/8000"),
        ("m=video 4000 RTP/AVP 96", "a=rtpmap:96 VP8/90000"),
        ("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMA/16000"),
    ],
)
def test_nothing_acceptable_is_a_488(media: tuple[str, ...]) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        answer(offer_sdp(*media))
    assert info.value.status == 488


def test_audio_without_connection_address_is_a_400() -> None:
    offer = SessionDescription.parse(
        sdp("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 8")
    )
    with pytest.raises(RemoteProtocolError) as info:
        answer(offer)
    assert info.value.status == 400


def test_negotiate_does_not_change_the_offer() -> None:
    offer = SessionDescription.parse(BARESIP)
    answer(offer, direction_override="inactive")
    assert bytes(offer) == BARESIP


# -- the offerer's side -------------------------------------------------------


def test_parse_answer_from_our_own_negotiate() -> None:
    offer = build_offer(address="198.51.100.1", port=20000, session_id=7, dtmf_pt=96)
    remote = negotiate(
        SessionDescription.parse(bytes(offer)), address="192.0.2.10", port=4000, session_id=3
    )
    result = parse_answer(offer, SessionDescription.parse(bytes(remote.sdp)))
    assert result.codec == Codec("PCMA", 8, 8000)
    assert result.dtmf_pt == 96
    assert result.remote == ("192.0.2.10", 4000)
    assert result.remote_rtcp == ("192.0.2.10", 4001)
    assert (result.direction, result.hold) == ("sendrecv", False)


def test_parse_answer_takes_the_first_common_format_of_the_answer() -> None:
    offer = build_offer(address="198.51.100.1", port=20000, session_id=7)
    reply = offer_sdp("m=audio 4000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000")
    result = parse_answer(offer, reply)
    assert result.codec == Codec("PCMU", 0, 8000)
    assert result.dtmf_pt == 101


def test_parse_answer_skips_formats_we_did_not_offer() -> None:
    offer = build_offer(address="198.51.100.1", port=20000, session_id=7, codecs=("PCMA",))
    reply = offer_sdp("m=audio 4000 RTP/AVP 0 8")
    assert parse_answer(offer, reply).codec == Codec("PCMA", 8, 8000)


@pytest.mark.parametrize(
    ("ours", "theirs", "direction", "hold"),
    [
        ("sendonly", "recvonly", "sendonly", False),
        ("sendrecv", "sendonly", "recvonly", True),
        ("sendrecv", "inactive", "inactive", True),
        ("inactive", "inactive", "inactive", True),
    ],
)
def test_parse_answer_direction(ours: str, theirs: str, direction: str, hold: bool) -> None:
    offer = build_offer(address="198.51.100.1", port=20000, session_id=7, direction=ours)
    reply = offer_sdp("m=audio 4000 RTP/AVP 8", f"a={theirs}")
    result = parse_answer(offer, reply)
    assert (result.direction, result.hold) == (direction, hold)


def test_parse_answer_rejections() -> None:
    offer = build_offer(address="198.51.100.1", port=20000, session_id=7)
    with pytest.raises(RemoteProtocolError) as info:
        parse_answer(offer, offer_sdp("m=audio 0 RTP/AVP 8"))
    assert info.value.status == 488
    with pytest.raises(RemoteProtocolError) as info:
        parse_answer(offer, offer_sdp("m=audio 4000 RTP/AVP 18"))
    assert info.value.status == 488
    with pytest.raises(RemoteProtocolError) as info:
        parse_answer(offer, offer_sdp("m=audio 4000 RTP/AVP 8", "m=video 0 RTP/AVP 96"))
    assert info.value.status == 400


# -- versions in a dialog (RFC 3264 §8) ---------------------------------------


def test_next_version_counts_changes_only() -> None:
    first = build_offer(address="198.51.100.1", port=20000, session_id=7)
    assert next_version(None, first) is first

    same = next_version(first, build_offer(address="198.51.100.1", port=20000, session_id=99))
    assert bytes(same) == bytes(first)

    hold = build_offer(address="198.51.100.1", port=20000, session_id=99, direction="sendonly")
    second = next_version(first, hold)
    assert second.origin == Origin("vaxel", "7", 8, "IN", "IP4", "198.51.100.1")
    assert first.origin.sess_version == 7  # the earlier SDP is left alone
    assert hold.origin.sess_id == "99"

    third = next_version(second, build_offer(address="198.51.100.1", port=20000, session_id=1))
    assert third.origin.sess_version == 9
    assert next_version(third, third).origin.sess_version == 9
