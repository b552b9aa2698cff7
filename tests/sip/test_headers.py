"""Header names and structured header values (P2, RFC 3261 §7.3, §20, §25.1)."""

from __future__ import annotations

import pytest

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.headers import (
    canonical_name,
    parse_auth_params,
    parse_cseq,
    parse_name_addr,
    parse_params,
    parse_via,
    quote_string,
    split_commas,
    unquote_string,
)
from vaxel.sip.uri import SipURI


@pytest.mark.parametrize(
    ("raw", "name"),
    [("v", "Via"), ("V", "Via"), ("via", "Via"), ("i", "Call-ID"), ("call-id", "Call-ID"),
     ("m", "Contact"), ("l", "Content-Length"), ("cseq", "CSeq"), ("X-Odd", "X-Odd")],
)  # fmt: skip
def test_canonical_names(raw: str, name: str) -> None:
    assert canonical_name(raw) == name


def test_split_commas_respects_quotes_and_angle_brackets() -> None:
    value = '"Doe, John" <sip:a@b;x=1,2>;p="x,y", <sip:c@d>, sip:e@f'
    assert split_commas(value) == [
        '"Doe, John" <sip:a@b;x=1,2>;p="x,y"',
        "<sip:c@d>",
        "sip:e@f",
    ]
    assert split_commas(r'"a\",b", c') == [r'"a\",b"', "c"]
    assert split_commas("  ") == []
    assert split_commas("one") == ["one"]


def test_quoted_pairs() -> None:
    assert unquote_string(r"a\"b\\c\d") == 'a"b\\cd'
    assert quote_string('say "hi" \\') == r'"say \"hi\" \\"'
    assert unquote_string(quote_string('x"\\y')[1:-1]) == 'x"\\y'


def test_name_addr_with_quoted_display_name() -> None:
    addr = parse_name_addr(r'"Alice \"A\" Smith" <sip:alice@example.com;transport=tcp>;tag=88')
    assert addr.display_name == 'Alice "A" Smith'
    assert isinstance(addr.uri, SipURI) and addr.uri.transport == "tcp"
    assert addr.tag == "88"
    assert str(addr) == r'"Alice \"A\" Smith" <sip:alice@example.com;transport=tcp>;tag=88'


def test_name_addr_with_token_display_name() -> None:
    addr = parse_name_addr("Bob  Jones <sip:bob@example.com>")
    assert addr.display_name == "Bob Jones"
    assert addr.params.items == []


def test_addr_spec_params_belong_to_the_header() -> None:
    addr = parse_name_addr("sip:bob@example.com;tag=1;user=phone")
    assert isinstance(addr.uri, SipURI) and not addr.uri.params
    assert addr.params.items == [("tag", "1"), ("user", "phone")]
    inside = parse_name_addr("<sip:bob@example.com;user=phone>;tag=1")
    assert isinstance(inside.uri, SipURI) and inside.uri.params.get("user") == "phone"
    assert inside.params.items == [("tag", "1")]


def test_wildcard_contact() -> None:
    addr = parse_name_addr(" * ")
    assert addr.wildcard and str(addr) == "*"


@pytest.mark.parametrize(
    "value",
    [
        '"unterminated <sip:a@b>',
        '"Name" sip:a@b',
        "<sip:a@b",
        "Bell, Alexander <sip:a@b>",
        "sip:a@b?subject=x",
        "< sip:a@b >",
        "<sip:a@b>;;",
    ],
)
def test_bad_name_addr(value: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_name_addr(value)


def test_params_with_whitespace_flags_and_quoted_values() -> None:
    params = parse_params(' ; a = 1 ;flag; q="x;y\\"z" ;b=')
    assert params.items == [("a", "1"), ("flag", None), ("q", '"x;y\\"z"'), ("b", "")]


def test_via() -> None:
    via = parse_via("SIP / 2.0 / udp  [2001:db8::1]:5070 ;branch=z9hG4bK1;rport;received=1.2.3.4")
    assert (via.transport, via.host, via.port, via.branch) == (
        "UDP", "[2001:db8::1]", 5070, "z9hG4bK1",
    )  # fmt: skip
    assert "rport" in via.params and via.params.get("rport") is None
    assert str(via) == "SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bK1;rport;received=1.2.3.4"


@pytest.mark.parametrize(
    "value", ["SIP/3.0/UDP h", "SIP/2.0/UDP", "SIP/2.0 UDP h", "SIP/2.0/UDP h;;", "SIP/2.0/UDP h:x"]
)
def test_bad_via(value: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_via(value)


def test_cseq() -> None:
    cseq = parse_cseq("  0042   REGISTER ")
    assert (cseq.number, cseq.method, str(cseq)) == (42, "REGISTER", "42 REGISTER")
    assert parse_cseq(f"{2**31 - 1} INVITE").number == 2**31 - 1


@pytest.mark.parametrize("value", ["1", "INVITE", "-1 INVITE", f"{2**31} INVITE", "1 IN VITE"])
def test_bad_cseq(value: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_cseq(value)


def test_auth_params() -> None:
    scheme, params = parse_auth_params(
        'Digest username="bob", realm="a, b", nonce="n\\"1", uri="sip:x", qop=auth, nc=00000001'
    )
    assert scheme == "Digest"
    assert params == {
        "username": "bob", "realm": "a, b", "nonce": 'n"1', "uri": "sip:x",
        "qop": "auth", "nc": "00000001",
    }  # fmt: skip
    with pytest.raises(RemoteProtocolError):
        parse_auth_params("Digest realm")
    with pytest.raises(RemoteProtocolError):
        parse_auth_params('Digest realm="open')
