"""U12: call waiting with pjsua2 phones at every end.

Anna and Björn talk; Cecilia calls Björn, whose phone gets a second INVITE (call
waiting is on unless the description turns it off). Björn's phone holds Anna (she hears
music on hold), answers Cecilia and talks with her, hangs up, resumes Anna, and the two
talk again.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.pjsua import hears
from tests.integration.test_calls import data
from tests.integration.test_pjsua_calls import PhoneFactory, connect, phones, server, talk

__all__ = ["data", "phones", "server"]


def test_bjorn_switches_between_two_calls_by_hold_and_answer(
    phones: PhoneFactory, system_prompts: Path
) -> None:
    anna, bjorn, cecilia = phones("1001"), phones("1002"), phones("1003")
    anna_call, bjorn_anna = connect(anna, bjorn)
    cecilia_call = cecilia.call("1002")
    waiting = bjorn.incoming()
    assert "sip:1003@" in waiting["from"]
    bjorn_cecilia = int(waiting["call"])
    bjorn.hold(bjorn_anna)
    assert hears(anna, anna_call, system_prompts / "sv" / "music.wav")
    bjorn.answer(bjorn_cecilia)
    cecilia.state(cecilia_call, "CONFIRMED")
    talk(cecilia, cecilia_call, bjorn, bjorn_cecilia, seed=81)
    bjorn.hangup(bjorn_cecilia)
    cecilia.state(cecilia_call, "DISCONNECTED")
    bjorn.resume(bjorn_anna)
    talk(anna, anna_call, bjorn, bjorn_anna, seed=91)
