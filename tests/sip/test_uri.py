"""SIP, SIPS, tel and other URIs (P2, RFC 3261 §19.1, RFC 3966)."""

from __future__ import annotations

import pytest

from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.uri import AbsoluteURI, SipURI, TelURI, parse_host_port, parse_uri


def sip(text: str) -> SipURI:
    uri = parse_uri(text)
    assert isinstance(uri, SipURI)
    return uri


def test_full_sip_uri() -> None:
    uri = sip("sips:alice:secret@example.com:5061;transport=TCP;lr?subject=hi&priority=urgent")
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port) == (
        "sips", "alice", "secret", "example.com", 5061,
    )  # fmt: skip
    assert uri.transport == "tcp"
    assert uri.params.items == [("transport", "TCP"), ("lr", None)]
    assert uri.headers == [("subject", "hi"), ("priority", "urgent")]
    assert uri.host_port == "example.com:5061"


def test_scheme_is_case_insensitive_and_params_keep_case() -> None:
    uri = sip("SIP:Bob@Example.COM;Maddr=X")
    assert uri.scheme == "sip" and uri.host == "Example.COM"
    assert uri.params.get("maddr") == "X" and "MADDR" in uri.params


def test_escapes_decode_once_never_twice() -> None:
    uri = sip("sip:%2541@example.com;n%61me=v%2541")
    assert uri.user == "%41"
    assert uri.params.get("name") == "v%41"
    assert str(uri) == "sip:%2541@example.com;name=v%2541"
    assert str(parse_uri(str(uri))) == str(uri)


@pytest.mark.parametrize("text", ["sip:a%2@example.com", "sip:a%zz@example.com"])
def test_bad_escape_is_an_error(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_uri(text)


def test_user_part_may_hold_reserved_characters() -> None:
    uri = sip("sip:a;b?c,d@example.com;p=1?h=2")
    assert uri.user == "a;b?c,d"
    assert uri.params.items == [("p", "1")]
    assert uri.headers == [("h", "2")]


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("[2001:db8::1]", "[2001:db8::1]", None),
        ("[2001:db8::1]:5070", "[2001:db8::1]", 5070),
        ("[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]", None),
        ("192.0.2.1:5060", "192.0.2.1", 5060),
        ("host.example.com", "host.example.com", None),
    ],
)
def test_host_port(text: str, host: str, port: int | None) -> None:
    assert parse_host_port(text) == (host, port)
    assert sip(f"sip:u@{text}").host == host


@pytest.mark.parametrize("text", ["[2001:db8::1", "[::1]x", "host:99999", "host:", "ho st", ""])
def test_bad_host_port(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_host_port(text)


def test_ipv6_round_trip() -> None:
    assert str(sip("sip:alice@[2001:db8::10]:5060;transport=udp")) == (
        "sip:alice@[2001:db8::10]:5060;transport=udp"
    )


def test_tel_uri() -> None:
    uri = parse_uri("tel:+1-201-555-0123;phone-context=example.com")
    assert isinstance(uri, TelURI)
    assert uri.number == "+1-201-555-0123" and uri.is_global and uri.user == uri.number
    assert uri.params.get("phone-context") == "example.com"
    assert not TelURI("7042").is_global
    assert str(uri) == "tel:+1-201-555-0123;phone-context=example.com"


def test_other_schemes_are_opaque() -> None:
    uri = parse_uri("mailto:someone@example.com")
    assert isinstance(uri, AbsoluteURI)
    assert (uri.scheme, uri.rest) == ("mailto", "someone@example.com")
    assert str(uri.copy()) == "mailto:someone@example.com"


@pytest.mark.parametrize(
    "text", ["<sip:a@b>", "sip:a@b c", "nocolon", "sip:@example.com", "tel:", "sip:a@"]
)
def test_bad_uris(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_uri(text)


def test_copy_is_deep() -> None:
    uri = sip("sip:a@b;x=1")
    clone = uri.copy()
    clone.params.set("x", "2")
    clone.params.set("lr")
    assert uri.params.items == [("x", "1")]
    assert clone.params.items == [("x", "2"), ("lr", None)]
    clone.params.remove("X")
    assert clone.params.items == [("lr", None)]
