"""A callback asked for from a menu (A1): "press 3 to be called back".

The caller confirms their own number (read back) or keys in another, ending with #; a number
the company may not call is refused, as for a queue's callback. The request then goes where
the menu key says: on a queue's callback list, where it waits at the back of the line and
is served as a kept place (features/queue_callback.py: a member first, then the caller), and
by e-mail and SMS to the people named (services/callback_request.py). The caller hears
"thank you, we will call you back" and the switch hangs up. * leaves without a request.
"""

from __future__ import annotations

from datetime import UTC, datetime

from vaxel.calls.api import Call
from vaxel.features.context import Company
from vaxel.features.destinations import serves
from vaxel.features.groups import Group
from vaxel.features.queue_callback import AskNumber, CallbackEntry
from vaxel.services import company_config as cc
from vaxel.services.callback_request import CallbackRequest


class MenuCallback(AskNumber):
    def __init__(self, company: Company, request: cc.CallbackRequestConfig) -> None:
        super().__init__(company, "")
        self.request = request

    def start(self, call: Call) -> None:
        caller = call.caller
        super().__init__(self.company, caller.party)  # the caller's own number, if callable
        if not caller.answered:
            caller.answer()
        super().start(call)

    def confirmed(self, call: Call) -> None:
        company, request = self.company, self.request
        now = call.switchboard.now()
        caller = call.caller.party
        if request.email or request.sms:
            company.callback_requested(CallbackRequest(
                number=self.number, caller=caller, requested_at=datetime.fromtimestamp(now, UTC),
                email=tuple(request.email), sms=tuple(request.sms),
            ))  # fmt: skip
        if request.group is not None:
            self._queue(call, request.group)
        self.finish(call, ["callback-booked" if request.group is not None else "callback-sent"])

    def _queue(self, call: Call, name: str) -> None:
        """On the queue's list: a kept place at the back of its line, from now."""
        config = self.company.config.groups.get(name)
        if config is None or config.queue is None or config.queue.callback is None:
            return  # (refused when the description was applied)
        visit = Group(self.company, name)
        visit.call, visit.entered = call, call.switchboard.now()
        entry = CallbackEntry(
            visit, config.queue.callback, self.number, call.switchboard, source="menu"
        )
        line = self.company.queue(name)
        line.append(entry)
        visit.next_in_line(line)

    def stay(self, call: Call) -> None:
        self.finish(call, ["goodbye"])

    def left(self, event: object) -> None:
        pass  # nothing asked for


@serves(cc.ToCallback)
def _to_callback(company: Company, destination: cc.ToCallback) -> MenuCallback:
    return MenuCallback(company, destination.callback)
