"""Dialog-info bodies of the dialog event package (U10 busy lamp field; RFC 4235), sans-I/O.

A desk phone's busy lamp field (BLF) subscribes with `Event: dialog` to a
colleague's extension and lights a key from the NOTIFYs it gets: green when
the colleague is idle, blinking while their phone rings, red while they
talk. The switch writes one `<dialog>` element per call the watched user is
in, with the state (RFC 4235 §3.7.1: trying, proceeding, early, confirmed,
terminated), the direction, and the `local` (the watched user) and `remote`
(who they talk to) identities: many phones show the remote one on the key
("Anna calls Björn") and need the direction to offer a pickup. A call the user put
on hold says so the way phones read it: the local target's `+sip.rendering` is "no".

`version` counts the documents of one subscription (§4.1.2); `state="full"`
lists every dialog, `partial` only those that changed (§4.1). Building is
strict: a state or direction outside the RFC's vocabulary is a programming
error, not something to send a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from vaxel.sip.errors import LocalProtocolError

__all__ = ["CONTENT_TYPE", "EVENT", "NAMESPACE", "DialogEntry", "dialog_info"]

CONTENT_TYPE = "application/dialog-info+xml"
EVENT = "dialog"
NAMESPACE = "urn:ietf:params:xml:ns:dialog-info"

STATES = frozenset({"trying", "proceeding", "early", "confirmed", "terminated"})
DIRECTIONS = frozenset({"initiator", "recipient"})
# The `event` attribute of a terminated state (RFC 4235 §4.1.6.2).
END_EVENTS = frozenset(
    {"cancelled", "rejected", "replaced", "local-bye", "remote-bye", "error", "timeout"}
)


@dataclass(frozen=True, slots=True)
class DialogEntry:
    """One dialog of the watched user, as it goes into a `<dialog>` element.

    `local` and `remote` are (URI, display name): the watched user's and the
    other party's. A remote URI of "" leaves the `<remote>` element out.
    """

    id: str
    state: str
    direction: str | None
    local: tuple[str, str]
    remote: tuple[str, str]
    event: str | None = None  # why a terminated dialog ended
    duration: int | None = None  # seconds since it was confirmed
    held: bool = False  # the watched user put the call on hold

    def __init__(
        self,
        id: str,
        state: str,
        direction: str | None,
        local: tuple[str, str],
        remote: tuple[str, str],
        event: str | None = None,
        duration: int | None = None,
        held: bool = False,
    ) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "state", state)
        object.__setattr__(self, "direction", direction)
        object.__setattr__(self, "local", local)
        object.__setattr__(self, "remote", remote)
        object.__setattr__(self, "event", event)
        object.__setattr__(self, "duration", duration)
        object.__setattr__(self, "held", held)


def _identity(tag: str, party: tuple[str, str], *, held: bool = False) -> str:
    uri, name = party
    display = f" display-name={quoteattr(name)}" if name else ""
    # A party who holds the call renders no media: its target's `+sip.rendering` is "no"
    # (RFC 4235's participant target, with RFC 3840's feature tag), shown as a hold.
    target = (
        f'<target uri={quoteattr(uri)}><param pname="+sip.rendering" pval="no"/></target>'
        if held
        else ""
    )
    return f"<{tag}><identity{display}>{escape(uri)}</identity>{target}</{tag}>"


def _dialog(entry: DialogEntry) -> str:
    if entry.state not in STATES:
        raise LocalProtocolError(f"dialog state {entry.state!r} is not one of RFC 4235's")
    if entry.direction is not None and entry.direction not in DIRECTIONS:
        raise LocalProtocolError(f"dialog direction {entry.direction!r} is not one of RFC 4235's")
    if entry.event is not None and entry.event not in END_EVENTS:
        raise LocalProtocolError(f"dialog end event {entry.event!r} is not one of RFC 4235's")
    if not entry.id:
        raise LocalProtocolError("a dialog needs an id")
    direction = f" direction={quoteattr(entry.direction)}" if entry.direction else ""
    event = f" event={quoteattr(entry.event)}" if entry.event else ""
    parts = [
        f"<dialog id={quoteattr(entry.id)}{direction}>",
        f"<state{event}>{entry.state}</state>",
    ]
    if entry.duration is not None:
        parts.append(f"<duration>{max(0, entry.duration)}</duration>")
    if entry.local[0]:
        parts.append(_identity("local", entry.local, held=entry.held))
    if entry.remote[0]:
        parts.append(_identity("remote", entry.remote))
    parts.append("</dialog>")
    return "".join(parts)


def dialog_info(
    entity: str, version: int, dialogs: Sequence[DialogEntry], *, full: bool = True
) -> bytes:
    """The body of a dialog NOTIFY: `entity` is the watched user's address of record.

    An idle user's full document has no `<dialog>` at all (§4.1: a full
    document lists the dialogs there are). UTF-8, as RFC 4235 §4 requires.
    """
    if isinstance(version, bool) or version < 0:
        raise LocalProtocolError(f"version must be 0 or more, not {version!r}")
    if not entity or ":" not in entity:
        raise LocalProtocolError(f"entity {entity!r} is not a URI")
    state = "full" if full else "partial"
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<dialog-info xmlns="{NAMESPACE}"'
        f' version="{version}" state="{state}" entity={quoteattr(entity)}>'
    )
    body = "".join(_dialog(entry) for entry in dialogs)
    return (head + body + "</dialog-info>\n").encode("utf-8")
