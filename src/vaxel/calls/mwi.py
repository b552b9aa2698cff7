"""Message waiting (U7, S6, RFC 3842 over RFC 6665): phones subscribe to their voicemail box
and get a NOTIFY with the new/old counts at once and whenever they change.

A subscription is a dialog of its own: the SUBSCRIBE (authenticated like any
request from a user) is answered 200 and followed by a NOTIFY; refreshes
keep it, `Expires: 0` ends it with a last NOTIFY ("terminated"), and it
lapses when not refreshed. A user watches their own box (with the shared
boxes they listen to) or one shared box they are a member of, never
someone else's: that gets 403, as an account that does not exist does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from vaxel.calls.signalling import Signalling
from vaxel.calls.subscriptions import (
    requested_expires,
    too_brief,
)
from vaxel.services.users import SipUser
from vaxel.sip.dialog import Dialog, DialogId, new_tag, request_dialog_id
from vaxel.sip.events import Event, ResponseReceived, TransactionKey
from vaxel.sip.message import Request, Response, make_response
from vaxel.sip.mwi import CONTENT_TYPE, EVENT, message_summary
from vaxel.transport.base import Source

log = logging.getLogger(__name__)

# Subscriptions one user may hold at once: a lamp per phone, and a few boxes each, is far
# below it; a client that subscribes again and again without ending anything is not (O2).
MAX_PER_USER = 32


# (company id, the subscriber's extension, the account they subscribe to) -> the boxes
# whose counts their lamp shows, or None when that account is not theirs to watch.
Boxes = Callable[[int, str, str], list[str] | None]


def own_boxes(company_id: int, extension: str, account: str) -> list[str] | None:
    """Without shared boxes: a user watches their own box only."""
    return [extension] if account == extension else None


@dataclass(eq=False)
class Subscription:
    company_id: int
    subscriber: str  # the extension of the user whose phone subscribed
    boxes: list[str]  # the user's own box and the shared boxes they listen to
    account: str
    dialog: Dialog
    peer: Source
    expires_at: float
    counts: tuple[int, int] = (0, 0)
    pending: list[str] = field(default_factory=list)


class MessageWaiting:
    def __init__(
        self,
        notifier: Signalling,
        *,
        clock: Callable[[], float],
        counts: Callable[[int, str], tuple[int, int]],
        boxes: Boxes = own_boxes,
    ) -> None:
        self.notifier = notifier
        self.clock = clock
        self.counts = counts  # (company id, box) -> (new, old); a quick read
        self.boxes = boxes
        self.subscriptions: dict[DialogId, Subscription] = {}
        self._per_user: dict[tuple[int, str], int] = {}  # (company id, extension) -> held

    def subscribe(
        self, request: Request, key: TransactionKey, source: Source, user: SipUser
    ) -> Response | None:
        """A new SUBSCRIBE from an authenticated user, for their own box (or a shared one)."""
        if (request.headers.get("Event") or "").split(";")[0].strip().lower() != EVENT:
            response = make_response(request, 489)  # RFC 6665 §8.2.3: Bad Event
            response.headers.add("Allow-Events", EVENT)
            return response
        expires = requested_expires(request)
        if expires is None:
            return too_brief(request)
        target = getattr(request.uri, "user", None) or user.extension
        boxes = self.boxes(user.company_id, user.extension, target)
        if boxes is None:
            return make_response(request, 403)
        holder = (user.company_id, user.extension)
        if expires and self._per_user.get(holder, 0) >= MAX_PER_USER:
            return make_response(request, 403, "Forbidden (too many subscriptions)")
        tag = new_tag()
        contact = self.notifier.contact(source.transport)
        dialog = Dialog.from_uas(request, tag, contact)
        dialog.confirm()
        account = f"sip:{target}@{user.company_domain}"
        subscription = Subscription(
            user.company_id, user.extension, boxes, account, dialog, source, self.clock() + expires
        )
        response = make_response(request, 200, to_tag=tag)
        response.headers.add("Expires", str(expires))
        response.headers.add("Contact", contact)
        self.notifier.respond(key, response)
        if expires:
            self.subscriptions[dialog.id] = subscription
            self._per_user[holder] = self._per_user.get(holder, 0) + 1
        self._notify(subscription, terminated=expires == 0)
        return None

    def _forget(self, subscription: Subscription) -> None:
        if self.subscriptions.pop(subscription.dialog.id, None) is None:
            return
        holder = (subscription.company_id, subscription.subscriber)
        held = self._per_user.get(holder, 0) - 1
        if held > 0:
            self._per_user[holder] = held
        else:
            self._per_user.pop(holder, None)

    def refresh(self, request: Request, key: TransactionKey, source: Source) -> Response | None:
        """A SUBSCRIBE within a subscription's dialog: refresh it, or end it (Expires: 0)."""
        dialog_id = request_dialog_id(request)
        subscription = self.subscriptions.get(dialog_id) if dialog_id else None
        if subscription is None or subscription.peer.host != source.host:
            return make_response(request, 481)
        error = subscription.dialog.receive_request(request)
        if error is not None:
            return error
        expires = requested_expires(request)
        if expires is None:
            return too_brief(request)
        response = make_response(request, 200)
        response.headers.add("Expires", str(expires))
        self.notifier.respond(key, response)
        subscription.expires_at = self.clock() + expires
        if expires == 0:
            self._forget(subscription)
        self._notify(subscription, terminated=expires == 0)
        return None

    def changed(self, company_id: int, box: str) -> None:
        """A box's counts changed: tell every device that watches it."""
        for subscription in list(self.subscriptions.values()):
            if subscription.company_id == company_id and box in subscription.boxes:
                self._notify(subscription)

    def recount(self) -> None:
        """Messages went without a word (the retention sweep): a phone whose counts
        changed is told."""
        for subscription in list(self.subscriptions.values()):
            if self._counts(subscription) != subscription.counts:
                self._notify(subscription)

    def _counts(self, subscription: Subscription) -> tuple[int, int]:
        new = old = 0
        for box in subscription.boxes:
            box_new, box_old = self.counts(subscription.company_id, box)
            new, old = new + box_new, old + box_old
        return new, old

    def expire(self) -> None:
        now = self.clock()
        for subscription in list(self.subscriptions.values()):
            if subscription.expires_at <= now:
                self._forget(subscription)
                self._notify(subscription, terminated=True)

    def _notify(self, subscription: Subscription, *, terminated: bool = False) -> None:
        new, old = subscription.counts = self._counts(subscription)
        remaining = max(0, int(subscription.expires_at - self.clock()))
        state = "terminated;reason=timeout" if terminated else f"active;expires={remaining}"
        body = message_summary(new, old, account=subscription.account)
        request = subscription.dialog.create_request(
            "NOTIFY",
            body=body,
            content_type=CONTENT_TYPE,
            headers=[("Event", EVENT), ("Subscription-State", state)],
        )
        self.notifier.send_request(
            request, subscription.peer, lambda event: self._answered(subscription, event)
        )

    def _answered(self, subscription: Subscription, event: Event) -> None:
        if isinstance(event, ResponseReceived) and event.response.status in (404, 481):
            self._forget(subscription)  # the phone forgot it
