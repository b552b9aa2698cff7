"""What wakes a user's installed web app (U1, U3): the switch's live events turned into Web
Push messages (`services/web_push.py`), in the web process.

- An incoming call: when the call rings the user (`CallRinging`), a message with who
  calls, urgent and short-lived (a minute: a late one is worthless).
- A missed call: when a call that rang the user ends without anyone having answered it
  (`CallEnded`), kept for a day.
- A new voicemail: when the user's own box has more new messages than when it last
  changed (`BoxChanged`, counted off the loop), kept for a day.

The web sees only the live events of companies someone watches, so the dispatcher watches
every company with a subscription (read at start, and each new one). Messages are sent on
worker threads: a slow push service never holds up the web's loop. The payload is small
JSON the app's service worker shows: {"kind": "call" | "missed" | "voicemail", ...}.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from vaxel.bus import BoxChanged, Bus, CallEnded, CallOffered, CallRinging
from vaxel.services import voicemail, web_push
from vaxel.store.database import Store

log = logging.getLogger(__name__)

CALL_TTL = 60  # seconds a push service keeps an incoming call's message
KEPT_TTL = 24 * 3600  # a missed call's or voicemail's
REMEMBERED_CALLS = 10_000  # calls whose caller and rung users are kept until they end


class Dispatcher:
    def __init__(self, bus: Bus, store: Callable[[], Store], data: Path) -> None:
        self.bus = bus
        self.store = store
        self.vapid = web_push.vapid(data)
        self._watched: set[int] = set()
        # call id -> (caller, caller's name, the extensions it rang)
        self._calls: OrderedDict[str, tuple[str, str, set[str]]] = OrderedDict()
        self._new: dict[tuple[int, str], int] = {}  # a box's new messages when last seen
        self._senders = ThreadPoolExecutor(4, thread_name_prefix="vaxel-push")
        bus.subscribe(CallOffered, self.offered)
        bus.subscribe(CallRinging, self.ringing)
        bus.subscribe(CallEnded, self.ended)
        bus.subscribe(BoxChanged, self.box_changed)
        for company_id in web_push.companies_subscribed(store()):
            self.watch(company_id)

    def watch(self, company_id: int) -> None:
        """See this company's live events from now on (a user of it subscribed)."""
        if company_id not in self._watched:
            self._watched.add(company_id)
            self.bus.watch(company_id)

    # -- the events -------------------------------------------------------------------

    def offered(self, event: CallOffered) -> None:
        if event.company_id in self._watched:
            self._calls[event.call_id] = (event.caller, event.caller_name, set())
            while len(self._calls) > REMEMBERED_CALLS:
                self._calls.popitem(last=False)

    def ringing(self, event: CallRinging) -> None:
        call = self._calls.get(event.call_id)
        if call is None or event.company_id not in self._watched:
            return
        caller, name, rang = call
        rang.add(event.party)
        message: dict[str, object] = {"kind": "call", "call": event.call_id, "from": caller}
        message["name"] = name
        self._send(event.company_id, event.party, message, CALL_TTL, "high")

    def ended(self, event: CallEnded) -> None:
        call = self._calls.pop(event.call_id, None)
        if call is None or event.answered_at is not None:
            return
        caller, name, rang = call
        for extension in rang:
            message: dict[str, object] = {"kind": "missed", "call": event.call_id}
            message.update({"from": caller, "name": name})
            self._send(event.company_id, extension, message, KEPT_TTL, "normal")

    def box_changed(self, event: BoxChanged) -> None:
        if event.shared or event.company_id not in self._watched:
            return
        future = asyncio.get_running_loop().run_in_executor(
            self._senders, voicemail.counts, self.store(), event.company_id, event.box
        )

        def counted(done: asyncio.Future[tuple[int, int]]) -> None:
            if done.cancelled() or done.exception() is not None:
                return
            new, _old = done.result()
            key = (event.company_id, event.box)
            before = self._new.get(key, 0)
            self._new[key] = new
            if new > before:
                message = {"kind": "voicemail", "new": new}
                self._send(event.company_id, event.box, message, KEPT_TTL, "normal")

        future.add_done_callback(counted)

    # -- sending ----------------------------------------------------------------------

    def _send(
        self, company_id: int, extension: str, message: dict[str, object], ttl: int, urgency: str
    ) -> None:
        self._senders.submit(self._deliver_all, company_id, extension, message, ttl, urgency)

    def _deliver_all(
        self, company_id: int, extension: str, message: dict[str, object], ttl: int, urgency: str
    ) -> None:
        store = self.store()
        for subscription in web_push.subscriptions(store, company_id, extension):
            try:
                web_push.deliver(store, self.vapid, subscription, message, ttl=ttl, urgency=urgency)
            except OSError as error:
                log.info("a push service could not be reached: %s", error)

    def close(self) -> None:
        for kind, handler in (
            (CallOffered, self.offered), (CallRinging, self.ringing),
            (CallEnded, self.ended), (BoxChanged, self.box_changed),
        ):  # fmt: skip
            self.bus.unsubscribe(kind, handler)  # type: ignore[arg-type]
        for company_id in self._watched:
            self.bus.unwatch(company_id)
        self._senders.shutdown(wait=False)


def install(app: Any, bus: Bus | None, store: Callable[[], Store], data: Path) -> None:
    """The dispatcher on the app (`app.state.push`), when the switch gave the web a bus."""
    app.state.push = Dispatcher(bus, store, data) if bus is not None else None
