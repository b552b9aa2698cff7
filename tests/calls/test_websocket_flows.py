"""SIP over WebSocket in the switch (P2, U1; RFC 7118, RFC 5626 §4.4), in memory: a
device on a WebSocket registers, is rung over that very flow (its Contact names no
address anyone could reach), and when the WebSocket closes its bindings go, what was
waiting on the flow fails at once and its calls end, so lines and records stay true.

The in-memory network stands in for the web's relay (transport/ws.py has its own tests):
a `WS` phone's messages arrive from a `Source("WS", ...)`, and `disconnect()` is what
the transport does when a WebSocket closes (`Core.flow_failed`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.memory import DOMAIN, SWITCH, MemoryPhone, MemorySwitch, tone
from vaxel.bus import DeviceRegistration
from vaxel.services import companies, registrations
from vaxel.transport.base import Source


@pytest.fixture
def switch(tmp_path: Path, tone_prompts: Path) -> Iterator[MemorySwitch]:
    memory = MemorySwitch(tmp_path, tone_prompts)
    yield memory
    memory.close()


def company_id(switch: MemorySwitch) -> int:
    return companies.get_company(switch.store, DOMAIN).id


def line(switch: MemorySwitch, extension: str) -> str:
    return switch.core.lines.line(company_id(switch), extension).state


def bound(switch: MemorySwitch, extension: str) -> list[str]:
    """Where the user's devices are reached, as stored."""
    return [b.received for b in registrations.user_registrations(
        switch.store, company_id(switch), extension)]  # fmt: skip


def browser(switch: MemorySwitch, user: str) -> MemoryPhone:
    return switch.phone(user, transport="WS")


def test_a_device_on_a_websocket_registers_and_is_rung_over_its_flow(
    switch: MemorySwitch,
) -> None:
    anna, bjorn = switch.phone("1001"), browser(switch, "1002")
    (ok,) = [r for r in bjorn.responses("REGISTER") if r.status == 200]
    assert ok.contacts[0].uri.params.get("transport") == "ws"
    assert bound(switch, "1002") == [f"ws:{bjorn.host}:{bjorn.port}"]
    anna.dial("1002")
    invite = bjorn.ringing()
    assert invite is not None  # its Contact (x.invalid) names nowhere: the flow was used
    assert invite.headers.get("Via", "").startswith("SIP/2.0/WS ")
    assert (invite.headers.get("Contact") or "").endswith(";transport=ws>")
    bjorn.pick_up()
    assert anna.answered() is not None
    hello = tone("hello", 0.2)
    anna.say(hello)
    assert bjorn.heard().tobytes().endswith(hello.tobytes())
    bjorn.hang_up()
    assert anna.requests("BYE") and not switch.calls


def test_a_message_without_content_length_is_read_whole_as_rfc_7118_allows(
    switch: MemorySwitch,
) -> None:
    bjorn = browser(switch, "1002")
    data = "\r\n".join([
        f"OPTIONS sip:{DOMAIN} SIP/2.0", bjorn._via(), f"From: <sip:1002@{DOMAIN}>;tag=o1",
        f"To: <sip:{DOMAIN}>", "Call-ID: no-length@ws", "CSeq: 1 OPTIONS", "Max-Forwards: 70",
        "", "",
    ]).encode()  # fmt: skip
    bjorn.socket.send(data, Source("WS", *SWITCH))
    switch.run()
    (answer,) = bjorn.responses("OPTIONS")
    assert answer.status != 400


def test_a_websocket_that_closes_takes_its_bindings_and_only_them(switch: MemorySwitch) -> None:
    cid = company_id(switch)
    switch.core.bus.watch(cid)
    events: list[DeviceRegistration] = []
    switch.core.bus.subscribe(DeviceRegistration, events.append)
    desk, tab = switch.phone("1002"), browser(switch, "1002")
    assert len(bound(switch, "1002")) == 2
    tab.disconnect()
    assert bound(switch, "1002") == [f"udp:{desk.host}:{desk.port}"]  # stored so
    (gone,) = [e for e in events if e.state == "disconnected"]
    assert gone.extension == "1002" and "transport=ws" in gone.contact
    anna = switch.phone("1001")
    anna.dial("1002")
    assert desk.ringing() is not None and tab.ringing() is None


def test_a_device_ringing_when_its_websocket_closes_fails_at_once(switch: MemorySwitch) -> None:
    switch.core.lines.watch(company_id(switch))
    anna, bjorn = switch.phone("1001"), browser(switch, "1002")
    anna.dial("1002")
    assert bjorn.ringing() is not None and line(switch, "1002") == "ringing"
    bjorn.disconnect()  # not the 32 s of Timer B, nor the ring time
    final = anna.last_final("INVITE")
    assert final is not None and final.status == 480
    assert line(switch, "1002") == "idle" and line(switch, "1001") == "idle"
    assert not switch.calls


def test_a_call_whose_websocket_closes_ends_for_the_other_party(switch: MemorySwitch) -> None:
    switch.core.lines.watch(company_id(switch))
    anna, bjorn = switch.phone("1001"), browser(switch, "1002")
    call_id = anna.dial("1002")
    bjorn.pick_up()
    assert anna.answered() is not None and line(switch, "1002") == "talking"
    bjorn.disconnect()
    assert anna.requests("BYE") and not switch.calls  # not after the RTP timeout
    assert line(switch, "1002") == "idle" and line(switch, "1001") == "idle"
    (record,) = switch.records
    assert record.call_id == call_id and record.disposition == "answered"
    assert record.hangup_side == "callee" and record.cause_code == 430


def test_a_caller_whose_websocket_closes_before_an_answer_stops_the_ringing(
    switch: MemorySwitch,
) -> None:
    switch.core.lines.watch(company_id(switch))
    tab, anna = browser(switch, "1002"), switch.phone("1001")
    tab.dial("1001")
    assert anna.ringing() is not None and line(switch, "1002") == "dialling"
    tab.disconnect()
    assert anna.requests("CANCEL") and anna.ringing() is None
    assert not switch.calls and line(switch, "1001") == "idle" and line(switch, "1002") == "idle"
    (record,) = switch.records
    assert record.disposition == "canceled" and record.hangup_side == "caller"


def test_websocket_bindings_do_not_outlive_a_restart(switch: MemorySwitch) -> None:
    desk, tab = switch.phone("1002"), browser(switch, "1002")
    assert len(bound(switch, "1002")) == 2
    assert registrations.delete_websocket_flows(switch.store) == 1
    assert bound(switch, "1002") == [f"udp:{desk.host}:{desk.port}"]
    assert tab.host != desk.host or tab.port != desk.port
