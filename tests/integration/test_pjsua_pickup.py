"""P4, U5: call pickup with pjsua2 phones at every end.

Anna calls Björn; while his phone rings, Cecilia dials **1002 on hers. Her call is
answered at once, Björn's phone stops ringing (CANCEL, "completed elsewhere"), and
Anna and Cecilia hear each other. A pickup with nothing ringing is refused (486).
"""

from __future__ import annotations

from tests.integration.test_calls import data
from tests.integration.test_pjsua_calls import PhoneFactory, phones, server, talk

__all__ = ["data", "phones", "server"]


def test_cecilia_picks_up_the_call_ringing_bjorn(phones: PhoneFactory) -> None:
    anna, bjorn, cecilia = phones("1001"), phones("1002"), phones("1003")
    anna_call = anna.call("1002")
    ringing = bjorn.incoming()
    assert "sip:1001@" in ringing["from"]
    cecilia_call = cecilia.call("**1002")
    cecilia.state(cecilia_call, "CONFIRMED")
    anna.state(anna_call, "CONFIRMED")
    bjorn.state(int(ringing["call"]), "DISCONNECTED")  # his phone stopped ringing
    assert bjorn.received("CANCEL ", having="(?i)reason:.*completed elsewhere")
    talk(anna, anna_call, cecilia, cecilia_call, seed=51)
    anna.hangup(anna_call)
    cecilia.state(cecilia_call, "DISCONNECTED")


def test_nothing_to_pick_up_is_busy(phones: PhoneFactory) -> None:
    cecilia = phones("1003")
    call = cecilia.call("**1002")
    ended = cecilia.state(call, "DISCONNECTED")
    assert ended.get("code") == 486, ended
