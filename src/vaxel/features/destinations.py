"""Where a call goes next: a user, a group, a voicemail box, a menu, an external number,
another flow. One function maps a destination of the description to the step that serves it."""

from __future__ import annotations

from collections.abc import Callable

from vaxel.calls.api import NOT_FOUND, Call
from vaxel.features.context import Company, Feature, hand_over
from vaxel.services import company_config as cc


def step_for(company: Company, destination: cc.Destination) -> Feature:
    from vaxel.features.groups import Group
    from vaxel.features.ivr import Menu
    from vaxel.features.main_number import MainNumber
    from vaxel.features.outbound import Outbound
    from vaxel.features.ring_user import Refuse
    from vaxel.features.voicemail import LeaveMessage

    if isinstance(destination, cc.ToUser):
        return user_step(company, destination.user)
    if isinstance(destination, cc.ToGroup):
        return Group(company, destination.group)
    if isinstance(destination, cc.ToVoicemail):
        return LeaveMessage(company, destination.voicemail)
    if isinstance(destination, cc.ToMenu):
        return Menu(company, destination.menu)
    if isinstance(destination, cc.ToExternal):
        return Outbound(company, destination.external)
    if isinstance(destination, cc.ToFlow):
        return MainNumber(company, destination.flow)
    return Refuse(NOT_FOUND)


def go(call: Call, company: Company, destination: cc.Destination | None) -> None:
    """Hand the call to `destination`; None (nowhere to go) hangs up."""
    if destination is None:
        call.hangup()
        return
    hand_over(call, step_for(company, destination))


MAX_FORWARDS = 5  # a chain of forwarded users longer than this is a loop


def user_step(company: Company, extension: str, hops: int = 0) -> Feature:
    """A call to a user (U11, S6): their forwarding first, then their phones, then, if
    nobody answers (or they are busy), the no-answer forwarding or their voicemail."""
    from vaxel.calls.api import Cause
    from vaxel.features.ring_user import Refuse, RingUser
    from vaxel.features.voicemail import LeaveMessage

    forwarding = company.forwarding(extension)
    if hops < MAX_FORWARDS:
        if "always" in forwarding:
            return forward_step(company, forwarding["always"], hops)
        if "busy" in forwarding and company.busy(extension):
            return forward_step(company, forwarding["busy"], hops)
    described = next((u for u in company.config.users if u.ext == extension), None)

    def after(call: Call, cause: Cause) -> None:
        target = forwarding.get("busy") if cause.disposition == "busy" else None
        target = target or forwarding.get("no_answer")
        if target is not None and hops < MAX_FORWARDS:
            hand_over(call, forward_step(company, target, hops))
        elif described is not None and company.voicemail_enabled(extension):
            hand_over(call, LeaveMessage(company, extension))
        elif call.caller.answered:
            call.hangup(cause)
        else:
            call.caller.reject(cause)

    route = company.devices(extension)
    if route.refusal is not None:
        if route.refusal.code == 404 or described is None:
            return Refuse(route.refusal)
        return _Immediately(lambda call: after(call, route.refusal))  # type: ignore[arg-type]
    return RingUser(route, fallback=after, waiting=company.system("ringback"))


def forward_step(company: Company, target: str, hops: int) -> Feature:
    from vaxel.calls.numbering import NumberError, is_external, to_e164
    from vaxel.features.outbound import Outbound
    from vaxel.features.ring_user import Refuse

    try:
        if is_external(target):
            return Outbound(company, to_e164(target))
    except NumberError:
        return Refuse(NOT_FOUND)
    return user_step(company, target, hops + 1)


class _Immediately(Feature):
    """A step that only decides where the call goes next, at once."""

    def __init__(self, action: Callable[[Call], None]) -> None:
        self.action = action

    def start(self, call: Call) -> None:
        self.action(call)
