"""Click-to-call (P8, U4): a call a user asks for from the web, an app or a CRM.

The switch places it: first every phone of the user rings, each showing whom it is about
to call; the first to answer becomes the caller and hears ringback, and the number is
then dialled as if that phone had dialled it, through the same dial plan: a colleague
rings as a colleague, a number goes out through the toll-fraud guard with the caller ID
the company's rules choose. The others of the user's phones stop ringing ("completed
elsewhere"); nobody answering within the user's ring time ends it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from vaxel.calls.api import (
    ELSEWHERE,
    NO_ANSWER,
    Answered,
    Call,
    CallEvent,
    CallHandler,
    Ended,
    Leg,
    Party,
    Reach,
    Target,
    Timer,
)
from vaxel.calls.dialplan import Decision, Dialled
from vaxel.features.context import Company, Feature
from vaxel.features.dialplan import CompanyDialplan
from vaxel.features.outbound import Outbound
from vaxel.features.ring_user import Refuse
from vaxel.services.users import SipUser


class Placer(Protocol):
    """What places a call (the B2BUA)."""

    def originate(self, company_id: int, handler: CallHandler) -> Call: ...


class RingFirst(Feature):
    """A call the switch places: a user's phones ring first, each showing `shown`; the first
    to answer becomes the call's caller (`answered`), the others stop ringing ("completed
    elsewhere"). Nobody answering within `ring_seconds`, or every phone refusing, is
    `unanswered`. Click-to-call and a queue's callback (features/queue_callback.py) are
    such calls."""

    def __init__(self, devices: tuple[Target, ...], shown: Party, ring_seconds: float) -> None:
        self.devices = devices
        self.shown = shown
        self.ring_seconds = ring_seconds
        self.forks: list[Leg] = []
        self.timer: Timer | None = None
        self.winner: Leg | None = None

    def place(self, call: Call) -> None:
        """Ring every phone of the user."""
        self.forks = [call.place(device, self.shown) for device in self.devices]
        self.timer = call.after(self.ring_seconds, lambda: self._no_answer(call))

    def start(self, call: Call) -> None:
        pass  # placed by `place`, not offered by anyone

    def handle(self, call: Call, event: CallEvent) -> None:
        if isinstance(event, Answered) and event.leg in self.forks and self.winner is None:
            self._answered(call, event.leg)
        elif (
            isinstance(event, Ended)
            and self.winner is None
            and self.forks
            and all(fork.ended for fork in self.forks)
        ):
            self._stop_timer()
            self.unanswered()

    def _answered(self, call: Call, leg: Leg) -> None:
        self.winner = leg
        self._stop_timer()
        for fork in self.forks:
            if fork is not leg:
                fork.hangup(ELSEWHERE)
        call.take_as_caller(leg)
        self.answered(call, leg)

    def _no_answer(self, call: Call) -> None:
        if self.winner is None:
            for fork in self.forks:
                fork.hangup(NO_ANSWER)

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def answered(self, call: Call, leg: Leg) -> None:
        """`leg`, now the call's caller, answered: what the call is for goes on."""
        raise NotImplementedError

    def unanswered(self) -> None:
        """Nobody answered."""


class ClickToCall(RingFirst):
    answerer = "click-to-call"

    def __init__(
        self, reach: Reach, shown: Party, decide: Callable[[], Decision], ringback: Path
    ) -> None:
        super().__init__(reach.devices, shown, reach.ring_seconds)
        self.decide = decide
        self.ringback = ringback

    def answered(self, call: Call, leg: Leg) -> None:
        leg.play([self.ringback], loop=True, interruptible=False)
        dialled, handler = self.decide()
        call.hand_over(dialled, handler)


def place_call(
    placer: Placer,
    company_id: int,
    reach: Reach,
    number: str,
    decide: Callable[[], Decision],
    ringback: Path,
) -> Call:
    """Ring the user's phones (`reach`, none: ValueError) for a call to `number`, which
    `decide` routes once one of them answers."""
    if not reach.devices:
        raise ValueError("none of the user's phones is registered")
    feature = ClickToCall(reach, Party(number, ""), decide, ringback)
    call = placer.originate(company_id, feature)
    call.dialled = number
    feature.place(call)
    return call


class Directory(Protocol):
    def company(self, company_id: int) -> Company | None: ...


class ClickToCallError(Exception):
    """The call cannot be placed; `str()` says why, `status` as SIP would."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class CallPlacer:
    """Places click-to-call calls for the web: who the user is, what the number means
    (the dial plan, as if dialled from a phone) and whether the toll-fraud guard lets it
    through are settled before any phone rings."""

    def __init__(
        self,
        placer: Placer,
        directory: Directory,
        dialplan: CompanyDialplan,
        users: Callable[[str, str], SipUser | None],
    ) -> None:
        self.placer = placer
        self.directory = directory
        self.dialplan = dialplan
        self.users = users

    def call(self, company_id: int, domain: str, extension: str, number: str) -> Call:
        company = self.directory.company(company_id)
        user = self.users(domain, extension)
        if company is None or user is None:
            raise ClickToCallError(404, f"no user {extension}")
        dialled, handler = self.dialplan.from_user(user, Dialled(number, True, "click-to-call"))
        # `type(...) is`, not isinstance: Refuse is compiled (mypyc) without an ABC cache of
        # its own, so an isinstance against it would file the step's class in Feature's
        # negative cache, and every later isinstance(step, Feature) would say False.
        refused = handler.cause if type(handler) is Refuse else None
        if type(handler) is Outbound:
            refused = handler.refusal()
        if refused is not None:
            raise ClickToCallError(refused.code, f"{number}: {refused.text}")
        reach = company.reach(extension)
        if not reach.devices:
            raise ClickToCallError(480, "none of your phones is registered: register one first")
        return place_call(
            self.placer, company_id, reach, dialled, lambda: (dialled, handler),
            company.system("ringback"),
        )  # fmt: skip
