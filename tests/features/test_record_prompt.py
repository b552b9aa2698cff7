"""features/record_prompt in memory (S4): an admin records a company prompt by phone (*99)."""

from __future__ import annotations

from tests.features.conftest import MAIN
from tests.memory import MemorySwitch, contains, tone


def test_an_admin_records_the_welcome_and_callers_hear_it(acme: MemorySwitch) -> None:
    anna = acme.phone("1001")
    anna.dial("*99")
    anna.answered()
    acme.advance(0.5)
    anna.press("1#")  # the welcome is prompt number 1
    acme.advance(1.0)  # "record after the tone"
    welcome = tone("Anna says welcome", 1.5)
    anna.say(welcome)
    anna.press("#")
    acme.advance(0.5)
    anna.press("1")  # save
    acme.advance(1.0)
    assert contains(anna.heard(), acme.system("prompt-saved"))
    caller = acme.carrier()
    caller.dial(MAIN)
    caller.answered()
    acme.advance(2.0)
    assert welcome[800:8800].tobytes() in caller.heard().tobytes()


def test_someone_who_is_no_admin_cannot(acme: MemorySwitch) -> None:
    bjorn = acme.phone("1002")
    bjorn.dial("*99")
    bjorn.answered()
    acme.advance(1.0)
    assert contains(bjorn.heard(), acme.system("invalid-choice"))
    assert bjorn.requests("BYE")
