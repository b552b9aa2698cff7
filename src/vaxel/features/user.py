"""A call to a user (P3, U9, U11, U7): their diversion first, then their forwarding, then their
phones, then, if nobody answers (or they are busy), the busy / no-answer forwarding or their
voicemail.

A diversion ("lunch until 13:00") is said to the caller instead of ringing
(features/diversion.py), before any forwarding: the user chose to be away.
One set to `ring` only shows, and the call goes on as usual.

Forwarding to a number goes out through the company's trunk (with the
toll-fraud guard); to a colleague, it is a call to that colleague, whose own
forwarding applies in turn, up to `MAX_FORWARDS` hops (a chain longer than
that is a loop).
"""

from __future__ import annotations

from collections.abc import Callable

from vaxel.calls.api import NOT_FOUND, Call, Cause
from vaxel.features.context import Company, Feature, hand_over
from vaxel.features.destinations import serves
from vaxel.features.diversion import Diverted
from vaxel.features.outbound import Outbound
from vaxel.features.ring_user import Refuse, RingUser
from vaxel.features.voicemail import LeaveMessage
from vaxel.services import company_config as cc
from vaxel.services.numbering import NumberError, is_external, to_e164

MAX_FORWARDS = 5


@serves(cc.ToUser)
def _to_user(company: Company, destination: cc.ToUser) -> Feature:
    return user_step(company, destination.user)


def user_step(company: Company, extension: str, hops: int = 0) -> Feature:
    """The step that calls the user `extension` of `company`."""
    diversion = company.diversion(extension)
    if diversion is not None and not diversion.ring:
        return Diverted(company, extension, diversion)
    forwarding = company.forwarding(extension)
    if hops < MAX_FORWARDS:
        if "always" in forwarding:
            return forward_step(company, forwarding["always"], hops)
        if "busy" in forwarding and company.busy(extension):
            return forward_step(company, forwarding["busy"], hops)
    described = company.user(extension) is not None

    def after(call: Call, cause: Cause) -> None:
        target = forwarding.get("busy") if cause.disposition == "busy" else None
        target = target or forwarding.get("no_answer")
        if target is not None and hops < MAX_FORWARDS:
            hand_over(call, forward_step(company, target, hops))
        elif described and company.voicemail_enabled(extension):
            hand_over(call, LeaveMessage(company, extension))
        elif call.caller.answered:
            call.hangup(cause)
        else:
            call.caller.reject(cause)

    reach = company.reach(extension)
    if reach.refusal is not None:
        refusal = reach.refusal
        if refusal.code == 404 or not described:
            return Refuse(refusal)
        return Decided(lambda call: after(call, refusal))
    return RingUser(reach, fallback=after, waiting=company.system("ringback"))


def forward_step(company: Company, target: str, hops: int) -> Feature:
    """Forwarding to `target`: a number out through the trunk, or a colleague."""
    try:
        if is_external(target):
            return Outbound(company, to_e164(target))
    except NumberError:
        return Refuse(NOT_FOUND)
    return user_step(company, target, hops + 1)


class Decided(Feature):
    """A step that only decides where the call goes next, at once."""

    def __init__(self, action: Callable[[Call], None]) -> None:
        self.action = action

    def start(self, call: Call) -> None:
        self.action(call)
