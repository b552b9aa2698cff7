"""Message parsing, serialization and stream framing (P2, RFC 3261 §7, §18.3)."""

from __future__ import annotations

import pytest

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.message import (
    Headers,
    Request,
    Response,
    StreamFramer,
    make_response,
    parse_head,
    parse_message,
    split_head,
)
from vaxel.sip.uri import SipURI

CANONICAL = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@example.com>\r\n"
    b"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.example.com>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 4\r\n"
    b"\r\n"
    b"v=0\n"
)


def request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def test_canonical_message_round_trips_byte_for_byte() -> None:
    message = request(CANONICAL)
    assert message.method == "INVITE" and str(message.uri) == "sip:bob@example.com"
    assert message.body == b"v=0\n"
    assert bytes(message) == CANONICAL


def test_status_line() -> None:
    response = parse_message(b"SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n\r\n")
    assert isinstance(response, Response)
    assert (response.status, response.reason, response.version) == (180, "Ringing", "SIP/2.0")
    assert parse_message(b"SIP/2.0 200 Very  OK \r\n\r\n").reason == "Very  OK "  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"SIP/2.0 20 OK\r\n\r\n", 400),
        (b"SIP/2.0 2000 OK\r\n\r\n", 400),
        (b"SIP/2.0 099 Low\r\n\r\n", 400),
        (b"SIP/3.0 200 OK\r\n\r\n", 505),
        (b"INVITE sip:a@b SIP/3.0\r\n\r\n", 505),
        (b"INVITE sip:a@b\r\n\r\n", 400),
        (b"INVITE  sip:a@b SIP/2.0\r\n\r\n", 400),
        (b"INV(ITE sip:a@b SIP/2.0\r\n\r\n", 400),
        (b"INVITE sip:a@b SIP/2.0\r\nNoColonHere\r\n\r\n", 400),
        (b"INVITE sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n", 400),
        (b"\r\n\r\n", 400),
    ],
)
def test_bad_start_lines_and_headers(data: bytes, status: int) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_message(data)
    assert info.value.status == status


def test_names_are_case_insensitive_and_compact_forms_expand() -> None:
    message = request(
        b"OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        b"VIA: SIP/2.0/TCP g;branch=z9hG4bK2\r\ni: abc\r\nf: <sip:x@y>;tag=1\r\nT: sip:a@b\r\n"
        b"cSeQ: 1 OPTIONS\r\nl: 0\r\n\r\n"
    )
    assert [name for name, _ in message.headers] == [
        "Via", "Via", "Call-ID", "From", "To", "CSeq", "Content-Length",
    ]  # fmt: skip
    assert [v.host for v in message.vias] == ["h", "g"]
    assert message.headers.get("call-id") == "abc" and message.call_id == "abc"
    assert "content-length" in message.headers and "Subject" not in message.headers


def test_folded_lines_join_with_one_space() -> None:
    message = request(
        b"OPTIONS sip:a@b SIP/2.0\r\nSubject: first\r\n   second\r\n\tthird\r\n"
        b"Via: SIP/2.0/UDP h\r\n ;branch=z9hG4bK1\r\n\r\n"
    )
    assert message.headers.get("Subject") == "first second third"
    assert message.via.branch == "z9hG4bK1"


def test_bare_lf_is_tolerated() -> None:
    message = request(b"OPTIONS sip:a@b SIP/2.0\nCall-ID: x\nContent-Length: 2\n\nhi")
    assert message.call_id == "x" and message.body == b"hi"


def test_list_headers_split_but_fields_stay_whole() -> None:
    headers = Headers([("Route", "<sip:p1;lr>, <sip:p2;lr>"), ("Route", '"a,b" <sip:p3>')])
    assert headers.get_all("route") == ["<sip:p1;lr>, <sip:p2;lr>", '"a,b" <sip:p3>']
    assert headers.values("Route") == ["<sip:p1;lr>", "<sip:p2;lr>", '"a,b" <sip:p3>']
    assert Headers([("Date", "Sat, 13 Nov 2010 23:29:00 GMT")]).values("Date") == [
        "Sat, 13 Nov 2010 23:29:00 GMT"
    ]


def test_headers_insert_set_remove_copy() -> None:
    headers = Headers([("Via", "b"), ("To", "t")])
    headers.insert("v", "a")
    assert headers.get_all("Via") == ["a", "b"]
    clone = headers.copy()
    headers.set("to", "u")
    headers.remove("VIA")
    assert list(headers) == [("To", "u")]
    assert len(clone) == 3


def test_body_is_bytes_and_cut_by_content_length() -> None:
    data = CANONICAL.replace(b"Content-Length: 4", b"Content-Length: 2")
    assert request(data).body == b"v="
    no_length = CANONICAL.replace(b"Content-Length: 4\r\n", b"")
    assert request(no_length).body == b"v=0\n"
    with pytest.raises(RemoteProtocolError):
        parse_message(no_length, stream=True)
    with pytest.raises(RemoteProtocolError):
        parse_message(CANONICAL.replace(b"Content-Length: 4", b"Content-Length: 5"))
    binary = CANONICAL.replace(b"Content-Length: 4", b"Content-Length: 3")[:-4] + b"\x00\xff\r"
    assert request(binary).body == b"\x00\xff\r"


@pytest.mark.parametrize("value", [b"-1", b"five", b"\xd9\xa3", b"1, 1"])
def test_bad_content_length(value: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_message(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: " + value + b"\r\n\r\n")


def test_parse_head_reports_the_length() -> None:
    head = CANONICAL.split(b"\r\n\r\n")[0]
    message, length = parse_head(head)
    assert isinstance(message, Request) and length == 4
    assert isinstance(message.uri, SipURI) and message.uri.user == "bob"


def test_serialization_sets_content_length_from_the_body() -> None:
    message = request(CANONICAL)
    message.body = b"v=0\r\no=x\r\n"
    again = request(bytes(message))
    assert again.headers.get("Content-Length") == "10" and again.body == message.body
    built = Response(200, headers=Headers([("Call-ID", "x")]))
    assert bytes(built) == b"SIP/2.0 200 OK\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n"


def test_make_response_copies_dialog_headers() -> None:
    invite = request(CANONICAL.replace(b"Max-Forwards", b"Timestamp: 54\r\nMax-Forwards"))
    ringing = make_response(invite, 180, to_tag="abc")
    assert [name for name, _ in ringing.headers] == ["Via", "To", "From", "Call-ID", "CSeq"]
    assert ringing.to.tag == "abc" and ringing.from_.tag == "1928301774"
    trying = make_response(invite, 100, to_tag="abc")
    assert trying.to.tag is None and trying.headers.get("Timestamp") == "54"


# --- stream framing -------------------------------------------------------------------------


def drain(framer: StreamFramer) -> list[bytes]:
    out = []
    while (frame := framer.next()) is not None:
        out.append(frame)
    return out


def test_framer_byte_by_byte() -> None:
    framer = StreamFramer()
    frames: list[bytes] = []
    for i in range(len(CANONICAL)):
        framer.feed(CANONICAL[i : i + 1])
        frames += drain(framer)
    assert frames == [CANONICAL] and framer.pending == 0


def test_framer_two_messages_in_one_feed() -> None:
    framer = StreamFramer()
    framer.feed(CANONICAL + CANONICAL[:30])
    assert drain(framer) == [CANONICAL]
    framer.feed(CANONICAL[30:])
    assert drain(framer) == [CANONICAL]


def test_framer_ping_and_pong() -> None:
    framer = StreamFramer()
    framer.feed(b"\r\n")
    assert framer.next() is None  # could still become a ping
    framer.feed(b"\r\n")
    assert framer.next() == b"\r\n\r\n"
    framer.feed(b"\r\n" + CANONICAL)
    assert drain(framer) == [b"\r\n", CANONICAL]


def test_framer_refuses_oversized_and_unframeable_streams() -> None:
    small = StreamFramer(max_size=64)
    small.feed(b"OPTIONS sip:a@b SIP/2.0\r\nSubject: " + b"x" * 100)
    with pytest.raises(RemoteProtocolError):
        small.next()
    big_body = StreamFramer(max_size=200)
    big_body.feed(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 500\r\n\r\n")
    with pytest.raises(RemoteProtocolError):
        big_body.next()
    no_length = StreamFramer()
    no_length.feed(b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n")
    with pytest.raises(RemoteProtocolError):
        no_length.next()


def test_split_head_takes_the_first_blank_line_of_either_kind() -> None:
    assert split_head(b"A: 1\r\nB: 2\r\n\r\nbody") == (b"A: 1\r\nB: 2", b"body")
    assert split_head(b"A: 1\nB: 2\n\nbody\r\n\r\n") == (b"A: 1\nB: 2", b"body\r\n\r\n")
    assert split_head(b"A: 1\r\n\r\nx\n\ny") == (b"A: 1", b"x\n\ny")
    assert split_head(b"A: 1\r\nB: 2\r\n") is None
