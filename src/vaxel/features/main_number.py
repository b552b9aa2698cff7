"""A company's main number (S1, S5): opening hours, then the welcome message, then the menu.

Closed (by the weekly hours, a public holiday or its eve, a special day or
a manual override), the caller hears the closed message and goes to the
closed destination, or is told goodbye.
"""

from __future__ import annotations

from vaxel.calls.api import Call, CallEvent, PlayFinished
from vaxel.features.context import Company, Feature
from vaxel.features.destinations import go, serves
from vaxel.services import company_config as cc


class MainNumber(Feature):
    def __init__(self, company: Company, flow: str) -> None:
        self.company = company
        self.flow = company.config.flows[flow]
        self.answerer = f"flow {flow}"
        self.after_prompt: cc.Destination | None = None
        self.open = True

    def start(self, call: Call) -> None:
        flow, company = self.flow, self.company
        if flow.schedule is not None:
            verdict = company.config.schedules[flow.schedule].evaluate(company.now())
            self.open = verdict.open
        caller = call.caller
        caller.answer()
        if not self.open:
            self._announce(call, flow.closed.prompt, flow.closed.destination)
        elif flow.menu is not None:
            self._announce(call, flow.welcome, cc.ToMenu(menu=flow.menu))
        else:
            self._announce(call, flow.welcome, flow.destination)

    def _announce(self, call: Call, prompt: str | None, then: cc.Destination | None) -> None:
        self.after_prompt = then
        if prompt is None:
            go(call, self.company, then)
            return
        # The welcome is not cut short by a key: a caller who knows the menu presses it
        # during the menu prompt, which is interruptible.
        call.caller.play([self.company.prompt(prompt)], interruptible=False)

    def handle(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, PlayFinished) and event.leg is call.caller:
            go(call, self.company, self.after_prompt)


@serves(cc.ToFlow)
def _to_flow(company: Company, destination: cc.ToFlow) -> Feature:
    return MainNumber(company, destination.flow)
