"""P4 call control details with the suite's own phone, where exact headers, bodies and
retransmissions are checked: session timer values, 422, UPDATE turned into a re-INVITE
hold, INFO bodies, hops, 2xx and BYE retransmission, unknown dialogs, a vanished TCP
flow, and the end of a call whose media stopped. The same features with a third-party
phone at both ends are in test_pjsua_calls.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.peers import Server, rtp_ports
from tests.integration.phone import Phone, sdp
from tests.integration.test_calls import DOMAIN, USERS, data, records

__all__ = ["data"]


@pytest.fixture(scope="module")
def server(data: Path) -> Iterator[Server]:
    srv = Server(data).start("--rtp-ports", rtp_ports())
    yield srv
    srv.stop()


def phone(server: Server, ext: str, register: bool = True) -> Phone:
    p = Phone(server, ext, USERS[ext][1], DOMAIN)
    if register:
        assert p.register().status == 200
    return p


def answer_in_background(callee: Phone, body: str = sdp(41000)) -> threading.Thread:
    """The callee rings, answers with `body`, and waits for the ACK."""

    def run() -> None:
        invite = callee.wait_request("INVITE", timeout=10)
        callee.reply(invite, 180)
        callee.reply(invite, 200, body)
        callee.wait_request("ACK")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def pair(server: Server) -> Iterator[tuple[Phone, Phone]]:
    caller, callee = phone(server, "1001", register=False), phone(server, "1005")
    yield caller, callee
    callee.register(expires=0)
    caller.close()
    callee.close()


def connect(pair: tuple[Phone, Phone], headers: list[str] = ()) -> None:  # type: ignore[assignment]
    caller, callee = pair
    thread = answer_in_background(callee)
    response = caller.invite("1005", sdp(40000), headers=list(headers))
    assert response.status == 200, response
    thread.join(5)


def test_session_timer_is_honoured(pair: tuple[Phone, Phone]) -> None:
    caller, callee = pair
    thread = answer_in_background(callee)
    response = caller.invite(
        "1005", sdp(40000), headers=["Supported: timer", "Session-Expires: 120;refresher=uac"]
    )
    thread.join(5)
    assert response.status == 200
    assert response.headers.get("Session-Expires") == "120;refresher=uac"
    assert "timer" in (response.headers.get("Require") or "")
    # A refresh (re-INVITE without a new offer) is answered, again with the timer.
    refresh = caller.request("INVITE")
    assert refresh.status == 200 and refresh.headers.get("Session-Expires") == "120;refresher=uac"
    assert caller.request("BYE").status == 200


def test_session_interval_below_min_se_is_422(pair: tuple[Phone, Phone]) -> None:
    caller, _ = pair
    response = caller.invite(
        "1005", sdp(40000), headers=["Supported: timer", "Session-Expires: 30"]
    )
    assert response.status == 422
    assert response.headers.get("Min-SE") == "90"


def test_update_holds_and_the_hold_reaches_the_other_party(pair: tuple[Phone, Phone]) -> None:
    caller, callee = pair
    connect(pair)
    response = caller.request("UPDATE", sdp(40000, "sendonly"))
    assert response.status == 200 and b"a=recvonly" in response.body
    reinvite = callee.wait_request("INVITE")  # the switch holds the callee in turn
    assert b"a=sendonly" in reinvite.body
    callee.reply(reinvite, 200, sdp(41000, "recvonly"))
    callee.wait_request("ACK")
    assert caller.request("BYE").status == 200
    assert callee.wait_request("BYE")


def test_info_is_relayed(pair: tuple[Phone, Phone]) -> None:
    caller, callee = pair
    connect(pair)
    body = "Signal=5\r\nDuration=160\r\n"
    assert caller.request("INFO", body, "application/dtmf-relay").status == 200
    info = callee.wait_request("INFO")
    assert info.body == body.encode()
    assert info.headers.get("Content-Type") == "application/dtmf-relay"
    callee.reply(info, 200)
    assert caller.request("BYE").status == 200


def test_max_forwards_zero_is_483(pair: tuple[Phone, Phone]) -> None:
    caller, _ = pair
    response = caller.invite("1005", sdp(40000), headers=["Max-Forwards: 0"])
    assert response.status == 483


def test_the_200_is_retransmitted_until_the_ack(pair: tuple[Phone, Phone]) -> None:
    caller, callee = pair
    thread = answer_in_background(callee)
    response = caller.invite("1005", sdp(40000), ack=False)
    thread.join(5)
    assert response.status == 200
    again = caller.wait_response("INVITE", timeout=2)  # T1 = 500 ms later, the same 200
    assert again.status == 200 and again.to.tag == response.to.tag
    caller.ack()
    time.sleep(1.2)
    assert caller.sock.recv(0.3) is None  # acknowledged: no more retransmissions
    assert caller.request("BYE").status == 200


def test_a_retransmitted_bye_is_answered_again_and_relayed_once(
    pair: tuple[Phone, Phone],
) -> None:
    caller, callee = pair
    connect(pair)
    first = caller.request("BYE")
    assert first.status == 200
    bye = callee.wait_request("BYE")
    callee.reply(bye, 200)
    caller.sock.send(caller.last_sent)  # the same datagram again, as after a lost 200
    again = caller.wait_response("BYE")
    assert again.status == 200 and again.headers.get("CSeq") == first.headers.get("CSeq")
    with pytest.raises(AssertionError):
        callee.wait_request("BYE", timeout=1)  # the callee's side already ended


def test_a_retransmitted_invite_gets_the_same_challenge(pair: tuple[Phone, Phone]) -> None:
    caller, _ = pair
    caller.send([
        f"INVITE sip:1005@{DOMAIN} SIP/2.0", caller._via(),
        f"From: <sip:1001@{DOMAIN}>;tag=retrans", f"To: <sip:1005@{DOMAIN}>",
        "Call-ID: retransmitted-invite@phone", "CSeq: 1 INVITE", "Max-Forwards: 70",
    ])  # fmt: skip
    first = caller.sock.recv(2)
    caller.sock.send(caller.last_sent)
    second = caller.sock.recv(2)
    assert first is not None and first.startswith(b"SIP/2.0 407 ")
    assert second == first  # the same nonce: a retransmitted answer, not a new challenge


def test_request_in_an_unknown_dialog_is_481(pair: tuple[Phone, Phone]) -> None:
    caller, _ = pair
    caller.call_id, caller.remote_tag = "nosuchcall@phone", "nosuchtag"
    caller.remote_target, caller.remote_uri = f"sip:1005@{DOMAIN}", f"<sip:1005@{DOMAIN}>"
    assert caller.request("BYE").status == 481


def test_a_call_without_media_is_ended(
    data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAXEL_RTP_TIMEOUT", "2")
    srv = Server(data).start("--rtp-ports", rtp_ports())
    caller, callee = phone(srv, "1001", register=False), phone(srv, "1005")
    try:
        connect((caller, callee))
        # Nobody sends RTP (a phone that lost its network): both get a BYE within seconds.
        for party in (caller, callee):
            bye = party.wait_request("BYE", timeout=6)
            party.reply(bye, 200)
        deadline = time.monotonic() + 10  # the record is written behind the call
        while not any("switch" in line and "Media Timeout" in line for line in records(data, 1)):
            assert time.monotonic() < deadline, records(data, 1)
            time.sleep(0.2)
        callee.register(expires=0)
    finally:
        caller.close()
        callee.close()
        srv.stop()


def test_a_device_whose_tcp_flow_is_gone_fails_at_once(server: Server) -> None:
    callee = Phone(server, "1005", USERS["1005"][1], DOMAIN, transport="tcp")
    assert callee.register().status == 200
    callee.close()  # the phone vanished with its connection; its binding stays
    time.sleep(0.2)
    caller = phone(server, "1001", register=False)
    try:
        started = time.monotonic()
        response = caller.invite("1005", sdp(40000))
        assert response.status == 480
        assert time.monotonic() - started < 5  # not after Timer B's 32 s
    finally:
        caller.close()
        cleanup = Phone(server, "1005", USERS["1005"][1], DOMAIN)
        cleanup.register(expires=0, contact="*")  # the stale binding would ring in later tests
        cleanup.close()
