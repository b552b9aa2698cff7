"""P2: SIP dialogs (RFC 3261 §12): creation, route sets, in-dialog requests, CSeq order."""

from __future__ import annotations

import pytest

from tests.sip.harness import CLIENT, SERVER, Network
from vaxel.sip.dialog import (
    Dialog,
    DialogState,
    new_call_id,
    new_tag,
    request_dialog_id,
    response_dialog_id,
)
from vaxel.sip.errors import LocalProtocolError, RemoteProtocolError
from vaxel.sip.events import AckReceived, RequestReceived, ResponseReceived
from vaxel.sip.headers import parse_name_addr
from vaxel.sip.message import Request, Response, make_response, parse_message
from vaxel.sip.transaction import new_branch

# An INVITE as the UAS sees it after two loose-routing proxies, P1 then P2,
# each added a Record-Route on top (RFC 3261 §16.6 step 4).
INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bKp2\r\n"
    b"Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKua\r\n"
    b"Max-Forwards: 68\r\n"
    b"Record-Route: <sip:p2.example.com;lr>\r\n"
    b"Record-Route: <sip:p1.example.com;lr>\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@192.0.2.10>\r\n"
    b'Proxy-Authorization: Digest username="alice", response="x"\r\n'
    b"Content-Length: 0\r\n\r\n"
)
BOB_CONTACT = "<sip:bob@192.0.2.20>"


def parse_request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def ok_for(invite: Request, tag: str = "a6c85cf", status: int = 200) -> Response:
    """The 2xx (or 1xx) as it reaches the UAC: Record-Route copied, Contact added."""
    response = make_response(invite, status, to_tag=tag)
    for value in invite.headers.get_all("Record-Route"):
        response.headers.add("Record-Route", value)
    response.headers.add("Contact", BOB_CONTACT)
    # The proxies removed their Vias on the way back (§16.7 step 3).
    wire = bytes(response).replace(
        b"Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bKp2\r\n"
        b"Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1\r\n",
        b"",
    )
    message = parse_message(wire)
    assert isinstance(message, Response)
    return message


def test_tags_and_call_ids_are_unique():
    assert len({new_tag() for _ in range(100)}) == 100
    assert len({new_call_id() for _ in range(100)}) == 100
    assert new_call_id("pbx.example.com").endswith("@pbx.example.com")


def test_dialog_created_on_both_sides_with_mirrored_ids_and_route_sets():
    invite = parse_request(INVITE)
    uas = Dialog.from_uas(invite, "a6c85cf", BOB_CONTACT)
    uac = Dialog.from_uac(invite, ok_for(invite))
    assert uas.id.call_id == uac.id.call_id == "a84b4c76e66710"
    assert (uas.local_tag, uas.remote_tag) == (uac.remote_tag, uac.local_tag)
    assert (uac.local_tag, uac.remote_tag) == ("1928301774", "a6c85cf")
    # UAS: Record-Route in order; UAC: reversed (§12.1.1, §12.1.2).
    assert [str(r) for r in uas.route_set] == [
        "<sip:p2.example.com;lr>",
        "<sip:p1.example.com;lr>",
    ]
    assert [str(r) for r in uac.route_set] == [
        "<sip:p1.example.com;lr>",
        "<sip:p2.example.com;lr>",
    ]
    assert str(uas.remote_target) == "sip:alice@192.0.2.10"
    assert str(uac.remote_target) == "sip:bob@192.0.2.20"
    assert (uac.local_seq, uac.remote_seq) == (314159, None)
    assert (uas.local_seq, uas.remote_seq) == (None, 314159)
    assert uac.state is DialogState.CONFIRMED
    assert uas.state is DialogState.EARLY
    uas.confirm()
    assert uas.state is DialogState.CONFIRMED
    assert not uac.secure and not uas.secure
    assert request_dialog_id(uac.create_request("BYE")) == uas.id
    assert response_dialog_id(ok_for(invite)) == uac.id


def test_in_dialog_bye_carries_the_route_set_byte_exact():
    invite = parse_request(INVITE)
    uac = Dialog.from_uac(invite, ok_for(invite))
    bye = uac.create_request("BYE", via="SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKbye")
    assert bytes(bye) == (
        b"BYE sip:bob@192.0.2.20 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKbye\r\n"
        b"Max-Forwards: 70\r\n"
        b"Route: <sip:p1.example.com;lr>\r\n"
        b"Route: <sip:p2.example.com;lr>\r\n"
        b'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
        b'To: "Bob" <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n'
        b"Call-ID: a84b4c76e66710\r\n"
        b"CSeq: 314160 BYE\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    uas = Dialog.from_uas(invite, "a6c85cf", BOB_CONTACT)
    bye = uas.create_request("BYE")
    assert str(bye.uri) == "sip:alice@192.0.2.10"
    assert bye.headers.get_all("Route") == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
    assert str(bye.cseq) == "1 BYE"  # the UAS's own, so far empty, CSeq space
    assert bye.from_.tag == "a6c85cf" and bye.to.tag == "1928301774"


def test_strict_route_becomes_the_request_uri():
    invite = parse_request(
        INVITE.replace(b"<sip:p1.example.com;lr>", b"<sip:p1.example.com;method=INVITE>")
    )
    uac = Dialog.from_uac(invite, ok_for(invite))
    bye = uac.create_request("BYE")
    # §12.2.1.1: the first route lacks lr, so it is the Request-URI (without
    # parameters a Request-URI may not carry) and the remote target goes last.
    assert str(bye.uri) == "sip:p1.example.com"
    assert bye.headers.get_all("Route") == ["<sip:p2.example.com;lr>", "<sip:bob@192.0.2.20>"]


def test_empty_route_set_targets_the_contact():
    invite = parse_request(INVITE.replace(b"Record-Route", b"X-Record-Route"))
    uac = Dialog.from_uac(invite, ok_for(invite))
    bye = uac.create_request("BYE")
    assert str(bye.uri) == "sip:bob@192.0.2.20"
    assert "Route" not in bye.headers


def test_out_of_order_cseq_is_rejected_with_500():
    invite = parse_request(INVITE)
    uas = Dialog.from_uas(invite, "a6c85cf", BOB_CONTACT)
    uac = Dialog.from_uac(invite, ok_for(invite))
    info = uac.create_request("INFO")
    bye = uac.create_request("BYE")
    assert uas.receive_request(bye) is None
    late = uas.receive_request(info)
    assert late is not None and late.status == 500
    assert late.to.tag == "a6c85cf"
    assert uas.remote_seq == 314161
    assert uas.state is DialogState.TERMINATED  # the BYE ended it


def test_target_refresh_updates_the_remote_target():
    invite = parse_request(INVITE)
    uas = Dialog.from_uas(invite, "a6c85cf", BOB_CONTACT)
    uac = Dialog.from_uac(invite, ok_for(invite))
    uac.local_contact = parse_name_addr("<sip:alice@192.0.2.99>")  # Alice moved
    reinvite = uac.create_request("INVITE", body=b"v=0\r\n")
    assert reinvite.headers.get("Contact") == "<sip:alice@192.0.2.99>"
    assert reinvite.headers.get("Content-Type") == "application/sdp"
    assert uas.receive_request(reinvite) is None
    assert str(uas.remote_target) == "sip:alice@192.0.2.99"
    # A non-refresh request leaves the target alone.
    uas.receive_request(uac.create_request("INFO"))
    assert str(uas.remote_target) == "sip:alice@192.0.2.99"
    # And a 2xx to our refresh moves the UAC's target.
    answer = make_response(reinvite, 200)
    answer.headers.add("Contact", "<sip:bob@192.0.2.77>")
    uac.receive_response(reinvite, answer)
    assert str(uac.remote_target) == "sip:bob@192.0.2.77"


def test_ack_for_2xx_keeps_the_invite_cseq_and_credentials():
    invite = parse_request(INVITE)
    ok = ok_for(invite)
    uac = Dialog.from_uac(invite, ok)
    ack = uac.ack_for(invite, ok, via="SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKack")
    assert str(ack.cseq) == "314159 ACK"
    assert str(ack.uri) == "sip:bob@192.0.2.20"
    assert ack.headers.get_all("Route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    assert ack.headers.get("Proxy-Authorization") == 'Digest username="alice", response="x"'
    assert uac.local_seq == 314159  # an ACK takes no new CSeq
    with pytest.raises(LocalProtocolError):
        uac.ack_for(invite, make_response(invite, 486, to_tag="a6c85cf"))
    with pytest.raises(LocalProtocolError):
        uac.create_request("ACK")


def test_early_dialog_is_confirmed_by_the_2xx_and_takes_its_route_set():
    invite = parse_request(INVITE)
    ringing = ok_for(invite, status=180)
    ringing.headers.remove("Record-Route")
    ringing.invalidate()
    uac = Dialog.from_uac(invite, ringing)
    assert uac.state is DialogState.EARLY and uac.route_set == []
    uac.receive_response(invite, ok_for(invite))
    assert uac.state is DialogState.CONFIRMED
    assert [str(r.uri) for r in uac.route_set] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]


def test_481_or_non_2xx_on_early_dialog_terminates_it():
    invite = parse_request(INVITE)
    early = Dialog.from_uac(invite, ok_for(invite, status=183))
    early.receive_response(invite, make_response(invite, 486, to_tag="a6c85cf"))
    assert early.state is DialogState.TERMINATED
    with pytest.raises(LocalProtocolError):
        early.create_request("BYE")
    confirmed = Dialog.from_uac(invite, ok_for(invite))
    info = confirmed.create_request("INFO")
    confirmed.receive_response(info, make_response(info, 481))
    assert confirmed.state is DialogState.TERMINATED


def test_responses_that_create_no_dialog():
    invite = parse_request(INVITE)
    with pytest.raises(RemoteProtocolError):
        Dialog.from_uac(invite, make_response(invite, 180))  # no To tag
    no_contact = make_response(invite, 200, to_tag="x")
    with pytest.raises(RemoteProtocolError):
        Dialog.from_uac(invite, no_contact)
    with pytest.raises(RemoteProtocolError):
        Dialog.from_uas(parse_request(INVITE.replace(b"Contact", b"X-Contact")), "t", BOB_CONTACT)


def test_sips_request_uri_makes_a_secure_dialog():
    invite = parse_request(INVITE.replace(b"INVITE sip:bob", b"INVITE sips:bob"))
    assert Dialog.from_uas(invite, "t", "<sips:bob@192.0.2.20>").secure


def test_call_setup_and_teardown_through_the_transaction_layers():
    """INVITE, 180, 200, ACK, BYE, 200 between two UAs over the in-memory network."""
    net = Network()
    alice_contact = "<sip:alice@192.0.2.10>"
    invite = parse_request(
        f"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 192.0.2.10:5060;branch={new_branch()}\r\n"
        f"Max-Forwards: 70\r\nTo: <sip:bob@biloxi.example.com>\r\n"
        f"From: <sip:alice@atlanta.example.com>;tag={new_tag()}\r\n"
        f"Call-ID: {new_call_id()}\r\nCSeq: 1 INVITE\r\nContact: {alice_contact}\r\n"
        f"Content-Length: 0\r\n\r\n".encode()
    )
    invite_key = net.client.send_request(invite)
    net.flush()
    (incoming,) = net.server.take(RequestReceived)
    bob = Dialog.from_uas(incoming.request, new_tag(), BOB_CONTACT)
    for status in (180, 200):
        response = make_response(incoming.request, status, to_tag=bob.local_tag)
        response.headers.add("Contact", BOB_CONTACT)
        net.server.respond(incoming.key, response)
    bob.confirm()
    net.flush()
    got = [e.response for e in net.client.take(ResponseReceived)]
    assert [r.status for r in got] == [180, 200]  # answered at once: no 100 needed
    alice = Dialog.from_uac(invite, got[0])
    assert alice.state is DialogState.EARLY
    alice.receive_response(invite, got[1])
    assert alice.state is DialogState.CONFIRMED and alice.id == response_dialog_id(got[1])

    via = f"SIP/2.0/UDP 192.0.2.10:5060;branch={new_branch()}"
    net.client.send_stateless(alice.ack_for(invite, got[1], via=via))
    net.flush()
    (ack,) = net.server.take(AckReceived)
    assert request_dialog_id(ack.ack) == bob.id
    assert bob.receive_request(ack.ack) is None

    bye = alice.create_request("BYE", via=f"SIP/2.0/UDP 192.0.2.10:5060;branch={new_branch()}")
    bye_key = net.client.send_request(bye)
    net.flush()
    (incoming_bye,) = net.server.take(RequestReceived)
    assert request_dialog_id(incoming_bye.request) == bob.id
    assert bob.receive_request(incoming_bye.request) is None
    assert bob.state is DialogState.TERMINATED
    net.server.respond(incoming_bye.key, make_response(incoming_bye.request, 200))
    net.flush()
    (bye_ok,) = net.client.take(ResponseReceived)
    assert bye_ok.key == bye_key and bye_ok.response.status == 200
    alice.receive_response(bye, bye_ok.response)
    assert alice.state is DialogState.TERMINATED
    net.run(64.0)
    assert len(net.client.layer) == len(net.server.layer) == 0
    assert invite_key.method == "INVITE"
    assert [w.src for w in net.log].count(CLIENT) == 3  # INVITE, ACK, BYE: no retransmission
    assert [w.src for w in net.log].count(SERVER) == 3  # 180, 200, 200
