"""Blind transfer in memory (P4; RFC 3515, RFC 5589 §6): Björn, talking with Anna, sends REFER
to Cecilia; the switch says how it goes (202, then NOTIFYs with a sipfrag) and Anna ends up
talking with Cecilia, or with Björn again when Cecilia does not take the call."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from tests.features.conftest import CARRIER, DIRECT, variant
from tests.memory import MemoryPhone, MemorySwitch, contains, tone
from vaxel.calls.api import Cause


def talking(acme: MemorySwitch) -> tuple[MemoryPhone, MemoryPhone]:
    """Anna (1001) called Björn (1002), who answered."""
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    anna.dial("1002")
    bjorn.pick_up()
    assert anna.answered() is not None
    return anna, bjorn


def refer(phone: MemoryPhone, *refer_to: str) -> int:
    """`phone` sends REFER in its call with these Refer-To values; the final status."""
    cseq = next(phone.cseq) + 100
    phone.send([*phone._in_dialog("REFER", cseq), *(f"Refer-To: {v}" for v in refer_to)])
    phone.switch.run()
    final = phone.last_final("REFER")
    assert final is not None
    return final.status


def frags(phone: MemoryPhone) -> list[str]:
    """The status lines the NOTIFYs of a transfer said, in order (RFC 3515 §2.4.4)."""
    notifies = phone.requests("NOTIFY")
    for notify in notifies:
        assert notify.headers.get("Event") == "refer"
        assert notify.headers.get("Content-Type") == "message/sipfrag;version=2.0"
    return [notify.body.decode().strip() for notify in notifies]


def hear_each_other(acme: MemorySwitch, one: MemoryPhone, other: MemoryPhone) -> bool:
    hello, back = tone(f"{one.user} speaks", 0.2), tone(f"{other.user} speaks", 0.2)
    one.say(hello)
    other.say(back)
    acme.run()
    return contains(other.heard(), hello) and contains(one.heard(), back)


def test_a_blind_transfer_connects_the_caller_with_the_target_and_frees_the_transferor(
    acme: MemorySwitch,
) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    assert refer(bjorn, "<sip:1003@acme.test>") == 202
    assert frags(bjorn) == ["SIP/2.0 100 Trying"]
    invite = cecilia.ringing()
    assert invite is not None and "1001" in (invite.headers.get("From") or "")  # Anna calls
    acme.advance(1.0)
    assert contains(anna.heard(), acme.system("ringback")[:4000])  # Anna hears it ring
    cecilia.pick_up()
    assert frags(bjorn) == ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]
    assert bjorn.requests("BYE")  # Björn is free
    assert hear_each_other(acme, anna, cecilia)
    anna.hang_up()
    assert cecilia.requests("BYE") and not acme.calls
    (record,) = acme.records
    assert (record.caller, record.answered_by, record.disposition) == ("1001", "1003", "answered")
    assert record.hangup_side == "caller"


def test_a_busy_target_brings_the_call_back_to_the_transferor(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    assert refer(bjorn, "<sip:1003@acme.test>") == 202
    cecilia.refuse(486)
    assert frags(bjorn) == ["SIP/2.0 100 Trying", "SIP/2.0 486 Busy Here"]
    assert not bjorn.requests("BYE") and not anna.requests("BYE")
    assert hear_each_other(acme, anna, bjorn)  # back together
    bjorn.hang_up()
    assert anna.requests("BYE") and not acme.calls
    assert acme.records[0].answered_by == "1002"


def test_no_answer_comes_back_too_and_the_target_stops_ringing(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")  # rings 5 s (her ring_time), has voicemail
    assert refer(bjorn, "<sip:1003@acme.test>") == 202
    acme.advance(6.0)
    assert cecilia.requests("CANCEL") and cecilia.ringing() is None
    assert frags(bjorn)[-1] == "SIP/2.0 480 No Answer"
    assert hear_each_other(acme, anna, bjorn)


def test_the_company_may_send_an_unanswered_transfer_to_the_targets_voicemail(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(
        description=variant(
            "company: {domain: acme.test, name: Acme AB}",
            "company: {domain: acme.test, name: Acme AB, transfer_fallback: voicemail}",
        )
    )
    anna, bjorn = talking(acme)
    acme.phone("1003")
    assert refer(bjorn, "<sip:1003@acme.test>") == 202
    acme.advance(6.0)  # Cecilia does not answer in her 5 s
    assert frags(bjorn)[-1] == "SIP/2.0 200 OK" and bjorn.requests("BYE")
    acme.advance(1.0)
    assert contains(anna.heard(), acme.system("vm-greeting-generic"))


def test_a_transferor_who_hangs_up_at_once_leaves_the_caller_ringing_the_target(
    acme: MemorySwitch,
) -> None:
    """Many phones end their call as soon as the REFER is accepted."""
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    assert refer(bjorn, "<sip:1003@acme.test>") == 202
    bjorn.hang_up()
    assert acme.calls and not anna.requests("BYE")
    cecilia.pick_up()
    assert hear_each_other(acme, anna, cecilia)
    cecilia.hang_up()
    assert anna.requests("BYE") and not acme.calls
    (record,) = acme.records
    assert (record.answered_by, record.hangup_side) == ("1003", "callee")


def test_a_transfer_to_a_number_goes_out_through_the_trunk_with_the_guard(
    acme: MemorySwitch,
) -> None:
    anna, bjorn = talking(acme)
    carrier = MemoryPhone(acme, "carrier", "", CARRIER[0], port=CARRIER[1])
    assert refer(bjorn, "<sip:0900123456@acme.test>") == 403  # premium rate: barred
    assert refer(bjorn, "<tel:0701740605>") == 202
    invite = carrier.ringing()
    assert invite is not None and str(invite.uri).startswith("sip:+46701740605@")
    carrier.pick_up()
    assert hear_each_other(acme, anna, carrier)
    assert bjorn.requests("BYE")


def test_a_refer_the_switch_cannot_follow_is_refused_and_the_call_goes_on(
    acme: MemorySwitch,
) -> None:
    anna, bjorn = talking(acme)
    assert refer(bjorn) == 400  # no Refer-To
    assert refer(bjorn, "<sip:1003@acme.test>", "<sip:1002@acme.test>") == 400
    assert refer(bjorn, "<mailto:cecilia@acme.test>") == 400
    assert refer(bjorn, "<sip:1099@acme.test>") == 404  # nobody
    assert refer(bjorn, "<sip:1003@other.test>") == 404  # another company's
    assert refer(bjorn, "<sip:*98@acme.test>") == 403  # a feature code
    assert not bjorn.requests("NOTIFY")
    assert hear_each_other(acme, anna, bjorn)
    # Outside a call, a REFER transfers nothing.
    bjorn.send([
        "REFER sip:1001@acme.test SIP/2.0", bjorn._via(),
        "From: <sip:1002@acme.test>;tag=x", "To: <sip:1001@acme.test>",
        "Call-ID: out-of-dialog@phone", "CSeq: 1 REFER", "Max-Forwards: 70",
        "Contact: <sip:1002@198.51.100.21>", "Refer-To: <sip:1003@acme.test>",
    ])  # fmt: skip
    acme.run()
    assert bjorn.last_final("REFER", "out-of-dialog@phone").status == 403  # type: ignore[union-attr]
    assert len(acme.calls) == 1


def test_the_transferred_caller_is_resumed_when_the_transferor_held_them_first(
    acme: MemorySwitch,
) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    bjorn.request("INVITE", bjorn.sdp("sendonly"))  # Björn holds Anna
    acme.run()
    assert b"a=sendonly" in anna.requests("INVITE")[-1].body
    assert refer(bjorn, "<sip:1003@acme.test>") == 202
    cecilia.pick_up()
    assert b"a=sendrecv" in anna.requests("INVITE")[-1].body  # resumed for Cecilia
    assert hear_each_other(acme, anna, cecilia)


# -- the API's transfer (`B2BUA.transfer_call`, behind POST /api/v1/calls/{id}/transfer) --


def the_call(acme: MemorySwitch) -> tuple[int, str]:
    (call,) = acme.calls.values()
    return call.company_id, call.id


def refused(acme: MemorySwitch, *args: object) -> int:
    """The status `transfer_call(*args)` refuses with."""
    outcome = acme.core.calls.transfer_call(*args)  # type: ignore[arg-type]
    assert isinstance(outcome, Cause), outcome
    return outcome.code


def test_a_party_transfers_their_call_by_its_id(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    company, call_id = the_call(acme)
    done = acme.core.calls.transfer_call(company, call_id, "1002", None, False, "1003")
    assert done == ("1002", "1001", "1003")  # Björn leaves, Anna rings Cecilia
    acme.run()
    cecilia.pick_up()
    assert bjorn.requests("BYE") and not anna.requests("BYE")
    assert not bjorn.requests("NOTIFY")  # no REFER, nothing to report to
    assert hear_each_other(acme, anna, cecilia)


def test_an_admin_names_the_transferor_and_others_get_nothing(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    cecilia, dan = acme.phone("1003"), acme.phone("1004")
    company, call_id = the_call(acme)
    transfer = acme.core.calls.transfer_call
    # Dan is not on the call: it does not exist for him; another company's neither.
    assert refused(acme, company, call_id, "1004", None, False, "1003") == 404
    assert refused(acme, company + 1, call_id, "1002", None, True, "1003") == 404
    assert refused(acme, company, "no-such-call", "1002", None, True, "1003") == 404
    # An admin not on the call, naming nobody: both parties are users, which one leaves?
    assert refused(acme, company, call_id, "1004", None, True, "1003") == 422
    assert refused(acme, company, call_id, "1004", "1003", True, "1003") == 422
    assert refused(acme, company, call_id, "1002", None, False, "0900123456") == 403
    assert refused(acme, company, call_id, "1002", None, False, "1099") == 404
    assert hear_each_other(acme, anna, bjorn)  # refusals change nothing
    # The admin transfers Björn away from Anna: Björn rings Cecilia, Anna's leg ends.
    assert transfer(company, call_id, "1004", "1001", True, "1003") == ("1001", "1002", "1003")
    assert refused(acme, company, call_id, "1004", "1001", True, "1003") == 409
    acme.run()
    invite = cecilia.ringing()
    assert invite is not None and "1002" in (invite.headers.get("From") or "")
    cecilia.pick_up()
    assert anna.requests("BYE") and hear_each_other(acme, bjorn, cecilia)
    assert not dan.requests("INVITE")


def test_a_ringing_call_cannot_be_transferred(acme: MemorySwitch) -> None:
    anna, bjorn = acme.phone("1001"), acme.phone("1002")
    anna.dial("1002")
    assert bjorn.ringing() is not None
    company, call_id = the_call(acme)
    assert refused(acme, company, call_id, "1001", None, False, "1003") == 409


# -- the in-call code ##EXT# (`B2BUA.key_in_call`) --------------------------------------


def info(phone: MemoryPhone, key: str) -> None:
    """`phone` presses `key` by SIP INFO (application/dtmf-relay)."""
    phone.request("INFO", f"Signal={key}\r\nDuration=160\r\n", "application/dtmf-relay")
    phone.switch.run()


def relayed_info(phone: MemoryPhone) -> list[str]:
    """The keys the switch relayed to `phone` by INFO."""
    return [
        m.body.decode().split("\r\n")[0].removeprefix("Signal=") for m in phone.requests("INFO")
    ]


def test_hash_hash_extension_transfers_the_other_party(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    bjorn.press("##1003#")
    assert anna.endpoint.keys == ["#"]  # the first # went on; the code did not
    invite = cecilia.ringing()
    assert invite is not None and "1001" in (invite.headers.get("From") or "")
    cecilia.pick_up()
    assert bjorn.requests("BYE") and not anna.requests("BYE")
    assert hear_each_other(acme, anna, cecilia)


def test_the_code_ends_after_a_pause_and_works_by_info_too(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    for key in "##1003":
        info(bjorn, key)
    assert relayed_info(anna) == ["#"]
    assert cecilia.ringing() is None
    acme.advance(4.5)  # no closing #: the pause ends it
    assert cecilia.ringing() is not None


def test_other_keys_are_relayed_unchanged(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    cecilia = acme.phone("1003")
    bjorn.press("1#5#")
    acme.advance(3.0)
    bjorn.press("#")  # too long after the last #: not the code
    bjorn.press("*")
    info(bjorn, "#")
    info(bjorn, "7")
    assert anna.endpoint.keys == list("1#5##*")
    assert relayed_info(anna) == ["#", "7"]
    acme.advance(5.0)
    assert cecilia.ringing() is None


def test_a_refused_target_keeps_the_call_and_the_keys_flow_again(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    bjorn.press("##0900123456#")  # barred: nothing happens
    acme.advance(1.5)
    bjorn.press("4")
    assert anna.endpoint.keys == ["#", "4"]
    assert not bjorn.requests("BYE") and hear_each_other(acme, anna, bjorn)


def test_a_caller_from_outside_cannot_dial_the_code(acme: MemorySwitch) -> None:
    carrier = MemoryPhone(acme, "carrier", "", CARRIER[0], port=CARRIER[1])
    bjorn, cecilia = acme.phone("1002"), acme.phone("1003")
    carrier.dial(DIRECT)
    bjorn.pick_up()
    assert carrier.answered() is not None
    carrier.press("##1003#")
    assert bjorn.endpoint.keys == list("##1003#")  # all relayed: no transfer for them
    acme.advance(5.0)
    assert cecilia.ringing() is None


# -- attended transfer (REFER with Replaces) and INVITE with Replaces (RFC 3891) ---------


def consult(acme: MemorySwitch, bjorn: MemoryPhone) -> tuple[MemoryPhone, MemoryPhone, str]:
    """Björn holds Anna and calls Cecilia from his second line; both lines are his. Returns
    the second line, Cecilia, and the Replaces naming the second call as Björn sees it."""
    bjorn.request("INVITE", bjorn.sdp("sendonly"))  # Björn holds Anna
    acme.run()
    line2, cecilia = acme.phone("1002"), acme.phone("1003")
    line2.dial("1003")
    cecilia.pick_up()
    answered = line2.answered()
    assert answered is not None and answered.status == 200
    return line2, cecilia, f"{line2.call_id};to-tag={answered.to.tag};from-tag={line2.tag}"


def test_attended_transfer_joins_anna_with_cecilia_and_frees_bjorn(acme: MemorySwitch) -> None:
    anna, bjorn = talking(acme)
    line2, cecilia, replaces = consult(acme, bjorn)
    assert refer(bjorn, f"<sip:1003@acme.test?Replaces={quote(replaces, safe='')}>") == 202
    assert frags(bjorn) == ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]
    assert bjorn.requests("BYE") and line2.requests("BYE")  # both of Björn's calls end
    assert not anna.requests("BYE") and not cecilia.requests("BYE")
    assert b"a=sendrecv" in anna.requests("INVITE")[-1].body  # Anna is not held any more
    assert hear_each_other(acme, anna, cecilia)
    anna.hang_up()
    assert cecilia.requests("BYE") and not acme.calls
    first, second = acme.records  # Björn's call to Cecilia ended first
    assert (first.caller, first.answered_by) == ("1002", "1003")
    assert (second.caller, second.answered_by, second.hangup_side) == ("1001", "1003", "caller")


def test_an_attended_transfer_naming_no_call_of_his_fails_and_the_call_goes_on(
    acme: MemorySwitch,
) -> None:
    anna, bjorn = talking(acme)
    cecilia, dan = acme.phone("1003"), acme.phone("1004")
    cecilia.dial("1004")  # a call of others
    dan.pick_up()
    theirs = cecilia.answered()
    assert theirs is not None
    for value in (
        "nope@phone;to-tag=1;from-tag=2",
        f"{cecilia.call_id};to-tag={theirs.to.tag};from-tag={cecilia.tag}",
    ):
        cseq = len(bjorn.requests("NOTIFY"))
        assert refer(bjorn, f"<sip:1003@acme.test?Replaces={quote(value, safe='')}>") == 202
        assert frags(bjorn)[cseq:] == [
            "SIP/2.0 100 Trying", "SIP/2.0 481 Call/Transaction Does Not Exist",
        ]  # fmt: skip
    assert refer(bjorn, "<sip:1003@acme.test?Replaces=garbage>") == 400
    # Without angle brackets (as pjsua2 writes a Refer-To with URI headers): taken alike.
    assert refer(bjorn, "sip:1003@acme.test?Replaces=x%3Bto-tag%3D1%3Bfrom-tag%3D2") == 202
    assert frags(bjorn)[-1] == "SIP/2.0 481 Call/Transaction Does Not Exist"
    assert hear_each_other(acme, anna, bjorn) and hear_each_other(acme, cecilia, dan)


def test_another_phone_of_the_user_takes_over_the_call_by_invite_with_replaces(
    acme: MemorySwitch,
) -> None:
    anna, bjorn = talking(acme)
    desk = acme.phone("1002")
    invite = bjorn.invites[-1]  # the switch's INVITE to Björn's phone: its From tag is ours
    mine = f"{invite.call_id};to-tag={invite.from_.tag};from-tag={bjorn.tag}"
    desk.dial("1002", headers=[f"Replaces: {mine};early-only"])
    assert desk.last_final("INVITE").status == 486  # type: ignore[union-attr]
    desk.dial("1002", headers=["Replaces: nope@phone;to-tag=1;from-tag=2"])
    assert desk.last_final("INVITE").status == 481  # type: ignore[union-attr]
    cecilia = acme.phone("1003")
    cecilia.dial("1002", headers=[f"Replaces: {mine}"])  # not her call
    assert cecilia.last_final("INVITE").status == 481  # type: ignore[union-attr]
    assert len(acme.calls) == 1
    desk.dial("1002", headers=[f"Replaces: {mine}"])
    assert desk.answered() is not None
    assert bjorn.requests("BYE") and not anna.requests("BYE")
    assert hear_each_other(acme, anna, desk)
    desk.hang_up()
    assert anna.requests("BYE") and not acme.calls
