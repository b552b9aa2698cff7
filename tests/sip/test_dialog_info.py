"""Dialog-info bodies (U10; RFC 4235): valid against the RFC's schema, and what phones read."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from vaxel.sip.dialog_info import NAMESPACE, DialogEntry, dialog_info
from vaxel.sip.errors import LocalProtocolError

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent.parent / "vectors" / "xsd" / "dialog-info.xsd")
NS = {"d": NAMESPACE}
ENTITY = "sip:1002@acme.example"


def ringing() -> DialogEntry:
    return DialogEntry(
        "c1", "early", "recipient", (ENTITY, "Björn"), ("sip:1001@acme.example", "Anna & Co")
    )


def test_an_idle_user_is_a_full_document_without_dialogs() -> None:
    body = dialog_info(ENTITY, 0, [])
    SCHEMA.validate(body.decode())
    root = ET.fromstring(body)
    assert root.get("state") == "full" and root.get("version") == "0"
    assert root.get("entity") == ENTITY and not root.findall("d:dialog", NS)


def test_a_ringing_dialog_names_both_parties_and_the_direction() -> None:
    body = dialog_info(ENTITY, 3, [ringing()])
    SCHEMA.validate(body.decode())
    (dialog,) = ET.fromstring(body).findall("d:dialog", NS)
    assert dialog.get("direction") == "recipient"
    assert dialog.findtext("d:state", namespaces=NS) == "early"
    remote = dialog.find("d:remote/d:identity", NS)
    assert remote is not None and remote.text == "sip:1001@acme.example"
    assert remote.get("display-name") == "Anna & Co"  # escaped, and read back as written
    local = dialog.find("d:local/d:identity", NS)
    assert local is not None and local.text == ENTITY


def test_a_terminated_partial_document_says_why() -> None:
    ended = DialogEntry("c1", "terminated", "initiator", (ENTITY, ""), ("", ""), "remote-bye", 42)
    body = dialog_info(ENTITY, 4, [ended], full=False)
    SCHEMA.validate(body.decode())
    root = ET.fromstring(body)
    assert root.get("state") == "partial"
    state = root.find("d:dialog/d:state", NS)
    assert state is not None and state.text == "terminated" and state.get("event") == "remote-bye"
    assert root.findtext("d:dialog/d:duration", namespaces=NS) == "42"
    assert root.find("d:dialog/d:remote", NS) is None  # no remote URI: no element


@pytest.mark.parametrize(
    "entry",
    [
        DialogEntry("c1", "ringing", None, (ENTITY, ""), ("", "")),
        DialogEntry("c1", "early", "sideways", (ENTITY, ""), ("", "")),
        DialogEntry("c1", "terminated", None, (ENTITY, ""), ("", ""), "hung-up"),
        DialogEntry("", "early", None, (ENTITY, ""), ("", "")),
    ],
)
def test_what_the_rfc_does_not_know_is_refused(entry: DialogEntry) -> None:
    with pytest.raises(LocalProtocolError):
        dialog_info(ENTITY, 1, [entry])


def test_a_bad_entity_or_version_is_refused() -> None:
    with pytest.raises(LocalProtocolError):
        dialog_info("1002", 1, [])
    with pytest.raises(LocalProtocolError):
        dialog_info(ENTITY, -1, [])
