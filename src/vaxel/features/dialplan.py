"""The dial plan (S1, P6, U8, U11, A3): what a dialled string means for the company that
dials it.

From a user: a feature code (`*98`, `*21*...#`), a colleague's extension, a conference
room's, the park extension or one of its orbits (P4, when the company has `park:`), or a
number, which is the company's own (a main number opens its flow, a direct number rings
its user, a conference number leads into its room, without leaving the switch) or goes out
through the
trunk showing the caller ID the user chose for that kind of device. From a
carrier: one of the company's numbers, else 404. The switch asks through
`calls.dialplan.Dialplan` and knows none of this.
"""

from __future__ import annotations

from typing import Protocol

from vaxel.calls.api import NOT_FOUND, Cause
from vaxel.calls.dialplan import Carrier, Decision, Dialled
from vaxel.features.codes import FeatureCode, is_feature_code
from vaxel.features.conference import JoinConference, room_by_extension
from vaxel.features.context import Company, Feature
from vaxel.features.destinations import step_for
from vaxel.features.outbound import Outbound
from vaxel.features.park import park_step
from vaxel.features.ring_user import Refuse
from vaxel.features.user import user_step
from vaxel.services import company_config as cc
from vaxel.services.numbering import NumberError, is_external, to_e164
from vaxel.services.users import SipUser


class Directory(Protocol):
    """The companies as the dial plan needs them (implemented by `services.directory`)."""

    def company(self, company_id: int) -> Company | None: ...

    def by_number(self, number: str) -> tuple[Company, cc.NumberConfig] | None: ...

    def trunk_at(self, host: str, port: int) -> tuple[Company, str] | None: ...


class CompanyDialplan:
    """The dial plan of every company of the switch (`calls.dialplan.Dialplan`)."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def carrier(self, host: str, port: int) -> Carrier | None:
        found = self.directory.trunk_at(host, port)
        return None if found is None else Carrier(found[0].id, found[1])

    def from_user(self, caller: SipUser, dialled: Dialled) -> Decision:
        digits = dialled.digits
        company = self.directory.company(caller.company_id)
        if company is None:
            return digits, Refuse(NOT_FOUND)
        if is_feature_code(digits):
            return digits, FeatureCode(company, caller.extension, digits)
        try:
            external = is_external(digits)
        except NumberError:
            external = False
        if not external:
            if not dialled.here:
                return digits, Refuse(NOT_FOUND)  # another company's, or a foreign domain
            room = room_by_extension(company, digits)
            if room is not None:
                return digits, JoinConference(company, room)
            parking = park_step(company, caller.extension, digits)
            return digits, parking if parking is not None else user_step(company, digits)
        try:
            number = to_e164(digits)
        except NumberError as exc:
            return digits, Refuse(Cause(484 if exc.incomplete else 404, str(exc)))
        own = self.directory.by_number(number)
        if own is not None and own[0].id == company.id:  # the company's own number
            return number, _step(company, own[1])
        shown = cc.shown_caller_id(
            company.config, caller.extension, dialled.user_agent, dialled.preferred
        )
        return number, Outbound(company, number, shown)

    def from_carrier(self, carrier: Carrier, dialled: Dialled) -> Decision:
        try:
            number = to_e164(dialled.digits)
        except NumberError:
            return dialled.digits, Refuse(NOT_FOUND)
        entry = self.directory.by_number(number)
        if entry is None or entry[0].id != carrier.company_id:
            return number, Refuse(NOT_FOUND)
        return number, _step(entry[0], entry[1])


def _step(company: Company, number: cc.NumberConfig) -> Feature:
    """What serves a call to one of the company's numbers: its room, flow or user."""
    if number.conference is not None:
        return JoinConference(company, number.conference)
    return step_for(company, _destination(number))


def _destination(number: cc.NumberConfig) -> cc.Destination:
    """Where one of the company's numbers leads: its flow, or its user."""
    if number.flow is not None:
        return cc.ToFlow(flow=number.flow)
    return cc.ToUser(user=number.user or "")
