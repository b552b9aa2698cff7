"""Message-summary bodies for message waiting indication (S6, U5, U7; RFC 3842), sans-I/O.

The switch sends these in NOTIFY requests of the "message-summary" event
package so that a desk phone lights its MWI lamp and a softphone shows a
badge (S6, U5, U7). Building is strict; parsing is lenient where phones and
other servers are known to be sloppy (bare LF, any letter case, extra
spaces, lines it does not know) and strict where a wrong number would
mislead the user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from vaxel.sip.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "CONTENT_TYPE",
    "CONTEXT_CLASSES",
    "EVENT",
    "Counts",
    "Summary",
    "message_summary",
    "parse_message_summary",
]

CONTENT_TYPE = "application/simple-message-summary"
EVENT = "message-summary"

# message-context-class values (RFC 3842 §5.2, from RFC 3458), lower-cased.
CONTEXT_CLASSES = frozenset(
    {
        "voice-message",
        "fax-message",
        "pager-message",
        "multimedia-message",
        "text-message",
        "none",
    }
)
VOICE = "voice-message"

# newmsgs "/" oldmsgs [ "(" new-urgentmsgs "/" old-urgentmsgs ")" ], with the
# linear white space SLASH and LPAREN/RPAREN allow around them.
_COUNTS = re.compile(
    r"(?P<new>\d+)\s*/\s*(?P<old>\d+)"
    r"(?:\s*\(\s*(?P<urgent_new>\d+)\s*/\s*(?P<urgent_old>\d+)\s*\))?"
)
_FORBIDDEN_IN_ACCOUNT = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True, slots=True)
class Counts:
    """Messages of one context class; the urgent ones are included in new/old."""

    new: int
    old: int
    urgent_new: int = 0
    urgent_old: int = 0


@dataclass(frozen=True, slots=True)
class Summary:
    """A parsed message-summary body.

    `counts` is keyed by the lower-cased context class ("voice-message").
    Optional message headers after the blank line (RFC 3842 §5.2
    `opt-msg-headers`) are not kept: the switch only needs the totals.
    """

    messages_waiting: bool
    account: str | None = None
    counts: Mapping[str, Counts] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def voice(self) -> Counts | None:
        """The Voice-Message counts, the ones a phone's lamp shows."""
        return self.counts.get(VOICE)


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LocalProtocolError(f"{name} must be a count of messages (0 or more), not {value!r}")


def message_summary(
    new: int,
    old: int,
    *,
    account: str | None,
    urgent_new: int = 0,
    urgent_old: int = 0,
) -> bytes:
    """The body of a message-summary NOTIFY for one voice mailbox.

    Messages-Waiting is "yes" while there are new (unheard) messages. The
    urgent counts are always written, "(0/0)" included: some phones only
    read the long form.
    """
    for name, value in (
        ("new", new),
        ("old", old),
        ("urgent_new", urgent_new),
        ("urgent_old", urgent_old),
    ):
        _check_count(name, value)
    if urgent_new > new:
        raise LocalProtocolError(f"urgent_new ({urgent_new}) is more than new ({new})")
    if urgent_old > old:
        raise LocalProtocolError(f"urgent_old ({urgent_old}) is more than old ({old})")
    lines = [f"Messages-Waiting: {'yes' if new else 'no'}"]
    if account is not None:
        if not account or _FORBIDDEN_IN_ACCOUNT.search(account) or ":" not in account:
            raise LocalProtocolError(f"message account {account!r} is not a URI")
        lines.append(f"Message-Account: {account}")
    lines.append(f"Voice-Message: {new}/{old} ({urgent_new}/{urgent_old})")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _parse_counts(context_class: str, value: str) -> Counts:
    match = _COUNTS.fullmatch(value)
    if match is None:
        raise RemoteProtocolError(f"bad message counts {value!r} for {context_class}")
    new, old = int(match["new"]), int(match["old"])
    if match["urgent_new"] is None:
        return Counts(new, old)
    return Counts(new, old, int(match["urgent_new"]), int(match["urgent_old"]))


def parse_message_summary(body: bytes) -> Summary:
    """Parse an application/simple-message-summary body.

    Raises RemoteProtocolError (status 400) when the status line is missing
    or a known context class carries counts that are not numbers. Unknown
    header lines are skipped, as RFC 3842 lets the format grow.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RemoteProtocolError(f"message summary is not UTF-8 text: {error}") from None
    waiting: bool | None = None
    account: str | None = None
    counts: dict[str, Counts] = {}
    for line in text.splitlines():
        if not line.strip():
            break  # opt-msg-headers follow the first blank line
        if line[0] in " \t":
            continue  # a folded continuation; no line this parser reads is folded
        name, colon, value = line.partition(":")
        if not colon:
            raise RemoteProtocolError(f"message summary line without a colon: {line!r}")
        name, value = name.strip().lower(), value.strip()
        if name == "messages-waiting":
            if value.lower() not in ("yes", "no"):
                raise RemoteProtocolError(f"Messages-Waiting must be yes or no, not {value!r}")
            waiting = value.lower() == "yes"
        elif name == "message-account":
            account = value or None
        elif name in CONTEXT_CLASSES:
            counts[name] = _parse_counts(name, value)
    if waiting is None:
        raise RemoteProtocolError("message summary has no Messages-Waiting line")
    return Summary(waiting, account, MappingProxyType(counts))
