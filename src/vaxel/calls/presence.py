"""Watching a colleague's line (U10 busy lamp field, RFC 4235; U5 presence, RFC 3856/3863).

A phone subscribes with `Event: dialog` (a BLF key) or `Event: presence` (a buddy list) to
a colleague's extension. Like message waiting (calls/mwi.py) a subscription is a dialog of
its own: the SUBSCRIBE, authenticated like any request from a user, is answered 200 and
followed by a NOTIFY with the line as it is; refreshes keep it (and get a full document
again), `Expires: 0` ends it with a last NOTIFY, and it lapses when not refreshed. Every
change of the line (calls/lines.py) is a NOTIFY to each watcher.

Only a colleague's line may be watched: an extension that is not a user of the subscriber's
own company (another company's, or none) gets 404, the same answer whichever it is, so
nothing can be learnt about who exists elsewhere. A user may hold `MAX_PER_USER`
subscriptions (a desk phone with key extension modules has a few dozen keys).

Dialog documents count `version` per subscription; the first after a SUBSCRIBE or refresh
is `full`, later ones `partial` (only the dialog that changed) when the phone's Accept
lists application/dialog-info+xml, else full again. A full document lists the line's calls
and the dialog that just ended, so that a phone sees the `terminated` state either way.
A call the user put on hold says so the way phones read it (`+sip.rendering` "no").

Presence is one PIDF tuple: `open` while the user can take a call (idle or their phone
ringing), `closed` while they talk, hold a call or have a diversion (U9), with a note:
"On the phone", "On hold", "Lunch until 13:00".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from vaxel.calls.lines import Line, LineCall, Lines
from vaxel.calls.signalling import Signalling
from vaxel.calls.subscriptions import (
    requested_expires,
    too_brief,
)
from vaxel.services.diversions import DiversionInfo
from vaxel.services.users import SipUser
from vaxel.sip import dialog_info, pidf
from vaxel.sip.dialog import Dialog, DialogId, DialogState, new_tag, request_dialog_id
from vaxel.sip.dialog_info import DialogEntry
from vaxel.sip.events import Event, ResponseReceived, TransactionKey
from vaxel.sip.headers import parse_name_addr
from vaxel.sip.message import Request, Response, make_response
from vaxel.sip.uri import parse_uri
from vaxel.transport.base import Source

log = logging.getLogger(__name__)

EVENTS = (dialog_info.EVENT, pidf.EVENT)
MAX_PER_USER = 100  # BLF keys and buddies of one user's phones together
SWEEP_INTERVAL = 30.0  # seconds between looks for calls that ended unwatched

# (company id, extension) -> the user's display name, or None: not a user of that company.
Users = Callable[[int, str], str | None]
# (company id, extension) -> the user's diversion now: its note ("Lunch until 13:00") and
# its RFC 4480 activity ("lunch")
Diversion = Callable[[int, str], tuple[str, str] | None]

#: The note of each diversion status (U9) in presence; "custom" says its own text.
DIVERSION_NOTES = {
    "lunch": "Lunch",
    "meeting": "Meeting",
    "away": "Away",
    "sick": "Off sick",
    "vacation": "On holiday",
}
#: The RFC 4480 activity of each diversion status (U9).
DIVERSION_ACTIVITIES = {
    "lunch": "lunch", "meeting": "meeting", "away": "away", "sick": "away",
    "vacation": "vacation", "custom": "busy",
}  # fmt: skip
LINE_NOTES = {
    "talking": "On the phone", "ringing": "Ringing", "dialling": "On the phone",
    "held": "On hold",
}  # fmt: skip


def diversion_activity(info: DiversionInfo) -> str:
    """What RFC 4480 calls the diverted user's activity."""
    return DIVERSION_ACTIVITIES.get(info.status, "away")


def diversion_note(info: DiversionInfo, zone: ZoneInfo, now: datetime) -> str:
    """ "Lunch until 13:00"; a day other than today is named ("Away until 2026-05-04 08:00")."""
    what = info.text if info.status == "custom" else DIVERSION_NOTES.get(info.status, "Away")
    if info.until is None:
        return what
    until = info.until.astimezone(zone)
    same_day = until.date() == now.astimezone(zone).date()
    return f"{what} until {until:%H:%M}" if same_day else f"{what} until {until:%Y-%m-%d %H:%M}"


class Watch:
    """One phone's subscription to one colleague's line.

    Its dialog is kept as text (ids, URIs, route set and sequence numbers), not as a parsed
    `Dialog`: a switch holds thousands of these for months, and a parsed dialog's URI
    objects cost some 3 kB each (`bench/blf.py`); `dialog()` parses one for the moment a
    NOTIFY is made or a refresh checked, and `keep()` writes its sequence numbers back.
    """

    __slots__ = (
        "call_id", "company_id", "contact", "domain", "expires_at", "local_seq", "local_tag",
        "local_uri", "package", "partial", "peer", "remote_seq", "remote_tag", "remote_target",
        "remote_uri", "routes", "subscriber", "target", "version",
    )  # fmt: skip

    def __init__(
        self,
        company_id: int,
        subscriber: str,
        target: str,
        domain: str,
        package: str,
        dialog: Dialog,
        contact: str,
        peer: Source,
        expires_at: float,
        partial: bool,
    ) -> None:
        self.company_id = company_id
        self.subscriber = subscriber  # the extension whose phone subscribed
        self.target = target  # the extension watched
        self.domain = domain
        self.package = package  # dialog or presence
        self.call_id = dialog.call_id
        self.local_tag = dialog.local_tag
        self.remote_tag = dialog.remote_tag
        # Most phones name the two users plainly: such a URI is kept as None and rebuilt.
        local_uri, remote_uri = str(dialog.local_uri), str(dialog.remote_uri)
        self.local_uri = None if local_uri == f"<sip:{target}@{domain}>" else local_uri
        self.remote_uri = None if remote_uri == f"<sip:{subscriber}@{domain}>" else remote_uri
        self.remote_target = str(dialog.remote_target)
        self.routes = tuple(str(route) for route in dialog.route_set)
        self.local_seq = dialog.local_seq
        self.remote_seq = dialog.remote_seq
        self.contact = contact  # the switch's own, shared by every watch on a transport
        self.peer = peer
        self.expires_at = expires_at
        self.partial = partial  # may later documents be partial?
        self.version = 0  # of the next dialog-info document

    @property
    def id(self) -> DialogId:
        return DialogId(self.call_id, self.local_tag, self.remote_tag)

    def dialog(self) -> Dialog:
        """The subscription's dialog, parsed for one request."""
        return Dialog(
            self.call_id, self.local_tag, self.remote_tag,
            parse_name_addr(self.local_uri or f"<sip:{self.target}@{self.domain}>"),
            parse_name_addr(self.remote_uri or f"<sip:{self.subscriber}@{self.domain}>"),
            parse_uri(self.remote_target),
            [parse_name_addr(route) for route in self.routes], self.local_seq, self.remote_seq,
            local_contact=parse_name_addr(self.contact), state=DialogState.CONFIRMED,
        )  # fmt: skip

    def keep(self, dialog: Dialog) -> None:
        """What a request through `dialog()` changed: its sequence numbers."""
        self.local_seq, self.remote_seq = dialog.local_seq, dialog.remote_seq


class LineWatchers:
    def __init__(
        self,
        notifier: Signalling,
        lines: Lines,
        *,
        clock: Callable[[], float],
        users: Users,
        diversion: Diversion = lambda company_id, extension: None,
        orbit: Callable[[int, str], bool] = lambda company_id, extension: False,
    ) -> None:
        self.notifier = notifier
        self.lines = lines
        self.clock = clock
        self.users = users
        self.diversion = diversion
        self.orbit = orbit  # is this one of the company's park orbits? (P4)
        # By Call-ID (a tuple of the three ids would cost each subscription 72 bytes more);
        # `_find` checks the tags.
        self.subscriptions: dict[str, Watch] = {}
        self.watchers: dict[tuple[int, str], list[Watch]] = {}  # the watched line -> them
        self._per_user: dict[tuple[int, str], int] = {}
        self._next_sweep = 0.0
        self._contacts: dict[str, str] = {}
        lines.listeners.append(self.changed)

    def subscribe(
        self, request: Request, key: TransactionKey, source: Source, user: SipUser
    ) -> Response | None:
        """A new SUBSCRIBE (Event: dialog or presence) from an authenticated user."""
        package = (request.headers.get("Event") or "").split(";")[0].strip().lower()
        expires = requested_expires(request)
        if expires is None:
            return too_brief(request)
        company_id = user.company_id
        target = getattr(request.uri, "user", None) or ""
        if self.users(company_id, target) is None and not self.orbit(company_id, target):
            return make_response(request, 404)  # unknown, or another company's: the same
        holder = (company_id, user.extension)
        if expires and self._per_user.get(holder, 0) >= MAX_PER_USER:
            return make_response(request, 403, "Forbidden (too many subscriptions)")
        tag = new_tag()
        contact = self.notifier.contact(source.transport)
        contact = self._contacts.setdefault(contact, contact)  # one string per transport
        dialog = Dialog.from_uas(request, tag, contact)
        accept = (request.headers.get("Accept") or "").lower()
        watch = Watch(
            company_id, user.extension, target, user.company_domain, package, dialog, contact,
            source, self.clock() + expires, dialog_info.CONTENT_TYPE in accept,
        )  # fmt: skip
        response = make_response(request, 200, to_tag=tag)
        response.headers.add("Expires", str(expires))
        response.headers.add("Contact", contact)
        self.notifier.respond(key, response)
        if expires:
            self.subscriptions[watch.call_id] = watch
            self.watchers.setdefault((company_id, target), []).append(watch)
            self._per_user[holder] = self._per_user.get(holder, 0) + 1
            self.lines.watch(company_id)
        self._notify(watch, None, terminated=expires == 0)
        return None

    def owns(self, request: Request) -> bool:
        """Is this in-dialog SUBSCRIBE for one of these subscriptions?"""
        return self._find(request) is not None

    def _find(self, request: Request) -> Watch | None:
        dialog_id = request_dialog_id(request)
        if dialog_id is None:
            return None
        watch = self.subscriptions.get(dialog_id.call_id)
        return watch if watch is not None and watch.id == dialog_id else None

    def refresh(self, request: Request, key: TransactionKey, source: Source) -> Response | None:
        """A SUBSCRIBE within a subscription's dialog: refresh it, or end it (Expires: 0)."""
        watch = self._find(request)
        if watch is None or watch.peer.host != source.host:
            return make_response(request, 481)
        dialog = watch.dialog()
        error = dialog.receive_request(request)
        if error is not None:
            return error
        watch.keep(dialog)
        expires = requested_expires(request)
        if expires is None:
            return too_brief(request)
        response = make_response(request, 200)
        response.headers.add("Expires", str(expires))
        self.notifier.respond(key, response)
        watch.expires_at = self.clock() + expires
        if expires == 0:
            self._forget(watch)
        self._notify(watch, None, terminated=expires == 0)
        return None

    def expire(self) -> None:
        now = self.clock()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL
            self.lines.sweep()
        for watch in [w for w in self.subscriptions.values() if w.expires_at <= now]:
            self._forget(watch)
            self._notify(watch, None, terminated=True)

    def changed(self, company_id: int, extension: str, line: Line, call: LineCall) -> None:
        """The line changed (calls/lines.py): tell every phone that watches it."""
        for watch in self.watchers.get((company_id, extension), ()):
            self._notify(watch, call)

    def diversion_changed(self, company_id: int, extension: str) -> None:
        """A diversion was set or cleared: presence watchers see the new note."""
        for watch in self.watchers.get((company_id, extension), ()):
            if watch.package == pidf.EVENT:
                self._notify(watch, None)

    def _forget(self, watch: Watch) -> None:
        if self.subscriptions.get(watch.call_id) is not watch:
            return
        del self.subscriptions[watch.call_id]
        line = (watch.company_id, watch.target)
        watchers = self.watchers.get(line, [])
        if watch in watchers:
            watchers.remove(watch)
            if not watchers:
                del self.watchers[line]
        holder = (watch.company_id, watch.subscriber)
        held = self._per_user.get(holder, 0) - 1
        if held > 0:
            self._per_user[holder] = held
        else:
            self._per_user.pop(holder, None)
        self.lines.unwatch(watch.company_id)

    # -- NOTIFY ------------------------------------------------------------------------------

    def _notify(self, watch: Watch, call: LineCall | None, *, terminated: bool = False) -> None:
        entity = f"sip:{watch.target}@{watch.domain}"
        line = self.lines.line(watch.company_id, watch.target)
        if watch.package == dialog_info.EVENT:
            content_type = dialog_info.CONTENT_TYPE
            body = self._dialog_body(watch, entity, line, call)
        else:
            content_type = pidf.CONTENT_TYPE
            body = self._presence_body(watch, entity, line)
        remaining = max(0, int(watch.expires_at - self.clock()))
        state = "terminated;reason=timeout" if terminated else f"active;expires={remaining}"
        dialog = watch.dialog()
        request = dialog.create_request(
            "NOTIFY",
            body=body,
            content_type=content_type,
            headers=[("Event", watch.package), ("Subscription-State", state)],
        )
        watch.keep(dialog)
        self.notifier.send_request(request, watch.peer, lambda event: self._answered(watch, event))

    def _dialog_body(self, watch: Watch, entity: str, line: Line, call: LineCall | None) -> bytes:
        local = (entity, self.users(watch.company_id, watch.target) or "")
        now = self.clock()
        if call is not None and watch.partial:
            calls = [call]
            full = False
        else:
            calls = list(line.calls.values())
            if call is not None and call.state == "terminated":
                calls.append(call)
            full = True
        entries = [
            DialogEntry(
                c.call_id, c.state, c.direction, local,
                (f"sip:{c.remote}@{watch.domain}" if c.remote else "", c.remote_name), c.event,
                int(now - c.since) if c.state == "confirmed" else None, c.held,
            )
            for c in calls
        ]  # fmt: skip
        version = watch.version
        watch.version += 1
        return dialog_info.dialog_info(entity, version, entries, full=full)

    def _presence_body(self, watch: Watch, entity: str, line: Line) -> bytes:
        state = line.state
        diverted = self.diversion(watch.company_id, watch.target)
        if state in ("talking", "dialling", "held"):
            note, activity = LINE_NOTES[state], "on-the-phone"
        elif diverted is not None:
            note, activity = diverted
        else:
            note, activity = LINE_NOTES.get(state, ""), ""
        available = state in ("idle", "ringing") and diverted is None
        return pidf.presence_document(
            entity, open=available, note=note, language="en", activity=activity
        )

    def _answered(self, watch: Watch, event: Event) -> None:
        if isinstance(event, ResponseReceived) and event.response.status in (404, 481):
            self._forget(watch)  # the phone forgot it
