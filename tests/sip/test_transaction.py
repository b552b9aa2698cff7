"""P2: SIP transactions (RFC 3261 §17, RFC 6026) through the in-memory pair harness."""

from __future__ import annotations

import pytest

from tests.sip.harness import CLIENT, SERVER, Network, request, request_bytes
from vaxel.sip.dialog import Dialog
from vaxel.sip.errors import LocalProtocolError
from vaxel.sip.events import (
    AckReceived,
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    Send,
    StrayResponse,
    TransactionKey,
    TransactionTerminated,
    TransactionTimeout,
)
from vaxel.sip.message import make_response, parse_message
from vaxel.sip.transaction import MAGIC_COOKIE, State, TransactionLayer, new_branch

B1 = "z9hG4bK776asdhds"


def times(wires: list) -> list[float]:
    return [w.time for w in wires]


def received(net: Network) -> RequestReceived:
    (event,) = net.server.take(RequestReceived)
    assert isinstance(event, RequestReceived)
    return event


def statuses(endpoint) -> list[int]:
    return [e.response.status for e in endpoint.take(ResponseReceived)]


def test_new_branch_has_the_magic_cookie_and_is_unique():
    branches = {new_branch() for _ in range(100)}
    assert len(branches) == 100
    assert all(b.startswith(MAGIC_COOKIE) for b in branches)


def test_non_invite_happy_path_byte_exact():
    net = Network()
    key = net.client.send_request(request("OPTIONS", branch=B1))
    assert key == TransactionKey("client", B1, "OPTIONS")
    net.flush()
    event = received(net)
    assert event.key == TransactionKey("server", B1, "OPTIONS", "192.0.2.10:5060|client")
    net.server.respond(event.key, make_response(event.request, 200, to_tag="8321234356"))
    net.flush()
    (response,) = net.client.take(ResponseReceived)
    assert response.key == key
    assert net.sent(SERVER, "SIP/2.0 200")[0].data == (
        b"SIP/2.0 200 OK\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
        b"To: Bob <sip:bob@biloxi.example.com>;tag=8321234356\r\n"
        b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        b"Call-ID: a84b4c76e66710\r\n"
        b"CSeq: 1 OPTIONS\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    assert net.client.layer.state(key) is State.COMPLETED
    assert net.server.layer.state(event.key) is State.COMPLETED
    # Timer K (T4) ends the client, Timer J (64*T1) the server.
    assert net.client.layer.next_deadline() == 5.0
    assert net.server.layer.next_deadline() == 32.0
    net.run(5.0)
    assert net.client.take(TransactionTerminated) == [TransactionTerminated(key)]
    net.run(32.0)
    assert net.server.take(TransactionTerminated) == [TransactionTerminated(event.key)]
    assert len(net.client.layer) == len(net.server.layer) == 0
    assert net.client.layer.next_deadline() is None
    assert len(net.sent(CLIENT, "OPTIONS")) == 1  # no retransmission once answered


def test_timer_e_doubles_up_to_t2_then_timer_f_times_out():
    layer = TransactionLayer()
    key, events = layer.send_request(request("OPTIONS", branch=B1), 0.0, reliable=False, peer="p")
    assert [type(e) for e in events] == [Send]
    deadlines, sends, timeouts = [], [], []
    while (deadline := layer.next_deadline()) is not None:
        deadlines.append(deadline)
        for event in layer.timeout(deadline):
            if isinstance(event, Send):
                sends.append(deadline)
            elif isinstance(event, TransactionTimeout):
                timeouts.append((deadline, event.key))
    retransmissions = [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert sends == retransmissions
    assert deadlines == [*retransmissions, 32.0]
    assert timeouts == [(32.0, key)]  # the TU treats it as a 408
    assert layer.state(key) is State.TERMINATED


def test_timers_follow_configured_t1_and_t2():
    layer = TransactionLayer(t1=0.1, t2=0.4)
    layer.send_request(request("OPTIONS", branch=B1), 10.0, reliable=False, peer="p")
    deadlines = []
    while (deadline := layer.next_deadline()) is not None:
        deadlines.append(round(deadline - 10.0, 6))
        layer.timeout(deadline)
    assert deadlines[:5] == [0.1, 0.3, 0.7, 1.1, 1.5]
    assert deadlines[-1] == 6.4  # Timer F = 64*T1


def test_proceeding_non_invite_retransmits_every_t2():
    net = Network()
    key = net.client.send_request(request("OPTIONS", branch=B1))
    net.flush()
    event = received(net)
    net.server.respond(event.key, make_response(event.request, 100))
    net.flush()
    assert net.client.layer.state(key) is State.PROCEEDING
    net.run(20.0)
    # Timer E was armed at T1 before the 100; after it, every T2.
    assert times(net.sent(CLIENT, "OPTIONS")) == [0.0, 0.5, 4.5, 8.5, 12.5, 16.5]
    # The server in Proceeding answers each retransmission with its last 1xx.
    assert times(net.sent(SERVER, "SIP/2.0 100")) == [0.0, 0.5, 4.5, 8.5, 12.5, 16.5]
    assert net.server.take(RequestReceived) == []
    assert statuses(net.client) == [100] * 6


def test_retransmitted_request_is_absorbed_and_last_response_resent():
    net = Network()
    net.drop = lambda wire: wire.src == SERVER and len(net.sent(SERVER, "SIP/2.0 200")) == 0
    key = net.client.send_request(request("REGISTER", branch=B1))
    net.flush()
    event = received(net)
    net.server.respond(event.key, make_response(event.request, 200, to_tag="aa"))
    net.run(1.0)
    first, second = net.sent(SERVER, "SIP/2.0 200")
    assert (first.dropped, second.dropped) == (True, False)
    assert first.data == second.data and second.time == 0.5
    assert net.server.take(RequestReceived) == []  # the retransmission reached no TU
    assert statuses(net.client) == [200]
    assert net.client.layer.state(key) is State.COMPLETED


def test_duplicated_messages_reach_the_tu_once():
    net = Network()
    net.duplicate = lambda wire: True
    key = net.client.send_request(request("OPTIONS", branch=B1))
    net.flush()
    event = received(net)
    net.server.respond(event.key, make_response(event.request, 200, to_tag="aa"))
    net.flush()
    assert [e.key for e in net.client.take(ResponseReceived)] == [key]
    # The copy of the request came in Trying, before any response: discarded.
    assert len(net.sent(SERVER, "SIP/2.0 200")) == 1
    assert net.server.inbox == []


def test_delayed_response_overtaken_by_retransmission():
    net = Network()
    net.delay = lambda wire: 0.8 if wire.src == SERVER else 0.0
    net.client.send_request(request("OPTIONS", branch=B1))
    net.flush()
    event = received(net)
    net.server.respond(event.key, make_response(event.request, 200, to_tag="aa"))
    net.run(2.0)
    assert times(net.sent(CLIENT, "OPTIONS")) == [0.0, 0.5]
    assert statuses(net.client) == [200]


def test_invite_timer_a_doubles_without_cap_and_timer_b_times_out():
    net = Network()
    net.drop = lambda wire: wire.src == CLIENT
    key = net.client.send_request(request("INVITE", branch=B1))
    net.run(40.0)
    assert times(net.sent(CLIENT, "INVITE")) == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert net.client.take(TransactionTimeout) == [TransactionTimeout(key)]
    assert net.client.take(TransactionTerminated) == [TransactionTerminated(key)]


def _ringing(net: Network, **request_args) -> tuple[TransactionKey, RequestReceived]:
    key = net.client.send_request(request("INVITE", branch=B1, **request_args))
    net.flush()
    event = received(net)
    net.server.respond(event.key, make_response(event.request, 180, to_tag="5678"))
    net.flush()
    assert statuses(net.client) == [180]  # the TU answered at once: no 100 (§17.2.1)
    return key, event


def test_invite_rejected_client_transaction_builds_the_ack():
    net = Network()
    key, event = _ringing(net, extra="Route: <sip:p1.example.com;lr>\r\n")
    net.server.respond(event.key, make_response(event.request, 486))
    net.flush()
    assert statuses(net.client) == [486]
    (ack,) = net.sent(CLIENT, "ACK")
    assert ack.data == (
        b"ACK sip:bob@biloxi.example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
        b"Max-Forwards: 70\r\n"
        b"Route: <sip:p1.example.com;lr>\r\n"
        b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        b"To: Bob <sip:bob@biloxi.example.com>;tag=5678\r\n"
        b"Call-ID: a84b4c76e66710\r\n"
        b"CSeq: 1 ACK\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    # The 486 carries the tag the TU set on the 180.
    assert (
        b"To: Bob <sip:bob@biloxi.example.com>;tag=5678\r\n"
        in net.sent(SERVER, "SIP/2.0 486")[0].data
    )
    assert net.server.layer.state(event.key) is State.CONFIRMED
    assert net.server.take(AckReceived) == []  # the non-2xx ACK stays in the transaction
    assert net.client.layer.state(key) is State.COMPLETED
    net.run(5.0)  # Timer I = T4
    assert net.server.take(TransactionTerminated) == [TransactionTerminated(event.key)]
    net.run(32.0)  # Timer D
    assert net.client.take(TransactionTerminated) == [TransactionTerminated(key)]


def test_invite_final_retransmitted_until_ack_timer_g_then_timer_h():
    net = Network()
    net.drop = lambda wire: wire.first_line.startswith("ACK")
    _, event = _ringing(net)
    net.run(1.0)
    net.server.respond(event.key, make_response(event.request, 486))
    net.run(40.0)
    # Timer G: T1, doubling, capped at T2; Timer H (64*T1) stops it.
    assert times(net.sent(SERVER, "SIP/2.0 486")) == [
        1.0, 1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5,
    ]  # fmt: skip
    assert net.server.take(TransactionTimeout) == [TransactionTimeout(event.key)]
    assert net.server.take(TransactionTerminated) == [TransactionTerminated(event.key)]
    # The client passed the 486 up once and re-sent its ACK for every copy.
    assert statuses(net.client) == [486]
    assert len(net.sent(CLIENT, "ACK")) == 11
    assert len({w.data for w in net.sent(CLIENT, "ACK")}) == 1


def test_ack_stops_timer_g():
    net = Network()
    drops = iter([True, False])
    net.drop = lambda wire: wire.first_line.startswith("SIP/2.0 486") and next(drops, False)
    _, event = _ringing(net)
    net.server.respond(event.key, make_response(event.request, 486))
    net.run(1.0)
    assert net.server.layer.state(event.key) is State.CONFIRMED
    net.run(10.0)  # Timer I (T4) ends it at 5.5, and Timer G never fired again
    assert times(net.sent(SERVER, "SIP/2.0 486")) == [0.0, 0.5]
    assert net.server.layer.state(event.key) is State.TERMINATED


def test_invite_2xx_goes_to_the_tu_and_accepted_absorbs_retransmissions():
    net = Network(send_trying=False)
    net.drop = lambda wire: wire.src == SERVER and wire.time == 0.0
    invite = request("INVITE", branch=B1, extra="Contact: <sip:alice@192.0.2.10>\r\n")
    key = net.client.send_request(invite)
    net.flush()
    event = received(net)
    ok = make_response(event.request, 200, to_tag="xyz")
    ok.headers.add("Contact", "<sip:bob@192.0.2.20>")
    net.server.respond(event.key, ok)  # lost
    assert net.server.layer.state(event.key) is State.ACCEPTED
    assert net.server.layer.get(event.key).last_response is None  # 32 s of nothing kept
    net.run(0.5)
    # The retransmitted INVITE is absorbed: no response, nothing for the TU.
    assert len(net.sent(CLIENT, "INVITE")) == 2
    assert net.sent(SERVER, "SIP/2.0") == [net.log[1]]
    assert net.server.inbox == []
    net.run(1.0)
    net.server.respond(event.key, ok)  # the UAS core retransmits its 2xx (§13.3.1.4)
    net.flush()
    (got,) = net.client.take(ResponseReceived)
    assert got.response.status == 200 and got.key == key
    assert net.client.layer.state(key) is State.ACCEPTED
    assert net.client.layer.get(key).request is None  # the UAC core keeps its own
    dialog = Dialog.from_uac(invite, got.response)
    net.client.send_stateless(dialog.ack_for(invite, got.response, via=_via()))
    net.flush()
    (ack,) = net.server.take(AckReceived)
    assert ack.invite_key is None  # the 2xx ACK has its own branch
    # A retransmitted 2xx reaches the client TU again, so it can re-ACK.
    net.server.respond(event.key, ok)
    net.flush()
    assert statuses(net.client) == [200]
    net.run(33.0)  # Timers L and M
    assert net.server.take(TransactionTerminated) == [TransactionTerminated(event.key)]
    assert net.client.take(TransactionTerminated) == [TransactionTerminated(key)]
    # After Timer M a 2xx is stray; the TU still sees it.
    stray = net.client.layer.receive(ok, 40.0, reliable=False, peer=SERVER)
    assert [type(e) for e in stray] == [StrayResponse]
    with pytest.raises(LocalProtocolError):
        net.server.respond(event.key, ok)


def _via() -> str:
    return f"SIP/2.0/UDP 192.0.2.10:5060;branch={new_branch()}"


def test_cancel_of_a_ringing_invite():
    net = Network()
    key, event = _ringing(net, extra="Route: <sip:p1.example.com;lr>\r\n")
    net.run(2.0)
    net.client.cancel(key)
    net.flush()
    (cancel_wire,) = net.sent(CLIENT, "CANCEL")
    assert cancel_wire.data == (
        b"CANCEL sip:bob@biloxi.example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
        b"Max-Forwards: 70\r\n"
        b"Route: <sip:p1.example.com;lr>\r\n"
        b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        b"To: Bob <sip:bob@biloxi.example.com>\r\n"
        b"Call-ID: a84b4c76e66710\r\n"
        b"CSeq: 1 CANCEL\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    (cancelled,) = net.server.take(CancelReceived)
    assert cancelled.invite_key == event.key
    assert net.server.take(RequestReceived) == []
    # The layer answered the CANCEL itself, with the INVITE's To tag.
    (ok,) = net.sent(SERVER, "SIP/2.0 200")
    assert b"CSeq: 1 CANCEL\r\n" in ok.data and b";tag=5678\r\n" in ok.data
    net.server.respond(event.key, make_response(event.request, 487))
    net.flush()
    responses = net.client.take(ResponseReceived)
    assert [(r.response.status, r.key.method) for r in responses] == [
        (200, "CANCEL"),
        (487, "INVITE"),
    ]
    assert b";tag=5678\r\n" in net.sent(SERVER, "SIP/2.0 487")[0].data
    assert len(net.sent(CLIENT, "ACK")) == 1
    assert net.server.layer.state(event.key) is State.CONFIRMED
    # A retransmitted CANCEL gets the same 200 again, and nothing for the TU.
    net.server.dispatch(
        net.server.layer.receive(
            parse_message(cancel_wire.data), net.now, reliable=False, peer=CLIENT
        )
    )
    assert net.server.inbox == []
    assert len(net.sent(SERVER, "SIP/2.0 200")) == 2


def test_cancel_waits_for_a_provisional_response():
    net = Network(send_trying=False)
    key = net.client.send_request(request("INVITE", branch=B1))
    net.flush()
    event = received(net)
    assert net.client.cancel(key) == []  # §9.1: not before a 1xx
    assert net.sent(CLIENT, "CANCEL") == []
    net.run(0.2)
    net.server.respond(event.key, make_response(event.request, 180))
    net.flush()
    (cancel_wire,) = net.sent(CLIENT, "CANCEL")
    assert cancel_wire.time == 0.2
    (cancelled,) = net.server.take(CancelReceived)
    assert cancelled.invite_key == event.key
    # The server TU gave no tag yet: the 200 to the CANCEL and the 487 share one.
    net.server.respond(event.key, make_response(event.request, 487))
    net.flush()
    tags = {parse_message(w.data).to.tag for w in net.sent(SERVER, "SIP/2.0 4")}
    tags |= {parse_message(w.data).to.tag for w in net.sent(SERVER, "SIP/2.0 200")}
    assert len(tags) == 1 and None not in tags


def test_cancel_after_final_response_does_nothing():
    net = Network()
    key, event = _ringing(net)
    net.server.respond(event.key, make_response(event.request, 486))
    net.flush()
    assert net.client.cancel(key) == []
    assert net.sent(CLIENT, "CANCEL") == []


def test_cancel_of_unknown_transaction_gets_481():
    net = Network()
    net.transmit(CLIENT, SERVER, request_bytes("CANCEL", branch="z9hG4bKnothere"))
    net.flush()
    (cancelled,) = net.server.take(CancelReceived)
    assert cancelled.invite_key is None
    (reply,) = net.sent(SERVER, "SIP/2.0")
    assert reply.first_line == "SIP/2.0 481 Call/Transaction Does Not Exist"
    assert parse_message(reply.data).to.tag is not None


def test_reliable_transport_no_retransmissions_and_zero_linger_timers():
    net = Network(reliable=True)
    key = net.client.send_request(request("OPTIONS", branch=B1))
    assert net.client.layer.next_deadline() == 32.0  # only Timer F
    net.flush()
    event = received(net)
    events = net.server.respond(event.key, make_response(event.request, 200, to_tag="t"))
    assert events == [TransactionTerminated(event.key)]  # Timer J is zero
    net.server.take()
    net.flush()
    assert net.client.take(TransactionTerminated) == [TransactionTerminated(key)]  # K is zero
    assert net.client.layer.next_deadline() is None

    invite_key = net.client.send_request(request("INVITE", branch="z9hG4bKinv", cseq=2))
    assert net.client.layer.next_deadline() == 32.0  # only Timer B
    net.flush()
    invite = received(net)
    net.server.respond(invite.key, make_response(invite.request, 486, to_tag="t"))
    assert net.server.layer.next_deadline() == 32.0  # Timer H, no Timer G
    net.flush()
    assert net.server.take(TransactionTerminated) == [TransactionTerminated(invite.key)]
    assert net.client.take(TransactionTerminated) == [TransactionTerminated(invite_key)]
    net.run(100.0)
    assert [w.first_line.split()[0] for w in net.log] == [
        "OPTIONS", "SIP/2.0", "INVITE", "SIP/2.0", "ACK",
    ]  # fmt: skip


def test_a_100_follows_when_the_tu_has_not_answered_within_200ms():
    net = Network()
    net.client.send_request(request("INVITE", branch=B1))
    net.flush()
    event = received(net)
    net.advance(0.19)
    assert statuses(net.client) == []
    net.advance(0.02)
    assert statuses(net.client) == [100]  # §17.2.1: sent by the transaction at 200 ms
    assert times(net.sent(SERVER, "SIP/2.0 100")) == [0.2]
    net.server.respond(event.key, make_response(event.request, 180, to_tag="5678"))
    net.flush()
    assert statuses(net.client) == [180]


def test_no_100_when_the_tu_answers_within_200ms_even_after_a_retransmission():
    net = Network()
    net.client.send_request(request("INVITE", branch=B1))
    net.flush()
    event = received(net)
    net.advance(0.1)
    net.server.respond(event.key, make_response(event.request, 180, to_tag="5678"))
    net.advance(5.0)
    assert statuses(net.client) == [180]
    assert net.sent(SERVER, "SIP/2.0 100") == []


def test_timer_b_rearmed_by_cancel_ends_a_never_answered_invite():
    layer = TransactionLayer()
    key, _ = layer.send_request(request("INVITE", branch=B1), 0.0, reliable=True, peer="p")
    ringing = parse_message(
        b"SIP/2.0 180 Ringing\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
        b"To: <sip:bob@biloxi.example.com>;tag=1\r\nFrom: <sip:alice@a.example>;tag=2\r\n"
        b"Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n"
    )
    layer.receive(ringing, 1.0, reliable=True, peer="p")
    assert layer.next_deadline() is None  # in Proceeding nothing times out
    events = layer.cancel(key, 50.0)
    assert [e.message.method for e in events if isinstance(e, Send)] == ["CANCEL"]
    events = layer.timeout(82.0)
    assert TransactionTimeout(key) in events
    assert layer.state(key) is State.TERMINATED


def test_rfc2543_requests_without_branch_are_matched():
    net = Network()
    raw = request_bytes("INVITE", branch="")
    net.transmit(CLIENT, SERVER, raw)
    net.flush()
    event = received(net)
    assert not event.key.branch.startswith(MAGIC_COOKIE)
    net.server.respond(event.key, make_response(event.request, 486, to_tag="old"))
    net.transmit(CLIENT, SERVER, raw)  # retransmission: the 486 again
    net.flush()
    assert net.server.inbox == []
    assert len(net.sent(SERVER, "SIP/2.0 486")) == 2
    net.transmit(CLIENT, SERVER, request_bytes("ACK", branch="", to_tag="old"))
    net.flush()
    assert net.server.layer.state(event.key) is State.CONFIRMED
    assert net.server.inbox == []


def test_malformed_request_gets_a_stateless_400():
    net = Network()
    raw = request_bytes("OPTIONS", branch=B1).replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE")
    net.transmit(CLIENT, SERVER, raw)
    net.flush()
    (reply,) = net.sent(SERVER, "SIP/2.0")
    assert reply.first_line.startswith("SIP/2.0 400 ")
    assert net.server.inbox == [] and len(net.server.layer) == 0


def test_local_protocol_errors():
    layer = TransactionLayer()
    with pytest.raises(LocalProtocolError):
        layer.send_request(request("OPTIONS", branch="1234"), 0.0, reliable=False, peer="p")
    with pytest.raises(LocalProtocolError):
        layer.send_request(request("ACK", branch=B1), 0.0, reliable=False, peer="p")
    key, _ = layer.send_request(request("OPTIONS", branch=B1), 0.0, reliable=False, peer="p")
    with pytest.raises(LocalProtocolError):
        layer.send_request(request("OPTIONS", branch=B1), 0.0, reliable=False, peer="p")
    with pytest.raises(LocalProtocolError):
        layer.cancel(key, 0.0)
    server = TransactionLayer()
    (event,) = server.receive(request("OPTIONS", branch=B1), 0.0, reliable=False, peer="c")
    assert isinstance(event, RequestReceived)
    server.respond(event.key, make_response(event.request, 404, to_tag="x"), 0.0)
    with pytest.raises(LocalProtocolError):
        server.respond(event.key, make_response(event.request, 200, to_tag="x"), 0.0)


def test_responses_with_two_vias_are_dropped():
    layer = TransactionLayer()
    layer.send_request(request("OPTIONS", branch=B1), 0.0, reliable=False, peer="p")
    raw = (
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKx\r\nTo: <sip:b@x>;tag=1\r\n"
        b"From: <sip:a@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n"
    )
    assert layer.receive(parse_message(raw), 0.1, reliable=False, peer="p") == []


def test_transport_error_ends_the_transaction():
    layer = TransactionLayer()
    key, _ = layer.send_request(request("OPTIONS", branch=B1), 0.0, reliable=True, peer="p")
    events = layer.transport_error(key, 0.0)
    assert [type(e).__name__ for e in events] == ["TransportError", "TransactionTerminated"]
    assert layer.next_deadline() is None


def test_a_failed_flow_ends_the_client_transactions_sent_over_it_only():
    """RFC 5626 §4.4: a WebSocket that closed fails what waits on it at once."""
    layer = TransactionLayer()
    key, _ = layer.send_request(request("INVITE", branch=B1), 0.0, reliable=True, peer="ws-a")
    options = request("OPTIONS", branch="z9hG4bKother")
    other, _ = layer.send_request(options, 0.0, reliable=True, peer="ws-b")
    events = layer.peer_failed("ws-a", 1.0)
    assert [type(e).__name__ for e in events] == ["TransportError", "TransactionTerminated"]
    assert events[0].key == key and layer.get(key) is None and layer.get(other) is not None
    assert layer.peer_failed("ws-a", 2.0) == []


def test_every_table_action_exists():
    from vaxel.sip.transaction import TRANSITIONS

    actions = {action for _, action in TRANSITIONS.values()}
    assert all(callable(getattr(TransactionLayer, f"_do_{a}", None)) for a in actions)
    # Terminated is final: no row leaves it.
    assert not [k for k in TRANSITIONS if k[1] is State.TERMINATED]


def test_same_branch_from_another_peer_is_another_transaction() -> None:
    """A reused branch from a different source never joins someone else's transaction."""
    layer = TransactionLayer()
    req = request("OPTIONS", branch=B1)
    first = layer.receive(req, 0.0, reliable=False, peer="a")
    second = layer.receive(parse_message(bytes(req)), 0.0, reliable=False, peer="b")
    assert isinstance(first[0], RequestReceived) and isinstance(second[0], RequestReceived)
    assert first[0].key != second[0].key


def test_a_repeat_known_by_its_bytes_gets_what_a_matched_retransmission_gets():
    layer = TransactionLayer()
    invite = parse_message(request_bytes("INVITE", branch=B1))
    (event,) = [e for e in layer.receive(invite, 0.0, reliable=False, peer=CLIENT)]
    assert isinstance(event, RequestReceived)
    assert layer.repeat(event.key, 0.1) == []  # nothing answered yet: nothing to resend
    ringing = make_response(invite, 180, to_tag="aa")
    layer.respond(event.key, ringing, 0.1)
    (again,) = layer.repeat(event.key, 0.2) or []
    assert isinstance(again, Send) and again.message is ringing and again.peer == CLIENT
    layer.respond(event.key, make_response(invite, 486, to_tag="aa"), 0.3)
    layer.receive(parse_message(request_bytes("ACK", branch=B1)), 0.4, reliable=False, peer=CLIENT)
    layer.timeout(10.0)  # Timer I: the transaction is over
    assert layer.repeat(event.key, 10.0) is None
