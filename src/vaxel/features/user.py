"""A call to a user (P3, U9, U11, U7, U12): their diversion first, then their forwarding, then
their phones, then, if nobody answers (or they are busy), the busy / no-answer forwarding or
their voicemail.

A user in a call is rung all the same (call waiting: their phone shows the second call and
plays its own waiting tone, and they switch between the calls by hold and answer), unless
their description says `call_waiting: false`: then the caller is busy at once (the busy
forwarding, else voicemail, else 486).

A diversion ("lunch until 13:00") is said to the caller instead of ringing
(features/diversion.py), before any forwarding: the user chose to be away.
One set to `ring` only shows, and the call goes on as usual. A diversion
scoped to the fixed numbers or to the mobile number (U9) applies only to
the calls it names: a call came through the mobile number when what the
caller dialled (`Call.dialled`) is the user's mobile and one of the
company's numbers leads that number to the user; any other call (the
extension, the direct number, a menu, a forwarding) is a fixed call. A
diversion that does not apply to the call rings as if there were none.

Activity forwarding (U11): a user may name, per status, where calls go while
a diversion of that status is on ("Meeting" to a colleague): such a call is
forwarded there instead of hearing the diversion. A target that is no longer
there (a removed colleague, a number that no longer parses) or a chain of
forwardings longer than `MAX_FORWARDS` falls back to the diversion itself,
so a call always ends somewhere.

Forwarding to a number goes out through the company's trunk (with the
toll-fraud guard); to a colleague, it is a call to that colleague, whose own
forwarding applies in turn, up to `MAX_FORWARDS` hops (a chain longer than
that is a loop).
"""

from __future__ import annotations

from collections.abc import Callable

from vaxel.calls.api import BUSY, NOT_FOUND, UNAVAILABLE, Call, Cause, Target
from vaxel.features.context import Company, Feature, hand_over
from vaxel.features.destinations import serves
from vaxel.features.diversion import Diverted
from vaxel.features.outbound import Outbound
from vaxel.features.ring_user import Refuse, RingUser
from vaxel.features.voicemail import LeaveMessage
from vaxel.services import company_config as cc
from vaxel.services.diversions import DiversionInfo
from vaxel.services.numbering import NumberError, check, is_external, to_e164

MAX_FORWARDS = 5


@serves(cc.ToUser)
def _to_user(company: Company, destination: cc.ToUser) -> Feature:
    return user_step(company, destination.user)


def user_step(company: Company, extension: str, hops: int = 0) -> Feature:
    """The step that calls the user `extension` of `company`."""
    diversion = company.diversion(extension)
    if diversion is None or diversion.ring:
        return ring_step(company, extension, hops)
    if diversion.scope == "all":
        return diverted_step(company, extension, diversion, hops)
    return ByNumber(company, extension, diversion, hops)


def mobile_number(company: Company, extension: str) -> str | None:
    """The user's mobile number when one of the company's numbers leads it to them (a call
    to it is a mobile call); else None."""
    user = company.user(extension)
    mobile = user.mobile if user is not None else None
    if mobile is None:
        return None
    routed = any(n.number == mobile and n.user == extension for n in company.config.numbers)
    return mobile if routed else None


class ByNumber(Feature):
    """A user whose diversion applies only to fixed or only to mobile calls: which one this
    call is decides, once it is offered, whether the caller hears the diversion or rings."""

    def __init__(
        self, company: Company, extension: str, diversion: DiversionInfo, hops: int
    ) -> None:
        self.company = company
        self.extension = extension
        self.diversion = diversion
        self.hops = hops

    def start(self, call: Call) -> None:
        number = mobile_number(self.company, self.extension)
        mobile = number is not None and call.dialled == number
        company, extension, hops = self.company, self.extension, self.hops
        if self.diversion.applies(mobile):
            step = diverted_step(company, extension, self.diversion, hops)
        else:
            step = ring_step(company, extension, hops)
        hand_over(call, step)


def diverted_step(company: Company, extension: str, diversion: DiversionInfo, hops: int) -> Feature:
    """A call the user's diversion applies to: forwarded where they chose for its status
    (U11), else the diversion is said (U9)."""
    target = company.activity_forwarding(extension).get(diversion.status)
    if target is not None and hops < MAX_FORWARDS and _still_there(company, extension, target):
        return forward_step(company, target, hops)
    return Diverted(company, extension, diversion)


def _still_there(company: Company, extension: str, target: str) -> bool:
    """Can a call be forwarded to `target` (checked when it was set, but a colleague may
    have been removed since)?"""
    try:
        if is_external(target):
            to_e164(target)
            return True
    except NumberError:
        return False
    return target != extension and company.user(target) is not None


def ring_step(company: Company, extension: str, hops: int) -> Feature:
    """The user's forwarding, else their phones, then busy / no-answer forwarding or
    voicemail."""
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
        elif described and company.voicemail_enabled(extension) and not call.transfer_returns():
            # (a transferred call the company sends back to its transferor skips voicemail)
            hand_over(call, LeaveMessage(company, extension))
        elif call.caller.answered:
            call.hangup(cause)
        else:
            call.caller.reject(cause)

    if not call_waiting(company, extension) and company.busy(extension):
        return Decided(lambda call: after(call, BUSY))
    reach = company.reach(extension)
    user = company.user(extension)
    if user is not None and user.mobile_rings is not None and reach.refusal is not NOT_FOUND:
        return PhonesAndMobile(company, user, reach.devices, user.ring_time, after)
    if reach.refusal is not None:
        refusal = reach.refusal
        if refusal.code == 404 or not described:
            return Refuse(refusal)
        return Decided(lambda call: after(call, refusal))
    return RingUser(reach, fallback=after, waiting=company.system("ringback"))


class PhonesAndMobile(Feature):
    """U2, U6: the user's phones and their mobile ring at once, the mobile through the
    company's trunk showing who calls (a caller from outside: their number; a colleague:
    the number their own calls out show). The mobile is an outbound call like any other:
    the toll-fraud guard may leave it out (then only the phones ring). With `confirm`,
    the mobile takes the call only by pressing 1 (features/ring_user.py)."""

    def __init__(
        self,
        company: Company,
        user: cc.UserConfig,
        devices: tuple[Target, ...],
        ring_seconds: float,
        after: Callable[[Call, Cause], None],
    ) -> None:
        self.company = company
        self.user = user
        self.devices = devices
        self.ring_seconds = ring_seconds
        self.after = after

    def start(self, call: Call) -> None:
        company, user = self.company, self.user
        mobile = user.mobile
        assert mobile is not None and user.mobile_rings is not None
        caller = call.caller.party
        if caller.startswith("+"):
            shown: str | None = caller
        else:
            shown = cc.shown_caller_id(company.config, caller, "")
        line: Target | None = None
        if check(company.config.outbound, mobile, company.outbound_calls()).allowed:
            line = company.trunk_line(mobile, shown)
        targets = (*self.devices, *((line,) if line is not None else ()))
        if not targets:
            self.after(call, UNAVAILABLE)
            return
        confirm = (line,) if line is not None and user.mobile_rings.confirm else ()
        hand_over(call, RingUser(
            targets=targets, ring_seconds=self.ring_seconds, fallback=self.after,
            waiting=company.system("ringback"), confirm=confirm,
            confirm_prompt=company.system("mobile-confirm"),
        ))  # fmt: skip


def call_waiting(company: Company, extension: str) -> bool:
    """May a call ring the user while they are in a call (U12; on unless described off)?"""
    user = company.user(extension)
    return user is None or user.call_waiting


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
