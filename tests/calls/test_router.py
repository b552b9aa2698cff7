"""calls/router: a call goes to the dialled user of the caller's own company (P3)."""

from __future__ import annotations

from vaxel.calls.api import NOT_FOUND, UNAVAILABLE
from vaxel.calls.registrar import Location
from vaxel.calls.router import Router, parse_source
from vaxel.calls.switch import is_ip
from vaxel.services.registrations import Binding
from vaxel.services.users import SipUser
from vaxel.sip.message import Request, parse_message
from vaxel.transport.base import Source

ACME, OTHER = "acme.example", "other.example"
ANNA = SipUser(1, ACME, 10, "1001", "Anna", {})
BJORN = SipUser(1, ACME, 11, "1002", "Björn", {}, ring_seconds=20)
CARL = SipUser(1, ACME, 12, "1003", "Carl", {})
OTTO = SipUser(2, OTHER, 20, "1002", "Otto", {})
DIRECTORY = {(u.company_domain, u.extension): u for u in (ANNA, BJORN, CARL, OTTO)}


def _invite(uri: str) -> Request:
    lines = [
        f"INVITE {uri} SIP/2.0", "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1",
        f"From: <sip:1001@{ACME}>;tag=a", f"To: <{uri}>", "Call-ID: c", "CSeq: 1 INVITE",
    ]  # fmt: skip
    message = parse_message(("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode())
    assert isinstance(message, Request)
    return message


def _binding(contact: str, received: str) -> Binding:
    return Binding(contact, 5000.0, None, "call", 1, received=received)


def _router() -> Router:
    location = Location()
    location.replace(BJORN.user_id, [
        _binding("sip:1002@10.0.0.5:5060", "udp:192.0.2.7:40000"),
        _binding("sip:1002@phone.invalid;transport=tcp", "tcp:[2001:db8::2]:5070"),
    ])  # fmt: skip
    location.replace(OTTO.user_id, [_binding("sip:1002@10.9.9.9", "udp:192.0.2.9:5060")])
    return Router(lambda domain, ext: DIRECTORY.get((domain, ext)), location, is_ip)


def test_devices_are_reached_where_they_registered_from() -> None:
    route = _router().route(_invite(f"sip:1002@{ACME}"), ANNA, 1000.0)
    assert route.refusal is None and route.callee == BJORN and route.ring_seconds == 20
    assert [t.destination for t in route.targets] == [
        Source("UDP", "192.0.2.7", 40000),
        Source("TCP", "2001:db8::2", 5070),
    ]
    assert route.targets[0].uri == "sip:1002@10.0.0.5:5060"


def test_an_ip_address_means_the_callers_own_company() -> None:
    route = _router().route(_invite("sip:1002@127.0.0.1:5060"), ANNA, 1000.0)
    assert route.callee == BJORN


def test_other_companies_and_unknown_extensions_look_the_same() -> None:
    router = _router()
    for uri in (f"sip:1002@{OTHER}", f"sip:1999@{ACME}", "tel:+46812345678", f"sip:{ACME}"):
        assert router.route(_invite(uri), ANNA, 1000.0).refusal is NOT_FOUND, uri


def test_no_registered_device_is_unavailable() -> None:
    route = _router().route(_invite(f"sip:1003@{ACME}"), ANNA, 1000.0)
    assert route.refusal is UNAVAILABLE and route.callee == CARL


def test_expired_bindings_do_not_ring() -> None:
    route = _router().route(_invite(f"sip:1002@{ACME}"), ANNA, 6000.0)
    assert route.refusal is UNAVAILABLE


def test_parse_source() -> None:
    assert parse_source("udp:127.0.0.1:5062") == Source("UDP", "127.0.0.1", 5062)
    assert parse_source("tcp:[::1]:5070") == Source("TCP", "::1", 5070)
    assert parse_source("sctp:1.2.3.4:5") is None
    assert parse_source("garbage") is None
