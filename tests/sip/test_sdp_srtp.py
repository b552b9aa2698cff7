"""O2, P5: SDES keys for SRTP in SDP offer/answer (RFC 4568), both ways."""

from __future__ import annotations

import base64

import pytest

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.sdp import (
    SAVP_PROTO,
    Crypto,
    SessionDescription,
    build_offer,
    crypto_lines,
    negotiate,
    parse_answer,
    redact_keys,
)

KEY_A = bytes(range(30))
KEY_B = bytes(range(100, 130))
OURS = bytes(range(200, 230))


def sdp(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def inline(key: bytes) -> str:
    return base64.b64encode(key).decode()


# baresip 1.0.0 with `;mediaenc=srtp-mand`, as it sent it (its key of that call).
BARESIP_KEY = "WEpCTz5qRIpaxUO8xMwJnU+rqRyzPM/9k+d96Bbp"
BARESIP_SAVP = sdp(
    "v=0",
    "o=- 1088525980 2130841417 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "a=tool:baresip 1.0.0",
    "m=audio 26258 RTP/SAVP 0 8 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=sendrecv",
    "a=label:1",
    "a=rtcp-rsize",
    "a=ssrc:562629215 cname:sip:1001@127.0.0.1",
    f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{BARESIP_KEY}",
    "a=minptime:20",
    "a=ptime:20",
)

# A phone offering several suites, the 256-bit one (RFC 6188) first, which we do not meet.
MANY_SUITES = sdp(
    "v=0",
    "o=- 1316487419 2367291633 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 10450 RTP/SAVP 0 8 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=sendrecv",
    f"a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:{inline(bytes(46))}",
    f"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{inline(KEY_A)}",
    f"a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:{inline(KEY_B)}",
)

# A desk phone (Yealink/Snom style, written from RFC 4568 §4): lifetime and a 4-octet MKI.
DESK_PHONE = sdp(
    "v=0",
    "o=- 20018 20018 IN IP4 192.0.2.10",
    "s=SDP data",
    "c=IN IP4 192.0.2.10",
    "t=0 0",
    "m=audio 11780 RTP/SAVP 8 0 101",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{inline(KEY_A)}|2^31|1:4",
    "a=ptime:20",
    "a=sendrecv",
)

PLAIN = sdp(
    "v=0",
    "o=- 1 1 IN IP4 192.0.2.20",
    "s=-",
    "c=IN IP4 192.0.2.20",
    "t=0 0",
    "m=audio 6000 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
)


def answer(body: bytes, srtp: str = "optional"):  # type: ignore[no-untyped-def]
    offer = SessionDescription.parse(body)
    return negotiate(
        offer, address="198.51.100.1", port=40000, session_id=7, srtp=srtp, srtp_key=OURS
    )


def test_baresip_offer_is_answered_with_srtp_and_our_own_key() -> None:
    result = answer(BARESIP_SAVP)
    media = result.sdp.media[0]
    assert media.proto == SAVP_PROTO
    assert media.values("crypto") == [f"1 AES_CM_128_HMAC_SHA1_80 inline:{inline(OURS)}"]
    assert result.srtp is not None
    assert result.srtp.suite == "AES_CM_128_HMAC_SHA1_80"
    assert result.srtp.local.key == OURS
    assert inline(result.srtp.remote.key) == BARESIP_KEY
    assert result.codec is not None and result.codec.name == "PCMA"


def test_the_first_suite_we_meet_is_answered() -> None:
    result = answer(MANY_SUITES)
    media = result.sdp.media[0]
    assert media.proto == SAVP_PROTO
    assert media.values("crypto") == [f"2 AES_CM_128_HMAC_SHA1_32 inline:{inline(OURS)}"]
    assert result.srtp is not None
    assert result.srtp.suite == "AES_CM_128_HMAC_SHA1_32"
    assert result.srtp.local.key == OURS
    assert result.srtp.remote.key == KEY_A
    assert result.codec is not None and result.codec.name == "PCMA"


def test_desk_phone_mki_is_parsed_and_mirrored_in_the_answer() -> None:
    result = answer(DESK_PHONE)
    assert result.srtp is not None
    remote = result.srtp.remote
    assert (remote.tag, remote.mki, remote.mki_length) == (1, 1, 4)
    assert remote.mki_bytes() == b"\x00\x00\x00\x01"
    line = result.sdp.media[0].values("crypto")[0]
    assert line == f"1 AES_CM_128_HMAC_SHA1_80 inline:{inline(OURS)}|1:4"
    # Written out and read back, the answer's line is what the phone gets.
    again = SessionDescription.parse(bytes(result.sdp))
    assert crypto_lines(again.media[0])[0].key == OURS


def test_plain_offer_is_answered_plain_when_srtp_is_optional() -> None:
    result = answer(PLAIN)
    assert result.srtp is None
    assert result.sdp.media[0].proto == "RTP/AVP"
    assert not result.sdp.media[0].has("crypto")


def test_plain_offer_is_refused_when_srtp_is_required() -> None:
    with pytest.raises(RemoteProtocolError) as error:
        answer(PLAIN, srtp="required")
    assert error.value.status == 488


def test_savp_offer_is_refused_when_srtp_is_off() -> None:
    with pytest.raises(RemoteProtocolError) as error:
        answer(MANY_SUITES, srtp="off")
    assert error.value.status == 488


@pytest.mark.parametrize(
    "crypto",
    [
        "1 AES_256_CM_HMAC_SHA1_80 inline:" + inline(bytes(46)),  # a suite we do not meet
        "1 AES_CM_128_HMAC_SHA1_80 inline:" + inline(KEY_A) + " UNENCRYPTED_SRTP",
        "1 AES_CM_128_HMAC_SHA1_80 inline:" + inline(KEY_A) + " KDR=10",
        "1 AES_CM_128_HMAC_SHA1_80 inline:" + inline(KEY_A) + ";inline:" + inline(KEY_B),
        "1 AES_CM_128_HMAC_SHA1_80 inline:" + inline(bytes(20)),  # key too short
        "1 AES_CM_128_HMAC_SHA1_80 inline:!!notbase64!!",
        "1 AES_CM_128_HMAC_SHA1_80 inline:" + inline(KEY_A) + "|1:999",  # MKI too long
        "x AES_CM_128_HMAC_SHA1_80 inline:" + inline(KEY_A),
        "1 AES_CM_128_HMAC_SHA1_80",
    ],
)
def test_crypto_lines_we_cannot_meet_get_488(crypto: str) -> None:
    body = PLAIN.replace(b"RTP/AVP", b"RTP/SAVP") + f"a=crypto:{crypto}\r\n".encode()
    with pytest.raises(RemoteProtocolError) as error:
        answer(body)
    assert error.value.status == 488


def test_savp_without_crypto_lines_gets_488() -> None:
    with pytest.raises(RemoteProtocolError) as error:
        answer(PLAIN.replace(b"RTP/AVP", b"RTP/SAVP"))
    assert error.value.status == 488


def test_window_size_is_honoured() -> None:
    crypto = Crypto.parse("5 AES_CM_128_HMAC_SHA1_80 inline:" + inline(KEY_A) + "|2^20 WSH=128")
    assert crypto is not None and (crypto.tag, crypto.window) == (5, 128)


def test_offer_with_srtp_carries_both_suites_and_reads_the_answer() -> None:
    offer = build_offer(address="198.51.100.1", port=40000, session_id=1, srtp_key=OURS)
    media = offer.media[0]
    assert media.proto == SAVP_PROTO
    assert [(c.tag, c.suite, c.key) for c in crypto_lines(media)] == [
        (1, "AES_CM_128_HMAC_SHA1_80", OURS),
        (2, "AES_CM_128_HMAC_SHA1_32", OURS),
    ]
    # The phone answers (as baresip does) with tag 1 and its own key.
    reply = negotiate(
        SessionDescription.parse(bytes(offer)),
        address="127.0.0.1", port=10450, session_id=9, srtp_key=KEY_B,
    )  # fmt: skip
    result = parse_answer(offer, SessionDescription.parse(bytes(reply.sdp)))
    assert result.srtp is not None
    assert result.srtp.suite == "AES_CM_128_HMAC_SHA1_80"
    assert (result.srtp.local.key, result.srtp.remote.key) == (OURS, KEY_B)


def test_plain_offer_has_no_crypto() -> None:
    offer = build_offer(address="198.51.100.1", port=40000, session_id=1)
    assert offer.media[0].proto == "RTP/AVP"
    assert not offer.media[0].has("crypto")


def test_an_answer_that_drops_srtp_or_names_another_line_is_refused() -> None:
    offer = build_offer(address="198.51.100.1", port=40000, session_id=1, srtp_key=OURS)
    plain = SessionDescription.parse(PLAIN)
    with pytest.raises(RemoteProtocolError) as error:
        parse_answer(offer, plain)
    assert error.value.status == 488
    wrong_tag = PLAIN.replace(b"RTP/AVP", b"RTP/SAVP") + (
        f"a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:{inline(KEY_B)}\r\n".encode()
    )
    with pytest.raises(RemoteProtocolError):
        parse_answer(offer, SessionDescription.parse(wrong_tag))
    wrong_suite = PLAIN.replace(b"RTP/AVP", b"RTP/SAVP") + (
        f"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:{inline(KEY_B)}\r\n".encode()
    )
    with pytest.raises(RemoteProtocolError):
        parse_answer(offer, SessionDescription.parse(wrong_suite))


def test_keys_are_never_in_a_repr_and_are_redacted_from_traces() -> None:
    result = answer(DESK_PHONE)
    assert result.srtp is not None
    shown = repr(result.srtp) + repr(result)
    assert inline(OURS) not in shown and inline(KEY_A) not in shown
    assert OURS.hex() not in shown and repr(OURS) not in shown
    text = redact_keys(DESK_PHONE.decode() + bytes(result.sdp).decode())
    assert inline(KEY_A) not in text and inline(OURS) not in text
    assert "inline:[redacted]|2^31|1:4" in text
