"""What a finished call's record says (P7, O1, S9): built from the `Call` when its last leg
ends: who called, what was dialled, who answered (a person, or the flow, menu, queue or box
that answered for the switch), how it ended and how long it lasted."""

from __future__ import annotations

from datetime import UTC, datetime

from vaxel.calls.api import NORMAL, Call
from vaxel.calls.legs import InboundLeg
from vaxel.services.call_records import NewCallRecord


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def call_record(call: Call) -> NewCallRecord:
    """The call record of `call`, whose legs have all ended."""
    caller = call.caller
    call_id = record_call_id(call)
    cause = call.cause or NORMAL
    ended = call.ended_at if call.ended_at is not None else call.started_at
    answered = call.answered_at
    return NewCallRecord(
        company_id=call.company_id,
        call_id=call_id,
        caller=caller.party,
        caller_name=caller.party_name,
        callee=call.dialled,
        answered_by=call.answered_by,
        started_at=_time(call.started_at),
        answered_at=_time(answered) if answered is not None else None,
        ended_at=_time(ended),
        duration_seconds=max(0.0, ended - answered) if answered is not None else 0.0,
        disposition=call.disposition,
        hangup_side=call.hangup_side,
        cause_code=cause.code,
        cause_text=cause.text,
    )


def record_call_id(call: Call) -> str:
    """The Call-ID a call's record has: the caller's leg's, or the switch's own id for a
    call the switch placed (a queue visit names its call by it)."""
    caller = call.caller
    return caller.invite.call_id if isinstance(caller, InboundLeg) else call.id
