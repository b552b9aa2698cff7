"""features/agents and the agents' codes in memory (A5): a paused agent is offered no queue
call and the waiting caller rings them once they unpause; a diversion pauses without
anything stored; login to one queue by its login code; the agent's state in a group."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from tests.features.conftest import in_the_menu, variant
from tests.features.test_codes import code
from tests.features.test_groups import not_rung_for, talk_from_the_queue, with_wrap_up
from tests.memory import MemoryPhone, MemorySwitch, contains
from vaxel.bus import AgentPaused
from vaxel.features.agents import AgentState, agent_state
from vaxel.features.groups import RETRY_PAUSE
from vaxel.services import pauses
from vaxel.store.models import AgentPause, AuditEntry


def state(acme: MemorySwitch, ext: str, group: str = "queue") -> AgentState:
    company = acme.core.directory.company(1)
    assert company is not None
    return agent_state(company, group, ext, acme.core.calls.now())


def queue_caller(acme: MemorySwitch) -> MemoryPhone:
    caller = in_the_menu(acme)
    caller.press("3")  # the queue: Björn alone
    return caller


def test_a_paused_agent_is_offered_no_queue_call_until_they_unpause(acme: MemorySwitch) -> None:
    bjorn = acme.phone("1002")
    code(acme, bjorn, "*473")  # paused: admin work (the third of the default reasons)
    assert contains(bjorn.heard(), acme.system("thank-you"))
    assert state(acme, "1002") == AgentState("paused", reason="admin")
    invites = len(bjorn.invites)
    caller = queue_caller(acme)
    not_rung_for(acme, bjorn, 3 * RETRY_PAUSE, invites)  # the caller waits
    code(acme, bjorn, "*47")  # unpaused
    assert state(acme, "1002") == AgentState("free")
    acme.until(lambda: bjorn.ringing() is not None, seconds=RETRY_PAUSE + 0.2)
    bjorn.pick_up()
    acme.advance(0.2)
    assert caller.answered() is not None and not caller.requests("BYE")


def test_the_bare_pause_code_toggles_and_a_reason_number_must_exist(acme: MemorySwitch) -> None:
    bjorn = acme.phone("1002")
    code(acme, bjorn, "*47")
    assert state(acme, "1002") == AgentState("paused", reason="")
    code(acme, bjorn, "*471#")  # a reason now (lunch), still paused
    assert state(acme, "1002") == AgentState("paused", reason="lunch")
    code(acme, bjorn, "*479")  # the company has five reasons
    assert contains(bjorn.heard(), acme.system("invalid-choice"))
    assert state(acme, "1002") == AgentState("paused", reason="lunch")
    code(acme, bjorn, "*47")
    assert state(acme, "1002") == AgentState("free")


def test_a_pause_is_stored_published_and_audited(acme: MemorySwitch) -> None:
    told: list[AgentPaused] = []
    acme.core.bus.subscribe(AgentPaused, told.append)
    bjorn = acme.phone("1002")
    code(acme, bjorn, "*471")
    assert [(p.extension, p.reason) for p in pauses.pauses(acme.store, 1).values()] == [
        ("1002", "lunch")
    ]
    code(acme, bjorn, "*47")
    assert pauses.pauses(acme.store, 1) == {}
    assert [(e.extension, e.reason) for e in told] == [("1002", "lunch"), ("1002", None)]
    with acme.store.session(read_only=True) as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [a for a in actions if a.startswith("agent.")] == ["agent.pause", "agent.unpause"]


def test_a_company_names_its_own_pause_reasons(acme_as: Callable[..., MemorySwitch]) -> None:
    acme = acme_as(description=variant("voicemail:\n", "pause_reasons: [kundbesök, rast]\n"
                                       "voicemail:\n"))  # fmt: skip
    bjorn = acme.phone("1002")
    code(acme, bjorn, "*471")
    assert state(acme, "1002") == AgentState("paused", reason="kundbesök")
    code(acme, bjorn, "*473")
    assert contains(bjorn.heard(), acme.system("invalid-choice"))


def test_a_diversion_pauses_the_agent_with_nothing_stored(acme: MemorySwitch) -> None:
    bjorn = acme.phone("1002")
    code(acme, bjorn, "*22*1*1300#")  # lunch until 13:00
    assert state(acme, "1002") == AgentState("paused", reason="lunch", diverted=True)
    invites = len(bjorn.invites)
    queue_caller(acme)
    not_rung_for(acme, bjorn, 2 * RETRY_PAUSE, invites)
    with acme.store.session(read_only=True) as session:
        assert session.scalars(select(AgentPause)).all() == []
    code(acme, bjorn, "#22#")  # back from lunch
    acme.until(lambda: bjorn.ringing() is not None, seconds=RETRY_PAUSE + 0.2)


def test_a_login_code_logs_in_and_out_of_one_queue(acme_as: Callable[..., MemorySwitch]) -> None:
    described = variant('queue: {members: ["1002"]', 'queue: {members: ["1002"], login_code: "3"')
    acme = acme_as(description=described)
    bjorn, cecilia = acme.phone("1002"), acme.phone("1003")
    code(acme, bjorn, "*463")  # out of the queue only
    assert contains(bjorn.heard(), acme.system("thank-you"))
    assert state(acme, "1002") == AgentState("logged-out")
    assert state(acme, "1002", "sales") == AgentState("free")
    invites = len(bjorn.invites)
    queue_caller(acme)
    not_rung_for(acme, bjorn, 2 * RETRY_PAUSE, invites)
    code(acme, cecilia, "*453")  # not a member of the queue
    assert contains(cecilia.heard(), acme.system("invalid-choice"))
    code(acme, bjorn, "*459")  # no group has that code
    assert contains(bjorn.heard(), acme.system("invalid-choice"))
    code(acme, bjorn, "*453#")
    acme.until(lambda: bjorn.ringing() is not None, seconds=RETRY_PAUSE + 0.2)


def test_the_state_of_an_agent_in_wrap_up_and_in_a_call(
    acme_as: Callable[..., MemorySwitch],
) -> None:
    acme = acme_as(description=with_wrap_up(30))
    bjorn = acme.phone("1002")
    caller = queue_caller(acme)
    acme.until(lambda: bjorn.ringing() is not None)
    assert state(acme, "1002") == AgentState("free")  # offered a call, not in one yet
    bjorn.pick_up()
    assert state(acme, "1002") == AgentState("busy")
    caller.hang_up()
    acme.run()
    ends = acme.core.calls.now() + 30
    found = state(acme, "1002")
    assert found.state == "wrap-up" and found.until is not None
    assert abs(found.until - ends) < 0.1
    code(acme, bjorn, "*48")
    assert state(acme, "1002") == AgentState("free")
    talk_from_the_queue(acme, bjorn)
    code(acme, bjorn, "*472")  # a pause wins over the wrap-up
    assert state(acme, "1002") == AgentState("paused", reason="break")
