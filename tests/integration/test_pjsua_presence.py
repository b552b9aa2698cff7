"""U10, U5: a pjsua2 phone watches a colleague's line by presence (RFC 3856, PIDF): it
sees Björn busy while he talks, on hold while he holds the call, and free again."""

from __future__ import annotations

from typing import Any

from tests.integration.pjsua import PjPhone
from tests.integration.test_calls import DOMAIN, data
from tests.integration.test_pjsua_calls import PhoneFactory, connect, phones, server

__all__ = ["data", "phones", "server"]


def seen(phone: PjPhone, **wanted: Any) -> dict[str, Any]:
    """The first presence change of the watched colleague that says `wanted`."""
    while True:
        event = phone.expect("buddy", timeout=15)
        if all(event.get(key) == value for key, value in wanted.items()):
            return event


def test_a_colleague_shows_busy_on_hold_and_free(phones: PhoneFactory) -> None:
    anna, bjorn, cecilia = phones("1001"), phones("1002"), phones("1003")
    anna.watch(f"sip:1002@{DOMAIN}")
    seen(anna, online=True, sub_state="ACTIVE")
    _, bjorn_call = connect(cecilia, bjorn)
    assert seen(anna, online=False)["note"] == "On the phone"
    bjorn.hold(bjorn_call)
    seen(anna, online=False, note="On hold")
    bjorn.resume(bjorn_call)
    seen(anna, online=False, note="On the phone")
    bjorn.hangup(bjorn_call)
    seen(anna, online=True)
