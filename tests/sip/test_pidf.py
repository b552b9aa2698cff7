"""PIDF presence documents (U5; RFC 3863): valid against the RFC's schema, status and note."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from vaxel.sip.errors import LocalProtocolError
from vaxel.sip.pidf import NAMESPACE, presence_document

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent.parent / "vectors" / "xsd" / "pidf.xsd")
NS = {"p": NAMESPACE}


def test_open_without_a_note() -> None:
    body = presence_document("sip:1002@acme.example", open=True)
    SCHEMA.validate(body.decode())
    root = ET.fromstring(body)
    assert root.findtext("p:tuple/p:status/p:basic", namespaces=NS) == "open"
    assert root.find("p:note", NS) is None


def test_closed_with_a_note_in_a_language() -> None:
    body = presence_document(
        "sip:1002@acme.example", open=False, note="Lunch until 13:00 <back soon>", language="en"
    )
    SCHEMA.validate(body.decode())
    root = ET.fromstring(body)
    assert root.findtext("p:tuple/p:status/p:basic", namespaces=NS) == "closed"
    assert root.findtext("p:tuple/p:note", namespaces=NS) == "Lunch until 13:00 <back soon>"
    assert root.findtext("p:note", namespaces=NS) == "Lunch until 13:00 <back soon>"


def test_a_control_character_or_a_bad_entity_is_refused() -> None:
    with pytest.raises(LocalProtocolError):
        presence_document("sip:1002@acme.example", open=True, note="a\x00b")
    with pytest.raises(LocalProtocolError):
        presence_document("", open=True)


def test_an_activity_is_said_in_rpid_inside_a_person() -> None:
    """RFC 4480: `on-the-phone` in an RFC 4479 person, after the tuples and notes."""
    body = presence_document("sip:1002@acme.test", open=False, note="On the phone",
                             activity="on-the-phone").decode()  # fmt: skip
    SCHEMA.validate(body)
    root = ET.fromstring(body)
    person = root.find("{urn:ietf:params:xml:ns:pidf:data-model}person")
    assert person is not None
    activities = person.find("{urn:ietf:params:xml:ns:pidf:rpid}activities")
    assert activities is not None
    assert [child.tag for child in activities] == ["{urn:ietf:params:xml:ns:pidf:rpid}on-the-phone"]
    assert list(root)[-1] is person
    with pytest.raises(LocalProtocolError):
        presence_document("sip:1002@acme.test", open=True, activity="dancing")
