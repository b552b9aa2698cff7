"""The in-process event bus (P8): typed live events from calls, features and services.

A producer publishes a frozen dataclass; whoever subscribed to its type is
called at once, on the event loop, in the order they subscribed. The
message lamps (MWI) listen for voicemail changes today; the WebSocket
stream, webhooks, BLF and statistics subscribe the same way. On several
nodes this maps onto a shared pub/sub; nothing here assumes one process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")


class Bus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], None]]] = {}

    def subscribe(self, kind: type[E], handler: Callable[[E], None]) -> None:
        self._handlers.setdefault(kind, []).append(handler)

    def publish(self, event: object) -> None:
        """Tell every subscriber of the event's type; one failing subscriber stops no other."""
        for handler in self._handlers.get(type(event), ()):
            try:
                handler(event)
            except Exception:
                log.exception("a subscriber failed on %r", event)


# -- the events -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoxChanged:
    """A voicemail box gained, lost or changed a message (heard, deleted)."""

    company_id: int
    box: str
