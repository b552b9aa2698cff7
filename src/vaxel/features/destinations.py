"""Where a call goes next: a user, a group, a voicemail box, a menu, an external number,
another flow. One function maps a destination of the description to the step that serves it."""

from __future__ import annotations

from vaxel.calls.api import NOT_FOUND, Call
from vaxel.features.context import Company, Feature, hand_over
from vaxel.services import company_config as cc


def step_for(company: Company, destination: cc.Destination) -> Feature:
    from vaxel.features.groups import Group
    from vaxel.features.ivr import Menu
    from vaxel.features.main_number import MainNumber
    from vaxel.features.outbound import Outbound
    from vaxel.features.ring_user import Refuse, RingUser
    from vaxel.features.voicemail import LeaveMessage

    if isinstance(destination, cc.ToUser):
        route = company.devices(destination.user)
        if route.refusal is not None:
            return Refuse(route.refusal)
        return RingUser(route)
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
