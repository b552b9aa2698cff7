"""Watching a colleague's line in memory (U10 BLF over RFC 4235, U5 presence over RFC 3856):
SUBSCRIBE, the NOTIFYs of a real call through the switch, refresh, expiry, the limits."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import xmlschema

from tests.memory import DOMAIN, MemoryPhone, MemorySwitch
from vaxel.calls.presence import MAX_PER_USER, diversion_note
from vaxel.services.diversions import DiversionInfo
from vaxel.sip.message import Request

XSD = Path(__file__).parent.parent / "vectors" / "xsd"
DIALOG_SCHEMA = xmlschema.XMLSchema(XSD / "dialog-info.xsd")
PIDF_SCHEMA = xmlschema.XMLSchema(XSD / "pidf.xsd")
D = {"d": "urn:ietf:params:xml:ns:dialog-info"}
P = {"p": "urn:ietf:params:xml:ns:pidf"}
ACCEPT = "Accept: application/dialog-info+xml"


@pytest.fixture
def switch(tmp_path: Path, tone_prompts: Path) -> Iterator[MemorySwitch]:
    memory = MemorySwitch(
        tmp_path, tone_prompts, user_names={"1001": "Anna", "1002": "Björn", "1003": "Cilla"}
    )
    yield memory
    memory.close()


def notifies(phone: MemoryPhone, event: str = "dialog") -> list[Request]:
    return [n for n in phone.requests("NOTIFY") if n.headers.get("Event") == event]


def dialogs(notify: Request) -> tuple[ET.Element, list[tuple[str, str, str]]]:
    """The document (validated against RFC 4235's schema) and its (state, direction, remote)."""
    DIALOG_SCHEMA.validate(notify.body.decode())
    root = ET.fromstring(notify.body)
    found = []
    for dialog in root.findall("d:dialog", D):
        remote = dialog.findtext("d:remote/d:identity", "", D)
        found.append((dialog.findtext("d:state", "", D), dialog.get("direction", ""), remote))
    return root, found


def test_a_blf_key_follows_a_call_to_the_colleague(switch: MemorySwitch) -> None:
    anna, bjorn, cilla = switch.phone("1001"), switch.phone("1002"), switch.phone("1003")
    assert anna.subscribe("1002", event="dialog") == 200
    root, found = dialogs(notifies(anna)[-1])
    assert (root.get("version"), root.get("state"), found) == ("0", "full", [])
    assert root.get("entity") == f"sip:1002@{DOMAIN}"
    cilla.dial("1002")
    switch.until(lambda: bjorn.ringing() is not None)
    root, found = dialogs(notifies(anna)[-1])
    assert found == [("early", "recipient", f"sip:1003@{DOMAIN}")]
    remote = root.find("d:dialog/d:remote/d:identity", D)
    assert remote is not None and remote.get("display-name") == "Cilla"
    bjorn.pick_up()
    talking = [("confirmed", "recipient", f"sip:1003@{DOMAIN}")]
    switch.until(lambda: dialogs(notifies(anna)[-1])[1] == talking)
    cilla.hang_up()
    switch.until(lambda: dialogs(notifies(anna)[-1])[1][0][0] == "terminated")
    root, found = dialogs(notifies(anna)[-1])
    assert root.get("state") == "full"  # no Accept: every document is full
    versions = [int(dialogs(n)[0].get("version", "")) for n in notifies(anna)]
    assert versions == list(range(len(versions)))  # counted per subscription, no gaps
    company_id = next(iter(switch.core.directory.companies))
    assert switch.core.lines.line(company_id, "1002").state == "idle"


def test_partial_documents_when_the_phone_accepts_dialog_info(switch: MemorySwitch) -> None:
    anna, bjorn, cilla = switch.phone("1001"), switch.phone("1002"), switch.phone("1003")
    assert anna.subscribe("1002", event="dialog", headers=[ACCEPT]) == 200
    assert dialogs(notifies(anna)[-1])[0].get("state") == "full"
    cilla.dial("1002")
    switch.until(lambda: bjorn.ringing() is not None)
    root, found = dialogs(notifies(anna)[-1])
    assert root.get("state") == "partial" and found[0][0] == "early"
    bjorn.refuse(486)
    switch.until(lambda: dialogs(notifies(anna)[-1])[1][0][0] == "terminated")


def test_the_caller_side_is_shown_too(switch: MemorySwitch) -> None:
    anna, bjorn, cilla = switch.phone("1001"), switch.phone("1002"), switch.phone("1003")
    assert anna.subscribe("1003", event="dialog") == 200
    cilla.dial("1002")
    switch.until(lambda: bjorn.ringing() is not None)
    _, found = dialogs(notifies(anna)[-1])
    assert found == [("early", "initiator", f"sip:1002@{DOMAIN}")]


def test_an_unknown_extension_is_404_and_so_is_a_number(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    assert anna.subscribe("1099", event="dialog") == 404
    assert anna.subscribe("+46812345678", event="presence") == 404
    assert not notifies(anna) and not notifies(anna, "presence")


def test_an_unknown_event_is_489_listing_what_works(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    assert anna.subscribe("1002", event="conference") == 489
    (refused,) = [r for r in anna.responses("SUBSCRIBE") if r.status == 489]
    assert refused.headers.get("Allow-Events") == "message-summary, dialog, presence"


def test_a_user_holds_a_bounded_number_of_watches(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    for _ in range(MAX_PER_USER):
        assert anna.subscribe("1002", event="dialog") == 200
    assert anna.subscribe("1002", event="presence") == 403
    assert anna.subscribe("1002", event="dialog", expires=0) == 200  # a fetch is allowed
    assert switch.phone("1003").subscribe("1002", event="dialog") == 200


def test_a_subscription_lapses_unless_refreshed(switch: MemorySwitch) -> None:
    anna = switch.phone("1001")
    assert anna.subscribe("1002", event="dialog", expires=60) == 200
    watchers = switch.core.watchers
    assert len(watchers.subscriptions) == 1 and switch.core.bus.wants(1)
    switch.advance(61)
    assert not watchers.subscriptions and not watchers.watchers
    last = notifies(anna)[-1]
    assert (last.headers.get("Subscription-State") or "").startswith("terminated")
    assert not switch.core.bus.wants(1)  # nobody watches the company's calls any more


def test_presence_is_open_then_closed_on_the_phone(switch: MemorySwitch) -> None:
    anna, bjorn, cilla = switch.phone("1001"), switch.phone("1002"), switch.phone("1003")
    assert anna.subscribe("1002", event="presence") == 200

    def status() -> tuple[str, str]:
        notify = notifies(anna, "presence")[-1]
        assert notify.headers.get("Content-Type") == "application/pidf+xml"
        PIDF_SCHEMA.validate(notify.body.decode())
        root = ET.fromstring(notify.body)
        basic = root.findtext("p:tuple/p:status/p:basic", "", P)
        return basic, root.findtext("p:tuple/p:note", "", P)

    assert status() == ("open", "")
    cilla.dial("1002")
    switch.until(lambda: bjorn.ringing() is not None)
    bjorn.pick_up()
    switch.until(lambda: status() == ("closed", "On the phone"))
    cilla.hang_up()
    switch.until(lambda: status() == ("open", ""))


def test_a_diversion_is_a_note() -> None:
    zone = ZoneInfo("Europe/Stockholm")
    now = datetime(2027, 1, 15, 11, 0, tzinfo=zone)
    lunch = DiversionInfo("1002", "lunch", "", datetime(2027, 1, 15, 12, 0, tzinfo=UTC), False, now)
    assert diversion_note(lunch, zone, now) == "Lunch until 13:00"
    away = DiversionInfo("1002", "custom", "At the fair", now + timedelta(days=3), False, now)
    assert diversion_note(away, zone, now) == "At the fair until 2027-01-18 11:00"


def test_a_call_put_on_hold_shows_on_the_key_and_in_presence(switch: MemorySwitch) -> None:
    """Björn holds Cilla's call: his key says so (his side renders no media), his
    presence says "On hold"; taking it back makes him talk again."""
    anna, bjorn, cilla = switch.phone("1001"), switch.phone("1002"), switch.phone("1003")
    assert anna.subscribe("1002", event="dialog") == 200
    assert anna.subscribe("1002", event="presence") == 200
    cilla.dial("1002")
    switch.until(lambda: bjorn.ringing() is not None)
    bjorn.pick_up()
    company_id = next(iter(switch.core.directory.companies))
    lines = switch.core.lines
    switch.until(lambda: lines.line(company_id, "1002").state == "talking")
    bjorn.request("INVITE", bjorn.sdp("sendonly"))
    switch.run()
    assert lines.line(company_id, "1002").state == "held"
    assert lines.line(company_id, "1003").state == "talking"  # the one held is in a call
    root, found = dialogs(notifies(anna)[-1])
    assert found[0][0] == "confirmed"
    rendering = root.find("d:dialog/d:local/d:target/d:param", D)
    assert rendering is not None
    assert (rendering.get("pname"), rendering.get("pval")) == ("+sip.rendering", "no")
    presence = notifies(anna, "presence")[-1]
    PIDF_SCHEMA.validate(presence.body.decode())
    assert b"On hold" in presence.body and b"<basic>closed</basic>" in presence.body
    bjorn.request("INVITE", bjorn.sdp("sendrecv"))
    switch.run()
    assert lines.line(company_id, "1002").state == "talking"
    root, _ = dialogs(notifies(anna)[-1])
    assert root.find("d:dialog/d:local/d:target", D) is None


def test_a_caller_who_transfers_their_own_call_is_free_once_it_is_handed_over(
    switch: MemorySwitch,
) -> None:
    """Anna calls Björn and transfers him to Cilla: her key goes dark as Cilla answers,
    while Björn and Cilla's go on showing the call."""
    from tests.features.test_transfer import refer

    anna, bjorn, cilla = switch.phone("1001"), switch.phone("1002"), switch.phone("1003")
    assert cilla.subscribe("1001", event="dialog") == 200
    anna.dial("1002")
    switch.until(lambda: bjorn.ringing() is not None)
    bjorn.pick_up()
    assert anna.answered() is not None
    company_id = next(iter(switch.core.directory.companies))
    lines = switch.core.lines
    switch.until(lambda: lines.line(company_id, "1001").state == "talking")
    assert refer(anna, f"<sip:1003@{DOMAIN}>") == 202
    switch.until(lambda: cilla.ringing() is not None)
    cilla.pick_up()
    switch.until(lambda: lines.line(company_id, "1001").state == "idle")
    _, found = dialogs(notifies(cilla)[-1])
    assert found[-1][0] == "terminated"
    assert lines.line(company_id, "1002").state == "talking"
    assert lines.line(company_id, "1003").state == "talking"
