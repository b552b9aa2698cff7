"""P4: blind transfer with pjsua2 phones at every end (RFC 3515: REFER, NOTIFY sipfrag).

Anna calls Björn; Björn's phone transfers her to Cecilia with pjsua2's own `xfer`.
When Cecilia answers, Anna and Cecilia hear each other and Björn's phone is told
"200" and its call ends. When Cecilia declines, Björn's phone is told "486" and the
call comes back to him: Anna and Björn hear each other again. A phone without a
transfer key dials ##, the extension and # during the call, by RFC 4733 or INFO.
Attended: Björn holds Anna, calls Cecilia, and transfers with Replaces (RFC 3891); and
his other phone takes his call over by an INVITE with Replaces.
"""

from __future__ import annotations

import re

import pytest

from tests.integration.pjsua import PjPhone
from tests.integration.test_calls import data
from tests.integration.test_pjsua_calls import PhoneFactory, connect, phones, server, talk

__all__ = ["data", "phones", "server"]


def final_status(phone: PjPhone, call: int) -> int:
    """The code of the transfer's final NOTIFY (its sipfrag), as the phone read it."""
    while True:
        status = phone.expect("xfer_status", call=call, timeout=15)
        if status["final"]:
            return int(status["code"])


def test_blind_transfer_connects_anna_and_cecilia(phones: PhoneFactory) -> None:
    anna, bjorn, cecilia = phones("1001"), phones("1002"), phones("1003")
    anna_call, bjorn_call = connect(anna, bjorn)
    bjorn.transfer(bjorn_call, "1003")
    ringing = cecilia.incoming()
    assert "sip:1001@" in ringing["from"]  # Cecilia sees Anna calling
    cecilia.answer(ringing["call"])
    cecilia_call = int(ringing["call"])
    cecilia.state(cecilia_call, "CONFIRMED")
    assert final_status(bjorn, bjorn_call) == 200
    bjorn.state(bjorn_call, "DISCONNECTED")  # the switch ended Björn's part
    talk(anna, anna_call, cecilia, cecilia_call, seed=31)


def test_a_declined_transfer_comes_back_to_bjorn(phones: PhoneFactory) -> None:
    anna, bjorn, cecilia = phones("1001"), phones("1002"), phones("1003")
    anna_call, bjorn_call = connect(anna, bjorn)
    bjorn.transfer(bjorn_call, "1003")
    ringing = cecilia.incoming()
    cecilia.answer(ringing["call"], code=486)
    assert final_status(bjorn, bjorn_call) == 486
    talk(anna, anna_call, bjorn, bjorn_call, seed=41)  # together again


def keys_heard(phone: PjPhone, call: int) -> list[str]:
    return [e["digit"] for e in phone.seen if e["event"] == "dtmf" and e["call"] == call]


@pytest.mark.parametrize("method", ["rfc2833", "info"])
def test_bjorn_dials_hash_hash_cecilia_on_a_phone_without_a_transfer_key(
    phones: PhoneFactory, method: str
) -> None:
    """The in-call code: ## then the extension then #, by RFC 4733 events or SIP INFO."""
    anna, bjorn, cecilia = phones("1001"), phones("1002"), phones("1003")
    anna_call, bjorn_call = connect(anna, bjorn)
    bjorn.press(bjorn_call, "##1003#", method=method)
    ringing = cecilia.incoming()
    assert "sip:1001@" in ringing["from"]  # Cecilia sees Anna calling
    cecilia.answer(ringing["call"])
    cecilia_call = int(ringing["call"])
    cecilia.state(cecilia_call, "CONFIRMED")
    bjorn.state(bjorn_call, "DISCONNECTED")  # the switch ended Björn's part
    talk(anna, anna_call, cecilia, cecilia_call, seed=71)
    assert keys_heard(anna, anna_call) == ["#"]  # the code itself stayed in the switch


def test_attended_transfer_joins_anna_and_cecilia_and_frees_bjorn(phones: PhoneFactory) -> None:
    """Björn holds Anna, calls Cecilia, then his phone transfers Anna to her with Replaces
    (RFC 3891): Anna and Cecilia talk, both of Björn's calls end."""
    anna, bjorn, cecilia = phones("1001"), phones("1002"), phones("1003")
    anna_call, bjorn_call = connect(anna, bjorn)
    bjorn.hold(bjorn_call)
    anna.expect("media_state", call=anna_call, status="remote_hold")
    consult, cecilia_call = connect(bjorn, cecilia)
    bjorn.transfer_replacing(bjorn_call, consult)
    assert final_status(bjorn, bjorn_call) == 200
    bjorn.state(bjorn_call, "DISCONNECTED")
    bjorn.state(consult, "DISCONNECTED")
    anna.expect("media_state", call=anna_call, status="active")  # no longer held
    talk(anna, anna_call, cecilia, cecilia_call, seed=81)
    anna.hangup(anna_call)
    cecilia.state(cecilia_call, "DISCONNECTED")


def test_an_attended_transfer_naming_an_unknown_call_fails_and_the_call_goes_on(
    phones: PhoneFactory,
) -> None:
    """A Replaces naming no dialog the switch knows (pjsua2 refuses to name a call that is
    over, so the Refer-To is written out; pjsua2 sends it without angle brackets, which the
    switch takes): the NOTIFY says 481 and Anna is still Björn's."""
    anna, bjorn = phones("1001"), phones("1002")
    anna_call, bjorn_call = connect(anna, bjorn)
    replaces = "gone%40phone%3Bto-tag%3D1%3Bfrom-tag%3D2"
    bjorn.transfer(bjorn_call, f"sip:1003@{bjorn.domain}?Replaces={replaces}")
    assert final_status(bjorn, bjorn_call) == 481
    talk(anna, anna_call, bjorn, bjorn_call, seed=91)


def header_of(message: str, name: str) -> str:
    found = re.search(rf"^{name}:\s*(.*?)\r?$", message, re.M | re.I)
    assert found is not None, f"no {name} in {message}"
    return found.group(1)


def tag_of(value: str) -> str:
    found = re.search(r";\s*tag=([^;>\s]+)", value)
    assert found is not None, value
    return found.group(1)


def test_bjorns_desk_phone_takes_over_his_call_by_invite_with_replaces(
    phones: PhoneFactory,
) -> None:
    """Anna's call rings both of Björn's phones; he answers on one, then his other phone
    sends an INVITE with Replaces (RFC 3891) naming that call: it is now Anna's partner,
    and the first phone's call ends."""
    anna, bjorn = phones("1001"), phones("1002")
    desk = phones("1002", name="desk")
    anna_call = anna.call("1002")
    ringing = bjorn.incoming()
    desk.incoming()
    bjorn.answer(ringing["call"])
    bjorn_call = int(ringing["call"])
    bjorn.state(bjorn_call, "CONFIRMED")
    anna.state(anna_call, "CONFIRMED")
    invite = ringing["message"]  # the switch's INVITE: its From tag is the switch's
    call_id = header_of(invite, "Call-ID")
    (ok,) = [
        m for m in bjorn.sent("SIP/2.0 200", having=r"\nCSeq: \d+ INVITE")
        if header_of(m, "Call-ID") == call_id
    ]  # fmt: skip
    ours, his = tag_of(header_of(invite, "From")), tag_of(header_of(ok, "To"))
    mine = f"{call_id};to-tag={ours};from-tag={his}"
    refused = desk.call("1002", headers={"Replaces": "gone@phone;to-tag=1;from-tag=2"})
    assert desk.state(refused, "DISCONNECTED", timeout=10)["code"] == 481
    taken = desk.call("1002", headers={"Replaces": mine})
    desk.state(taken, "CONFIRMED")
    bjorn.state(bjorn_call, "DISCONNECTED")
    talk(anna, anna_call, desk, taken, seed=101)
    anna.hangup(anna_call)
    desk.state(taken, "DISCONNECTED")


def test_bjorn_consults_cecilia_by_star_two_then_hands_anna_over(phones: PhoneFactory) -> None:
    """The attended transfer code: *2, the extension, #. Anna waits while Björn and
    Cecilia talk alone; Björn hangs up, and Anna and Cecilia talk."""
    anna, bjorn, cecilia = phones("1001"), phones("1002"), phones("1003")
    anna_call, bjorn_call = connect(anna, bjorn)
    bjorn.press(bjorn_call, "*21003#")
    ringing = cecilia.incoming()
    assert "sip:1002@" in ringing["from"]  # Björn is the one asking
    cecilia.answer(ringing["call"])
    cecilia_call = int(ringing["call"])
    cecilia.state(cecilia_call, "CONFIRMED")
    talk(bjorn, bjorn_call, cecilia, cecilia_call, seed=91)
    bjorn.hangup(bjorn_call)
    bjorn.state(bjorn_call, "DISCONNECTED")
    talk(anna, anna_call, cecilia, cecilia_call, seed=92)
    assert keys_heard(anna, anna_call) == ["*"]  # the code itself stayed in the switch
