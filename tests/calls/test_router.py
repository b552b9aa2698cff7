"""calls/router: a user's phones, and the SIP address of whatever a feature dials (P3, P6)."""

from __future__ import annotations

from vaxel.calls.api import UNAVAILABLE, Device, Line
from vaxel.calls.registrar import Location
from vaxel.calls.router import Router, parse_source
from vaxel.services.company_config import TrunkConfig
from vaxel.services.registrations import Binding
from vaxel.services.users import SipUser
from vaxel.transport.base import Source

ACME = "acme.example"
BJORN = SipUser(1, ACME, 11, "1002", "Björn", {}, ring_seconds=20)
CARL = SipUser(1, ACME, 12, "1003", "Carl", {})
TRUNK = TrunkConfig(host="192.0.2.50", port=5080, username="acme", password="trunk-secret")


def _binding(contact: str, received: str) -> Binding:
    return Binding(contact, 5000.0, None, "call", 1, received=received)


def _router() -> Router:
    location = Location()
    location.replace(BJORN.user_id, [
        _binding("sip:1002@10.0.0.5:5060", "udp:192.0.2.7:40000"),
        _binding("sip:1002@phone.invalid;transport=tcp", "tcp:[2001:db8::2]:5070"),
    ])  # fmt: skip
    router = Router(location)
    router.use_trunks({(1, "carrier"): TRUNK})
    return router


def test_a_users_phones_are_their_live_registrations() -> None:
    reach = _router().devices(BJORN, 1000.0)
    assert reach.refusal is None and reach.ring_seconds == 20
    assert [d.binding for d in reach.devices] == [
        "sip:1002@10.0.0.5:5060",
        "sip:1002@phone.invalid;transport=tcp",
    ]
    assert {(d.extension, d.name, d.domain) for d in reach.devices} == {("1002", "Björn", ACME)}


def test_devices_are_reached_where_they_registered_from() -> None:
    router = _router()
    devices = router.devices(BJORN, 1000.0).devices
    targets = [router.resolve(device, 1000.0) for device in devices]
    assert [t.destination for t in targets if t is not None] == [
        Source("UDP", "192.0.2.7", 40000),
        Source("TCP", "2001:db8::2", 5070),
    ]
    first = targets[0]
    assert first is not None
    assert first.uri == "sip:1002@10.0.0.5:5060"  # the Contact, but never its host to send to
    assert first.to_uri == f"sip:1002@{ACME}" and first.credentials is None


def test_no_registered_device_is_unavailable() -> None:
    assert _router().devices(CARL, 1000.0).refusal is UNAVAILABLE


def test_expired_bindings_do_not_ring() -> None:
    router = _router()
    assert router.devices(BJORN, 6000.0).refusal is UNAVAILABLE
    device = Device(11, "1002", "Björn", ACME, "sip:1002@10.0.0.5:5060")
    assert router.resolve(device, 6000.0) is None  # lapsed between ringing and dialling


def test_a_line_goes_to_the_trunk_with_its_credentials() -> None:
    target = _router().resolve(Line(1, "carrier", "+46701740605", "+46812345600"), 0.0)
    assert target is not None
    assert target.uri == "sip:+46701740605@192.0.2.50"
    assert target.destination == Source("UDP", "192.0.2.50", 5080)
    assert target.credentials == ("acme", "trunk-secret")
    assert target.caller_id == "+46812345600"


def test_a_trunk_of_another_company_or_gone_is_no_line() -> None:
    router = _router()
    assert router.resolve(Line(2, "carrier", "+46701740605", None), 0.0) is None
    assert router.resolve(Line(1, "removed", "+46701740605", None), 0.0) is None


def test_parse_source() -> None:
    assert parse_source("udp:127.0.0.1:5062") == Source("UDP", "127.0.0.1", 5062)
    assert parse_source("tcp:[::1]:5070") == Source("TCP", "::1", 5070)
    assert parse_source("ws:192.0.2.7:41000") == Source("WS", "192.0.2.7", 41000)  # RFC 7118
    assert parse_source("wss:[::1]:41001") == Source("WSS", "::1", 41001)
    assert parse_source("tls:[::1]:5071") == Source("TLS", "::1", 5071)
    assert parse_source("sctp:1.2.3.4:5") is None
    assert parse_source("garbage") is None


def test_a_binding_that_asks_for_tls_is_reached_over_tls_only() -> None:
    """A sips: Contact, or one with ;transport=tls, is rung back over its TLS flow; the same
    Contact on a plain flow (UDP, TCP) is no device at all (O2, RFC 5630)."""
    location = Location()
    location.replace(BJORN.user_id, [
        _binding("sips:1002@desk.invalid", "tls:192.0.2.7:40001"),
        _binding("sip:1002@mobile.invalid;transport=tls", "tls:192.0.2.8:40002"),
        _binding("sips:1002@spoof.invalid", "udp:192.0.2.9:40003"),
        _binding("sip:1002@soft.invalid;transport=TLS", "tcp:192.0.2.10:40004"),
        _binding("sip:1002@plain.invalid", "tls:192.0.2.11:40005"),
    ])  # fmt: skip
    router = Router(location)
    devices = router.devices(BJORN, 1000.0).devices
    assert [d.binding for d in devices] == [
        "sips:1002@desk.invalid",
        "sip:1002@mobile.invalid;transport=tls",
        "sip:1002@plain.invalid",
    ]
    targets = [router.resolve(device, 1000.0) for device in devices]
    assert [t.destination.transport for t in targets if t is not None] == ["TLS"] * 3
    spoof = Device(BJORN.user_id, "1002", "Björn", ACME, "sips:1002@spoof.invalid")
    assert router.resolve(spoof, 1000.0) is None
