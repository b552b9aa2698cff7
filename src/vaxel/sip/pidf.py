"""Presence documents (U5 presence of colleagues; RFC 3856 over RFC 6665, PIDF RFC 3863).

A softphone's buddy list subscribes with `Event: presence` to a colleague's
address and shows what the NOTIFY's PIDF document says: the basic status
(`open`: can take a call now; `closed`: cannot) and a note to read ("On the
phone", "Lunch until 13:00"). One tuple per user: the switch knows the
person's line and diversion, not each device's. What the person is doing
goes in RPID's vocabulary too (RFC 4480 activities in an RFC 4479 person:
`on-the-phone`, `lunch`, `meeting` ...), which phones that read it show as
busy rather than offline. Sans-I/O.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from vaxel.sip.errors import LocalProtocolError

__all__ = ["CONTENT_TYPE", "EVENT", "NAMESPACE", "presence_document"]

CONTENT_TYPE = "application/pidf+xml"
EVENT = "presence"
NAMESPACE = "urn:ietf:params:xml:ns:pidf"
DATA_MODEL = "urn:ietf:params:xml:ns:pidf:data-model"  # RFC 4479
RPID = "urn:ietf:params:xml:ns:pidf:rpid"  # RFC 4480
#: RFC 4480 §3.2's activities (the ones a switch has reason to say).
ACTIVITIES = frozenset(
    {"away", "busy", "holiday", "lunch", "meal", "meeting", "on-the-phone", "vacation"}
)


def presence_document(
    entity: str,
    *,
    open: bool,
    note: str = "",
    contact: str = "",
    language: str = "",
    activity: str = "",
) -> bytes:
    """The PIDF body for one user: `entity` is their address ("pres:" or "sip:" URI).

    The tuple's id is fixed ("line"): a watcher matches tuples of successive
    documents by id (RFC 3863 §4.1.4), and there is one per user. An `activity`
    (one of ACTIVITIES) adds the person element with it.
    """
    if activity and activity not in ACTIVITIES:
        raise LocalProtocolError(f"activity {activity!r} is not one of RFC 4480's we say")
    if not entity or ":" not in entity:
        raise LocalProtocolError(f"entity {entity!r} is not a URI")
    if any(ord(char) < 0x20 and char not in "\t\n\r" for char in note):
        raise LocalProtocolError("a presence note cannot hold control characters")
    lang = f" xml:lang={quoteattr(language)}" if language else ""
    spaces = f' xmlns:dm="{DATA_MODEL}" xmlns:rpid="{RPID}"' if activity else ""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<presence xmlns="{NAMESPACE}"{spaces} entity={quoteattr(entity)}>',
        '<tuple id="line">',
        f"<status><basic>{'open' if open else 'closed'}</basic></status>",
    ]
    if contact:
        parts.append(f"<contact>{escape(contact)}</contact>")
    if note:
        parts.append(f"<note{lang}>{escape(note)}</note>")
    parts.append("</tuple>")
    if note:
        parts.append(f"<note{lang}>{escape(note)}</note>")
    if activity:
        parts.append(
            f'<dm:person id="person"><rpid:activities><rpid:{activity}/></rpid:activities>'
            "</dm:person>"
        )
    parts.append("</presence>\n")
    return "".join(parts).encode("utf-8")
