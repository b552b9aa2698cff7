"""calls/b2bua and calls/legs in memory (P4): calls between phones, every way they end.

The whole switch runs in memory (tests/memory.py): the suite's own phones talk
SIP to it over the in-memory transport, its media is the in-memory backend,
and time moves only when the test says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.memory import MemoryPhone, MemorySwitch, tone


@pytest.fixture
def switch(tmp_path: Path, tone_prompts: Path) -> Iterator[MemorySwitch]:
    memory = MemorySwitch(tmp_path, tone_prompts)
    yield memory
    memory.close()


def talk(switch: MemorySwitch, a: MemoryPhone, b: MemoryPhone, seconds: float) -> None:
    """Both parties keep sending audio while `seconds` pass (no media timeout)."""
    for _ in range(int(seconds)):
        if switch.calls:
            a.say(tone("a", 0.02))
            b.say(tone("b", 0.02))
        switch.advance(1.0)


def test_a_call_between_users_rings_connects_and_ends(switch: MemorySwitch) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    call_id = anna.dial("1002")
    assert bjorn.ringing() is not None
    assert [r.status for r in anna.responses("INVITE")] == [180]
    bjorn.pick_up()
    assert anna.answered() is not None
    # What one says, the other hears (through the switch's two endpoints).
    hello = tone("hello", 0.2)
    anna.say(hello)
    assert bjorn.heard().tobytes().endswith(hello.tobytes())
    anna.hang_up()
    assert anna.last_final("BYE").status == 200  # type: ignore[union-attr]
    assert bjorn.requests("BYE")
    assert not switch.calls
    (record,) = switch.records
    assert record.call_id == call_id and record.disposition == "answered"
    assert (record.caller, record.callee, record.answered_by) == ("1001", "1002", "1002")
    assert record.hangup_side == "caller"


def test_a_busy_callee_makes_the_caller_hear_busy(switch: MemorySwitch) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    bjorn.refuse(486)
    assert anna.last_final("INVITE").status == 486  # type: ignore[union-attr]
    (record,) = switch.records
    assert record.disposition == "busy" and record.hangup_side == "callee"


def test_nobody_answering_is_480_after_the_ring_time_and_the_phone_stops(
    switch: MemorySwitch,
) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    switch.advance(29.0)
    assert anna.last_final("INVITE") is None and bjorn.ringing() is not None
    switch.advance(1.2)
    assert anna.last_final("INVITE").status == 480  # type: ignore[union-attr]
    assert bjorn.requests("CANCEL") and bjorn.ringing() is None
    assert switch.records[0].disposition == "no-answer"


def test_the_caller_gives_up_and_the_phone_stops_ringing(switch: MemorySwitch) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    anna.cancel()
    assert anna.last_final("CANCEL").status == 200  # type: ignore[union-attr]
    assert anna.last_final("INVITE").status == 487  # type: ignore[union-attr]
    (cancel,) = bjorn.requests("CANCEL")
    assert cancel.headers.get("Reason") is None  # a missed call on Björn's phone
    assert switch.records[0].disposition == "canceled"


def test_every_phone_rings_and_the_others_stop_completed_elsewhere(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    desk, mobile = switch.phone("1002"), switch.phone("1002")
    anna.dial("1002")
    assert desk.ringing() is not None and mobile.ringing() is not None
    mobile.pick_up()
    assert anna.answered() is not None
    (cancel,) = desk.requests("CANCEL")
    assert cancel.headers.get("Reason") == 'SIP;cause=200;text="Call completed elsewhere"'
    hello = tone("hello", 0.1)
    anna.say(hello)
    assert mobile.heard().tobytes().endswith(hello.tobytes())
    assert switch.media.facing((desk.host, desk.media_port)) is None  # its leg is gone


def test_hold_is_relayed_and_the_held_party_hears_music(
    switch: MemorySwitch, tone_prompts: Path
) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    anna.answered()
    anna.request("INVITE", anna.sdp("sendonly"))
    switch.run()
    ok = anna.last_final("INVITE")
    assert ok is not None and ok.status == 200 and b"a=recvonly" in ok.body
    anna.send(anna._in_dialog("ACK", anna.invite_cseq))
    reinvite = bjorn.requests("INVITE")[-1]
    assert b"a=sendonly" in reinvite.body  # Björn is told he is on hold
    switch.advance(1.0)
    assert tone("sv/music").tobytes()[:3200] in bjorn.heard().tobytes()
    anna.request("INVITE", anna.sdp("sendrecv"))
    switch.run()
    assert b"a=sendrecv" in bjorn.requests("INVITE")[-1].body  # resumed


def test_an_update_without_sdp_gets_a_200_without_sdp(switch: MemorySwitch) -> None:
    """RFC 3311 §5.2: no offer, no answer (a session refresh by UPDATE)."""
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    anna.answered()
    anna.request("UPDATE")
    switch.run()
    ok = anna.last_final("UPDATE")
    assert ok is not None and ok.status == 200
    assert ok.body == b"" and "Content-Type" not in ok.headers


def test_an_offerless_reinvite_gets_our_offer_and_its_answer_comes_in_the_ack(
    switch: MemorySwitch,
) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    anna.answered()
    anna.request("INVITE")
    switch.run()
    ok = anna.last_final("INVITE")
    assert ok is not None and ok.status == 200 and b"m=audio" in ok.body


def test_the_session_expires_when_the_caller_stops_refreshing(switch: MemorySwitch) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002", headers=["Supported: timer", "Session-Expires: 90;refresher=uac"])
    bjorn.pick_up()
    ok = anna.answered()
    assert ok is not None
    assert ok.headers.get("Session-Expires") == "90;refresher=uac"
    assert ok.headers.get("Require") == "timer"
    talk(switch, anna, bjorn, 45.0)
    anna.request("INVITE", anna.sdp())  # a refresh at half time
    switch.run()
    refreshed = anna.last_final("INVITE")
    assert refreshed is not None and refreshed.headers.get("Session-Expires") == "90;refresher=uac"
    talk(switch, anna, bjorn, 45.0)
    assert switch.calls  # refreshed: still up
    talk(switch, anna, bjorn, 20.0)
    assert not switch.calls  # 60 s (90 less the margin) without a refresh: over
    assert anna.requests("BYE") and bjorn.requests("BYE")
    assert "408" in (anna.requests("BYE")[0].headers.get("Reason") or "")


def test_an_interval_below_min_se_is_422(switch: MemorySwitch) -> None:
    anna, _ = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002", headers=["Supported: timer", "Session-Expires: 30"])
    final = anna.last_final("INVITE")
    assert final is not None and final.status == 422 and final.headers.get("Min-SE") == "90"


def test_the_200_is_resent_until_the_ack_and_the_call_ends_without_one(
    switch: MemorySwitch,
) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    switch.advance(4.0)  # resent after 0.5, 1.5 and 3.5 s (T1 doubling)
    oks = [r for r in anna.responses("INVITE") if r.status == 200]
    assert len(oks) == 4
    switch.advance(30.0)  # 64*T1 after the first: given up with a BYE
    assert not switch.calls
    assert "No ACK" in (anna.requests("BYE")[0].headers.get("Reason") or "")


def test_a_call_whose_parties_send_no_rtp_is_ended(switch: MemorySwitch) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    anna.answered()
    switch.advance(59.0)
    assert switch.calls
    switch.advance(6.0)
    assert not switch.calls
    assert switch.records[0].cause_code == 408


def test_info_is_relayed_to_the_other_party(switch: MemorySwitch) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    anna.answered()
    anna.request("INFO", "Signal=5\r\nDuration=160\r\n", "application/dtmf-relay")
    switch.run()
    assert anna.last_final("INFO").status == 200  # type: ignore[union-attr]
    (info,) = bjorn.requests("INFO")
    assert info.body == b"Signal=5\r\nDuration=160\r\n"


def test_a_request_in_an_unknown_dialog_is_481(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    anna.call_id = "nothing@phone"
    anna.dialog = ("<sip:1001@acme.test>", "<sip:1002@acme.test>;tag=x", "t", "sip:x@192.0.2.10")
    anna.request("BYE")
    switch.run()
    assert anna.last_final("BYE").status == 481  # type: ignore[union-attr]


def test_max_forwards_zero_is_483(switch: MemorySwitch) -> None:
    anna, _ = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002", headers=["Max-Forwards: 0"])
    assert anna.last_final("INVITE").status == 483  # type: ignore[union-attr]


def test_an_unregistered_user_is_unavailable(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    anna.dial("1002")
    assert anna.last_final("INVITE").status == 480  # type: ignore[union-attr]


def test_a_device_whose_tcp_flow_is_gone_fails_at_once(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    bjorn = MemoryPhone(switch, "1002", "secret-pass-1", "198.51.100.99", transport="TCP")
    assert bjorn.register().status == 200
    bjorn.socket.close()  # the phone went away without unregistering
    anna.dial("1002")
    assert anna.last_final("INVITE").status == 480  # type: ignore[union-attr]


def test_the_bye_is_answered_once_the_call_record_is_stored(switch: MemorySwitch) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    anna.answered()
    switch.hold_records = True  # a slow database
    anna.hang_up()
    assert anna.responses("BYE") == []  # the call is over, its record not yet stored
    assert bjorn.requests("BYE")  # the other party is told at once
    switch.store_records()
    assert [r.status for r in anna.responses("BYE")] == [200]


def test_a_device_that_asks_for_session_timers_gets_refreshed(switch: MemorySwitch) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    invite = bjorn.ringing()
    assert invite is not None and "timer" in (invite.headers.get("Supported") or "")
    bjorn.pick_up(["Session-Expires: 90;refresher=uac", "Require: timer"])
    anna.answered()
    talk(switch, anna, bjorn, 50.0)
    refreshes = bjorn.requests("INVITE")[1:]  # the switch, as the refresher, every 45 s
    assert len(refreshes) == 1 and b"a=sendrecv" in refreshes[0].body
    talk(switch, anna, bjorn, 60.0)
    assert switch.calls  # refreshed, so still up


def test_a_device_that_is_the_refresher_and_stops_ends_the_call(switch: MemorySwitch) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    bjorn.pick_up(["Session-Expires: 90;refresher=uas", "Require: timer"])
    anna.answered()
    talk(switch, anna, bjorn, 55.0)
    assert switch.calls
    talk(switch, anna, bjorn, 10.0)  # 60 s without a refresh from Björn's phone
    assert not switch.calls
    assert "Session Expired" in (bjorn.requests("BYE")[0].headers.get("Reason") or "")


def test_a_bye_in_the_early_dialog_ends_the_ringing_and_the_invite_gets_487(
    switch: MemorySwitch,
) -> None:
    anna, bjorn = switch.phone("1001"), switch.phone("1002")
    anna.dial("1002")
    (ringing,) = anna.responses("INVITE")
    assert ringing.status == 180 and ringing.to.tag
    anna.dialog = (f"<sip:1001@{anna.domain}>", str(ringing.to), anna.tag, str(ringing.to.uri))
    anna.hang_up()
    assert anna.last_final("BYE").status == 200  # type: ignore[union-attr]
    assert anna.last_final("INVITE").status == 487  # type: ignore[union-attr]
    assert bjorn.requests("CANCEL") and not switch.calls


# -- SIP over TLS (P2, O2) ----------------------------------------------------------------


def test_a_phone_registered_over_tls_is_rung_back_over_its_tls_flow(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    bjorn = switch.phone("1002", transport="TLS", contact="<sip:1002@bjorn.invalid;transport=tls>")
    anna.dial("1002")
    invite = bjorn.ringing()
    assert invite is not None
    assert invite.headers.get("Via", "").startswith("SIP/2.0/TLS ")
    assert invite.headers.get("Contact", "").endswith(";transport=tls>")
    assert str(invite.uri) == "sip:1002@bjorn.invalid;transport=tls"
    bjorn.pick_up()
    assert anna.answered() is not None


def test_a_sips_dialog_has_the_switch_s_sips_contact_on_both_legs(switch: MemorySwitch) -> None:
    """RFC 3261 §8.1.1.8: a request to a sips: URI carries a sips: Contact, and so does the
    answer to a caller who dialled one."""
    anna = switch.phone("1001", transport="TLS")
    bjorn = switch.phone("1002", transport="TLS", contact="<sips:1002@bjorn.invalid>")
    anna.dial("1002", scheme="sips")
    invite = bjorn.ringing()
    assert invite is not None and str(invite.uri) == "sips:1002@bjorn.invalid"
    assert invite.headers.get("Contact", "").startswith("<sips:vaxel@")
    bjorn.pick_up()
    answered = anna.answered()
    assert answered is not None
    assert answered.headers.get("Contact", "").startswith("<sips:vaxel@")


def test_a_sips_call_is_never_carried_on_over_a_plain_transport(switch: MemorySwitch) -> None:
    """RFC 5630: a caller who dialled a sips: URI reaches a phone on TLS, and one on UDP
    not at all (480), rather than the call going on in the clear."""
    anna = switch.phone("1001", transport="TLS")
    bjorn = switch.phone("1002")  # on UDP
    anna.dial("1002", scheme="sips")
    assert anna.last_final("INVITE").status == 480  # type: ignore[union-attr]
    assert bjorn.ringing() is None and not bjorn.requests("INVITE")
    # The same phone over TLS is rung.
    secure = switch.phone("1002", transport="TLS")
    anna.dial("1002", scheme="sips")
    assert secure.ringing() is not None
    assert not bjorn.requests("INVITE")
