"""RFC 4475 torture messages through parse_message + validate (P2).

Each vector's fate for a registrar/B2BUA is recorded in expected.json;
the tests assert the parser and validator reach it, then check the
specific parse results the RFC calls out.
"""

from __future__ import annotations

import pytest

from tests.vectors import load_json, load_vector, vector_names
from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.message import Request, Response, parse_message
from vaxel.sip.uri import AbsoluteURI, SipURI
from vaxel.sip.validate import check_request, check_response

EXPECTED = load_json("rfc4475", "expected.json")
METHODS = frozenset(
    {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO", "UPDATE", "PRACK"}
    | {"REFER", "NOTIFY", "SUBSCRIBE", "MESSAGE"}
)


def vector(name: str) -> bytes:
    return load_vector("rfc4475", f"{name}.dat")


def parsed(name: str) -> Request | Response:
    return parse_message(vector(name))


def judge(data: bytes) -> Request | Response:
    message = parse_message(data)
    if isinstance(message, Request):
        check_request(message, methods=METHODS)
    else:
        check_response(message)
    return message


def test_all_49_vectors_are_present_and_described() -> None:
    assert vector_names("rfc4475") == sorted(EXPECTED)
    assert len(EXPECTED) == 49


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_outcome(name: str) -> None:
    expected = EXPECTED[name]
    if expected["outcome"] == "accept":
        judge(vector(name))
        return
    with pytest.raises(RemoteProtocolError) as info:
        judge(vector(name))
    if expected["outcome"] == "reject":
        assert info.value.status == expected["status"], info.value.reason
    else:
        assert vector(name).startswith(b"SIP/2.0 ")  # only responses are dropped


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["outcome"] == "accept"))
def test_accepted_messages_reserialize(name: str) -> None:
    first = parsed(name)
    again = parse_message(bytes(first))
    assert type(again) is type(first)
    if isinstance(first, Request):
        assert isinstance(again, Request)
        assert (again.method, str(again.uri)) == (first.method, str(first.uri))
    else:
        assert isinstance(again, Response)
        assert (again.status, again.reason) == (first.status, first.reason)

    def fields(message: Request | Response) -> list[tuple[str, str]]:
        return [(k, v) for k, v in message.headers if k != "Content-Length"]

    assert fields(again) == fields(first)
    assert again.body == first.body
    judge(bytes(first))


def test_420_lists_the_unsupported_options() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        judge(vector("bext01"))
    assert info.value.headers == [("Unsupported", "nothingSupportsThis, nothingSupportsThisEither")]
    # Once supported, the same request passes; Proxy-Require is not a UAS matter.
    request = parsed("bext01")
    assert isinstance(request, Request)
    check_request(
        request, supported=frozenset({"nothingSupportsThis", "nothingSupportsThisEither"})
    )


def test_501_carries_allow() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        judge(vector("mismatch02"))
    assert dict(info.value.headers)["Allow"].split(", ") == sorted(METHODS)


def test_wsinv_compact_forms_folding_and_odd_whitespace() -> None:
    request = parsed("wsinv")
    assert isinstance(request, Request)
    assert isinstance(request.uri, SipURI)
    assert "unknownparam" in request.uri.params
    assert request.to.tag == "1918181833n"
    assert request.from_.tag == "98asjd8"
    assert request.from_.display_name == 'J Rosenberg \\"'
    assert request.headers.get("Subject") == ""  # "s :" is the compact Subject
    assert request.headers.get("Max-Forwards") == "0068"
    assert (request.cseq.number, request.cseq.method) == (9, "INVITE")
    vias = request.vias
    assert [(v.transport, v.host, v.branch) for v in vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    (contact,) = request.contacts
    assert contact.display_name == 'Quoted string ""'
    assert contact.params.get("newparam") == "newvalue"
    assert "secondparam" in contact.params and contact.params.get("secondparam") is None
    assert contact.params.get("q") == "0.33"
    assert request.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert request.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert len(request.body) == 150


def test_intmeth_token_characters_and_raw_bytes() -> None:
    request = parsed("intmeth")
    assert isinstance(request, Request)
    assert request.method == "!interesting-Method0123456789_*+`.%indeed'~"
    uri = request.uri
    assert isinstance(uri, SipURI)
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert uri.host == "example.com"
    assert request.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert request.from_.display_name == "token1~` token2'+_ token3*%!.-"
    assert request.from_.tag == "_token~1'+`*%!-."
    assert request.from_.params.get("fromParam''~+*_!.-%") == '"работающий"'
    assert request.via.branch == "z9hG4bK-.!%66*_+`'~"
    assert request.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert request.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff大停電"


def test_escapes_are_decoded_exactly_once() -> None:
    request = parsed("esc01")
    assert isinstance(request, Request) and isinstance(request.uri, SipURI)
    assert request.uri.user == "sips:user@example.com"
    assert isinstance(request.to.uri, SipURI) and request.to.uri.user == "user"
    assert isinstance(request.from_.uri, SipURI) and request.from_.uri.user == "I have spaces"
    contact_uri = request.contacts[0].uri
    assert isinstance(contact_uri, SipURI)
    assert contact_uri.user == "caller"
    assert contact_uri.params.items == [("lr", None), ("name", "value%41")]


def test_escaped_nulls_keep_the_whole_user() -> None:
    request = parsed("escnull")
    assert isinstance(request, Request)
    assert isinstance(request.to.uri, SipURI) and request.to.uri.user == "null-\x00-null"
    users = [c.uri.user for c in request.contacts if isinstance(c.uri, SipURI)]
    assert users == ["\x00", "\x00\x00"]


def test_percent_is_not_an_escape_outside_uris() -> None:
    request = parsed("esc02")
    assert isinstance(request, Request)
    assert request.method == "RE%47IST%45R"
    assert request.to.display_name == "%Z%45"
    assert len(request.contacts) == 2  # C%6Fntact is an unknown header
    assert request.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"


def test_semicolon_in_user_part() -> None:
    request = parsed("semiuri")
    assert isinstance(request, Request) and isinstance(request.uri, SipURI)
    assert request.uri.user == "user;par=u@example.net"
    assert request.uri.host == "example.com" and not request.uri.params
    assert len(request.headers.values("Accept")) == 6


def test_datagram_noise_after_the_body_is_ignored() -> None:
    request = parsed("dblreq")
    assert isinstance(request, Request)
    assert request.method == "REGISTER" and request.body == b""


def test_binary_body_is_kept_as_bytes() -> None:
    request = parsed("mpart01")
    assert len(request.body) == 553
    assert b"\x00" in request.body
    assert request.body.endswith(b"--7a9cbec02ceef655--\r\n")


def test_reason_phrases() -> None:
    unreason = parsed("unreason")
    assert isinstance(unreason, Response) and unreason.status == 200
    assert unreason.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"
    noreason = parsed("noreason")
    assert isinstance(noreason, Response)
    assert (noreason.status, noreason.reason) == (100, "")


def test_contact_params_in_addr_spec_belong_to_the_header() -> None:
    cparam01 = parsed("cparam01").contacts[0]
    assert "unknownparam" in cparam01.params
    assert isinstance(cparam01.uri, SipURI) and not cparam01.uri.params
    cparam02 = parsed("cparam02").contacts[0]
    assert not cparam02.params
    assert isinstance(cparam02.uri, SipURI) and "unknownparam" in cparam02.uri.params


def test_escaped_header_in_contact_uri() -> None:
    contact = parsed("regescrt").contacts[0]
    assert isinstance(contact.uri, SipURI)
    assert contact.uri.headers == [("Route", "<sip:sip.example.com>")]


def test_unknown_schemes_parse_as_absolute_uris() -> None:
    request = parsed("unksm2")
    assert isinstance(request.to.uri, AbsoluteURI) and request.to.uri.scheme == "isbn"
    assert str(request.from_.uri) == "http://www.example.com"
    assert str(request.contacts[0].uri) == "name:John_Smith"


@pytest.mark.parametrize("name", ["clerr", "ncl", "mcl01"])
def test_content_length_errors_are_framing_errors(name: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_message(vector(name))
    assert info.value.status == 400
