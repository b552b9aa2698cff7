"""Where a call goes next (S1, S3, S8, S6, P6): one registry of destination kinds.

A destination of the description (a user, a group, a voicemail box, a
menu, an external number, another flow) is served by the step its kind
registered here. Each feature module registers its own kind next to the
step that serves it (`@serves(cc.ToGroup)`), so a new kind (a queue, a
conference, a callback) is added in one place; `vaxel.features` imports
every module, so the registry is complete whenever a feature runs.

A flow that leads on without waiting for the caller could loop (a group
that overflows to a flow that goes back to the group with nobody logged
in): `config apply` refuses such loops (services/config_loops), and a call
that still takes more than `MAX_STEPS` hand-overs without the caller
choosing anything (a menu key resets the count) is ended with 482 rather
than followed forever.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from vaxel.calls.api import Call, Cause
from vaxel.features.context import Company, Feature, hand_over
from vaxel.services import company_config as cc
from vaxel.services.config_loops import MAX_STEPS

D = TypeVar("D", bound=cc.Model)
Maker = Callable[[Company, Any], Feature]
Serves = Callable[[Callable[[Company, D], Feature]], Callable[[Company, D], Feature]]

_KINDS: dict[type[cc.Model], Maker] = {}

LOOP = Cause(482, "Loop Detected")


def serves(kind: type[D]) -> Serves[D]:
    """Register the step that serves destinations of `kind`."""

    def register(maker: Callable[[Company, D], Feature]) -> Callable[[Company, D], Feature]:
        _KINDS[kind] = maker
        return maker

    return register


def step_for(company: Company, destination: cc.Destination | cc.ToCallback) -> Feature:
    """The step that serves `destination`."""
    maker = _KINDS.get(type(destination))
    if maker is None:
        raise LookupError(f"no feature serves {type(destination).__name__}")
    return maker(company, destination)


def go(call: Call, company: Company, destination: cc.Destination | cc.ToCallback | None) -> None:
    """Hand the call to `destination` (a menu key's callback request too, A1); None
    (nowhere to go) hangs up."""
    if destination is None:
        call.hangup()
        return
    call.steps += 1
    if call.steps > MAX_STEPS:
        call.hangup(LOOP)
        return
    hand_over(call, step_for(company, destination))
